"""Resection volumes and margins against hand-computed values (frame LPS, mm)."""

from __future__ import annotations

import numpy as np
import pytest

from planning.resection import box_fraction_below_plane, evaluate_resection, resected_mask
from tests.planning._shapes import grid, labelmap, sphere_mask
from twin.plan import CutPlane, Resection


def cube_labelmap(h=(1.0, 1.0, 1.0)):
    """A 20 mm cube [0, 20]^3 filling its grid exactly."""
    geom = grid(0.0, 20.0, h)
    return labelmap(geom, {"liver": np.ones(geom.shape, bool)})


def test_box_fraction_matches_monte_carlo():
    rng = np.random.default_rng(1)
    u = rng.random((200_000, 3))
    for n, t in [((0.3, -0.7, 0.2), 0.1), ((1.0, 0.0, 0.0), 0.37), ((1, 1, 1), 1.5), ((0.0, 2.0, -1.0), 0.2),
                 ((1e-9, 1.0, 0.0), 0.4), ((-1, -1, -1), -2.5)]:
        mc = np.mean(u @ np.asarray(n, float) <= t)
        assert box_fraction_below_plane(np.array([n], float), np.array([t]))[0] == pytest.approx(mc, abs=4e-3)


def test_cube_cut_by_axis_plane_exact():
    lm = cube_labelmap()
    res = Resection(name="r", organ_segment="liver", planes=(CutPlane((7.3, 5, 5), (1, 0, 0)),))
    m = evaluate_resection(res, lm)
    assert m["organ_volume_mm3"] == pytest.approx(8000.0)
    assert m["resected_volume_mm3"] == pytest.approx((20 - 7.3) * 400, rel=1e-12)
    assert m["remnant_volume_ml"] == pytest.approx(7.3 * 400 / 1000)
    assert m["remnant_percent"] == pytest.approx(100 * 7.3 / 20)


@pytest.mark.parametrize("h", [(1.0, 1.0, 1.0), (0.8, 1.0, 1.25)])
def test_cube_cut_by_oblique_planes_exact(h):
    lm = cube_labelmap(h)
    # through the centre, normal (1,1,1): half the cube by symmetry
    half = evaluate_resection(Resection(name="a", organ_segment="liver",
                                        planes=(CutPlane((10, 10, 10), (1, 1, 1)),)), lm)
    assert half["resected_volume_mm3"] == pytest.approx(4000.0, rel=1e-10)
    # x + 2y >= 25 (any z): area 250 mm^2 in the x-y square (integral by hand) -> 5000 mm^3
    m = evaluate_resection(Resection(name="b", organ_segment="liver",
                                     planes=(CutPlane((25, 0, 3), (1, 2, 0)),)), lm)
    assert m["resected_volume_mm3"] == pytest.approx(5000.0, rel=1e-10)
    # cutting a corner: x + y + z >= 50 leaves the tetrahedron (60-50)^3/6 ... corner at (20,20,20)
    c = evaluate_resection(Resection(name="c", organ_segment="liver",
                                     planes=(CutPlane((50 / 3, 50 / 3, 50 / 3), (1, 1, 1)),)), lm)
    assert c["resected_volume_mm3"] == pytest.approx(10**3 / 6, rel=1e-9)


def test_two_planes_union_and_intersection():
    lm = cube_labelmap()
    planes = (CutPlane((15, 0, 0), (1, 0, 0)), CutPlane((0, 15, 0), (0, 1, 0)))
    u = evaluate_resection(Resection(name="u", organ_segment="liver", planes=planes, combine="union"), lm)
    i = evaluate_resection(Resection(name="i", organ_segment="liver", planes=planes, combine="intersection"), lm)
    assert u["resected_volume_mm3"] == pytest.approx(2000 + 2000 - 500)
    assert i["resected_volume_mm3"] == pytest.approx(500)


def test_polyline_cut_l_shape():
    lm = cube_labelmap()
    # polyline in the axial plane: up along x = 10 then right along y = 10, extruded along S.
    # Resected side = direction x segment: for +P segments that is -L (x < 10), for +L segments +P (y > 10).
    res = Resection(name="p", organ_segment="liver", polyline_lps=((10, -30, 0), (10, 10, 0), (50, 10, 0)),
                    extrude_direction_lps=(0, 0, 1))
    m = evaluate_resection(res, lm)
    assert m["resected_volume_mm3"] == pytest.approx(8000 - 10 * 10 * 20)
    mask = resected_mask(res, lm)
    assert mask[2, 2, 5] and not mask[15, 5, 5] and mask[15, 15, 5]


