"""The segmentation-tools panel driven through its real widgets on a small synthetic torso (40^3 voxels).

Each action must run (in a worker), give the mask the underlying pure function gives, and be ONE
undo step. Frame: LPS mm.
"""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QEvent, Qt
from PySide6.QtWidgets import QApplication

from tests.app.gui_helpers import send_mouse

pytestmark = pytest.mark.gui


def _drag(view, points_lps):
    """Press at the first point, move through the others, release at the last (left button)."""
    pos = [view.lps_to_screen(np.asarray(p, float)) for p in points_lps]
    send_mouse(view, QEvent.Type.MouseButtonPress, pos[0])
    for q in pos[1:]:
        send_mouse(view, QEvent.Type.MouseMove, q, Qt.MouseButton.NoButton, Qt.MouseButton.LeftButton)
    send_mouse(view, QEvent.Type.MouseButtonRelease, pos[-1])


@pytest.fixture
def seg(window):
    """(window, panel) on the synthetic torso at 40^3 (3.2 x 2.56 x 3 mm voxels), crosshair at z = 4.5 mm."""
    from app.gui.synthetic import synthetic_case
    from twin.project import Project

    vol, lm = synthetic_case((40, 40, 40))
    proj = Project(name="small")
    proj.volumes["ct"] = vol
    proj.labelmaps["seg"] = lm
    window.set_project(proj, position_lps=np.array([0.0, 0.0, 4.5]))
    panel = window.panels["segment_tools_panel"]
    dock = window.findChild(type(window.findChildren(type(panel.parentWidget()))[0]), "dock_segment_tools_panel")
    dock.show()
    dock.raise_()
    QApplication.processEvents()
    assert window.wait_for_workers(60)
    for v in window.slice_views.values():
        v.repaint()
    return window, panel


def _pushes(window):
    return len(window.project.undo_stack)


def test_threshold_preview_apply_undo(seg, qtbot):
    window, panel = seg
    vol = window.volume
    panel.new_segment("bone")
    page = panel.threshold
    panel.show_page(page)
    page.preset.setCurrentIndex(page.preset.findData("bone"))
    assert (page.low.value(), page.high.value()) == (226, 3071)
    page.low.setValue(300)
    assert page.preset.currentIndex() == 0  # edited range: custom
    # live preview: the shown axial slice thresholded, drawn over the spine only
    axial = window.slice_views["axial"]
    axial.repaint()
    pm = page.preview_mask(axial)
    assert pm is not None and pm.any()
    k = int(round(vol.geometry.lps_to_index(window.current_position_lps[None])[0][2]))
    expected = ((vol.array[:, :, k] >= 300) & (vol.array[:, :, k] <= 3071)).T  # rows = j (screen down = P)
    assert np.array_equal(pm, expected)
    spine = axial.lps_to_screen(np.array([0.0, 28.0, 4.5]))
    liver = axial.lps_to_screen(np.array([-22.0, -2.0, 4.5]))

    def colours():
        img = axial.grab().toImage()
        return [img.pixelColor(int(q.x()), int(q.y())) for q in (spine, liver)]

    on = colours()
    page.preview.setChecked(False)
    off = colours()
    page.preview.setChecked(True)
    # the bone is tinted cyan (less red, more blue), the liver is not touched
    assert (on[0].blue() - on[0].red()) - (off[0].blue() - off[0].red()) > 40
    assert on[1].rgb() == off[1].rgb()
    n0 = _pushes(window)
    page.apply()
    assert window.wait_for_workers(60)
    assert _pushes(window) == n0 + 1
    truth = (vol.array >= 300) & (vol.array <= 3071)
    assert np.array_equal(window.labelmap.mask("bone"), truth)
    window.undo()
    assert not window.labelmap.mask("bone").any()
    window.redo()
    assert np.array_equal(window.labelmap.mask("bone"), truth)
    # hiding the page removes the preview painter
    panel.show_page(panel.refine)
    from app.gui.tools.overlay import overlays_for

    assert "threshold_preview" not in overlays_for(window).painters


def _capsule(geom, a, b, r, k):
    """Voxels of slice k whose centres lie within r of segment ab (LPS mm)."""
    ii, jj = np.meshgrid(np.arange(geom.shape[0]), np.arange(geom.shape[1]), indexing="ij")
    ijk = np.stack([ii.ravel(), jj.ravel(), np.full(ii.size, k)], axis=1)
    p = geom.index_to_lps(ijk)
    ab = b - a
    t = np.clip(((p - a) @ ab) / (ab @ ab), 0, 1)
    d = np.linalg.norm(p - (a + t[:, None] * ab), axis=1)
    return d.reshape(ii.shape)


