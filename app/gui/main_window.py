"""The VHT Planner main window: 2x2 MPR + 3D layout, panels, undo/redo, workers, autosave.

Frame: patient LPS, mm. The window owns the open :class:`twin.project.Project`
and the view state (crosshair, window/level, overlay style); panels and views
read it from here. Public API for panels (see :mod:`app.gui.panels.base`):

* ``window.project`` - the open project (never None);
* ``window.volume`` / ``window.labelmap`` - the shown image and segmentation;
* ``window.push_command(cmd)`` - run an undoable :class:`twin.commands.Command`;
* ``window.run_worker(fn, on_done, label, on_error=None)`` - ``fn(progress)`` in a thread;
* ``window.current_position_lps`` / ``window.set_position(p)`` - the crosshair;
* ``window.set_slice_tool(tool)`` - let a tool take the left button in slice views;
* ``window.view3d.plotter`` - a pyvista plotter for :mod:`rendering.scene` (call ``window.view3d.refresh()``);
  it is built lazily: call ``window.view3d.ensure_ready()`` first (or listen to ``view3d.became_ready``);
* ``window.scene3d`` - :class:`app.gui.scene3d.Scene3DController` (``show_fe_result(mesh, field, scale)``,
  ``update_plan()``, ``set_volume_preset(name)``);
* signals ``project_changed``, ``labelmap_changed``, ``edited`` (after every command / undo / redo),
  ``position_changed(object)``, ``selected_segment_changed(object)``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from PySide6.QtCore import QThreadPool, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QFileDialog,
    QGridLayout,
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QWidget,
)

from app.gui.documents import DocumentMixin, settings  # noqa: F401 - settings re-exported
from app.gui.recovery import Autosaver
from app.gui.slice_view import SliceView
from app.gui.view3d import View3D
from app.gui.workers import Worker
from rendering.overlay import OverlayStyle
from rendering.windowing import WindowLevel, default_window
from twin.commands import Command
from twin.labelmap import LabelMap
from twin.project import Project
from twin.volume import Volume

AUTOSAVE_SECONDS = 180


class SliceTool(Protocol):
    """A left-button tool in the slice views (brush, seed placement...). Return True from ``press`` to consume."""

    def press(self, view: SliceView, point_lps: np.ndarray, event: Any) -> bool: ...
    def move(self, view: SliceView, point_lps: np.ndarray, event: Any) -> None: ...
    def release(self, view: SliceView, point_lps: np.ndarray, event: Any) -> None: ...


class MainWindow(DocumentMixin, QMainWindow):
    """Main window; see the module docstring for the API used by panels."""

    project_changed = Signal()
    labelmap_changed = Signal()
    position_changed = Signal(object)
    selected_segment_changed = Signal(object)
    edited = Signal()

    def __init__(self, panels: list[type] | None = None, autosave: bool = True) -> None:
        super().__init__()
        self.setObjectName("main_window")
        self.resize(1500, 950)
        self.setAcceptDrops(True)
        self.project = Project(name="untitled")
        self.current_position_lps = np.zeros(3)
        self.window_level = WindowLevel(400, 40)
        self.overlay = OverlayStyle()
        self.overlay_revision = 0
        self.crosshair_visible = True
        self.rotate_mode = False  # left drag in a slice view rotates the other views' planes (view_orientation)
        self.show_identity = False
        self.slice_tool: SliceTool | None = None
        self.active_view: SliceView | None = None
        self.selected_segment: str | None = None
        self.workers: list[Worker] = []
        self.messages: list[str] = []  # errors shown (kept for tests and the log)
        self.interactive_dialogs = True
        self._maximised: QWidget | None = None
        self._closing = False
        self.first_image_time: float | None = None  # time.perf_counter() of the first slice painted
        self._stack_subscribed: set[int] = set()

        self._build_views()
        from app.gui.scene3d import Scene3DController

        self.scene3d = Scene3DController(self)
        self._build_status_bar()
        self._build_actions()
        self.panels: dict[str, Any] = {}
        from app.gui.panels import PANEL_CLASSES

        for cls in panels if panels is not None else PANEL_CLASSES:
            self.add_panel(cls)
        self.autosaver = Autosaver() if autosave else None
        self._autosave_timer = QTimer(self)
        self._autosave_timer.timeout.connect(self.autosave)
        if autosave:
            self._autosave_timer.start(int(float(os.environ.get("VHT_AUTOSAVE_SECONDS", AUTOSAVE_SECONDS)) * 1000))
        self._watch_stack()
        self._update_title()

    # ================================================================ layout
    def _build_views(self) -> None:
        central = QWidget()
        self.grid = QGridLayout(central)
        self.grid.setContentsMargins(2, 2, 2, 2)
        self.grid.setSpacing(3)
        self.slice_views = {o: SliceView(self, o) for o in ("axial", "coronal", "sagittal")}
        self.view3d = View3D()
        cells = [(self.slice_views["axial"], 0, 0), (self.view3d, 0, 1),
                 (self.slice_views["coronal"], 1, 0), (self.slice_views["sagittal"], 1, 1)]
        for w, r, c in cells:
            self.grid.addWidget(w, r, c)
        self._set_grid_stretch(None)  # equal columns and rows whatever the views' size hints
        for v in self.slice_views.values():
            v.maximise_requested.connect(lambda v=v: self.toggle_maximise(v))
        self.setCentralWidget(central)

    def views(self) -> list[QWidget]:
        """The four views in layout order (axial, 3D, coronal, sagittal)."""
        return [self.slice_views["axial"], self.view3d, self.slice_views["coronal"], self.slice_views["sagittal"]]

    def _set_grid_stretch(self, view: QWidget | None) -> None:
        """Equal stretch of the 2x2 grid, or all of it for the row and column of ``view`` (maximised).

        Without stretch a grid shares space by size hints (a wide tool dock left the slice column 190 px
        beside a 365 px 3-D column); with stretch, hidden cells would keep their share: their row and
        column get none while one view is maximised.
        """
        row, col = (None, None)
        if view is not None:
            row, col = self.grid.getItemPosition(self.grid.indexOf(view))[:2]
        for i in (0, 1):
            self.grid.setRowStretch(i, 1 if row is None or i == row else 0)
            self.grid.setColumnStretch(i, 1 if col is None or i == col else 0)

    def toggle_maximise(self, view: QWidget | None = None) -> None:
        """Show one view alone, or go back to 2x2."""
        view = view or self.active_view or self.slice_views["axial"]
        if self._maximised is not None:
            for w in self.views():
                w.show()
            self._maximised = None
            self._set_grid_stretch(None)
        else:
            for w in self.views():
                w.setVisible(w is view)
            self._maximised = view
            self._set_grid_stretch(view)
        self.view3d.refresh()

    def _build_status_bar(self) -> None:
        sb = self.statusBar()
        self.cursor_label = QLabel("")
        self.cursor_label.setObjectName("cursor_label")
        self.cursor_label.setMinimumWidth(520)
        sb.addWidget(self.cursor_label, 1)
        self.job_label = QLabel("")
        self.progress_bar = QProgressBar()
        self.progress_bar.setMaximumWidth(220)
        self.progress_bar.setRange(0, 1000)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setObjectName("cancel_button")
        self.cancel_button.clicked.connect(self.cancel_workers)
        for w in (self.job_label, self.progress_bar, self.cancel_button):
            sb.addPermanentWidget(w)
            w.hide()

    def _action(self, text: str, slot: Callable[[], Any], shortcut: Any = None, menu: Any = None,
                checkable: bool = False) -> QAction:
        a = QAction(text, self)
        if shortcut is not None:
            a.setShortcut(QKeySequence(shortcut))
        a.setCheckable(checkable)
        a.triggered.connect(slot)
        if menu is not None:
            menu.addAction(a)
        return a

    def _build_actions(self) -> None:
        mb = self.menuBar()
        f = mb.addMenu("&File")
        self.file_menu = f
        """The File menu; panels insert their export actions before :attr:`file_export_anchor`."""
        self._action("Open image...", self.open_image_dialog, QKeySequence.StandardKey.Open, f)
        self._action("Open DICOM folder...", self.open_dicom_dialog, "Ctrl+D", f)
        self._action("Open project...", self.open_project_dialog, "Ctrl+Shift+O", f)
        self.recent_menu = f.addMenu("Open recent")
        self._refresh_recent_menu()
        f.addSeparator()
        self._action("Save project", self.save_project, QKeySequence.StandardKey.Save, f)
        self._action("Save project as...", self.save_project_as, QKeySequence.StandardKey.SaveAs, f)
        f.addSeparator()
        self.file_export_anchor = self._action("Save screenshot...", self._screenshot_dialog, "Ctrl+P", f)
        self._action("Quit", self.close, QKeySequence.StandardKey.Quit, f)
        e = mb.addMenu("&Edit")
        self.undo_action = self._action("Undo", self.undo, QKeySequence.StandardKey.Undo, e)
        self.redo_action = self._action("Redo", self.redo, "Ctrl+Shift+Z", e)
        self.redo_action.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
        v = mb.addMenu("&View")
        self._action("Maximise / restore active view", lambda: self.toggle_maximise(), "F11", v)
        for n, o in enumerate(("axial", "coronal", "sagittal"), start=1):
            self._action(f"Maximise {o}", lambda o=o: self.toggle_maximise(self.slice_views[o]), f"Ctrl+{n}", v)
        self._action("Maximise 3D", lambda: self.toggle_maximise(self.view3d), "Ctrl+4", v)
        self._action("Reset views", self.reset_views, "Ctrl+R", v)
        v.addSeparator()
        self.crosshair_action = self._action("Show crosshair", self._toggle_crosshair, "C", v, checkable=True)
        self.crosshair_action.setChecked(True)
        self.overlay_action = self._action("Show segmentation overlay", self._toggle_overlay, "O", v, checkable=True)
        self.overlay_action.setChecked(True)
        self.identity_action = self._action("Show patient identity", self._toggle_identity, "Ctrl+I", v,
                                            checkable=True)
        wl = v.addMenu("Window / level preset")
        from rendering.windowing import CT_PRESETS

        for n, name in enumerate([*CT_PRESETS, "auto"], start=1):
            self._action(name.capitalize(), lambda name=name: self.apply_window_preset(name), f"Alt+{n}", wl)
        from app.gui.view_orientation import install_view_actions

        install_view_actions(self, v)  # oblique MPR: align to trajectory, rotate mode, reset orientation
        self.panels_menu = mb.addMenu("&Panels")
        h = mb.addMenu("&Help")
        self._action("Mouse and keyboard", self._show_help, "F1", h)
        self._action("Run FE verification suite...", self.open_verify_dialog, None, h)
        self.undo_action.setEnabled(False)
        self.redo_action.setEnabled(False)

    # ================================================================ panels
    def add_panel(self, cls: type) -> Any:
        """Instantiate a :class:`app.gui.panels.base.Panel` subclass in a dock; returns the panel."""
        panel = cls(self)
        dock = QDockWidget(cls.title, self)
        dock.setObjectName(f"dock_{panel.objectName()}")
        dock.setWidget(panel)
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                         | QDockWidget.DockWidgetFeature.DockWidgetFloatable
                         | QDockWidget.DockWidgetFeature.DockWidgetClosable)
        self.addDockWidget(cls.area, dock)
        tab_with = getattr(cls, "tab_with", None)
        if tab_with and f"dock_{tab_with}" in {d.objectName() for d in self.findChildren(QDockWidget)}:
            self.tabifyDockWidget(self.findChild(QDockWidget, f"dock_{tab_with}"), dock)
        self.panels_menu.addAction(dock.toggleViewAction())
        self.project_changed.connect(panel.on_project_changed)
        self.labelmap_changed.connect(panel.on_labelmap_changed)
        self.position_changed.connect(panel.on_position_changed)
        self.selected_segment_changed.connect(panel.on_selected_segment_changed)
        self.panels[panel.objectName()] = panel
        return panel

    # ================================================================ model access
    @property
    def volume(self) -> Volume | None:
        """The shown image (the project's first volume)."""
        return self.project.main_volume

    @property
    def labelmap(self) -> LabelMap | None:
        """The edited segmentation (the project's first label map)."""
        return self.project.main_labelmap

    def set_project(self, project: Project, position_lps: np.ndarray | None = None) -> None:
        """Show another project (after open / load); resets views and the crosshair."""
        self.project = project
        vol = project.main_volume
        if vol is not None and project.main_labelmap is None:
            project.labelmaps["segmentation"] = LabelMap.empty(vol.geometry)
        if vol is not None:
            self.window_level = default_window(vol.array, vol.modality)
            self.current_position_lps = initial_position(vol) if position_lps is None \
                else np.asarray(position_lps, float)
        self.overlay = OverlayStyle()
        from app.gui.scene3d import CONTAINERS

        for lm in project.labelmaps.values():
            for s in lm.segments:
                if s.name.lower() in CONTAINERS:  # enclosing segments: faint fill, organs stay readable
                    self.overlay.style(s.name).opacity = 0.1
        self.overlay_revision += 1
        self.selected_segment = None
        self._watch_stack()
        for v in self.slice_views.values():
            v.reset_orientation()  # back to axial / coronal / sagittal, fitted
        self._update_title()
        self.project_changed.emit()
        self.labelmap_changed.emit()
        self.position_changed.emit(self.current_position_lps.copy())

    def _watch_stack(self) -> None:
        stack = self.project.undo_stack
        if id(stack) not in self._stack_subscribed:
            stack.subscribe(lambda s=stack: self._on_stack_changed(s))
            self._stack_subscribed.add(id(stack))
        self._on_stack_changed(stack)

    def _on_stack_changed(self, stack: Any) -> None:
        if stack is not self.project.undo_stack:
            return
        self.undo_action.setEnabled(stack.can_undo)
        self.redo_action.setEnabled(stack.can_redo)
        self.undo_action.setText(f"Undo {stack.undo_text}" if stack.can_undo else "Undo")
        self.redo_action.setText(f"Redo {stack.redo_text}" if stack.can_redo else "Redo")
        self._update_title()

    def _identity_terms(self) -> list[str]:
        """Strings naming the patient (hidden everywhere on screen unless identity is shown)."""
        from planning.report_data import identity_terms

        vol = self.volume
        return [] if self.show_identity or vol is None else identity_terms(dict(vol.metadata))

    def _update_title(self) -> None:
        from planning.report_data import scrub

        where = f" - {self.project.path}" if self.project.path else ""
        # a project or folder named after the patient must not show the name while identity is hidden
        self.setWindowTitle(scrub(f"VHT Planner - {self.project.name}[*]{where}", self._identity_terms()))
        self.setWindowModified(self.project.modified)

    # ================================================================ commands
    def push_command(self, cmd: Command, merge: bool = False) -> bool:
        """Run an undoable command on the project; errors are shown, not raised. Returns success."""
        try:
            self.project.undo_stack.push(cmd, merge=merge)
        except Exception as exc:  # noqa: BLE001 - user-facing message instead of a traceback
            self.show_error(f"{getattr(cmd, 'text', 'Edit')} failed: {exc}")
            return False
        self._after_edit()
        return True

    def undo(self) -> None:
        """Undo the last command (Ctrl+Z)."""
        if self.project.undo_stack.undo():
            self._after_edit()

    def redo(self) -> None:
        """Redo (Ctrl+Shift+Z)."""
        if self.project.undo_stack.redo():
            self._after_edit()

    def _after_edit(self) -> None:
        self.refresh_slices()
        self.labelmap_changed.emit()
        self.edited.emit()

    # ================================================================ view state
    def set_position(self, point_lps: np.ndarray) -> None:
        """Move the crosshair (clamped to the volume); every view follows."""
        p = np.asarray(point_lps, float).copy()
        vol = self.volume
        if vol is not None:
            b = vol.geometry.bounds_lps()
            p = np.clip(p, b[0], b[1])
        self.current_position_lps = p
        self.refresh_slices()
        self.report_cursor(p, from_crosshair=True)
        self.position_changed.emit(p.copy())

    def set_window(self, wl: WindowLevel) -> None:
        """Change window/level in all slice views."""
        self.window_level = wl
        self.refresh_slices()

    def apply_window_preset(self, name: str) -> None:
        """A preset of :data:`rendering.windowing.CT_PRESETS` or ``"auto"`` (percentiles)."""
        from rendering.windowing import CT_PRESETS, auto_window

        if self.volume is None:
            return
        self.set_window(CT_PRESETS[name] if name in CT_PRESETS else auto_window(self.volume.array))

    def overlay_changed(self) -> None:
        """Call after editing ``window.overlay`` (visibility, opacity, colours, mode)."""
        self.overlay_revision += 1
        self.refresh_slices()

    def refresh_slices(self) -> None:
        """Repaint the slice views."""
        for v in self.slice_views.values():
            v.update()

    def reset_views(self) -> None:
        """Fit every view."""
        for v in self.slice_views.values():
            v.reset_view()
        from rendering.scene import set_camera

        if self.view3d.ready and self.view3d.plotter.renderer.actors:
            set_camera(self.view3d.plotter, "anterior")
        self.view3d.refresh()

    def _toggle_crosshair(self) -> None:
        self.crosshair_visible = self.crosshair_action.isChecked()
        self.refresh_slices()

    def _toggle_overlay(self) -> None:
        self.overlay.visible = self.overlay_action.isChecked()
        self.overlay_changed()

    def _toggle_identity(self) -> None:
        self.show_identity = self.identity_action.isChecked()
        self._update_title()
        self.refresh_slices()

    def set_slice_tool(self, tool: SliceTool | None) -> None:
        """Install (or remove with None) a left-button tool in the slice views."""
        self.slice_tool = tool

    def select_segment(self, name: str | None) -> None:
        """Make ``name`` the current segment (panels listen to ``selected_segment_changed``)."""
        if name != self.selected_segment:
            self.selected_segment = name
            self.selected_segment_changed.emit(name)

    def patient_info_text(self) -> str:
        """Corner text: modality / series, with patient identity only when enabled (de-identified by default)."""
        vol = self.volume
        if vol is None:
            return ""
        md = vol.metadata
        lines = []
        if self.show_identity:
            name = str(md.get("PatientName", "") or "").replace("^", " ").strip()
            pid = str(md.get("PatientID", "") or "")
            if name or pid:
                lines.append(f"{name}  {pid}".strip())
            if md.get("StudyDate"):
                lines.append(str(md["StudyDate"]))
        else:
            lines.append("(de-identified)")
        desc = md.get("SeriesDescription") or vol.name
        from planning.report_data import scrub

        # hidden identity: a series or file named after the patient is scrubbed too
        lines.append(scrub(f"{vol.modality}  {desc}", self._identity_terms()))
        return "\n".join(lines)

    def report_cursor(self, point_lps: np.ndarray | None, from_crosshair: bool = False) -> None:
        """Status bar: LPS mm, voxel ijk and value at a point."""
        vol = self.volume
        if point_lps is None or vol is None:
            return
        ijk = np.rint(vol.geometry.lps_to_index(np.asarray(point_lps, float)[None])[0]).astype(int)
        inside = bool(vol.geometry.contains_index(ijk[None])[0])
        text = "Crosshair" if from_crosshair else "Cursor"
        text += f"  LPS ({point_lps[0]:.1f}, {point_lps[1]:.1f}, {point_lps[2]:.1f}) mm"
        if inside:
            value = vol.array[tuple(ijk)]
            text += f"  ijk ({ijk[0]}, {ijk[1]}, {ijk[2]})  value {float(value):g} {vol.units}".rstrip()
            lm = self.labelmap
            if lm is not None and lm.geometry.is_same_grid(vol.geometry):
                names = [s.name for s in lm.segments if lm.layers[s.layer][tuple(ijk)] == s.value]
                if names:
                    text += "  segment " + ", ".join(names)
        else:
            text += "  (outside the image)"
        self.cursor_label.setText(text)

    # ================================================================ workers
    def run_worker(self, fn: Callable[[Any], Any], on_done: Callable[[Any], None] | None = None,
                   label: str = "Working", on_error: Callable[[str], None] | None = None,
                   on_cancel: Callable[[], None] | None = None) -> Worker:
        """Run ``fn(progress)`` in the thread pool with a progress bar and Cancel.

        ``on_done(result)`` runs on the GUI thread.

        Errors are shown as a message box (or passed to ``on_error``). Returns the :class:`Worker`
        (``worker.cancel()`` stops it at its next progress check).
        """
        w = Worker(fn, label)
        if self._closing:
            w.cancel()
            return w
        self.workers.append(w)

        def finish() -> None:
            if w in self.workers:
                self.workers.remove(w)
            self._update_job_widgets()

        def done(result: Any) -> None:
            finish()
            if on_done is not None:
                try:
                    on_done(result)
                except Exception as exc:  # noqa: BLE001
                    self.show_error(f"{label}: {type(exc).__name__}: {exc}")

        def failed(msg: str, details: str) -> None:
            finish()
            (on_error or self.show_error)(msg)

        def cancelled() -> None:
            finish()
            self.statusBar().showMessage(f"{label}: cancelled", 5000)
            if on_cancel is not None:
                on_cancel()

        w.signals.finished.connect(done)
        w.signals.failed.connect(failed)
        w.signals.cancelled.connect(cancelled)
        w.signals.progress.connect(lambda f, m: self._on_progress(w, f, m))
        self._update_job_widgets()
        QThreadPool.globalInstance().start(w)
        return w

    def _on_progress(self, w: Worker, fraction: float, message: str) -> None:
        if self.workers and self.workers[-1] is w:
            self.progress_bar.setValue(int(fraction * 1000))
            self.job_label.setText(f"{w.label}: {message}" if message else w.label)

    def _update_job_widgets(self) -> None:
        busy = bool(self.workers)
        for wdg in (self.job_label, self.progress_bar, self.cancel_button):
            wdg.setVisible(busy)
        if busy:
            self.job_label.setText(self.workers[-1].label)
            self.progress_bar.setValue(0)

    def cancel_workers(self) -> None:
        """Cancel every running job."""
        for w in list(self.workers):
            w.cancel()

    def wait_for_workers(self, timeout_s: float = 120.0) -> bool:
        """Process events until no job is running (scripts, screenshots, tests). Returns False on timeout."""
        import time

        t0 = time.monotonic()
        app = QApplication.instance()
        while self.workers:
            app.processEvents()
            if time.monotonic() - t0 > timeout_s:
                return False
            time.sleep(0.005)
        app.processEvents()
        return True

    def show_error(self, message: str) -> None:
        """A readable error message (dialog when interactive; always in the status bar and ``messages``)."""
        self.messages.append(message)
        self.statusBar().showMessage(message, 15000)
        if self.interactive_dialogs:
            QMessageBox.warning(self, "VHT Planner", message)

    # ================================================================ start-up
    def on_first_image(self) -> None:
        """Called by the first slice paint with an image: now build the (slow to import) 3-D renderer."""
        import time

        self.first_image_time = time.perf_counter()
        QTimer.singleShot(50, self.view3d.ensure_ready)

    def showEvent(self, ev) -> None:  # noqa: N802, ANN001
        super().showEvent(ev)
        QTimer.singleShot(1500, self._build_3d_when_idle)

    def _build_3d_when_idle(self) -> None:
        if not self.view3d.ready and not self.workers and self.volume is None and not self._closing:
            self.view3d.ensure_ready()

    # ================================================================ misc
    def screenshot(self, path: str | Path) -> Path:
        """Render every view and save an image of the whole window (PNG)."""
        from rendering.offscreen import save_png

        app = QApplication.instance()
        for _ in range(3):
            app.processEvents()
        self.view3d.render_now()
        self.refresh_slices()
        app.processEvents()
        img = self.grab().toImage().convertToFormat(self.grab().toImage().Format.Format_RGB888)
        w, h = img.width(), img.height()
        arr = np.frombuffer(img.constBits(), np.uint8, count=img.bytesPerLine() * h).reshape(h, img.bytesPerLine())
        arr = arr[:, : 3 * w].reshape(h, w, 3)
        return save_png(arr, path)

    def _screenshot_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save screenshot", "vht.png", "PNG (*.png)")
        if path:
            self.screenshot(path)

    def open_verify_dialog(self) -> Any:
        """Help > Run FE verification suite (:mod:`app.gui.verify_dialog`); returns the (kept) dialog."""
        from app.gui.verify_dialog import VerifyDialog

        if getattr(self, "verify_dialog", None) is None:
            self.verify_dialog = VerifyDialog(self)
        self.verify_dialog.show()
        self.verify_dialog.raise_()
        return self.verify_dialog

    def _show_help(self) -> Any:
        """Help > Mouse and keyboard (F1): generated from the actions (:mod:`app.gui.help_text`); returns the dialog."""
        from PySide6.QtWidgets import QDialog, QTextBrowser, QVBoxLayout

        from app.gui.help_text import help_html

        dlg = getattr(self, "help_dialog", None)
        if dlg is None:
            dlg = self.help_dialog = QDialog(self)
            dlg.setWindowTitle("Mouse and keyboard")
            dlg.resize(720, 760)
            dlg.browser = QTextBrowser(dlg)
            QVBoxLayout(dlg).addWidget(dlg.browser)
        dlg.browser.setHtml(help_html(self))  # regenerated: panels add actions, undo texts change
        dlg.show()
        dlg.raise_()
        return dlg


def initial_position(vol: Volume) -> np.ndarray:
    """First crosshair (LPS mm): the voxel centre nearest the volume centre.

    The geometric centre of an even-sized axis falls between two voxels (slice 9.5 of 20); the views
    show the nearest slice, so the crosshair is put on a voxel centre and labels describe what is shown.
    """
    g = vol.geometry
    ijk = np.floor((np.asarray(g.shape[:3], float) - 1.0) / 2.0)
    return np.asarray(g.index_to_lps(ijk[None])[0], float)