def test_tumour_margin_and_vessels():
    h = 0.5
    geom = grid(0.0, 30.0, h)
    liver = np.ones(geom.shape, bool)
    tumour = sphere_mask(geom, (20.25, 15.25, 15.25), 4.0)
    c = geom.index_to_lps(np.argwhere(np.ones(geom.shape, bool))).reshape(*geom.shape, 3)
    vessel_cut = (np.hypot(c[..., 1] - 5, c[..., 2] - 5) <= 1.5)  # runs along L, crosses x = 10
    vessel_kept = (np.hypot(c[..., 0] - 4, c[..., 1] - 25) <= 1.5)  # runs along S at x = 4: remnant side
    lm = labelmap(geom, {"liver": liver & ~tumour & ~vessel_cut & ~vessel_kept, "tumour": tumour,
                         "portal": vessel_cut, "hepatic": vessel_kept})
    res = Resection(name="r", organ_segment="liver", tumour_segment="tumour",
                    planes=(CutPlane((10.0, 0, 0), (1, 0, 0)),), vessel_segments=("portal", "hepatic", "nope"))
    m = evaluate_resection(res, lm)
    # tumour sphere: nearest point x = 16.25; the voxel model extends up to half a voxel further
    assert 6.25 - h / 2 - 1e-9 <= m["tumour_margin_mm"] <= 6.25 + 1e-9
    assert m["tumour_resected_percent"] == pytest.approx(100.0)
    v = {row["segment"]: row for row in m["vessels"]}
    assert v["portal"]["crossed"] is True and v["hepatic"]["crossed"] is False
    assert v["nope"]["crossed"] is None
    # plane through the tumour: negative margin
    bad = Resection(name="b", organ_segment="liver", tumour_segment="tumour", planes=(CutPlane((20, 0, 0), (1, 0, 0)),))
    mb = evaluate_resection(bad, lm)
    assert mb["tumour_margin_mm"] < -3.5
    assert 40 < mb["tumour_resected_percent"] < 60


def test_oblique_grid_plane_through_centre_halves_the_box():
    from twin.geometry import ImageGeometry
    from twin.labelmap import LabelMap

    rng = np.random.default_rng(3)
    rot, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    if np.linalg.det(rot) < 0:
        rot[:, 0] *= -1
    geom = ImageGeometry((14, 11, 9), (0.9, 1.3, 2.0), (10.0, -5.0, 3.0), rot)
    lm = LabelMap.from_array(np.ones(geom.shape, np.uint8), geom, names={1: "organ"})
    centre = geom.index_to_lps(((np.asarray(geom.shape) - 1) / 2.0)[None])[0]
    for _ in range(3):
        n = rng.normal(size=3)
        m = evaluate_resection(Resection(name="r", organ_segment="organ", planes=(CutPlane(centre, n),)), lm)
        # any plane through the centre of a centrally symmetric body halves it
        assert m["resected_volume_mm3"] == pytest.approx(m["organ_volume_mm3"] / 2, rel=1e-10)
    # a plane parallel to the grid's first axis faces, 3.3 voxels in: exact slab volume
    a0 = rot[:, 0]
    corner = geom.index_to_lps(np.array([[-0.5, -0.5, -0.5]]))[0]
    m = evaluate_resection(Resection(name="s", organ_segment="organ",
                                     planes=(CutPlane(corner + 3.3 * 0.9 * a0, -a0),)), lm)
    assert m["resected_volume_mm3"] == pytest.approx(3.3 * 0.9 * 11 * 1.3 * 9 * 2.0, rel=1e-10)


def test_two_point_polyline_equals_its_plane():
    lm = cube_labelmap((1.0, 1.0, 1.0))
    p0, p1 = np.array([3.0, -10.0, 0.0]), np.array([17.0, 30.0, 0.0])
    d = np.array([0.0, 0.0, 1.0])
    poly = Resection(name="p", organ_segment="liver", polyline_lps=(p0, p1), extrude_direction_lps=d)
    left = np.cross(d, p1 - p0)
    plane = Resection(name="q", organ_segment="liver", planes=(CutPlane(p0, left),))
    vp = evaluate_resection(poly, lm)["resected_volume_mm3"]
    vq = evaluate_resection(plane, lm)["resected_volume_mm3"]
    # the plane path is exact; the polyline path supersamples cut voxels 6^3 times
    assert vp == pytest.approx(vq, rel=2e-3)
    # and the exact value by hand: the line x = 3 + 14 (y + 10) / 40 splits the 20 x 20 square; left = x < line
    ys = np.linspace(0, 20, 200001)
    area_left = np.trapezoid(np.clip(3 + 14 * (ys + 10) / 40, 0, 20), ys)
    assert vq == pytest.approx(area_left * 20, rel=1e-6)