def test_brush_drag_is_one_undo_step_and_eraser(seg, qtbot):
    window, panel = seg
    geom = window.labelmap.geometry
    panel.new_segment("painted")
    panel.show_page(panel.edit)
    panel.edit.radius.setValue(6.0)
    panel.edit.select("brush")
    assert window.slice_tool is panel.edit.brush
    axial = window.slice_views["axial"]
    z = window.current_position_lps[2]
    a, b = np.array([-30.0, -10.0, z]), np.array([20.0, 5.0, z])
    n0 = _pushes(window)
    _drag(axial, [a, (a + b) / 2, b])
    assert _pushes(window) == n0 + 1  # one drag = one undo step
    m = window.labelmap.mask("painted")
    k = int(round(geom.lps_to_index(a[None])[0][2]))
    assert m[:, :, k].any() and not np.delete(m, k, axis=2).any()  # disc brush: only the viewed slice
    # the mouse positions are rounded to screen pixels: allow half a pixel of the view's scale
    slack = 1.0 / axial.scale()
    d = _capsule(geom, a, b, 6.0, k)
    assert not (m[:, :, k] & (d > 6.0 + slack)).any()
    assert m[:, :, k][d < 0.95 * 6.0 - slack].all()
    # the crosshair did not move while painting
    assert window.current_position_lps[0] == pytest.approx(0.0)
    window.undo()
    assert not window.labelmap.mask("painted").any()
    window.redo()
    before = window.labelmap.mask("painted").copy()
    # eraser: one stroke removes a disc, one undo restores it
    panel.edit.select("eraser")
    e = np.array([-5.0, -2.0, z])
    _drag(axial, [e, e])
    after = window.labelmap.mask("painted")
    d_e = _capsule(geom, e, e + 1e-9, 6.0, k)
    assert not (after[:, :, k] & (d_e < 6.0 - slack)).any()
    assert np.array_equal(after | before, before) and after.sum() < before.sum()
    window.undo()
    assert np.array_equal(window.labelmap.mask("painted"), before)
    # sphere brush through the tool API: a 3-D ball of the radius in mm
    panel.edit.select(None)
    assert window.slice_tool is None
    brush = panel.edit.brush
    brush.erase, brush.shape, brush.radius_mm = False, "sphere", 7.0
    c = np.array([20.0, 10.0, 10.0])
    assert brush.begin(c) and brush.end()
    ball = np.linalg.norm(geom.index_to_lps(np.argwhere(np.ones(geom.shape, bool))) - c, axis=1).reshape(geom.shape)
    now = window.labelmap.mask("painted")
    assert now[ball < 6.9].all() and not (now & ~before)[ball > 7.01].any()


def test_grow_from_seeds_by_clicking(seg, qtbot):
    window, panel = seg
    lm = window.labelmap
    truth = lm.mask("liver") | lm.mask("tumor")
    page = panel.grow
    panel.show_page(page)
    page.add_set("grown_liver")
    assert page.place.isChecked() and window.slice_tool is page.tool
    axial = window.slice_views["axial"]
    z = window.current_position_lps[2]
    for p in ([-35.0, 5.0, z], [-15.0, -10.0, z], [-25.0, 12.0, z]):  # liver, away from the tumour
        pos = axial.lps_to_screen(np.array(p))
        send_mouse(axial, QEvent.Type.MouseButtonPress, pos)
        send_mouse(axial, QEvent.Type.MouseButtonRelease, pos)
    page.add_set("background")
    for p in ([0.0, -30.0, z], [32.0, 14.0, z], [0.0, 28.0, z], [40.0, -10.0, z], [-45.0, -20.0, z]):
        pos = axial.lps_to_screen(np.array(p))
        send_mouse(axial, QEvent.Type.MouseButtonPress, pos)
        send_mouse(axial, QEvent.Type.MouseButtonRelease, pos)
    assert [len(s.points_lps) for s in page.seeds.sets] == [3, 5]
    assert page.list.item(1).text().startswith("background  (5 seeds)")
    assert window.current_position_lps[0] == pytest.approx(0.0)  # clicks placed seeds, not the crosshair
    page.tolerance.setValue(1.5)
    n0 = _pushes(window)
    page.grow()
    assert window.wait_for_workers(120), window.messages
    assert _pushes(window) == n0 + 1
    from segmentation._common import dice

    grown = window.labelmap.mask("grown_liver")
    assert dice(grown, truth) > 0.9
    assert "background" not in [s.name for s in window.labelmap.segments]
    window.undo()
    assert "grown_liver" not in [s.name for s in window.labelmap.segments]


