"""Data panel: open images / DICOM / projects, recent files, image info, display settings."""

from __future__ import annotations

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
    QPushButton,
    QSlider,
    QVBoxLayout,
)

from app.gui.panels.base import Panel

if TYPE_CHECKING:
    from app.gui.main_window import MainWindow


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
        self.recent.itemActivated.connect(lambda it: window.open_path(it.text()))
        lay.addWidget(self.recent)
        self.info = QLabel("No image loaded")
        self.info.setObjectName("image_info")
        self.info.setWordWrap(True)
        self.info.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        lay.addWidget(self.info)

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
        self.refresh_recent()
        self.on_project_changed()

    def refresh_recent(self) -> None:
        """Reload the recent list from the settings."""
        self.recent.clear()
        self.recent.addItems(self.main.recent_files())

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
        if vol is None:
            self.info.setText("No image loaded")
            return
        for name in presets_for(vol.modality):
            self.wl_combo.addItem(name.capitalize(), name)
        g = vol.geometry
        src = vol.metadata.get("source_file") or (Path(str(self.main.project.path)).name if self.main.project.path
                                                  else vol.name)
        self.info.setText(
            f"<b>{vol.name}</b> ({src})<br>{vol.modality}, {vol.array.dtype}, "
            f"{g.shape[0]} x {g.shape[1]} x {g.shape[2]} voxels<br>"
            f"spacing {g.spacing[0]:.3g} x {g.spacing[1]:.3g} x {g.spacing[2]:.3g} mm"
            f"{'' if g.is_axis_aligned() else ' (oblique)'}<br>"
            f"range {float(vol.array.min()):g} .. {float(vol.array.max()):g} {vol.units}"
        )
        self.opacity.setValue(int(self.main.overlay.opacity * 100))
