"""The "probe's eye" dialog: the image resliced perpendicular to a trajectory, at a chosen depth.

Frame: LPS mm. The plane comes from :func:`planning.trajectories.probes_eye_frame`
(``u`` horizontal on screen, ``v`` down), the pixels from
:func:`planning.trajectories.reslice` of the volume (linear) and the label map
(nearest, critical segments and the target segment coloured). The tool's
cross-section is drawn at the centre as a circle of its diameter.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPen, QPixmap
from PySide6.QtWidgets import QDialog, QDoubleSpinBox, QHBoxLayout, QLabel, QSlider, QVBoxLayout

from planning.trajectories import path_length_mm, probes_eye_frame, reslice
from rendering.windowing import apply_window
from twin.plan import Trajectory

VIEW_SIZE_PX = 420


def probes_eye_rgb(volume: Any, labelmap: Any, traj: Trajectory, depth_mm: float, window_level: Any,
                   segments: list[str], size_mm: float = 80.0, spacing_mm: float = 0.4) -> np.ndarray:
    """RGB image (rows = v, columns = u), uint8, of the plane perpendicular to ``traj`` at ``depth_mm``."""
    frame = probes_eye_frame(traj, depth_mm)
    vals = reslice(volume.array, volume.geometry, frame, (size_mm, size_mm), spacing_mm, order=1,
                   fill=float(np.min(volume.array)))
    rgb = np.repeat(apply_window(vals.T, window_level)[..., None], 3, axis=2).astype(np.float64)
    if labelmap is not None and labelmap.geometry.is_same_grid(volume.geometry):
        for seg in labelmap.segments:
            if seg.name not in segments:
                continue
            m = reslice(labelmap.layers[seg.layer] == seg.value, labelmap.geometry, frame, (size_mm, size_mm),
                        spacing_mm, order=0).T > 0.5
            col = np.asarray(seg.color[:3], float) * 255.0
            rgb[m] = 0.55 * rgb[m] + 0.45 * col
    return np.ascontiguousarray(np.clip(rgb, 0, 255).astype(np.uint8))


class ProbesEyeDialog(QDialog):
    """Non-modal view along a trajectory with a depth slider (0 = entry, end = target)."""

    def __init__(self, window: Any, traj: Trajectory, segments: list[str]) -> None:
        super().__init__(window)
        self.setObjectName("probes_eye_dialog")
        self.setWindowTitle(f"Probe's eye - {traj.name}")
        self.main = window
        self.traj = traj
        self.segments = segments
        self.size_mm = 80.0
        self.length_mm = path_length_mm(traj)
        lay = QVBoxLayout(self)
        self.image = QLabel()
        self.image.setObjectName("probes_eye_image")
        self.image.setFixedSize(VIEW_SIZE_PX, VIEW_SIZE_PX)
        lay.addWidget(self.image)
        row = QHBoxLayout()
        row.addWidget(QLabel("Depth"))
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, max(1, int(round(self.length_mm * 2))))
        self.slider.setValue(self.slider.maximum())
        row.addWidget(self.slider, 1)
        self.depth = QDoubleSpinBox()
        self.depth.setRange(0.0, self.length_mm)
        self.depth.setDecimals(1)
        self.depth.setSuffix(" mm")
        self.depth.setValue(self.length_mm)
        row.addWidget(self.depth)
        lay.addLayout(row)
        self.info = QLabel("")
        self.info.setWordWrap(True)
        lay.addWidget(self.info)
        self.slider.valueChanged.connect(lambda v: self.depth.setValue(v / 2.0))
        self.depth.valueChanged.connect(self._on_depth)
        self.rgb: np.ndarray | None = None
        self._on_depth(self.length_mm)

    def _on_depth(self, depth_mm: float) -> None:
        self.slider.blockSignals(True)
        self.slider.setValue(int(round(depth_mm * 2)))
        self.slider.blockSignals(False)
        self.render(depth_mm)

    def render(self, depth_mm: float) -> None:  # noqa: D102 - shadows QWidget.render on purpose (no use here)
        vol = self.main.volume
        if vol is None:
            return
        segs = list(self.segments) + ([self.traj.target_segment] if self.traj.target_segment else [])
        self.rgb = probes_eye_rgb(vol, self.main.labelmap, self.traj, depth_mm, self.main.window_level, segs,
                                  self.size_mm)
        h, w = self.rgb.shape[:2]
        img = QImage(self.rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()
        pm = QPixmap.fromImage(img).scaled(VIEW_SIZE_PX, VIEW_SIZE_PX, Qt.AspectRatioMode.IgnoreAspectRatio,
                                           Qt.TransformationMode.SmoothTransformation)
        p = QPainter(pm)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        s = VIEW_SIZE_PX / self.size_mm
        r = max(2.0, 0.5 * self.traj.diameter_mm * s)
        c = QPointF(VIEW_SIZE_PX / 2, VIEW_SIZE_PX / 2)
        p.setPen(QPen(QColor(255, 215, 30), 2))
        p.drawEllipse(c, r, r)
        p.drawLine(QPointF(c.x() - r - 8, c.y()), QPointF(c.x() - r - 2, c.y()))
        p.drawLine(QPointF(c.x() + r + 2, c.y()), QPointF(c.x() + r + 8, c.y()))
        p.setPen(QColor(230, 230, 230))
        p.drawText(8, 16, f"depth {depth_mm:.1f} / {self.length_mm:.1f} mm  ({self.size_mm:g} mm field)")
        p.end()
        self.image.setPixmap(pm)
        self.info.setText("Plane perpendicular to the path; yellow circle = tool cross-section. "
                          "Coloured: critical structures and the target segment.")