def test_refine_tools_each_one_undo_step(seg, qtbot):
    from segmentation import morphology as morph

    window, panel = seg
    lm = window.labelmap
    geom = lm.geometry
    panel.set_target("liver")
    page = panel.refine
    liver0 = lm.mask("liver").copy()
    page.margin.setValue(4.0)
    n0 = _pushes(window)
    page.apply_margin()
    assert window.wait_for_workers(60)
    assert _pushes(window) == n0 + 1
    assert np.array_equal(lm.mask("liver"), morph.dilate(liver0, geom, 4.0))
    window.undo()
    assert np.array_equal(lm.mask("liver"), liver0)
    # logical ops; segments of one layer are exclusive, so the union takes the spine's voxels over
    spine0 = lm.mask("spine").copy()
    page.apply_logical("union", "spine")
    assert window.wait_for_workers(60)
    assert np.array_equal(lm.mask("liver"), liver0 | spine0)
    window.undo()
    assert np.array_equal(lm.mask("spine"), spine0) and np.array_equal(lm.mask("liver"), liver0)
    from twin.labelmap_commands import AddSegment

    cut = np.zeros(lm.shape, bool)
    cut[:, :20, :] = True  # anterior half, overlapping (own layer)
    window.push_command(AddSegment(lm, "cut", mask=cut, allow_overlap=True))
    page.apply_logical("subtract", "cut")
    assert window.wait_for_workers(60)
    assert np.array_equal(lm.mask("liver"), liver0 & ~cut)
    assert np.array_equal(lm.mask("cut"), cut)
    assert _pushes(window) == n0 + 2  # (undone commands leave the history)
    window.undo()
    # islands: a far brush dab is an island; "keep at crosshair" (crosshair in the liver) drops it
    brush = panel.edit.brush
    brush.shape, brush.radius_mm, brush.erase = "sphere", 4.0, False
    assert brush.begin(np.array([30.0, -25.0, -30.0])) and brush.end()
    assert morph.label_components(lm.mask("liver"))[1] == 2
    window.set_position(np.array([-22.0, -2.0, 4.5]))
    page.keep_at_crosshair()
    assert window.wait_for_workers(60)
    assert morph.label_components(lm.mask("liver"))[1] == 1
    # level-set refinement grows a shrunken liver back towards the true boundary
    truth = liver0 | lm.mask("tumor")
    small = morph.erode(truth, geom, 6.0)
    from twin.labelmap_commands import SetSegmentMask

    window.push_command(SetSegmentMask(lm, "liver", small))
    from segmentation._common import dice

    d0 = dice(lm.mask("liver"), truth)
    page.ls_iter.setValue(150)
    page.ls_tol.setValue(1.5)  # liver 60 HU vs muscle 40 HU with 8 HU noise: a wider band leaks
    n1 = _pushes(window)
    page.apply_level_set()
    assert window.wait_for_workers(120), window.messages
    assert _pushes(window) == n1 + 1
    assert d0 < 0.75 and dice(lm.mask("liver"), truth) > 0.93


def test_scissors_cut_through_the_volume(seg, qtbot):
    from app.gui.tools.geometry import prism_mask

    window, panel = seg
    lm = window.labelmap
    panel.set_target("liver")
    before = lm.mask("liver").copy()
    panel.show_page(panel.edit)
    panel.edit.select("scissors")
    axial = window.slice_views["axial"]
    z = window.current_position_lps[2]
    square = [np.array([x, y, z]) for x, y in ((-40, -20), (-20, -20), (-20, 0), (-40, 0))]
    n0 = _pushes(window)
    _drag(axial, square + [square[0]])
    assert window.wait_for_workers(60)
    assert _pushes(window) == n0 + 1
    after = lm.mask("liver")
    cut = before & ~after
    # the cut goes through every slice (extruded along the axial normal) and only inside the square
    pts = lm.geometry.index_to_lps(np.argwhere(cut))
    assert len(np.unique(np.argwhere(cut)[:, 2])) > 10
    slack = 1.0 / axial.scale() + 1e-6
    assert np.all((pts[:, 0] > -40 - slack) & (pts[:, 0] < -20 + slack) & (pts[:, 1] > -20 - slack)
                  & (pts[:, 1] < slack))
    plane = axial.plane()
    expected = prism_mask(lm.geometry, plane.to_plane_coords(np.array(square)), plane.col_dir, plane.row_dir,
                          restrict=before)
    assert abs(int(cut.sum()) - int(expected.sum())) <= 0.1 * expected.sum()
    window.undo()
    assert np.array_equal(lm.mask("liver"), before)


