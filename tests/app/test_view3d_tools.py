"""The 3-D view's mouse-tool hook: event routing, pick, world_to_display (both renderer modes).

A sphere of radius 20 mm at a known LPS centre is shown with a known camera; the projection of
its centre must land where VTK's own coordinate conversion puts it, a pick there must hit its
front pole, and left-button events must reach the tool (not the camera). Frame: LPS mm.
"""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QApplication

from tests.app.gui_helpers import send_mouse

pytestmark = pytest.mark.gui

CENTRE = np.array([10.0, -20.0, 30.0])
RADIUS = 20.0


class Recorder:
    """A tool that records its calls and draws its points."""

    def __init__(self, consume=True):
        self.calls = []
        self.consume = consume

    def press(self, view, x, y, event):
        self.calls.append(("press", x, y))
        return self.consume

    def move(self, view, x, y, event):
        self.calls.append(("move", x, y))

    def release(self, view, x, y, event):
        self.calls.append(("release", x, y))

    def overlay(self, view):
        pts = np.array([[c[1], c[2]] for c in self.calls if len(c) == 3], float)
        return [(pts, "#ffe63c")] if len(pts) else []

    key = "recorder"  # tools conventionally have a name attribute ``key``: must not be taken for a handler

    def key_press(self, view, event):
        self.calls.append(("key", event.key()))
        return event.key() == Qt.Key.Key_Escape


@pytest.fixture(params=["interactive", "fallback"])
def view(request, qtbot, monkeypatch):
    import pyvista as pv

    from app.gui.view3d import View3D

    if request.param == "fallback":
        monkeypatch.setenv("VHT_NO_QT_GL", "1")
    v = View3D()
    if request.param == "interactive" and not v.interactive:
        pytest.skip("no OpenGL widget on this Qt platform (offscreen)")
    qtbot.addWidget(v)
    v.resize(500, 360)
    v.show()
    qtbot.waitExposed(v)
    v.ensure_ready()
    assert v.interactive == (request.param == "interactive")
    v.plotter.add_mesh(pv.Sphere(radius=RADIUS, center=CENTRE, theta_resolution=60, phi_resolution=60),
                       name="surface:ball")
    cam = v.plotter.camera
    cam.SetFocalPoint(*CENTRE)
    cam.SetPosition(*(CENTRE + [0.0, -300.0, 0.0]))  # anterior view (camera at -P = anterior)
    cam.SetViewUp(0.0, 0.0, 1.0)
    v.plotter.reset_camera_clipping_range()
    v.render_now()
    QApplication.processEvents()
    yield v
    v.set_mouse_tool(None)
    v.close_view()


def _vtk_display_to_qt(view, world):
    """VTK's own world -> display conversion, turned into Qt widget pixels (independent check)."""
    ren = view.plotter.renderer
    if not view.interactive:
        view.plotter.window_size = (view.label.width(), view.label.height())
    ren.SetWorldPoint(*world, 1.0)
    ren.WorldToDisplay()
    dx, dy, _ = ren.GetDisplayPoint()
    sw, sh = view.plotter.ren_win.GetSize()
    w, h = view.viewport_size()
    return np.array([dx * w / sw, h - dy * h / sh])


def _project(m, pts):
    q = np.c_[np.atleast_2d(pts), np.ones(len(np.atleast_2d(pts)))] @ m.T
    return q[:, :2] / q[:, 3:4], q[:, 3]


@pytest.mark.parametrize("parallel", [False, True])
def test_world_to_display_matches_vtk(view, parallel):
    view.plotter.camera.SetParallelProjection(parallel)
    view.plotter.camera.SetParallelScale(40.0)
    m = view.world_to_display()
    assert m.shape == (4, 4)
    w, h = view.viewport_size()
    pts = CENTRE + np.array([[0, 0, 0], [RADIUS, 0, 0], [0, 0, RADIUS], [-15, 10, -5]], float)
    px, wq = _project(m, pts)
    assert np.all(wq > 0)
    # the focal point is the image centre; L (+x) is on the screen's right in an anterior view, S is up
    assert np.allclose(px[0], [w / 2, h / 2], atol=1e-6)
    assert px[1, 0] > px[0, 0] and px[2, 1] < px[0, 1]
    for p, q in zip(pts, px):
        assert np.allclose(q, _vtk_display_to_qt(view, p), atol=1.01)
    if parallel:  # 40 mm parallel scale = half the image height
        assert np.isclose(px[0, 1] - px[2, 1], RADIUS / 40.0 * h / 2, rtol=1e-9)
        assert np.allclose(wq, 1.0)
    else:  # a point behind the camera has w <= 0
        _, wb = _project(m, CENTRE + [0.0, -400.0, 0.0])
        assert wb[0] < 0


