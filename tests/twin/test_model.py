"""Core twin data model: geometry, Volume, LabelMap, meshes."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from twin.errors import GeometryError, InputError
from twin.geometry import ImageGeometry
from twin.labelmap import LabelMap, Segment
from twin.meshes import SurfaceModel, TetMesh
from twin.volume import Volume


def oblique_geometry(shape=(7, 5, 4)) -> ImageGeometry:
    rot = Rotation.from_euler("xyz", [17, -33, 58], degrees=True).as_matrix()
    return ImageGeometry(shape, spacing=(0.7, 1.3, 2.9), origin=(-12.5, 40.25, 101.0), direction=rot)


def test_affine_maps_indices_and_back() -> None:
    g = oblique_geometry()
    ijk = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1], [6, 4, 3]], float)
    lps = g.index_to_lps(ijk)
    np.testing.assert_allclose(lps[0], g.origin)
    # one step along i moves spacing[0] mm along the first direction column
    np.testing.assert_allclose(lps[1] - lps[0], 0.7 * g.direction[:, 0])
    np.testing.assert_allclose(np.linalg.norm(lps[3] - lps[0]), 2.9)
    np.testing.assert_allclose(g.lps_to_index(lps), ijk, atol=1e-12)
    g2 = ImageGeometry.from_affine(g.shape, g.ijk_to_lps)
    assert g2.is_same_grid(g, tol_mm=1e-9)
    np.testing.assert_allclose(g.ijk_to_ras[:2, :], -g.ijk_to_lps[:2, :])


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"spacing": (1, 0, 1)}, "positive"),
        ({"spacing": (1, -2, 1)}, "positive"),
        ({"spacing": (1, np.nan, 1)}, "non-finite"),
        ({"direction": np.diag([1, 2, 1])}, "unit"),
        ({"origin": (0, 0)}, "3 components"),
    ],
)
def test_bad_geometry_is_refused(kwargs, match) -> None:
    with pytest.raises(GeometryError, match=match):
        ImageGeometry((2, 2, 2), **kwargs)


def test_sheared_affine_refused() -> None:
    m = np.eye(4)
    m[0, 1] = 0.5
    with pytest.raises(GeometryError, match="shear"):
        ImageGeometry.from_affine((2, 2, 2), m)


def test_volume_sitk_round_trip_oblique_anisotropic() -> None:
    g = oblique_geometry()
    arr = np.arange(np.prod(g.shape), dtype=np.int16).reshape(g.shape)
    vol = Volume(arr, g, modality="CT", units="HU")
    img = vol.to_sitk()
    # SimpleITK's index (x, y, z) is our (i, j, k)
    assert img.GetSize() == g.shape
    assert img.GetPixel(6, 4, 3) == arr[6, 4, 3]
    np.testing.assert_allclose(img.TransformIndexToPhysicalPoint((6, 4, 3)), g.index_to_lps([[6, 4, 3]])[0])
    back = Volume.from_sitk(img)
    np.testing.assert_array_equal(back.array, arr)
    assert back.geometry.is_same_grid(g, tol_mm=1e-9)
    assert not back.array.flags.writeable


def test_volume_rejects_nan_and_shape_mismatch() -> None:
    g = ImageGeometry((2, 2, 2))
    with pytest.raises(InputError, match="NaN"):
        Volume(np.full((2, 2, 2), np.nan), g)
    with pytest.raises(GeometryError, match="does not match"):
        Volume(np.zeros((2, 2, 3)), g)


def test_value_at_lps() -> None:
    g = oblique_geometry()
    arr = np.random.default_rng(0).integers(-1000, 1000, g.shape).astype(np.int16)
    vol = Volume(arr, g)
    p = g.index_to_lps([[3, 2, 1]])[0]
    assert vol.value_at_lps(p) == arr[3, 2, 1]
    assert vol.value_at_lps(p + 1000) is None


def test_labelmap_segments_and_masks() -> None:
    g = ImageGeometry((4, 4, 4), spacing=(0.5, 0.5, 2.0))
    arr = np.zeros(g.shape, np.uint8)
    arr[:2] = 1
    arr[3, 3, 3] = 5
    lm = LabelMap.from_array(arr, g, names={1: "liver", 5: "tumour"})
    assert [s.name for s in lm.segments] == ["liver", "tumour"]
    assert lm.voxel_count("liver") == 32
    assert lm.volume_mm3("tumour") == pytest.approx(0.5)
    assert lm.segment(5).name == "tumour"
    assert lm.segment("5").name == "tumour"
    with pytest.raises(InputError, match="no segment"):
        lm.segment("spleen")
    np.testing.assert_array_equal(lm.to_single_layer(), arr)


def test_labelmap_rejects_bad_tables() -> None:
    g = ImageGeometry((2, 2, 2))
    z = np.zeros(g.shape, np.uint8)
    with pytest.raises(InputError, match="unique"):
        LabelMap([z], g, [Segment(1, "a"), Segment(2, "a")])
    with pytest.raises(InputError, match="same"):
        LabelMap([z], g, [Segment(1, "a"), Segment(1, "b")])
    with pytest.raises(InputError, match="negative"):
        LabelMap.from_array(np.full(g.shape, -1), g)


def _cube_surface(size: float = 2.0) -> SurfaceModel:
    p = np.array([[x, y, z] for x in (0, size) for y in (0, size) for z in (0, size)], float)
    # outward-oriented triangles of the unit cube (indices: x*4 + y*2 + z)
    quads = [(0, 1, 3, 2), (4, 6, 7, 5), (0, 4, 5, 1), (2, 3, 7, 6), (0, 2, 6, 4), (1, 5, 7, 3)]
    tris = []
    for a, b, c, d in quads:
        tris += [(a, b, c), (a, c, d)]
    return SurfaceModel(p, np.array(tris), name="cube")


def test_surface_metrics_and_watertightness() -> None:
    s = _cube_surface(2.0)
    assert s.volume_mm3() == pytest.approx(8.0)
    assert s.area_mm2() == pytest.approx(24.0)
    assert s.is_watertight()
    open_s = SurfaceModel(s.points_lps, s.triangles[:-1])
    assert not open_s.is_watertight()
    poly = s.to_pyvista()
    back = SurfaceModel.from_pyvista(poly, name="cube")
    assert back.volume_mm3() == pytest.approx(8.0)


def test_tetmesh_volume_and_pyvista_round_trip() -> None:
    pts = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 1]], float)
    cells = np.array([[0, 1, 2, 3], [1, 2, 3, 4]])
    m = TetMesh(pts, cells, region=np.array([1, 2]), region_names={1: "liver", 2: "tumour"})
    assert m.volume_mm3() == pytest.approx(1 / 6 + 1 / 3)
    back = TetMesh.from_pyvista(m.to_pyvista())
    np.testing.assert_array_equal(back.region, [1, 2])
    np.testing.assert_array_equal(back.cells, cells)
    with pytest.raises(InputError):
        TetMesh(pts, np.array([[0, 1, 2]]))
    with pytest.raises(InputError):
        TetMesh(pts, np.array([[0, 1, 2, 9]]))
