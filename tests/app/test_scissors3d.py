"""3-D scissors driven through the real window on the demo abdomen phantom (96 x 80 x 48, 4 x 4 x 5 mm).

A known camera is set on the 3-D view; the lasso is drawn with real mouse events on the 3-D
widget around the projection of the liver centre; the erased voxels must be exactly the
segment voxels whose centre projects inside the lasso, computed here with an independent
pinhole model built from the VTK camera's parameters (position, focal point, view up, view
angle); undo must restore the label map. Frame: LPS mm.
"""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QApplication, QDockWidget
from skimage.measure import points_in_poly

from tests.app.gui_helpers import send_mouse

pytestmark = [pytest.mark.gui, pytest.mark.slow]


def _draw(view, points):
    """Left-drag through ``points`` (widget pixels) on the 3-D view's render widget."""
    target = view.interactor if view.interactive else view.label
    send_mouse(target, QEvent.Type.MouseButtonPress, points[0])
    for p in points[1:]:
        send_mouse(target, QEvent.Type.MouseMove, p, Qt.MouseButton.NoButton, Qt.MouseButton.LeftButton)
    send_mouse(target, QEvent.Type.MouseButtonRelease, points[-1])


def pinhole_pixels(view, pts_lps):
    """Widget pixels and depth of LPS points from the VTK camera's parameters (not its matrices)."""
    cam = view.plotter.camera
    eye = np.array(cam.GetPosition())
    d = np.array(cam.GetFocalPoint()) - eye
    d /= np.linalg.norm(d)
    up = np.array(cam.GetViewUp())
    up = up - (up @ d) * d
    up /= np.linalg.norm(up)
    right = np.cross(d, up)
    w, h = view.viewport_size()
    if cam.GetParallelProjection():
        s = (h / 2) / cam.GetParallelScale()
        rel = pts_lps - np.array(cam.GetFocalPoint())
        return np.c_[w / 2 + s * (rel @ right), h / 2 - s * (rel @ up)], np.ones(len(pts_lps))
    f = (h / 2) / np.tan(np.radians(cam.GetViewAngle()) / 2)
    rel = pts_lps - eye
    depth = rel @ d
    return np.c_[w / 2 + f * (rel @ right) / depth, h / 2 - f * (rel @ up) / depth], depth


@pytest.fixture
def s3d(window, phantom, qtbot):
    """(window, edit page, liver centre LPS) with the phantom, the 3-D view built, a known anterior camera."""
    from twin.project import Project

    vol, lm = phantom
    proj = Project(name="phantom")
    proj.volumes["ct"] = vol
    proj.labelmaps["seg"] = lm.copy()
    liver = proj.labelmaps["seg"].mask("liver")
    centre = vol.geometry.index_to_lps(np.argwhere(liver).mean(axis=0)[None])[0]
    window.set_project(proj, position_lps=centre)
    panel = window.panels["segment_tools_panel"]
    dock = window.findChild(QDockWidget, "dock_segment_tools_panel")
    dock.show()
    dock.raise_()
    page = panel.edit
    panel.show_page(page)
    QApplication.processEvents()
    qtbot.wait(800)  # the 3-D surfaces job starts 600 ms after a label-map change
    assert window.wait_for_workers(120)
    view = window.view3d
    view.ensure_ready()
    window.scene3d.flush()  # surfaces of every segment computed before the test starts
    assert window.wait_for_workers(120)
    assert "liver" in window.scene3d.surfaces
    cam = view.plotter.camera
    cam.SetFocalPoint(*centre)
    cam.SetPosition(*(centre + [0.0, -700.0, 0.0]))  # anterior: looking towards +P
    cam.SetViewUp(0.0, 0.0, 1.0)
    cam.SetViewAngle(30.0)
    view.plotter.reset_camera_clipping_range()
    view.render_now()
    panel.set_target("liver")
    yield window, page, centre
    assert window.wait_for_workers(60)


def _square(c, half):
    return [(c[0] - half, c[1] - half), (c[0] + half, c[1] - half), (c[0] + half, c[1] + half),
            (c[0] - half, c[1] + half), (c[0] - half + 1, c[1] - half)]


@pytest.mark.parametrize("parallel", [False, True])
def test_lasso_erases_projected_liver_voxels_and_undo(s3d, qtbot, parallel):
    window, page, centre = s3d
    view = window.view3d
    view.plotter.camera.SetParallelProjection(parallel)
    view.plotter.camera.SetParallelScale(120.0)
    view.render_now()
    lm = window.labelmap
    before = lm.layers[0].copy()
    page.select("scissors3d")
    assert view.mouse_tool is page.scissors3d
    page.scissors_mode.setCurrentText("erase inside")
    page.scope.setCurrentText("target segment")
    n_undo = len(window.project.undo_stack)
    c = view.world_to_display() @ np.r_[centre, 1.0]
    c = c[:2] / c[3]
    # the matrix agrees with the pinhole built from the camera parameters
    assert np.allclose(c, pinhole_pixels(view, centre[None])[0][0], atol=1e-6)
    poly = _square(c, 30.3)
    _draw(view, poly)
    assert window.wait_for_workers(60)
    assert len(window.project.undo_stack) == n_undo + 1
    # expected: liver voxels whose centre projects inside the (free-hand) lasso
    liver_before = before == lm.segment("liver").value
    ijk = np.argwhere(liver_before)
    px, depth = pinhole_pixels(view, lm.geometry.index_to_lps(ijk))
    inside = points_in_poly(px, np.array(poly)) & (depth > 0)
    expected = liver_before.copy()
    expected[tuple(ijk[inside].T)] = False
    assert 200 < inside.sum() < len(ijk) - 200
    assert np.array_equal(lm.mask("liver"), expected)
    others = before != lm.segment("liver").value
    assert np.array_equal(lm.layers[0][others], before[others])  # nothing else changed
    # the cut goes through the whole depth: cut voxels span most of the liver's A-P extent
    j = ijk[inside][:, 1]
    assert j.max() - j.min() >= 0.6 * (ijk[:, 1].max() - ijk[:, 1].min())
    window.undo()
    assert np.array_equal(lm.layers[0], before)
    window.redo()
    assert np.array_equal(lm.mask("liver"), expected)
    window.undo()


