"""Safety margins and ablation coverage against analytic values (frame LPS, mm)."""

from __future__ import annotations

import numpy as np
import pytest

from planning.margins import ablation_coverage, evaluate_safety_margin, surface_distance_map
from tests.planning._shapes import grid, labelmap, sphere_mask
from twin.meshes import SurfaceModel
from twin.plan import AblationZone, SafetyMargin

H = 0.5
C = (0.25, 0.25, 0.25)  # a voxel centre of the grid below


@pytest.fixture(scope="module")
def tumour_lm():
    geom = grid(-20, 20, H)
    return labelmap(geom, {"tumour": sphere_mask(geom, C, 5.0)})


def lens_volume(r, R, d):
    """Volume of the intersection of two spheres (radii r, R, centres d apart)."""
    return np.pi * (R + r - d) ** 2 * (d * d + 2 * d * r - 3 * r * r + 2 * d * R + 6 * r * R - 3 * R * R) / (12 * d)


def test_concentric_sphere_covers_tumour_with_margin(tumour_lm):
    zone = AblationZone(name="a", center_lps=C, radii_mm=(12, 12, 12), tumour_segment="tumour", margin_mm=5.0)
    m = ablation_coverage(zone, tumour_lm)
    assert m["tumour_coverage_percent"] == pytest.approx(100.0)
    assert m["margin_coverage_percent"] == pytest.approx(100.0)
    assert m["complete"] is True
    assert m["min_margin_achieved_mm"] == pytest.approx(12 - 5, abs=H)
    assert m["tumour_volume_mm3"] == pytest.approx(4 / 3 * np.pi * 125, rel=0.03)
    assert m["margin_volume_mm3"] == pytest.approx(4 / 3 * np.pi * 1000, rel=0.02)


def test_small_sphere_covers_part_of_margin(tumour_lm):
    zone = AblationZone(name="a", center_lps=C, radii_mm=(8, 8, 8), tumour_segment="tumour", margin_mm=5.0)
    m = ablation_coverage(zone, tumour_lm)
    assert m["tumour_coverage_percent"] == pytest.approx(100.0)
    assert m["margin_coverage_percent"] == pytest.approx(100 * (8 / 10) ** 3, abs=1.0)
    assert m["complete"] is False
    assert m["min_margin_achieved_mm"] == pytest.approx(3.0, abs=H)


def test_offset_sphere_coverage_is_lens_volume(tumour_lm):
    zone = AblationZone(name="a", center_lps=(4.25, 0.25, 0.25), radii_mm=(6, 6, 6), tumour_segment="tumour",
                        margin_mm=0.0)
    m = ablation_coverage(zone, tumour_lm)
    expect = 100 * lens_volume(5, 6, 4) / (4 / 3 * np.pi * 125)
    assert m["tumour_coverage_percent"] == pytest.approx(expect, abs=1.5)
    # farthest tumour point from the zone centre: 4 + 5 = 9 mm, i.e. 3 mm outside
    assert m["min_margin_achieved_mm"] == pytest.approx(-3.0, abs=H)


def test_ellipsoid_coverage_volume_ratio():
    geom = grid(-20, 20, H)
    lm = labelmap(geom, {"tumour": sphere_mask(geom, C, 10.0)})
    axes = np.array([[1, 1, 0], [-1, 1, 0], [0, 0, np.sqrt(2)]]) / np.sqrt(2)
    zone = AblationZone(name="e", center_lps=C, radii_mm=(12, 6, 4), axes_lps=axes, tumour_segment="tumour",
                        margin_mm=0.0)
    assert zone.shape == "ellipsoid"
    m = ablation_coverage(zone, lm)
    # the ellipsoid lies inside the 10 mm sphere except its long ends: coverage = vol(E cap S)/vol(S);
    # Monte Carlo reference on the continuous shapes
    rng = np.random.default_rng(0)
    p = rng.uniform(-10, 10, size=(400_000, 3))
    p = p[np.linalg.norm(p, axis=1) <= 10]
    loc = p @ axes.T
    ref = 100 * np.mean(np.sum((loc / [12, 6, 4]) ** 2, axis=1) <= 1)
    assert m["tumour_coverage_percent"] == pytest.approx(ref, abs=1.5)


def test_safety_margin_between_spheres():
    geom = grid(-20, 20, H)
    lm = labelmap(geom, {"tumour": sphere_mask(geom, C, 5.0),
                         "vessel": sphere_mask(geom, (12.25, 0.25, 0.25), 3.0)})
    m = evaluate_safety_margin(SafetyMargin(name="m", target_segment="tumour", critical_segments=("vessel",),
                                            threshold_mm=5.0), lm)
    d = m["structures"][0]["min_distance_mm"]
    assert 12 - 5 - 3 - H - 1e-9 <= d <= 12 - 5 - 3 + 1e-9
    assert m["violations"] == ["vessel"]


def test_surface_distance_map_on_sphere_vertices():
    geom = grid(-20, 20, H)
    lm = labelmap(geom, {"slab": (np.arange(geom.shape[0]) * H - 20 + H / 2 >= 10.0)[:, None, None]
                         & np.ones(geom.shape, bool)})
    rng = np.random.default_rng(2)
    v = rng.normal(size=(500, 3))
    pts = 5 * v / np.linalg.norm(v, axis=1)[:, None]
    surf = SurfaceModel(pts, np.zeros((0, 3), np.int64), name="tumour")
    out, per = surface_distance_map(surf, lm, ["slab"])
    # the slab's voxel cubes start at x = 10 - H/2 ... the first centre >= 10 is 10.25, its face at 10.0
    np.testing.assert_allclose(out.point_data["distance_mm"], 10.0 - pts[:, 0], atol=1e-9)
    assert np.all(out.point_data["nearest_structure"] == 0)
    np.testing.assert_allclose(per["slab"], out.point_data["distance_mm"])


@pytest.mark.parametrize("h, radius", [(0.5, 5.0), (1.0, 5.0), (1.0, 7.3)])
def test_grown_tumour_volume_is_unbiased(h, radius):
    from planning.margins import grown_points_lps

    geom = grid(-24, 24, h)
    tumour = sphere_mask(geom, (h / 2,) * 3, radius)
    pts, cell = grown_points_lps(tumour, geom, 5.0)
    # within 2 % of the continuous grown sphere (growing whole voxels is off by 3-9 % here)
    assert len(pts) * cell == pytest.approx(4 / 3 * np.pi * (radius + 5) ** 3, rel=0.02)
    np.testing.assert_array_less(np.linalg.norm(pts - h / 2, axis=1), radius + 5 + h)
