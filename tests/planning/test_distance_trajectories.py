"""Trajectory metrics against hand-computed values (frame LPS, mm)."""

from __future__ import annotations

import numpy as np
import pytest

from planning.distance import MaskDistance
from planning.trajectories import (
    along_path_frames,
    axis_angles_deg,
    evaluate_trajectory,
    path_length_mm,
    probes_eye_frame,
    reslice,
)
from tests.planning._shapes import grid, labelmap, sphere_mask
from twin.geometry import ImageGeometry
from twin.plan import Trajectory


def test_mask_distance_matches_brute_force_on_oblique_grid():
    rng = np.random.default_rng(0)
    rot, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    if np.linalg.det(rot) < 0:
        rot[:, 0] *= -1
    geom = ImageGeometry((12, 10, 9), (0.7, 1.1, 1.6), (3.0, -2.0, 5.0), rot)
    mask = rng.random(geom.shape) < 0.03
    md = MaskDistance(mask, geom)
    pts = geom.index_to_lps(rng.uniform(-4, 14, size=(300, 3)))
    # brute force: distance to every voxel box, in the scaled index frame
    q = geom.lps_to_index(pts) * geom.spacing
    c = np.argwhere(mask) * geom.spacing
    d = np.maximum(np.abs(q[:, None, :] - c[None]) - geom.spacing / 2, 0)
    expect = np.sqrt((d * d).sum(-1)).min(axis=1)
    np.testing.assert_allclose(md.distance_mm(pts, k=4), expect, atol=1e-9)


def test_line_passing_sphere_at_known_distance():
    h = 0.5
    geom = grid(-20, 20, h)
    lm = labelmap(geom, {"tumour": sphere_mask(geom, (0.25, 0.25, 0.25), 10.0)})
    # axis at 20 mm from the centre, parallel to L: distance to the sphere surface 10 mm
    traj = Trajectory(name="t", entry_lps=(-19.75, 20.25, 0.25), target_lps=(19.75, 20.25, 0.25), diameter_mm=4.0)
    # a lesion is not critical by default: name it explicitly
    assert evaluate_trajectory(traj, lm)["structures"] == []
    m = evaluate_trajectory(traj, lm, critical_segments=["tumour"])
    s = m["structures"][0]
    # the voxel model of a sphere extends at most half a voxel diagonal beyond it
    assert 10.0 - h * np.sqrt(3) / 2 - 1e-9 <= s["axis_distance_mm"] <= 10.0 + 1e-9
    assert s["clearance_mm"] == pytest.approx(s["axis_distance_mm"] - 2.0)
    assert not s["crosses"] and m["crossed"] == []
    assert s["closest_depth_mm"] == pytest.approx(20.0, abs=1.0)  # the voxel sphere has a flat top
    assert m["path_length_mm"] == pytest.approx(39.5)


def test_line_crossing_sphere_reports_chord_length():
    geom = grid(-20, 20, 0.5)
    lm = labelmap(geom, {"vessel": sphere_mask(geom, (0.25, 0.25, 0.25), 10.0)})
    traj = Trajectory(name="t", entry_lps=(-19.75, 6.25, 0.25), target_lps=(19.75, 6.25, 0.25), diameter_mm=1.0)
    m = evaluate_trajectory(traj, lm, critical_segments=["vessel"])
    s = m["structures"][0]
    assert s["crosses"] and m["crossed"] == ["vessel"]
    assert s["clearance_mm"] == pytest.approx(-0.5)
    assert s["length_inside_mm"] == pytest.approx(2 * np.sqrt(10**2 - 6**2), abs=1.0)


def test_tool_grazing_sphere_crosses_when_radius_exceeds_gap():
    geom = grid(-20, 20, 0.5)
    lm = labelmap(geom, {"nerve": sphere_mask(geom, (0.25, 0.25, 0.25), 10.0)})
    far = dict(entry_lps=(-19.75, 12.25, 0.25), target_lps=(19.75, 12.25, 0.25))
    thin = evaluate_trajectory(Trajectory(name="a", diameter_mm=2.0, **far), lm)
    thick = evaluate_trajectory(Trajectory(name="b", diameter_mm=6.0, **far), lm)
    assert not thin["structures"][0]["crosses"]
    assert thick["structures"][0]["crosses"]


