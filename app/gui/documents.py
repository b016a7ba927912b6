"""Opening, saving, recent files, drag and drop, autosave and crash recovery of the main window.

A mixin of :class:`app.gui.main_window.MainWindow` (kept apart to keep modules
small). Long reads and writes run in workers; the project folder format is
:class:`twin.project.Project` (frame LPS, mm).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QFileDialog, QInputDialog, QMessageBox

from app.gui.recovery import find_recoverable
from twin.commands import FunctionCommand
from twin.project import Project

IMAGE_FILTER = "Images (*.nii *.nii.gz *.nrrd *.nhdr *.mha *.mhd *.dcm DICOMDIR);;All files (*)"


def settings() -> QSettings:
    """Application settings (``$VHT_SETTINGS_FILE`` overrides the per-user location, for tests)."""
    path = os.environ.get("VHT_SETTINGS_FILE")
    if path:
        return QSettings(path, QSettings.Format.IniFormat)
    return QSettings("VHT Planner", "vht")


class DocumentMixin:
    """File handling for the main window (expects the attributes set by ``MainWindow.__init__``)."""

    # ================================================================ opening
    def open_path(self, path: str | Path, series_uid: str | None = None, on_done: Callable[[], None] | None = None,
                  add_recent: bool = True) -> None:
        """Open an image file, a DICOM folder/file or a project folder (in a worker)."""
        p = Path(path)
        if not p.exists():
            self.show_error(f"{p}: no such file or folder")
            return
        if not self.maybe_discard_changes():
            return
        if p.is_dir() and (p / "manifest.json").is_file():
            def work(progress: Any) -> Project:
                return Project.load(p, progress=progress)
        else:
            if p.is_dir() and series_uid is None:
                series_uid = self._choose_series(p)
                if series_uid == "":
                    return

            def work(progress: Any) -> Project:
                from twin.io.images import read_image

                vol = read_image(p, series_uid=series_uid, progress=progress)
                if vol.metadata.get("source_format") == "DICOM":  # DICOM-SEG export references this series
                    vol.metadata["source_path"] = str(p.resolve())
                proj = Project(name=vol.name or p.stem)
                proj.volumes[vol.name or "image"] = vol
                return proj

        def done(proj: Project) -> None:
            self.set_project(proj)
            if add_recent:
                self.add_recent(p)
            self.statusBar().showMessage(f"Opened {p}", 5000)
            if on_done is not None:
                on_done()

        self.run_worker(work, done, f"Opening {p.name}")

    def _choose_series(self, folder: Path) -> str | None:
        """Series UID picked by the user when a DICOM folder holds several; None = default; "" = cancelled."""
        try:
            from twin.io.dicom import list_series

            series = list_series(folder)
        except Exception:  # noqa: BLE001 - the reader will report a readable error itself
            return None
        if len(series) <= 1 or not self.interactive_dialogs:
            return None
        items = [f"{s.modality} {s.description or '(no description)'}  {s.size}  [{s.uid}]" for s in series]
        item, ok = QInputDialog.getItem(self, "Choose a series", f"{len(series)} series in {folder.name}:", items, 0,
                                        False)
        if not ok:
            return ""
        return series[items.index(item)].uid

    def open_image_dialog(self) -> None:
        """File > Open image."""
        path, _ = QFileDialog.getOpenFileName(self, "Open image", "", IMAGE_FILTER)
        if path:
            self.open_path(path)

    def open_dicom_dialog(self) -> None:
        """File > Open DICOM folder."""
        path = QFileDialog.getExistingDirectory(self, "Open DICOM folder")
        if path:
            self.open_path(path)

    def open_project_dialog(self) -> None:
        """File > Open project."""
        path = QFileDialog.getExistingDirectory(self, "Open VHT project folder")
        if path:
            self.open_path(path)

    # ---------------------------------------------------------------- recent
    def recent_files(self) -> list[str]:
        """Recently opened paths, newest first."""
        value = settings().value("recent", [])
        if isinstance(value, str):
            value = [value]
        return [str(v) for v in (value or [])]

    def add_recent(self, path: Path) -> None:
        """Remember an opened path (max 10)."""
        items = [str(path.resolve())] + [r for r in self.recent_files() if r != str(path.resolve())]
        s = settings()
        s.setValue("recent", items[:10])
        s.sync()
        self._refresh_recent_menu()
        for panel in self.panels.values() if hasattr(self, "panels") else ():
            if hasattr(panel, "refresh_recent"):
                panel.refresh_recent()

    def _refresh_recent_menu(self) -> None:
        self.recent_menu.clear()
        for r in self.recent_files():
            self._action(r, lambda r=r: self.open_path(r), None, self.recent_menu)
        self.recent_menu.setEnabled(bool(self.recent_files()))

    # ---------------------------------------------------------------- drag and drop
    def dragEnterEvent(self, ev) -> None:  # noqa: N802, ANN001
        if ev.mimeData().hasUrls():
            ev.acceptProposedAction()

    def dropEvent(self, ev) -> None:  # noqa: N802, ANN001
        urls = [u.toLocalFile() for u in ev.mimeData().urls() if u.isLocalFile()]
        if urls:
            self.open_path(urls[0])

    # ================================================================ saving
    def save_project(self, on_done: Callable[[], None] | None = None) -> None:
        """Save to the project's folder (asks for one the first time)."""
        if self.project.path is None:
            self.save_project_as(on_done)
            return
        self._save_to(self.project.path, on_done)

    def save_project_as(self, on_done: Callable[[], None] | None = None) -> None:
        """Choose a folder and save there."""
        path = QFileDialog.getSaveFileName(self, "Save project as (a folder)", self.project.name)[0]
        if path:
            self._save_to(Path(path), on_done)

    def _save_to(self, folder: Path, on_done: Callable[[], None] | None = None) -> None:
        project = self.project

        def done(path: Any) -> None:
            self.add_recent(Path(path))
            self._update_title()
            if self.autosaver is not None:
                self.autosaver.clear()
            self.statusBar().showMessage(f"Saved {path}", 5000)
            if on_done is not None:
                on_done()

        # Saving reads label maps: run it on the GUI thread's snapshot to stay consistent with edits.
        self.run_worker(lambda progress: project.save(folder, progress=progress), done, "Saving project")

    def autosave(self) -> None:
        """Write a recovery copy if there are unsaved changes (timer-driven)."""
        if self.autosaver is None or not self.project.modified or self.volume is None:
            return
        snap = self.autosaver.snapshot(self.project)
        path = self.project.path
        self.run_worker(lambda progress: self.autosaver.write(snap, path), None, "Autosave",
                        on_error=lambda m: self.statusBar().showMessage(f"Autosave failed: {m}", 10000))

    def offer_recovery(self) -> bool:
        """At start-up: offer autosaves of crashed sessions; returns True if one was restored."""
        sessions = find_recoverable(self.autosaver.root if self.autosaver else None)
        if not sessions:
            return False
        s = sessions[0]
        ans = QMessageBox.question(
            self, "Recover unsaved work?",
            f"VHT Planner did not close properly last time.\n\nRecover {s.describe()}?",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No | QMessageBox.StandardButton.Discard,
        )
        if ans == QMessageBox.StandardButton.Yes:
            try:
                self.restore_session(s)
            except Exception as exc:  # noqa: BLE001 - an unreadable autosave must not stop the app
                s.set_aside()
                self.show_error(f"Could not recover {s.name}: {exc}. The autosave is kept in {s.folder} "
                                "and will not be offered again.")
                return False
            return True
        if ans == QMessageBox.StandardButton.Discard:
            s.discard()
        return False

    def restore_session(self, session: Any) -> None:
        """Load an autosave; it stays marked modified (it was never saved to its real place)."""
        proj = Project.load(session.project_folder)
        proj.path = Path(session.original_path) if session.original_path else None
        proj.undo_stack.push(FunctionCommand("Recovered session", lambda: None, lambda: None))
        self.set_project(proj)
        session.discard()

    def maybe_discard_changes(self) -> bool:
        """Ask before throwing away unsaved changes; True if it is OK to continue."""
        if not self.project.modified:
            return True
        answer = self.ask_save_changes()
        if answer == "save":
            self.save_project()
            self.wait_for_workers()
            return not self.project.modified
        return answer == "discard"

    def ask_save_changes(self) -> str:
        """``"save"``, ``"discard"`` or ``"cancel"`` (a dialog; tests replace this method)."""
        if not self.interactive_dialogs:
            return "discard"
        ans = QMessageBox.question(
            self, "Unsaved changes", f"Save the changes to {self.project.name}?",
            QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel,
        )
        return {QMessageBox.StandardButton.Save: "save", QMessageBox.StandardButton.Discard: "discard"}.get(ans,
                                                                                                         "cancel")

    def closeEvent(self, ev) -> None:  # noqa: N802, ANN001
        if not self.maybe_discard_changes():
            ev.ignore()
            return
        self._closing = True
        self.cancel_workers()
        self.wait_for_workers(10)
        self._autosave_timer.stop()
        if hasattr(self, "scene3d"):
            self.scene3d.shutdown()
        if self.autosaver is not None:
            self.autosaver.clear()
        self.view3d.close_view()
        ev.accept()
