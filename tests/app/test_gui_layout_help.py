"""GUI audit regressions: equal 2x2 views, a steady segment-tools dock, generated F1 help, a readable 3-D
orientation cube and shadowed plan labels in the slice views. Frame: patient LPS, mm.

Set ``VHT_SHOTS=<folder>`` to keep screenshots.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.gui


def _settle(n: int = 8) -> None:
    from PySide6.QtWidgets import QApplication

    for _ in range(n):
        QApplication.processEvents()


def _shot(window, name: str) -> None:  # type: ignore[no-untyped-def]
    folder = os.environ.get("VHT_SHOTS")
    if folder:
        window.screenshot(Path(folder) / f"{name}.png")


def _segtools(window):  # type: ignore[no-untyped-def]
    from PySide6.QtWidgets import QDockWidget

    window.resize(1500, 950)
    dock = window.findChild(QDockWidget, "dock_segment_tools_panel")
    dock.raise_()
    _settle()
    return window.panels["segment_tools_panel"], dock


def test_the_four_views_share_the_grid_equally_and_maximise_takes_it_all(window) -> None:  # type: ignore[no-untyped-def]
    """A wide tool page left the slice column 190-210 px beside a 365-400 px 3-D column (size hints, no stretch)."""
    panel, _ = _segtools(window)
    panel.toolbox.setCurrentWidget(panel.edit)  # "Paint, erase, scissors": the page that squeezed the views
    _settle()
    axial, v3d, coronal, sagittal = window.views()

    def equal() -> None:
        assert abs(axial.width() - v3d.width()) <= 2 and abs(coronal.width() - sagittal.width()) <= 2, \
            [v.width() for v in window.views()]
        assert abs(axial.height() - coronal.height()) <= 2, [v.height() for v in window.views()]

    equal()
    _shot(window, "grid_equal")
    central = window.centralWidget()
    for view in (axial, v3d, sagittal):
        window.toggle_maximise(view)
        _settle()
        # hidden cells keep no share: the maximised view fills the central widget (minus margins)
        assert view.width() >= central.width() - 8 and view.height() >= central.height() - 8, \
            (view.size(), central.size())
        window.toggle_maximise(view)
        _settle()
        equal()


def test_segment_tools_dock_keeps_its_width_and_pages_scroll(window) -> None:  # type: ignore[no-untyped-def]
    """The dock jumped 340 -> 363 -> 452 -> 378 -> 512 px from page to page and the views reflowed."""
    from PySide6.QtCore import QPoint
    from PySide6.QtWidgets import QScrollArea

    panel, dock = _segtools(window)
    widths, views = [], []
    for i in range(panel.toolbox.count()):
        panel.toolbox.setCurrentIndex(i)
        _settle()
        widths.append(dock.width())
        views.append(window.slice_views["axial"].width())
        page = panel.toolbox.widget(i)
        area = next(a for a in panel.toolbox.findChildren(QScrollArea) if a.widget() is page)
        assert page.minimumSizeHint().width() <= area.viewport().width(), i  # nothing cut on the right
        assert page.height() >= page.minimumSizeHint().height(), i  # scrolled, never squashed
        if page is panel.grow:  # the main action of the page is visible without scrolling at 950 px
            top = panel.grow.place.mapTo(area.viewport(), QPoint(0, 0)).y()
            assert 0 <= top and top + panel.grow.place.height() <= area.viewport().height(), \
                (top, area.viewport().height())
            _shot(window, "segtools_grow")
    assert len(set(widths)) == 1 and len(set(views)) == 1, (widths, views)


def test_f1_help_lists_every_shortcut_of_the_window(window) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtGui import QAction, QKeySequence, QShortcut

    from app.gui.help_text import help_text

    window.addAction(extra := QAction("Frobnicate the twin", window))  # a panel adding an action later
    extra.setShortcut(QKeySequence("Ctrl+Alt+F"))
    text = help_text(window)
    lines = text.splitlines()
    n = 0
    for a in window.findChildren(QAction):
        for seq in a.shortcuts():
            if seq.isEmpty():
                continue
            keys = seq.toString(QKeySequence.SequenceFormat.NativeText)
            label = a.text().replace("&", "").rstrip(".").strip()
            assert any(keys in ln and label in ln for ln in lines), (keys, label)
            n += 1
    for sc in window.findChildren(QShortcut):
        keys = sc.key().toString(QKeySequence.SequenceFormat.NativeText)
        assert any(ln.strip().startswith(keys + " ") and sc.whatsThis() in ln for ln in lines), keys
        n += 1
    assert n >= 30
    for needle in ("Ctrl+Alt+R", "Ctrl+Shift+R", "Ctrl+Alt+F  Frobnicate the twin", "  B  Paint", "  E  Erase",
                   "[ / ]", "Ctrl+left drag", "Ctrl+Shift+left drag", "scissors 3D", "painting loads"):
        assert needle in text, needle
    dlg = window._show_help()  # non-modal, regenerated each time
    assert "Frobnicate" in dlg.browser.toPlainText()
    dlg.close()


def test_3d_orientation_cube_is_readable(window, qtbot) -> None:  # type: ignore[no-untyped-def]
    """The axes triad was ~30 px with unreadable L/P/S letters; now a lettered cube of ~24 % of the view."""
    from vtkmodules.vtkRenderingAnnotation import vtkAnnotatedCubeActor

    from app.gui.view3d import ORIENTATION_FACES

    window.resize(1500, 950)
    view = window.view3d
    view.ensure_ready()
    qtbot.waitUntil(lambda: view.ready, timeout=60000)
    cube = view.orientation_widget.GetOrientationMarker()
    assert isinstance(cube, vtkAnnotatedCubeActor)
    assert {f: getattr(cube, f"Get{f}FaceText")() for f in ORIENTATION_FACES} == \
        {"XPlus": "L", "XMinus": "R", "YPlus": "P", "YMinus": "A", "ZPlus": "S", "ZMinus": "I"}
    cam = view.plotter.camera
    cam.Azimuth(35)
    cam.Elevation(25)
    cam.OrthogonalizeViewUp()
    view.render_now()
    rgb = view.grab_rgb().astype(int)
    h, w = rgb.shape[:2]
    corner = rgb[int(0.7 * h):, : int(0.3 * w)]
    bright_grey = (corner.min(axis=-1) > 90) & (np.ptp(corner, axis=-1) < 40)  # the shaded cube faces
    side = int(0.2 * min(h, w))  # viewport 0.24 of the view; the cube covers well over a third of it
    assert bright_grey.sum() > 0.3 * side * side, (bright_grey.sum(), side)
    assert view.orientation_widget.GetViewport()[2] >= 0.2


def test_plan_point_labels_are_shadowed(window, qtbot) -> None:  # type: ignore[no-untyped-def]
    """'needle entry' was drawn in plain green over overlays; now with the annotations' dark shadow."""
    from PySide6.QtGui import QImage, QPainter

    from app.gui.tools.plan_tools import PlanCache, paint_plan
    from twin.phantom.demo import make_abdomen_phantom
    from twin.plan import Plan, Trajectory
    from twin.project import Project

    vol, _ = make_abdomen_phantom(shape=(64, 56, 24), spacing_mm=(5.0, 5.0, 6.0))
    proj = Project(name="phantom")
    proj.volumes["ct"] = vol
    entry = vol.geometry.index_to_lps(np.array([[32.0, 20.0, 12.0]]))[0]
    target = entry + np.array([0.0, 50.0, 0.0])  # posterior, same axial slice: the line runs down the screen
    plan = Plan()
    plan.add(Trajectory(name="needle", entry_lps=tuple(entry), target_lps=tuple(target), diameter_mm=1.5))
    proj.plan = plan.to_dict()
    window.set_project(proj, position_lps=entry)
    qtbot.wait(50)
    view = window.slice_views["axial"]
    img = QImage(view.width(), view.height(), QImage.Format.Format_RGBA8888)
    img.fill(0)
    p = QPainter(img)
    p.setRenderHint(QPainter.RenderHint.Antialiasing, False)
    p.setRenderHint(QPainter.RenderHint.TextAntialiasing, False)  # whole pixels: label colour or shadow
    paint_plan(window, PlanCache(), view, p)
    p.end()
    hh, ww = img.height(), img.width()
    arr = np.frombuffer(img.constBits(), np.uint8, count=img.bytesPerLine() * hh).reshape(hh, img.bytesPerLine())
    arr = arr[:, : 4 * ww].reshape(hh, ww, 4)
    c = view.lps_to_screen(entry)
    x0, y1 = int(c.x()) + 9, int(c.y()) - 2  # right of the point marker, above its centre: the label only
    box = arr[max(0, y1 - 16): y1, x0: x0 + 70]
    rgb, alpha = box[..., :3].astype(int), box[..., 3]  # text may stay antialiased (alpha < 255)
    green = (rgb[..., 1] > 120) & (rgb[..., 1] > rgb[..., 0] + 60) & (alpha > 100)
    dark = (rgb.max(axis=-1) < 40) & (alpha > 100)
    assert green.sum() > 20, green.sum()
    assert dark.sum() > 0.5 * green.sum(), (dark.sum(), green.sum())
    _shot(window, "plan_label")