def test_target_segment_is_excluded_and_target_inside():
    geom = grid(-20, 20, 1.0)
    lm = labelmap(geom, {"tumour": sphere_mask(geom, (0.5, 0.5, 0.5), 5.0),
                         "vessel": sphere_mask(geom, (0.5, 12.5, 0.5), 3.0)})
    traj = Trajectory(name="t", entry_lps=(-18.5, 0.5, 0.5), target_lps=(0.5, 0.5, 0.5), target_segment="tumour")
    m = evaluate_trajectory(traj, lm)
    assert [s["segment"] for s in m["structures"]] == ["vessel"]
    assert m["target_inside"] is True
    assert m["closest_structure"] == "vessel"
    # the vessel sphere (r 3) centred 12 mm off the axis, which ends at the tumour centre
    assert m["structures"][0]["axis_distance_mm"] == pytest.approx(9.0, abs=0.9)


def test_angles_and_length():
    t = Trajectory(name="t", entry_lps=(0, 0, 0), target_lps=(1, 1, np.sqrt(2)), length_mm=1.5)
    a = axis_angles_deg(t)
    assert a["to_S"] == pytest.approx(45.0)
    assert a["to_L"] == pytest.approx(60.0)
    assert a["to_P"] == pytest.approx(60.0)
    assert a["craniocaudal"] == pytest.approx(45.0)
    assert a["axial_in_plane"] == pytest.approx(45.0)
    assert path_length_mm(t) == pytest.approx(2.0)
    assert evaluate_trajectory(t)["reaches_target"] is False


def test_probes_eye_reslice_samples_the_right_plane():
    geom = grid(-20, 20, 1.0)
    c = geom.index_to_lps(np.argwhere(np.ones(geom.shape, bool))).reshape(*geom.shape, 3)
    vol = c[..., 0] + 2 * c[..., 1] + 3 * c[..., 2]  # linear: exact under trilinear interpolation
    traj = Trajectory(name="t", entry_lps=(-10, -5, -8), target_lps=(6, 4, 5))
    f = probes_eye_frame(traj)
    d = np.subtract(traj.target_lps, traj.entry_lps)
    d /= np.linalg.norm(d)
    np.testing.assert_allclose(f.normal_lps, d, atol=1e-12)
    np.testing.assert_allclose(f.origin_lps, traj.target_lps)
    img = reslice(vol, geom, f, size_mm=(10, 10), spacing_mm=1.0)
    assert img.shape == (11, 11)
    g = np.array([1.0, 2.0, 3.0])
    expect = g @ f.origin_lps + (np.arange(11) - 5)[:, None] * (g @ f.u_lps) + (np.arange(11) - 5)[None] * (g @ f.v_lps)
    np.testing.assert_allclose(img, expect, atol=1e-9)
    a, b = along_path_frames(traj)
    np.testing.assert_allclose(a.u_lps, d)
    assert abs(a.normal_lps @ d) < 1e-12 and abs(b.normal_lps @ d) < 1e-12


def test_surface_clearance_line_passing_sphere():
    import pyvista as pv

    from twin.meshes import SurfaceModel

    sphere = SurfaceModel.from_pyvista(pv.Sphere(radius=10.0, theta_resolution=90, phi_resolution=90), name="ivc")
    traj = Trajectory(name="t", entry_lps=(-30, 20, 0), target_lps=(30, 20, 0), diameter_mm=3.0)
    m = evaluate_trajectory(traj, None, surfaces={"ivc": sphere})
    s = m["structures"][0]
    assert s["source"] == "surface"
    # the tessellated sphere lies inside the true one by at most 1 - cos(2 deg): ~0.006 mm at 10 mm
    assert s["axis_distance_mm"] == pytest.approx(10.0, abs=0.02)
    assert s["clearance_mm"] == pytest.approx(8.5, abs=0.02)
    assert s["closest_depth_mm"] == pytest.approx(30.0, abs=1.0)  # the minimum is flat (quadratic)
    crossing = evaluate_trajectory(Trajectory(name="c", entry_lps=(-30, 6, 0), target_lps=(30, 6, 0)), None,
                                   surfaces={"ivc": sphere})["structures"][0]
    assert crossing["crosses"] and crossing["length_inside_mm"] == pytest.approx(16.0, abs=0.3)