def test_all_visible_outside_rectangle_slab_and_esc(s3d, qtbot):
    window, page, centre = s3d
    view = window.view3d
    lm = window.labelmap
    before = lm.layers[0].copy()
    page.lasso_shape.setCurrentText("rectangle")
    page.select("scissors3d")
    page.scissors_mode.setCurrentText("erase outside")
    page.scope.setCurrentText("all visible segments")
    for hidden in ("body", "subcutaneous_fat", "muscle"):  # hidden segments are not cut
        window.overlay.style(hidden).visible = False
    c = view.world_to_display() @ np.r_[centre, 1.0]
    c = c[:2] / c[3]
    # Esc cancels a lasso being drawn: nothing is cut
    target = view.interactor if view.interactive else view.label
    send_mouse(target, QEvent.Type.MouseButtonPress, c)
    send_mouse(target, QEvent.Type.MouseMove, c + 40, Qt.MouseButton.NoButton, Qt.MouseButton.LeftButton)
    assert page.scissors3d.drawing and len(view._overlay.lines()) == 1
    QApplication.sendEvent(target, QKeyEvent(QEvent.Type.KeyPress, Qt.Key.Key_Escape, Qt.KeyboardModifier.NoModifier))
    assert not page.scissors3d.drawing and view._overlay.lines() == []
    send_mouse(target, QEvent.Type.MouseButtonRelease, c + 40)
    assert window.wait_for_workers(30)
    assert np.array_equal(lm.layers[0], before)
    # slab of 40 mm around the crosshair along the view direction (P): only |P - P_c| <= 20 mm is cut
    page.slab.setChecked(True)
    page.slab_mm.setValue(40.0)
    n_undo = len(window.project.undo_stack)
    x0, y0, x1, y1 = c[0] - 25.3, c[1] - 35.3, c[0] + 45.3, c[1] + 20.3
    _draw(view, [(x0, y0), ((x0 + x1) / 2, (y0 + y1) / 2), (x1, y1)])
    assert window.wait_for_workers(60)
    assert len(window.project.undo_stack) == n_undo + 1  # one step for all segments
    visible = [s for s in lm.segments if window.overlay.is_visible(s.name)]
    assert len(visible) == len(lm.segments) - 3
    ijk = np.argwhere(before > 0)
    pts = lm.geometry.index_to_lps(ijk)
    px, depth = pinhole_pixels(view, pts)
    rect = np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]])
    outside = ~points_in_poly(px, rect) | (depth <= 0)
    in_slab = np.abs(pts[:, 1] - centre[1]) <= 20.0
    vals = before[tuple(ijk.T)]
    vis_values = np.array([s.value for s in visible])
    cut = outside & in_slab & np.isin(vals, vis_values)
    expected = before.copy()
    expected[tuple(ijk[cut].T)] = 0
    assert cut.sum() > 1000
    assert np.array_equal(lm.layers[0], expected)
    window.undo()
    assert np.array_equal(lm.layers[0], before)


def test_surfaces_follow_the_cut(s3d, qtbot):
    window, page, centre = s3d
    view = window.view3d
    page.select("scissors3d")
    page.scissors_mode.setCurrentText("erase inside")
    page.scope.setCurrentText("target segment")
    old = window.scene3d.surfaces["liver"]
    n_old = old.points_lps.shape[0] if hasattr(old, "points_lps") else old.n_points
    c = view.world_to_display() @ np.r_[centre, 1.0]
    c = c[:2] / c[3]
    _draw(view, _square(c, 60.3))
    assert window.wait_for_workers(60)
    window.scene3d.flush()
    qtbot.wait(100)
    assert window.wait_for_workers(120)
    new = window.scene3d.surfaces["liver"]
    assert new is not old
    # the liver surface now has a tunnel where the lasso was: no surface point projects near its centre
    pts = new.points_lps if hasattr(new, "points_lps") else np.asarray(new.points)
    px, _ = pinhole_pixels(view, pts)
    assert np.min(np.linalg.norm(px - c, axis=1)) > 30
    assert (n_old > 0)
    # another panel taking the 3-D view's left button switches the 3-D scissors off
    other = type("Other", (), {"press": lambda *a: True, "move": lambda *a: None, "release": lambda *a: None})()
    view.set_mouse_tool(other)
    assert not page.buttons["scissors3d"].isChecked()
    view.set_mouse_tool(None)
    # switching the tool off gives the left button back to the camera
    page.select("scissors3d")
    assert view.mouse_tool is page.scissors3d
    page.select(None)
    assert view.mouse_tool is None