def test_pick_hits_front_pole(view):
    m = view.world_to_display()
    (cx, cy) = _project(m, CENTRE)[0][0]
    hit = view.pick(float(cx), float(cy))
    assert hit is not None
    point, name = hit
    assert name == "surface:ball"
    front = CENTRE + [0.0, -RADIUS, 0.0]  # the pole facing the camera (anterior = -P)
    assert np.linalg.norm(point - front) < 1.5
    # a pixel off the sphere (top-left corner) hits nothing
    assert view.pick(3.0, 3.0) is None
    # 10 px to the right of the centre: a point on the sphere whose projection is 10 px right
    point2, _ = view.pick(cx + 10.0, cy)
    assert abs(np.linalg.norm(point2 - CENTRE) - RADIUS) < 0.5
    assert np.allclose(_project(m, point2)[0][0], [cx + 10.0, cy], atol=1.0)


def test_tool_gets_left_button_not_camera(view, qtbot):
    target = view.interactor if view.interactive else view.label
    cam = view.plotter.camera
    pos0 = np.array(cam.GetPosition())
    tool = Recorder()
    view.set_mouse_tool(tool)
    send_mouse(target, QEvent.Type.MouseButtonPress, (100, 100))
    for x in range(110, 200, 10):
        send_mouse(target, QEvent.Type.MouseMove, (x, 120), Qt.MouseButton.NoButton, Qt.MouseButton.LeftButton)
    send_mouse(target, QEvent.Type.MouseButtonRelease, (200, 120))
    QApplication.processEvents()
    kinds = [c[0] for c in tool.calls]
    assert kinds[0] == "press" and kinds[-1] == "release" and kinds.count("move") == 9
    assert tool.calls[0][1:] == (100.0, 100.0) and tool.calls[-1][1:] == (200.0, 120.0)
    assert np.allclose(cam.GetPosition(), pos0)  # the camera did not rotate
    assert view._overlay.isVisible() and len(view._overlay.lines()[0][0]) == 11
    # hover moves reach the tool too
    send_mouse(target, QEvent.Type.MouseMove, (50, 60), Qt.MouseButton.NoButton, Qt.MouseButton.NoButton)
    assert tool.calls[-1] == ("move", 50.0, 60.0)
    # keys go to the tool
    QApplication.sendEvent(target, QKeyEvent(QEvent.Type.KeyPress, Qt.Key.Key_Escape, Qt.KeyboardModifier.NoModifier))
    assert tool.calls[-1] == ("key", Qt.Key.Key_Escape)
    # the right button keeps the camera (zoom / dolly): not given to the tool
    n = len(tool.calls)
    send_mouse(target, QEvent.Type.MouseButtonPress, (100, 100), Qt.MouseButton.RightButton)
    for y in range(110, 200, 10):
        send_mouse(target, QEvent.Type.MouseMove, (100, y), Qt.MouseButton.NoButton, Qt.MouseButton.RightButton)
    send_mouse(target, QEvent.Type.MouseButtonRelease, (100, 200), Qt.MouseButton.RightButton)
    assert all(c[0] == "key" for c in tool.calls[n:])  # no press/move/release during the camera drag


