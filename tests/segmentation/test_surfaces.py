"""Label -> surface: analytic shapes, pyradiomics reference meshes, LPS frame, exports, edge cases."""

from __future__ import annotations

import csv
import struct

import numpy as np
import pytest

from segmentation.surface_io import read_surface_frame, write_surface
from segmentation.surfaces import (
    display_surface,
    display_surfaces,
    labelmap_surfaces,
    labelmap_to_surfaces,
    segment_surface,
)
from tests.segmentation.conftest import data_dir
from twin.geometry import ImageGeometry
from twin.labelmap import LabelMap


def _ball_labelmap(direction=None, radius_mm=10.0):
    theta = np.deg2rad(30)
    rot = np.array([[np.cos(theta), -np.sin(theta), 0], [np.sin(theta), np.cos(theta), 0], [0, 0, 1]])
    g = ImageGeometry((40, 36, 24), (0.8, 0.9, 1.5), (5.0, -3.0, 40.0), rot if direction is None else direction)
    ijk = np.indices(g.shape).reshape(3, -1).T
    lps = g.index_to_lps(ijk).reshape(*g.shape, 3)
    centre = g.index_to_lps(np.array([[19.5, 17.5, 11.5]]))[0]
    arr = (np.linalg.norm(lps - centre, axis=-1) <= radius_mm).astype(np.uint8)
    arr[2:6, 2:6, 2:6] = 2  # small cube
    return LabelMap.from_array(arr, g, names={1: "ball", 2: "cube"}), centre


def test_ball_surface_in_lps_is_closed_and_accurate():
    lm, centre = _ball_labelmap()
    res = {r.segment.name: r for r in labelmap_to_surfaces(lm, smoothing=0.5)}
    ball = res["ball"]
    assert ball.watertight and ball.surface.is_watertight()
    assert ball.volume_mm3 == pytest.approx(4 / 3 * np.pi * 1000, rel=0.03)
    assert ball.area_mm2 == pytest.approx(4 * np.pi * 100, rel=0.05)
    # the full rotation and origin were applied: points sit on the sphere around the LPS centre
    r = np.linalg.norm(ball.surface.points_lps - centre, axis=1)
    assert abs(r.mean() - 10.0) < 0.4 and r.max() < 11.2
    n = ball.surface.point_data["normals"]
    radial = (ball.surface.points_lps - centre) / r[:, None]
    assert np.mean(np.einsum("ij,ij->i", n, radial)) > 0.95, "normals point outwards"
    cube = res["cube"]
    assert cube.watertight and cube.volume_mm3 > 0


def test_flipped_axis_keeps_outward_orientation():
    lm, _ = _ball_labelmap(direction=np.diag([-1.0, 1.0, 1.0]))
    r = segment_surface(lm, "ball", smoothing=0.0)
    assert r.watertight and r.volume_mm3 > 0


@pytest.mark.parametrize("case,col,vol_tol", [("brain1", "brain1", 0.01), ("breast1", "breast1", 0.03)])
def test_unsmoothed_mesh_matches_pyradiomics(case, col, vol_tol):
    from twin.io.images import read_labelmap

    d = data_dir("pyradiomics_cases")
    rows = list(csv.reader(open(d / "baseline_shape.csv")))
    c = rows[0].index(col)
    ref = {r[0]: float(r[c]) for r in rows[1:] if r[c] not in ("", None) and r[0].startswith("original_shape")}
    lm = read_labelmap(d / f"{case}_label.nrrd")
    res = segment_surface(lm, 1, smoothing=0.0)
    print(f"{case}: mesh volume {res.volume_mm3:.2f} vs {ref['original_shape_MeshVolume']:.2f}, "
          f"area {res.area_mm2:.2f} vs {ref['original_shape_SurfaceArea']:.2f}")
    assert res.volume_mm3 == pytest.approx(ref["original_shape_MeshVolume"], rel=vol_tol)
    assert res.area_mm2 == pytest.approx(ref["original_shape_SurfaceArea"], rel=0.03)
    assert res.watertight


def test_edge_cases_empty_single_voxel_border():
    g = ImageGeometry((10, 10, 10), (1.0, 2.0, 3.0))
    arr = np.zeros(g.shape, np.uint8)
    arr[0:4, 0:10, 0:10] = 1  # touches the border
    arr[7, 7, 7] = 2  # single voxel
    lm = LabelMap.from_array(arr, g, names={1: "border", 2: "dot", 3: "empty"})
    res = {r.segment.name: r for r in labelmap_to_surfaces(lm, smoothing=0.0)}
    assert res["border"].watertight
    assert res["border"].volume_mm3 == pytest.approx(4 * 10 * 10 * 6.0, rel=0.1)
    assert res["dot"].watertight and res["dot"].volume_mm3 > 0
    assert res["empty"].surface.n_triangles == 0 and not res["empty"].watertight
    smoothed = labelmap_to_surfaces(lm, smoothing=1.0, decimate=0.5)
    assert all(r.surface.n_points == 0 or np.all(np.isfinite(r.surface.points_lps)) for r in smoothed)


