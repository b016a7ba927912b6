"""Off-screen images: MPR with annotations, 3-D scenes, FE results, display surfaces (checked by pixel content)."""

from __future__ import annotations

import numpy as np
import pytest

from rendering.offscreen import render_3d_scene, render_fe_result, render_mpr_slice, save_png
from rendering.overlay import OverlayStyle
from rendering.scene import MarkerObject, PlaneObject, fe_field, line
from segmentation.surfaces import display_surfaces  # segmentation contours, rendering draws
from tests.rendering.conftest import phantom_on, voxel_centres_lps
from twin.geometry import ImageGeometry
from twin.meshes import SurfaceModel, TetMesh


def _colour_mask(img: np.ndarray, rgb: tuple[int, int, int], tol: int = 40) -> np.ndarray:
    return np.all(np.abs(img.astype(int) - np.array(rgb)) < tol, axis=-1)


def test_mpr_slice_overlay_side_and_aspect(phantom):
    vol, lm = phantom
    img = render_mpr_slice(vol, lm, "axial", [0, 0, 0], size=(400, 300), overlay=OverlayStyle(1.0, "fill"),
                           annotate=False)
    assert img.shape == (300, 400, 3) and img.dtype == np.uint8
    red = _colour_mask(img, (255, 0, 0), 10)
    blue = _colour_mask(img, (0, 0, 255), 10)
    ys, xs = np.nonzero(red)
    assert red.sum() > 1000 and xs.max() < 200  # liver (patient right) on the left half
    assert blue.sum() > 100 and np.nonzero(blue)[1].min() > 200  # spleen (patient left) on the right
    # physical aspect: the liver is a ball of radius 12 mm -> as wide as high on screen
    assert abs((xs.max() - xs.min()) - (ys.max() - ys.min())) <= 3
    # coronal view of an anisotropic grid (2.5 mm slices): the ball stays round
    cor = render_mpr_slice(vol, lm, "coronal", [0, 0, 0], size=(400, 300), overlay=OverlayStyle(1.0, "fill"),
                           annotate=False)
    ys, xs = np.nonzero(_colour_mask(cor, (255, 0, 0), 10))
    assert abs((xs.max() - xs.min()) - (ys.max() - ys.min())) <= 0.12 * (xs.max() - xs.min())


