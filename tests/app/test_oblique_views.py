"""Oblique slice views driven through the real widgets: linked crosshair in 3-D, align to a trajectory,
rotate by Ctrl+drag, context menu, reset, brush in an oblique plane (LPS mm)."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication

from rendering.slicing import SlicePlane
from twin.geometry import ImageGeometry

pytestmark = pytest.mark.gui

NONE = Qt.KeyboardModifier.NoModifier


def _mouse(widget, kind, pos, button=Qt.MouseButton.LeftButton, buttons=None, mods=NONE):
    buttons = button if buttons is None else buttons
    ev = QMouseEvent(kind, QPointF(pos), QPointF(widget.mapToGlobal(QPoint(int(pos.x()), int(pos.y())))), button,
                     buttons, mods)
    QApplication.sendEvent(widget, ev)


def _click(widget, pos, mods=NONE):
    _mouse(widget, QEvent.Type.MouseButtonPress, pos, mods=mods)
    _mouse(widget, QEvent.Type.MouseButtonRelease, pos, mods=mods)


def _tilted(point):
    return SlicePlane.standard("axial", point).rotated([1, 0, 0], np.deg2rad(30)).rotated([0, 1, 0], np.deg2rad(20))


@pytest.fixture
def x_window(window):
    """The window on a volume whose value is x_lps (mm) and an empty segmentation, with one trajectory planned."""
    from twin.labelmap import LabelMap
    from twin.plan import Plan, Trajectory
    from twin.project import Project
    from twin.volume import Volume

    g = ImageGeometry((60, 50, 40), (1.5, 1.5, 2.0), (-44.25, -36.75, -39.0))
    idx = np.stack(np.meshgrid(*[np.arange(n) for n in g.shape], indexing="ij"), -1).reshape(-1, 3)
    x = g.index_to_lps(idx)[:, 0].reshape(g.shape).astype(np.float32)
    proj = Project(name="x")
    proj.volumes["x"] = Volume(x, g, "MR", "mm", "x_lps")
    proj.labelmaps["seg"] = LabelMap.from_array(np.zeros(g.shape, np.uint8), g, {})
    plan = Plan()
    plan.add(Trajectory(name="needle", entry_lps=(-30.0, -25.0, 25.0), target_lps=(8.0, 6.0, -4.0)))
    proj.plan = plan.to_dict()
    window.set_project(proj)
    proj.undo_stack.set_clean()
    QApplication.processEvents()
    return window


def test_oblique_view_shows_the_analytic_volume_and_labels_itself(x_window):
    w = x_window
    view = w.slice_views["axial"]
    view.set_plane(_tilted(w.current_position_lps))
    assert view.is_oblique and view.preset is None
    view._build_image()  # what paintEvent runs (a view squeezed by the docks may not paint at all)
    sl = view._slice
    rr, cc = np.meshgrid(np.arange(sl.shape[0]), np.arange(sl.shape[1]), indexing="ij")
    lps = sl.pixel_to_lps(np.stack([rr.ravel(), cc.ravel()], 1))
    ijk = w.volume.geometry.lps_to_index(lps)
    inside = np.all((ijk > 1e-3) & (ijk < np.array(w.volume.shape) - 1 - 1e-3), axis=1)
    assert inside.sum() > 1000
    np.testing.assert_allclose(sl.pixels.ravel()[inside], lps[inside, 0], atol=1e-3)  # value = x_lps
    np.testing.assert_allclose((lps - w.current_position_lps) @ view.plane().normal, 0, atol=1e-9)
    # the widget shows the grey values: brighter towards patient left (screen right, value = x)
    w.crosshair_visible = False
    w.project.plan = {}  # nothing drawn over the image (the planned path is drawn in every view)
    w.toggle_maximise(view)  # room for the +-25 mm samples below
    QApplication.processEvents()
    assert view.width() > 300 and view.height() > 200
    img = view.grab().toImage()
    y = int(view.lps_to_screen(w.current_position_lps).y())
    xs = [int(view.lps_to_screen(w.current_position_lps + d * view.plane().col_dir).x()) for d in (-25, 0, 25)]
    grey = [img.pixelColor(x, y).red() for x in xs]
    assert grey[0] + 10 < grey[1] < grey[2] - 10


def test_click_in_an_oblique_view_moves_the_crosshair_in_3d_and_the_other_views_follow(x_window):
    w = x_window
    view = w.slice_views["axial"]
    view.set_plane(_tilted(w.current_position_lps))
    plane0 = view.plane()
    pos = QPointF(view.width() / 2 + 40, view.height() / 2 - 25)
    expected = view.screen_to_lps(pos)
    _click(view, pos)
    p = w.current_position_lps
    np.testing.assert_allclose(p, expected, atol=1e-9)
    assert abs(float((p - plane0.point_lps) @ plane0.normal)) < 1e-9  # stayed on the oblique plane
    assert not np.allclose(p[[0, 2]], plane0.point_lps[[0, 2]])  # moved in L and S, not only in-plane of axial
    back = view.lps_to_screen(p)
    assert back.x() == pytest.approx(pos.x(), abs=1e-6) and back.y() == pytest.approx(pos.y(), abs=1e-6)
    for name in ("coronal", "sagittal"):
        other = w.slice_views[name]
        assert other.plane().offset_mm == pytest.approx(float(p @ other.plane().normal))  # through the crosshair
        # the oblique plane is seen there as a line through the crosshair: points along the drawn direction
        d = np.cross(plane0.normal, other.plane().normal)
        c = other.lps_to_screen(p)
        tip = other.lps_to_screen(p + 30.0 * d / np.linalg.norm(d))
        on_line = other.screen_to_lps(QPointF((c.x() + tip.x()) / 2, (c.y() + tip.y()) / 2))
        assert abs(float((on_line - p) @ plane0.normal)) < 1e-6
    # clicking in a standard view moves the oblique view's plane along its normal to the new crosshair
    cor = w.slice_views["coronal"]
    _click(cor, QPointF(cor.width() / 2 - 30, cor.height() / 2 + 20))
    assert view.plane().offset_mm == pytest.approx(float(w.current_position_lps @ plane0.normal))
    assert w.project.undo_stack.can_undo is False and not w.project.modified  # views are not data edits


def test_align_to_trajectory_puts_entry_and_target_on_the_centre_line(x_window):
    from app.gui.view_orientation import align_view_to_trajectory, align_views_to_trajectory, reset_orientations

    w = x_window
    entry, target = np.array([-30.0, -25.0, 25.0]), np.array([8.0, 6.0, -4.0])
    align_views_to_trajectory(w, "needle")
    np.testing.assert_allclose(w.current_position_lps, target)
    for name in ("coronal", "sagittal"):  # the two planes containing the path
        v = w.slice_views[name]
        assert v.is_oblique
        e, t = v.lps_to_screen(entry), v.lps_to_screen(target)
        assert e.x() == pytest.approx(v.width() / 2, abs=0.5) and t.x() == pytest.approx(v.width() / 2, abs=0.5)
        assert e.y() < t.y() and 0 < e.y() and t.y() < v.height()  # entry above the target, both visible
        for q in (entry, target):
            assert abs(float((q - v.plane().point_lps) @ v.plane().normal)) < 1e-9
    across = w.slice_views["axial"]
    d = (target - entry) / np.linalg.norm(target - entry)
    np.testing.assert_allclose(across.plane().normal, d, atol=1e-9)
    c = across.lps_to_screen(target)
    assert c.x() == pytest.approx(across.width() / 2, abs=0.5) and c.y() == pytest.approx(across.height() / 2, abs=0.5)
    assert abs(w.slice_views["coronal"].plane().normal @ w.slice_views["sagittal"].plane().normal) < 1e-9
    # one view only, by menu: the right-click menu lists the trajectory
    view = w.slice_views["axial"]
    menu = view.context_menu()
    traj_menu = next(a.menu() for a in menu.actions() if a.menu() and a.text() == "Align to trajectory")
    needle = next(a.menu() for a in traj_menu.actions() if a.text() == "needle")
    next(a for a in needle.actions() if a.text() == "Along the path").trigger()
    e, t = view.lps_to_screen(entry), view.lps_to_screen(target)
    assert e.x() == pytest.approx(view.width() / 2, abs=0.5) and e.y() < t.y()
    with pytest.raises(KeyError):
        align_view_to_trajectory(view, "no such path")
    reset_orientations(w)
    assert [v.preset for v in w.slice_views.values()] == ["axial", "coronal", "sagittal"]
    assert w.project.undo_stack.can_undo is False and not w.project.modified


def test_ctrl_drag_rotates_the_other_views_and_reset_restores_them(x_window):
    w = x_window
    axial = w.slice_views["axial"]
    c = axial.lps_to_screen(w.current_position_lps)
    n_cor = w.slice_views["coronal"].plane().normal
    ctrl = Qt.KeyboardModifier.ControlModifier
    start, end = QPointF(c.x() + 60, c.y()), QPointF(c.x(), c.y() + 60)  # a quarter turn clockwise on screen
    _mouse(axial, QEvent.Type.MouseButtonPress, start, mods=ctrl)
    _mouse(axial, QEvent.Type.MouseMove, end, Qt.MouseButton.NoButton, Qt.MouseButton.LeftButton, mods=ctrl)
    _mouse(axial, QEvent.Type.MouseButtonRelease, end, mods=ctrl)
    assert axial.preset == "axial"  # the dragged view keeps its plane
    n_new = w.slice_views["coronal"].plane().normal
    # turned 90 degrees about the axial normal (S): coronal's normal (-P..) becomes a left-right normal
    assert abs(n_new @ n_cor) < 1e-6 and abs(n_new[2]) < 1e-9 and abs(abs(n_new[0]) - 1) < 1e-6
    assert w.slice_views["coronal"].preset is None or w.slice_views["coronal"].preset == "sagittal"
    # rotate mode: a plain drag does the same, half a quarter turn
    w.rotate_action.setChecked(True)
    assert w.rotate_mode
    before = w.slice_views["sagittal"].plane().normal
    _mouse(axial, QEvent.Type.MouseButtonPress, start)
    _mouse(axial, QEvent.Type.MouseMove, QPointF(c.x() + 40, c.y() + 40), Qt.MouseButton.NoButton,
           Qt.MouseButton.LeftButton)
    _mouse(axial, QEvent.Type.MouseButtonRelease, QPointF(c.x() + 40, c.y() + 40))
    after = w.slice_views["sagittal"].plane().normal
    assert np.degrees(np.arccos(np.clip(before @ after, -1, 1))) == pytest.approx(45.0, abs=0.5)
    w.rotate_action.setChecked(False)
    # Ctrl+Shift+drag tilts the view's own plane
    shift_ctrl = ctrl | Qt.KeyboardModifier.ShiftModifier
    _mouse(axial, QEvent.Type.MouseButtonPress, c, mods=shift_ctrl)
    _mouse(axial, QEvent.Type.MouseMove, QPointF(c.x() + 50, c.y()), Qt.MouseButton.NoButton,
           Qt.MouseButton.LeftButton, mods=shift_ctrl)
    _mouse(axial, QEvent.Type.MouseButtonRelease, QPointF(c.x() + 50, c.y()), mods=shift_ctrl)
    assert axial.is_oblique
    assert np.degrees(np.arccos(axial.plane().normal @ np.array([0, 0, 1.0]))) == pytest.approx(20.0, abs=0.5)
    w.reset_orientation_action.trigger()
    assert [v.preset for v in w.slice_views.values()] == ["axial", "coronal", "sagittal"]
    # the right-click menu switches a view to another preset
    menu = axial.context_menu()
    next(a for a in menu.actions() if a.text() == "Sagittal").trigger()
    assert axial.preset == "sagittal"


def test_brush_paints_a_disc_in_the_oblique_plane(x_window):
    from app.gui.tools.brush import BrushTool
    from rendering.mpr import label_slices
    from twin.labelmap_commands import AddSegment

    w = x_window
    lm = w.labelmap
    assert w.push_command(AddSegment(lm, "lesion", (1.0, 0.2, 0.2)))
    view = w.slice_views["axial"]
    view.set_plane(_tilted(w.current_position_lps))
    brush = BrushTool(w, lambda: "lesion", radius_mm=6.0, shape="disc")
    w.set_slice_tool(brush)
    c = view.lps_to_screen(w.current_position_lps)
    _click(view, c)
    w.set_slice_tool(None)
    mask = lm.mask("lesion")
    pts = lm.geometry.index_to_lps(np.argwhere(mask))
    plane = view.plane()
    d = pts - plane.point_lps
    assert len(pts) > 20
    assert np.all(np.linalg.norm(d, axis=1) <= 6.0 + 1e-6)
    half = 0.5 * float(np.abs(plane.normal) @ lm.geometry.spacing)
    assert np.all(np.abs(d @ plane.normal) <= half + 1e-6)  # a one-voxel slab around the oblique plane
    # ... and the oblique view shows it as a filled disc: every pixel within 5 mm of the centre is labelled
    view._build_image()
    sl = view._slice
    (labels,) = label_slices(lm, sl, plane)
    rr, cc = np.meshgrid(np.arange(sl.shape[0]), np.arange(sl.shape[1]), indexing="ij")
    lps = sl.pixel_to_lps(np.stack([rr.ravel(), cc.ravel()], 1)).reshape(*sl.shape, 3)
    r = np.linalg.norm(lps - plane.point_lps, axis=-1)
    assert np.all(labels[r < 5.0] == 1) and not np.any(labels[r > 8.0] == 1)
    w.undo()
    w.undo()
    assert not lm.segments


def test_slice_planes_in_the_3d_view_follow_the_views(x_window, qtbot):
    w = x_window
    w.view3d.ensure_ready()
    assert w.view3d.ready
    w.slice_planes_action.setChecked(True)
    planes = w.slice_planes3d
    assert set(planes.polygons) == {"axial", "coronal", "sagittal"}
    assert {"slice_plane:axial", "slice_plane:coronal:outline"} <= set(w.view3d.plotter.actors)
    for slot, poly in planes.polygons.items():  # each polygon lies in its view's plane
        plane = w.slice_views[slot].plane()
        np.testing.assert_allclose((poly - plane.point_lps) @ plane.normal, 0, atol=1e-9)
    before = planes.polygons["coronal"].copy()
    w.slice_views["axial"].rotate_others(np.deg2rad(25))  # debounced redraw
    qtbot.waitUntil(lambda: not np.array_equal(planes.polygons["coronal"], before), timeout=3000)
    plane = w.slice_views["coronal"].plane()
    np.testing.assert_allclose((planes.polygons["coronal"] - plane.point_lps) @ plane.normal, 0, atol=1e-9)
    w.slice_planes_action.setChecked(False)
    assert not planes.polygons and not any(str(n).startswith("slice_plane:") for n in w.view3d.plotter.actors)


def test_bracket_keys_turn_the_other_views_by_five_degrees(x_window, qtbot):
    w = x_window
    axial = w.slice_views["axial"]
    n0 = w.slice_views["sagittal"].plane().normal
    qtbot.keyClick(axial, Qt.Key.Key_BracketRight)
    qtbot.keyClick(axial, Qt.Key.Key_BracketRight)
    n1 = w.slice_views["sagittal"].plane().normal
    assert np.degrees(np.arccos(np.clip(n0 @ n1, -1, 1))) == pytest.approx(10.0, abs=1e-6)
    assert abs(n1[2]) < 1e-12  # turned about S (the axial normal)
    qtbot.keyClick(axial, Qt.Key.Key_BracketLeft)
    qtbot.keyClick(axial, Qt.Key.Key_BracketLeft)
    np.testing.assert_allclose(w.slice_views["sagittal"].plane().normal, n0, atol=1e-12)
    assert w.slice_views["sagittal"].preset == "sagittal"


def test_right_click_opens_the_view_menu_and_right_drag_still_sets_window_level(x_window, qtbot):
    w = x_window
    view = w.slice_views["sagittal"]
    c = QPointF(view.width() / 2, view.height() / 2)
    wl0 = w.window_level
    right = Qt.MouseButton.RightButton
    _mouse(view, QEvent.Type.MouseButtonPress, c, right)
    _mouse(view, QEvent.Type.MouseButtonRelease, c, right)
    qtbot.waitUntil(lambda: QApplication.activePopupWidget() is not None, timeout=3000)
    menu = QApplication.activePopupWidget()
    assert menu.objectName() == "view_menu_sagittal"
    texts = [a.text() for a in menu.actions()]
    assert {"Axial", "Coronal", "Sagittal", "Align to trajectory", "Reset all orientations"} <= set(texts)
    assert next(a for a in menu.actions() if a.text() == "Sagittal").isChecked()
    menu.close()
    assert w.window_level == wl0
    _mouse(view, QEvent.Type.MouseButtonPress, c, right)
    _mouse(view, QEvent.Type.MouseMove, c + QPointF(40, 0), Qt.MouseButton.NoButton, right)
    _mouse(view, QEvent.Type.MouseButtonRelease, c + QPointF(40, 0), right)
    assert w.window_level.width > wl0.width and QApplication.activePopupWidget() is None


def test_linked_views_catch_up_after_continuous_scrolling(x_window, qtbot):
    from app.gui import slice_view

    w = x_window
    view = w.slice_views["axial"]
    view.set_plane(_tilted(w.current_position_lps))
    sag = w.slice_views["sagittal"]
    for v in w.slice_views.values():
        v._build_image()  # what paintEvent runs (the views may be too small to paint here)
    n0 = sag.render_count
    for _ in range(5):  # continuous scrolling: the oblique view moves the crosshair in L, P and S
        view.scroll_slices(1)
        view._build_image()
        sag._build_image()
    assert sag.render_count < n0 + 5  # the linked view waited...
    assert view._cache_key[1] == round(view.plane().offset_mm, 4)  # ...the scrolled one never does
    qtbot.wait(int(1000 * slice_view.DEFER_LINKED_S) + 50)
    sag._build_image()  # ...and catches up once the scrolling paused
    assert sag._cache_key[1] == round(sag.plane().offset_mm, 4)
    # scrolling the sagittal view right after the axial one: it leads at once and never shows a stale slice
    view.scroll_slices(1)
    view.scroll_slices(1)
    for _ in range(3):
        sag.scroll_slices(1)
        sag._build_image()
        assert sag._cache_key[1] == round(sag.plane().offset_mm, 4)
    old = slice_view.DEFER_LINKED_S
    slice_view.DEFER_LINKED_S = 0.0  # disabled: every view follows every step
    try:
        for _ in range(3):
            view.scroll_slices(1)
            sag._build_image()
            assert sag._cache_key[1] == round(sag.plane().offset_mm, 4)
    finally:
        slice_view.DEFER_LINKED_S = old