def test_decimation_and_smoothing_preserve_a_closed_manifold():
    lm, _ = _ball_labelmap(radius_mm=11.0)
    raw = segment_surface(lm, "ball", smoothing=0.0)
    dec = segment_surface(lm, "ball", smoothing=0.5, decimate=0.8)
    assert dec.surface.n_triangles < 0.3 * raw.surface.n_triangles
    assert dec.watertight
    assert dec.volume_mm3 == pytest.approx(4 / 3 * np.pi * 11**3, rel=0.05)
    assert set(labelmap_surfaces(lm)) == {"ball", "cube"}


def test_exports_record_the_frame(tmp_path):
    import pyvista as pv

    lm, _ = _ball_labelmap()
    surf = segment_surface(lm, "ball").surface
    for suffix in (".stl", ".obj", ".ply", ".vtp"):
        p = write_surface(surf, tmp_path / f"ball{suffix}")
        assert read_surface_frame(p) == "LPS"
        back = pv.read(str(p))
        assert back.n_points >= surf.n_points * 0.99 if suffix != ".stl" else back.n_cells == surf.n_triangles
        assert np.allclose(back.bounds, pv.PolyData(np.array(surf.points_lps)).bounds, atol=1e-3)
    raw = (tmp_path / "ball.stl").read_bytes()
    assert raw[:9] == b"SPACE=LPS" and struct.unpack("<I", raw[80:84])[0] == surf.n_triangles
    assert len(raw) == 84 + 50 * surf.n_triangles
    with pytest.raises(Exception, match="cannot write"):
        write_surface(surf, tmp_path / "ball.xyz")


def _centres_lps(g: ImageGeometry) -> np.ndarray:
    ijk = np.stack(np.meshgrid(*[np.arange(n) for n in g.shape], indexing="ij"), axis=-1).reshape(-1, 3)
    return g.index_to_lps(ijk).reshape(*g.shape, 3)


def test_display_surface_volume_and_lps_placement():
    flip = np.diag([-1.0, -1.0, 1.0])
    g = ImageGeometry((50, 50, 30), (1.0, 1.0, 1.5), flip @ np.array([-25.0, -25.0, -22.0]), flip)
    centre = np.array([5.0, -4.0, 2.0])
    ball = np.linalg.norm(_centres_lps(g) - centre, axis=-1) < 10
    s = display_surface(ball, g.ijk_to_lps, "ball", smoothing_iterations=20)
    assert s.is_watertight()
    np.testing.assert_allclose(s.points_lps.mean(axis=0), centre, atol=0.3)
    assert s.volume_mm3() == pytest.approx(4 / 3 * np.pi * 1000, rel=0.05)  # outward normals kept under the flip
    assert display_surface(np.zeros(g.shape, bool), g.ijk_to_lps) is None


def test_display_surfaces_budget_and_agreement_with_export_surfaces():
    """A large surface goes to a coarser grid and a triangle budget; its volume still matches the export mesh."""
    g = ImageGeometry((120, 110, 100), (0.8, 0.8, 1.0), (0.0, 0.0, 0.0))
    p = _centres_lps(g)
    lab = np.zeros(g.shape, np.uint8)
    lab[np.linalg.norm((p - [48.0, 44.0, 50.0]) / [40.0, 36.0, 45.0], axis=-1) < 1] = 1  # 270 mL ellipsoid
    lab[np.linalg.norm(p - [20.0, 20.0, 20.0], axis=-1) < 6] = 2
    lm = LabelMap.from_array(lab, g, names={1: "big", 2: "small"})
    disp = display_surfaces(lm, max_triangles=5_000)
    assert set(disp) == {"big", "small"}
    exact = {r.segment.name: r for r in labelmap_to_surfaces(lm, smoothing=0.0)}
    for name, s in disp.items():
        assert s.n_triangles <= 5_000
        assert s.is_watertight()
        assert s.volume_mm3() == pytest.approx(exact[name].volume_mm3, rel=0.03)
    assert display_surfaces(lm, names=["small"]).keys() == {"small"}