def test_surface_generation_and_export_import(seg, qtbot, tmp_path):
    window, panel = seg
    lm = window.labelmap
    panel.set_target("liver")
    page = panel.files
    n0 = _pushes(window)
    page.generate_surfaces()
    assert window.wait_for_workers(60)
    assert _pushes(window) == n0 + 1
    surf = window.project.surfaces["liver"]
    assert surf.is_watertight()
    assert surf.volume_mm3() == pytest.approx(lm.volume_mm3("liver"), rel=0.08)
    assert "closed" in page.surface_info.text()
    shown = [n for n in window.view3d.plotter.renderer.actors if n.startswith("surface:liver surface")]
    assert shown  # drawn in the 3-D view
    window.undo()
    assert "liver" not in window.project.surfaces
    assert not [n for n in window.view3d.plotter.renderer.actors if n.startswith("surface:liver surface")]
    # export .seg.nrrd + STL, import into the same grid: names and voxels kept, added as one undo step
    page.export_path("seg.nrrd", tmp_path / "out.seg.nrrd")
    page.export_path("stl", tmp_path / "liver.stl")
    assert window.wait_for_workers(60), window.messages
    assert b"LPS" in (tmp_path / "liver.stl").read_bytes()[:80]
    n1 = _pushes(window)
    page.import_path(tmp_path / "out.seg.nrrd")
    assert window.wait_for_workers(60), window.messages
    assert _pushes(window) == n1 + 1
    names = [s.name for s in lm.segments]
    assert "liver_2" in names and "spine_2" in names
    assert np.array_equal(lm.mask("liver_2"), lm.mask("liver"))
    # TotalSegmentator-like folder: one NIfTI per structure
    from twin.io.images import write_image
    from twin.volume import Volume

    folder = tmp_path / "ts"
    folder.mkdir()
    write_image(Volume(lm.mask("spleen").astype(np.uint8), lm.geometry, "SEG"), folder / "spleen.nii.gz")
    write_image(Volume(np.zeros(lm.shape, np.uint8), lm.geometry, "SEG"), folder / "empty.nii.gz")
    page.import_path(folder)
    assert window.wait_for_workers(60), window.messages
    assert np.array_equal(lm.mask("spleen_2"), lm.mask("spleen"))
    assert "empty" not in [s.name for s in lm.segments]


def test_target_follows_selection_shortcuts_and_stale_results(seg, qtbot):
    from PySide6.QtTest import QTest

    window, panel = seg
    window.select_segment("spleen")
    assert panel.target() == "spleen"
    panel.target_combo.setCurrentText("liver")
    assert window.selected_segment == "liver"
    # B / E toggle the brush and the eraser from anywhere in the window
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=3000)
    window.slice_views["axial"].setFocus()
    QTest.keyClick(window.slice_views["axial"], Qt.Key.Key_E)
    assert window.slice_tool is panel.edit.brush and panel.edit.brush.erase
    QTest.keyClick(window.slice_views["axial"], Qt.Key.Key_B)
    assert window.slice_tool is panel.edit.brush and not panel.edit.brush.erase
    QTest.keyClick(window.slice_views["axial"], Qt.Key.Key_B)
    assert window.slice_tool is None
    # a result computed from a label map edited meanwhile is refused (it would undo the edit)
    lm = window.labelmap
    before = lm.mask("liver").copy()
    n0 = _pushes(window)
    panel.refine.margin.setValue(3.0)
    panel.refine.apply_margin()
    brush = panel.edit.brush
    brush.shape, brush.radius_mm, brush.erase = "sphere", 3.0, False
    assert brush.begin(np.array([30.0, -25.0, -30.0])) and brush.end()  # edit while the job runs
    painted = lm.mask("liver").copy()
    assert window.wait_for_workers(60)
    # the worker's result is delivered through the event loop, i.e. after the paint: refused
    assert _pushes(window) == n0 + 1
    assert any("edited while it was computing" in m for m in window.messages)
    assert np.array_equal(lm.mask("liver"), painted) and not np.array_equal(painted, before)
