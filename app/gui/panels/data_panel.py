"""Data panel: open images / DICOM / projects, recent files, image info, display settings."""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSlider,
    QVBoxLayout,
)

from app.gui.panels.base import Panel

if TYPE_CHECKING:
    from app.gui.main_window import MainWindow


WARNING_CHARS = 46  # characters of a reader warning shown in the panel (the whole text is in the tooltip)


def _elide(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1].rstrip() + "\u2026"


class DataPanel(Panel):
    """Load data and choose how it is displayed."""

    title = "Data"
    object_name = "data_panel"

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        lay = QVBoxLayout(self)
        row = QHBoxLayout()
        for text, slot, name in (("Image...", window.open_image_dialog, "open_image"),
                                 ("DICOM...", window.open_dicom_dialog, "open_dicom"),
                                 ("Project...", window.open_project_dialog, "open_project")):
            b = QPushButton(text)
            b.setObjectName(name)
            b.setToolTip(f"Open {text.rstrip('.').lower()} (or drop a file or folder on the window)")
            b.clicked.connect(slot)
            row.addWidget(b)
        lay.addLayout(row)
        lay.addWidget(QLabel("Recent:"))
        self.recent = QListWidget()
        self.recent.setObjectName("recent_list")
        self.recent.setMaximumHeight(90)
        self.recent.itemActivated.connect(lambda it: window.open_path(it.data(Qt.ItemDataRole.UserRole) or it.text()))
        lay.addWidget(self.recent)
        self.info = QLabel("No image loaded")
        self.info.setObjectName("image_info")
        self.info.setWordWrap(True)
        self.info.setTextFormat(Qt.TextFormat.RichText)
        self.info.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        lay.addWidget(self.info)
        self.warnings = QLabel("")
        self.warnings.setObjectName("image_warnings")
        # no word wrap: a wrapped label's height is not part of the dock's minimum size and the
        # widgets below would be squeezed on top of each other; one elided line per warning instead
        self.warnings.setTextFormat(Qt.TextFormat.RichText)
        self.warnings.setStyleSheet("color: #f0b040;")
        self.warnings.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.warnings.hide()
        lay.addWidget(self.warnings)

        box = QGroupBox("Display")
        form = QFormLayout(box)
        self.wl_combo = QComboBox()
        self.wl_combo.setObjectName("window_preset")
        self.wl_combo.activated.connect(lambda _i: window.apply_window_preset(self.wl_combo.currentData()))
        form.addRow("Window", self.wl_combo)
        self.opacity = QSlider(Qt.Orientation.Horizontal)
        self.opacity.setObjectName("overlay_opacity")
        self.opacity.setRange(0, 100)
        self.opacity.setValue(int(window.overlay.opacity * 100))
        self.opacity.valueChanged.connect(self._set_opacity)
        form.addRow("Overlay opacity", self.opacity)
        self.mode = QComboBox()
        self.mode.setObjectName("overlay_mode")
        self.mode.addItems(["fill+outline", "fill", "outline"])
        self.mode.currentTextChanged.connect(self._set_mode)
        form.addRow("Overlay", self.mode)
        self.surfaces = QCheckBox("Segment surfaces in 3D")
        self.surfaces.setChecked(True)
        self.surfaces.toggled.connect(lambda on: self.main.scene3d.set_show_surfaces(on))
        form.addRow(self.surfaces)
        self.vr = QComboBox()
        self.vr.setObjectName("volume_rendering")
        self.vr.addItem("off", None)
        for name in ("ct-bone", "ct-soft-tissue", "ct-angio", "mr"):
            self.vr.addItem(name, name)
        self.vr.currentIndexChanged.connect(lambda _i: self.main.scene3d.set_volume_preset(self.vr.currentData()))
        form.addRow("Volume rendering", self.vr)
        lay.addWidget(box)
        lay.addStretch(1)
        if hasattr(window, "identity_action"):
            window.identity_action.toggled.connect(lambda _on: self.on_project_changed())
        self.refresh_recent()
        self.on_project_changed()

    def refresh_recent(self) -> None:
        """Reload the recent list from the settings."""
        self.recent.clear()
        for path in self.main.recent_files():
            p = Path(path)
            item = QListWidgetItem(f"{p.name}  ({p.parent.name or p.parent})")  # the name first: the list is narrow
            item.setData(Qt.ItemDataRole.UserRole, path)
            item.setToolTip(path)
            self.recent.addItem(item)

    def _set_opacity(self, v: int) -> None:
        self.main.overlay.opacity = v / 100.0
        self.main.overlay_changed()

    def _set_mode(self, mode: str) -> None:
        self.main.overlay.mode = mode
        self.main.overlay_changed()

    def on_project_changed(self) -> None:  # noqa: D102
        from rendering.windowing import presets_for

        vol = self.main.volume
        self.wl_combo.clear()
        self.warnings.hide()
        if vol is None:
            self.info.setText("No image loaded")
            return
        for name in presets_for(vol.modality):
            self.wl_combo.addItem(name.capitalize(), name)
        g = vol.geometry
        src = vol.metadata.get("source_file") or (Path(str(self.main.project.path)).name if self.main.project.path
                                                  else vol.name)
        name = vol.name
        action = getattr(self.main, "identity_action", None)
        shown = action.isChecked() if action is not None else getattr(self.main, "show_identity", False)
        if not shown:  # file names often carry the patient's name
            from planning.report_data import identity_terms, scrub

            terms = identity_terms(dict(vol.metadata))
            name, src = scrub(str(name), terms), scrub(str(src), terms)
        self.info.setText(
            f"<b>{escape(str(name))}</b> ({escape(str(src))})<br>{escape(vol.modality)}, {vol.array.dtype}, "
            f"{g.shape[0]} x {g.shape[1]} x {g.shape[2]} voxels<br>"
            f"spacing {g.spacing[0]:.3g} x {g.spacing[1]:.3g} x {g.spacing[2]:.3g} mm"
            f"{'' if g.is_axis_aligned() else ' (oblique)'}<br>"
            f"range {float(vol.array.min()):g} .. {float(vol.array.max()):g} {escape(vol.units)}"
        )
        # what the reader had to assume or change (orientation, resampling, colour -> grey ...) must be seen
        warnings = [str(w) for w in (vol.metadata.get("warnings") or [])]
        if warnings:
            lines = [f"&#9888; {escape(_elide(w, WARNING_CHARS), quote=False)}" for w in warnings[:3]]
            if len(warnings) > 3:
                lines.append(f"... {len(warnings) - 3} more (hover for all)")
            self.warnings.setText("<br>".join(lines))
            self.warnings.setToolTip("Reader warnings:\n" + "\n".join(f"- {w}" for w in warnings))
            self.warnings.show()
        self.opacity.setValue(int(self.main.overlay.opacity * 100))