def test_unconsumed_press_rotates_camera_and_none_restores(view):
    target = view.interactor if view.interactive else view.label
    cam = view.plotter.camera
    tool = Recorder(consume=False)
    view.set_mouse_tool(tool)
    pos0 = np.array(cam.GetPosition())
    send_mouse(target, QEvent.Type.MouseButtonPress, (100, 100))
    for x in range(110, 260, 10):
        send_mouse(target, QEvent.Type.MouseMove, (x, 100), Qt.MouseButton.NoButton, Qt.MouseButton.LeftButton)
    send_mouse(target, QEvent.Type.MouseButtonRelease, (260, 100))
    QApplication.processEvents()
    assert [c[0] for c in tool.calls] == ["press"]
    assert not np.allclose(cam.GetPosition(), pos0)  # the camera rotated
    view.set_mouse_tool(None)
    assert not view._overlay.isVisible()


def test_pick_does_not_wait_for_a_worker(view):
    """While a worker holds the VTK lock the GUI thread must not block: pick gives up after ``wait_s``."""
    import threading
    import time

    from rendering.surfaces import VTK_THREAD_LOCK

    m = view.world_to_display()
    (cx, cy) = _project(m, CENTRE)[0][0]
    held, release = threading.Event(), threading.Event()

    def worker():
        with VTK_THREAD_LOCK:
            held.set()
            release.wait(5)

    t = threading.Thread(target=worker)
    t.start()
    held.wait(5)
    try:
        t0 = time.perf_counter()
        assert view.pick(cx, cy, wait_s=0.05) is None
        assert time.perf_counter() - t0 < 0.5
    finally:
        release.set()
        t.join()
    assert view.pick(cx, cy)[1] == "surface:ball"


def test_mouse_tool_changed_signal(view, qtbot):
    seen = []
    view.mouse_tool_changed.connect(seen.append)
    a, b = Recorder(), Recorder()
    view.set_mouse_tool(a)
    view.set_mouse_tool(a)  # same tool: no signal
    view.set_mouse_tool(b)
    view.set_mouse_tool(None)
    assert seen == [a, b, None]


def test_pick_from_named_actors_only(view):
    import pyvista as pv

    # a small sphere in front of the big one (towards the camera, anterior = -P)
    front_centre = CENTRE + [0.0, -40.0, 0.0]
    view.plotter.add_mesh(pv.Sphere(radius=5.0, center=front_centre), name="surface:front")
    view.plotter.reset_camera_clipping_range()
    m = view.world_to_display()
    (cx, cy) = _project(m, CENTRE)[0][0]
    point, name = view.pick(cx, cy)
    assert name == "surface:front" and np.linalg.norm(point - (front_centre - [0, 5.0, 0])) < 1.0
    point, name = view.pick(cx, cy, names=["surface:ball"])  # the front sphere neither hits nor occludes
    assert name == "surface:ball" and np.linalg.norm(point - (CENTRE - [0, RADIUS, 0])) < 1.5
    assert view.pick(cx, cy, names=["no such actor"]) is None


def test_3d_view_qt_handlers_never_touch_vtk_while_a_worker_is_inside_it(window, qtbot):
    """Resize and pointer events of the VTK widget wait for VTK_THREAD_LOCK (held by workers): VTK calls on the
    GUI thread during a worker's VTK filter crashed a CI run. A resize is applied once the worker is done."""
    import threading

    from rendering.surfaces import VTK_THREAD_LOCK

    view = window.view3d
    view.ensure_ready()
    if getattr(view, "interactor", None) is None:
        pytest.skip("no interactive 3-D view here (off-screen fallback)")
    widget = view.interactor
    qtbot.wait(200)
    before = tuple(widget.ren_win.GetSize())
    held, done = threading.Event(), threading.Event()

    def worker() -> None:
        with VTK_THREAD_LOCK:
            held.set()
            done.wait(10)

    t = threading.Thread(target=worker)
    t.start()
    assert held.wait(5)
    try:
        widget.resize(widget.width() + 24, widget.height() + 16)  # a visible widget gets its resizeEvent now
        qtbot.wait(300)  # the deferred retries fire and find the lock still taken
        assert tuple(widget.ren_win.GetSize()) == before  # VTK untouched while the worker holds it
    finally:
        done.set()
        t.join()
    ratio = widget.devicePixelRatioF()
    qtbot.waitUntil(lambda: tuple(widget.ren_win.GetSize()) != before, timeout=5000)
    assert tuple(widget.ren_win.GetSize()) == (round(ratio * widget.width()), round(ratio * widget.height()))