def test_mpr_annotations_are_drawn(phantom, tmp_path):
    vol, lm = phantom
    plain = render_mpr_slice(vol, lm, "sagittal", [0, 0, 0], size=(300, 300), annotate=False)
    ann = render_mpr_slice(vol, lm, "sagittal", [0, 0, 0], size=(300, 300), annotate=True, crosshair=True)
    letters = _colour_mask(ann, (255, 210, 80), 30) & ~_colour_mask(plain, (255, 210, 80), 30)
    assert letters[:, :20].any() and letters[:, -20:].any()  # A on the left, P on the right
    assert letters[:25].any() and letters[-25:].any()  # S on top, I at the bottom
    path = save_png(ann, tmp_path / "s.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_3d_scene_anterior_view_shows_patient_left_on_the_right(phantom):
    _, lm = phantom
    surfaces = display_surfaces(lm)
    assert set(surfaces) == {"liver", "spleen"}
    objs = [MarkerObject(np.array([25.0, -30.0, 0.0]), 3.0, (0.0, 1.0, 0.0), name="m"),
            line([[-20, -60, 0], [-20, 0, 0]], 1.5, (1.0, 1.0, 0.0), name="needle"),
            PlaneObject(np.array([0.0, 0, 30]), np.array([0, 0, 1.0]), 50, name="cut")]
    img = render_3d_scene(surfaces, objs, size=(400, 300), camera="anterior")
    assert img.shape == (300, 400, 3)
    red = img[..., 0].astype(int) - img[..., 2] > 80  # liver (red), shaded
    blue = img[..., 2].astype(int) - img[..., 0] > 80
    assert red.sum() > 500 and blue.sum() > 100
    assert np.nonzero(red)[1].mean() < np.nonzero(blue)[1].mean()  # right organ left on screen in anterior view
    post = render_3d_scene(surfaces, [], size=(400, 300), camera="posterior")
    red = post[..., 0].astype(int) - post[..., 2] > 80
    blue = post[..., 2].astype(int) - post[..., 0] > 80
    assert np.nonzero(red)[1].mean() > np.nonzero(blue)[1].mean()


def _beam() -> TetMesh:
    import pyvista as pv

    grid = pv.ImageData(dimensions=(11, 3, 3), spacing=(10.0, 5.0, 5.0)).cast_to_unstructured_grid().triangulate()
    pts = np.asarray(grid.points)
    cells = grid.cells_dict[10]
    x = pts[:, 0]
    disp = np.zeros_like(pts)
    disp[:, 2] = -0.01 * x**2 / 100  # bending, tip -1 mm
    stress = np.zeros((len(cells), 6))
    stress[:, 0] = 2.0  # uniaxial 2 MPa -> von Mises 2 MPa
    strain = np.zeros((len(cells), 6))
    strain[:, 0], strain[:, 1], strain[:, 2] = 0.01, -0.003, -0.003
    return TetMesh(pts, cells, np.ones(len(cells), int), {1: "beam"}, {"displacement": disp},
                   {"stress": stress, "strain": strain})


def test_fe_fields_and_render():
    mesh = _beam()
    u, label, where = fe_field(mesh, "displacement")
    assert where == "point" and "mm" in label and u.max() == pytest.approx(1.0)
    vm, label, _ = fe_field(mesh, "von_mises")
    assert "MPa" in label and np.allclose(vm, 2.0)
    e1, _, _ = fe_field(mesh, "max_principal_strain")
    assert np.allclose(e1, 0.01)
    img = render_fe_result(mesh, "displacement", scale=20.0, size=(400, 300), camera="anterior")
    assert img.shape == (300, 400, 3)
    # turbo colour map: the clamped end is red-brown, the free end blue; the scalar bar adds text pixels
    colourful = (img.max(axis=-1).astype(int) - img.min(axis=-1)) > 100
    assert colourful.sum() > 2000
    # deformed by 20 x 1 mm at the tip: the beam bends down on screen -> its right end is lower than its left
    beam = colourful[: int(0.7 * img.shape[0])]  # above the horizontal scalar bar and the axes triad
    cols = np.nonzero(beam.any(axis=0))[0]
    left_rows = np.nonzero(beam[:, cols.min() + 5])[0]
    right_rows = np.nonzero(beam[:, cols.max() - 5])[0]
    assert right_rows.mean() > left_rows.mean() + 10
    # the scalar bar (bottom) spans the colour map: blue on its left, red on its right
    bar = img[int(0.85 * img.shape[0]):int(0.97 * img.shape[0]), 100:300].astype(int)
    assert (bar[..., 2] - bar[..., 0] > 80).any() and (bar[..., 0] - bar[..., 2] > 80).any()


def test_surface_of_other_grid_matches_mesh_helpers():
    g = ImageGeometry((30, 30, 30), (1.0, 1.0, 1.0), (-15, -15, -15))
    _, lm = phantom_on(g)
    surf = display_surfaces(lm, names=["liver"])["liver"]
    assert isinstance(surf, SurfaceModel) and surf.color == (1.0, 0.0, 0.0)


def test_plan_objects_from_a_stored_plan_are_drawn():
    from rendering.plan_view import plan_to_objects
    from rendering.scene import EllipsoidObject, LineObject
    from twin.plan import AblationZone, Landmark, Plan, Trajectory

    plan = Plan(landmarks=[Landmark(name="xiphoid", position_lps=(0.0, -40.0, 60.0))],
                trajectories=[Trajectory(name="needle 1", entry_lps=(60.0, -30.0, 0.0), target_lps=(10.0, 0.0, 0.0),
                                         diameter_mm=3.0)],
                ablation_zones=[AblationZone(name="zone", center_lps=(10.0, 0.0, 0.0), radii_mm=(15.0, 10.0, 10.0))])
    objs = plan_to_objects(plan.to_dict())  # the JSON stored in Project.plan
    lines = [o for o in objs if isinstance(o, LineObject)]
    assert len(objs) == 5 and lines[0].radius_mm == 1.5
    np.testing.assert_allclose(lines[0].points_lps, [[60, -30, 0], [10, 0, 0]])
    assert any(isinstance(o, EllipsoidObject) for o in objs) and plan_to_objects({}) == []
    img = render_3d_scene({}, objs, size=(300, 240), camera="anterior")
    orange = (img[..., 0].astype(int) > 150) & (img[..., 2] < 100) & (img[..., 1] > 60)
    assert orange.sum() > 200  # the ablation zone
    # the needle enters from the patient's left (+L): in an anterior view it reaches the right edge region
    yellow = (img[..., 0] > 180) & (img[..., 1] > 160) & (img[..., 2] < 90)
    assert np.nonzero(yellow)[1].mean() > 150


@pytest.mark.parametrize("preset", ["ct-bone", "mr"])
def test_volume_rendering_shows_the_dense_structure_on_the_correct_side(preset):
    from rendering.offscreen import render_with
    from rendering.scene import VOLUME_PRESETS, add_volume_rendering
    from twin.volume import Volume

    assert set(VOLUME_PRESETS) == {"ct-bone", "ct-soft-tissue", "ct-angio", "mr"}
    g = ImageGeometry((48, 40, 30), (2.0, 2.0, 2.0), (-47.0, -39.0, -29.0))
    p = voxel_centres_lps(g)
    bone = (p[..., 0] - 25) ** 2 + p[..., 1] ** 2 < 8**2  # a vertical rod on the patient's left
    if preset == "ct-bone":
        arr = np.where(bone, 1200, -1000).astype(np.int16)
        vol = Volume(arr, g, "CT", "HU")
    else:
        arr = np.where(bone, 800.0, 5.0) + (p[..., 2] > 100)  # MR-like arbitrary units
        vol = Volume(arr.astype(np.float32), g, "MR", "")
    img = render_with(lambda pl: add_volume_rendering(pl, vol, preset), size=(300, 240), camera="anterior", axes=False)
    lit = img.astype(int).sum(axis=-1) > 200
    assert lit.sum() > 300
    assert np.nonzero(lit)[1].mean() > 150  # patient left -> screen right in an anterior view
