"""Start the desktop application: ``vht gui [PATH]`` and ``vht demo`` (GUI part).

With ``screenshot`` set, the window loads, renders every view, saves a PNG of
the whole window and returns 0 without entering the interactive loop (works
under Xvfb and with ``QT_QPA_PLATFORM=offscreen``).
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


def ensure_display(screenshot: bool) -> None:
    """Refuse clearly when there is no screen (Qt would abort the process), or go off-screen for screenshots.

    Raises
    ------
    twin.errors.InputError
        On Linux with neither ``DISPLAY`` nor ``WAYLAND_DISPLAY`` nor ``QT_QPA_PLATFORM`` set.
    """
    if not sys.platform.startswith("linux") or os.environ.get("QT_QPA_PLATFORM"):
        return
    if os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"):
        return
    if screenshot:
        os.environ["QT_QPA_PLATFORM"] = "offscreen"  # a screenshot needs no screen
        return
    from twin.errors import InputError

    raise InputError("no display found (DISPLAY is not set): run it in a desktop session or as "
                     "'xvfb-run -a vht ...'; for a picture of the window use --screenshot FILE.png")


def _qt_app() -> Any:
    from rendering.offscreen import prepare_offscreen_gl

    if os.environ.get("QT_QPA_PLATFORM") == "offscreen":
        prepare_offscreen_gl()
        os.environ.setdefault("VTK_DEFAULT_OPENGL_WINDOW", "vtkEGLRenderWindow")
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if app is None:
        QApplication.setAttribute(Qt.ApplicationAttribute.AA_ShareOpenGLContexts)
        app = QApplication(sys.argv[:1])
        app.setApplicationName("VHT Planner")
        app.setOrganizationName("VHT Planner")
        app.setStyle("Fusion")
        _dark_palette(app)
    return app


def _dark_palette(app: Any) -> None:
    from PySide6.QtGui import QColor, QPalette

    pal = QPalette()
    base, window, text = QColor(30, 32, 38), QColor(43, 45, 52), QColor(225, 225, 228)
    for role, color in (
        (QPalette.ColorRole.Window, window), (QPalette.ColorRole.WindowText, text),
        (QPalette.ColorRole.Base, base), (QPalette.ColorRole.AlternateBase, window),
        (QPalette.ColorRole.Text, text), (QPalette.ColorRole.Button, window),
        (QPalette.ColorRole.ButtonText, text), (QPalette.ColorRole.ToolTipBase, base),
        (QPalette.ColorRole.ToolTipText, text), (QPalette.ColorRole.Highlight, QColor(52, 110, 180)),
        (QPalette.ColorRole.HighlightedText, QColor(255, 255, 255)),
    ):
        pal.setColor(role, color)
    pal.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text, QColor(120, 120, 120))
    pal.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.ButtonText, QColor(120, 120, 120))
    app.setPalette(pal)


def settle(window: Any, app: Any, quiet_s: float = 0.4, timeout_s: float = 600.0) -> bool:
    """Wait until no job runs and none starts for ``quiet_s`` (panels start jobs from debounce timers).

    A screenshot taken as soon as the first jobs end can catch a job started a moment later
    (e.g. plan metrics 150 ms after loading) with its progress bar at 0 %. Returns False on timeout.
    """
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not window.wait_for_workers(max(deadline - time.monotonic(), 0.0)):
            return False
        quiet_until = time.monotonic() + quiet_s
        while time.monotonic() < quiet_until and not window.workers:
            app.processEvents()
            time.sleep(0.01)
        if not window.workers:
            return True
    return False


def run_gui(
    path: str | None = None,
    screenshot: str | None = None,
    setup: Callable[[Any], None] | None = None,
    timing: bool = False,
    command: str = "gui",
) -> int:
    """Open the main window, optionally on ``path``; ``setup(window)`` runs once the window exists.

    Returns the process exit code (0 ok, 2 bad input when taking a screenshot); ``command`` names
    the CLI command in error lines.
    """
    t0 = time.perf_counter()
    ensure_display(screenshot is not None)
    app = _qt_app()
    from app.gui.main_window import MainWindow
    window = MainWindow(autosave=screenshot is None)
    if screenshot:
        window.interactive_dialogs = False
    window.show()
    app.processEvents()
    if screenshot is None and path is None and setup is None:
        window.offer_recovery()
    if path:
        window.open_path(path, add_recent=screenshot is None)  # scripted screenshots leave no trace in "Recent"
    if setup is not None:
        setup(window)
    timing = timing or os.environ.get("VHT_TIME_TO_FIRST_IMAGE") == "1"
    if timing:
        # benchmark hook: report when the first slice with the image was painted, then leave
        deadline = time.perf_counter() + 600
        while window.first_image_time is None and time.perf_counter() < deadline and not window.messages:
            app.processEvents()
            time.sleep(0.002)
        if window.first_image_time is not None:
            wall = time.time() - (time.perf_counter() - window.first_image_time)
            print(f"first image after {window.first_image_time - t0:.3f} s in run_gui (epoch {wall:.3f})", flush=True)
        if screenshot is None:
            window.wait_for_workers(600)
            window.project.undo_stack.set_clean()
            window.close()
            return 0 if window.first_image_time is not None else 2
    if screenshot:
        settle(window, app)
        for v in window.slice_views.values():
            v.repaint()
        window.view3d.ensure_ready()
        window.scene3d.flush()
        settle(window, app)
        window.view3d.render_now()
        app.processEvents()
        if window.messages:
            print(f"vht {command}: error: {window.messages[0]}", file=sys.stderr)
            window.close()
            return 2
        try:
            window.screenshot(Path(screenshot))
        finally:  # close the window even when saving fails (a live GL window at exit segfaults)
            window.project.undo_stack.set_clean()
            window.close()
            app.processEvents()
        return 0
    return int(app.exec())
