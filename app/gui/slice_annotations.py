"""Slice-view annotations: orientation letters, scale bar and corner texts laid out without overlaps.

Frame: patient LPS, mm. As 3D Slicer's corner annotations: the top-left corner shows the view, the
slice shown and the window; the top-right corner the patient (identity only when shown, see
:meth:`app.gui.main_window.MainWindow.patient_info_text`). Lines are elided to the room left by the
orientation letters and by the other corner; rows that would reach the side letters are dropped.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter, QPen

from rendering.mpr import nice_scale_length, screen_letters
from rendering.slicing import SlicePlane, direction_letter, obliquity, preset_of, slice_range_mm

if TYPE_CHECKING:
    from app.gui.slice_view import SliceView


def draw_annotations(view: SliceView, p: QPainter, s: float) -> dict[str, QRectF]:
    """Orientation letters, scale bar and corner texts laid out so that nothing overlaps (as 3D Slicer's
    corner annotations): corner lines are elided to the room left between the view edge and the centred
    letters, and lines that would reach the side letters are dropped. The rectangles drawn are kept in
    :attr:`SliceView.annotation_rects` (widget pixels) for tests."""
    w, h = view.width(), view.height()
    rects: dict[str, QRectF] = {}
    font = QFont()
    font.setPointSize(11)
    font.setBold(True)
    p.setFont(font)
    fm = QFontMetricsF(font)
    letters = screen_letters(view.plane())
    m = 6
    yellow = QColor(255, 210, 80)
    a = Qt.AlignmentFlag
    lh = fm.height()
    for key, text in letters.items():
        tw = fm.horizontalAdvance(text)
        if key == "top":
            r = QRectF((w - tw) / 2, m, tw, lh)
        elif key == "bottom":
            r = QRectF((w - tw) / 2, h - m - lh, tw, lh)
        elif key == "left":
            r = QRectF(m, (h - lh) / 2, tw, lh)
        else:
            r = QRectF(w - m - tw, (h - lh) / 2, tw, lh)
        shadow_text(p, r, a.AlignCenter, text, yellow)
        rects[f"letter_{key}"] = r
    top_w = fm.horizontalAdvance(letters.get("top", "")) if letters.get("top") else 0.0
    side_top = (h - lh) / 2 - 2  # corner text must end above the side letters
    # scale bar (bottom right)
    bar_mm = nice_scale_length(0.25 * w / s)
    bar_px = bar_mm * s
    x1, y = w - 14, h - 30
    for color, dy in ((QColor(0, 0, 0), 1), (QColor(230, 230, 230), 0)):
        p.setPen(QPen(color, 2))
        p.drawLine(QPointF(x1 - bar_px, y + dy), QPointF(x1, y + dy))
        p.drawLine(QPointF(x1 - bar_px, y - 4 + dy), QPointF(x1 - bar_px, y + 4 + dy))
        p.drawLine(QPointF(x1, y - 4 + dy), QPointF(x1, y + 4 + dy))
    rects["scale_bar"] = QRectF(x1 - bar_px, y - 5, bar_px, 10)
    font.setBold(False)
    font.setPointSize(9)
    p.setFont(font)
    fm9 = QFontMetricsF(font)
    white = QColor(225, 225, 225)
    bar_text = f"{bar_mm:g} mm"
    tw = fm9.horizontalAdvance(bar_text) + 2
    tx = min(x1 - bar_px / 2 - tw / 2, w - m - tw)  # centred under the bar, never cut by the view edge
    r = QRectF(tx, y + 5, tw, fm9.height())
    lb = rects.get("letter_bottom")
    if lb is not None and r.left() < lb.right() + 4:  # narrow view: above the bar, clear of the letter
        r = QRectF(w - m - tw, y - 6 - fm9.height(), tw, fm9.height())
    shadow_text(p, r, a.AlignHCenter, bar_text, white)
    rects["scale_text"] = r
    # view name, slice position and window (top left), patient info (top right), one row at a time:
    # rows beside the top letter keep clear of it, rows below it share the whole width (the two corners
    # never meet); lines are elided (the patient info in the middle, keeping name start and ID)
    left = view.slice_label_text().split("\n")
    info = view.main.patient_info_text()
    right = info.split("\n") if info else []
    ls = fm9.lineSpacing()
    y0 = m + 2
    n_rows = min(max(len(left), len(right)), max(0, int((side_top - y0) // ls)))
    gap = 12.0
    letter_bottom = rects["letter_top"].bottom() if "letter_top" in rects else -1.0
    beside_letter = w / 2 - top_w / 2 - gap / 2 - (m + 4)
    min_w = fm9.horizontalAdvance("M...")
    for i in range(n_rows):
        yr = y0 + i * ls
        lt = left[i] if i < len(left) else ""
        rt = right[i] if i < len(right) else ""
        need_l, need_r = fm9.horizontalAdvance(lt), fm9.horizontalAdvance(rt)
        if yr < letter_bottom + 1:
            wl, wr = beside_letter, beside_letter
        else:
            total = w - 2 * (m + 4) - gap
            wl = min(need_l, max(total / 2, total - need_r))
            wr = total - wl
        for key, text, room, mode in (("top_left", lt, wl, Qt.TextElideMode.ElideRight),
                                      ("top_right", rt, wr, Qt.TextElideMode.ElideMiddle)):
            if not text or room < min_w:
                continue
            shown = fm9.elidedText(text, mode, room)
            tw = fm9.horizontalAdvance(shown)
            x = m + 4 if key == "top_left" else w - m - 4 - tw
            r = QRectF(x, yr, tw, ls)
            flags = a.AlignLeft if key == "top_left" else a.AlignRight
            shadow_text(p, r, flags | a.AlignTop, shown, white)
            rects[f"{key}_{i}"] = r
    return rects

def shown_offset_mm(view: SliceView) -> float:
    """Offset (mm along the normal) of the slice image actually shown: an axis-aligned view shows the
    nearest voxel slice, which is not the crosshair's offset when the crosshair lies between slices."""
    plane = view.plane()
    sl = view._slice
    if sl is None or not np.allclose(sl.col_dir, plane.col_dir) or not np.allclose(sl.row_dir, plane.row_dir):
        return float(plane.offset_mm)
    return float(np.asarray(sl.origin_lps, float) @ plane.normal)

def slice_label_text(view: SliceView) -> str:
    """Top-left corner text: view name, slice number and position of the slice shown, window."""
    plane = view.plane()
    lo, hi, step = slice_range_mm(view.main.volume.geometry, plane)
    off = view.shown_offset_mm()
    idx = int(round((off - lo) / step)) + 1
    total = int(round((hi - lo) / step)) + 1
    wl = view.main.window_level
    preset = preset_of(plane)
    if preset is not None:
        text = f"{preset.capitalize()}  {idx}/{total}\n{offset_label(preset, off)}"
    else:  # name the closest standard plane and the tilt; the position is along the (oblique) normal
        base, angle = obliquity(plane)
        text = (f"Oblique: {base} {angle:.{1 if angle < 9.95 else 0}f}\N{DEGREE SIGN}\n{idx}/{total}  "
                f"{off:+.1f} mm along {direction_letter(plane.normal) or '?'}")
    return text + f"\nW {wl.width:.0f}  L {wl.level:.0f}"


def shadow_text(p: QPainter, rect: QRectF, flags: Qt.AlignmentFlag, text: str, color: QColor) -> None:
    """Text with a 1-pixel dark shadow, readable over bright anatomy."""
    p.setPen(QColor(0, 0, 0, 220))
    p.drawText(rect.translated(1, 1), flags, text)
    p.setPen(color)
    p.drawText(rect, flags, text)


def offset_label(orientation: str, offset_mm: float) -> str:
    """Slice position as Slicer shows it: axial ``S/I``, coronal ``A/P``, sagittal ``L/R`` in mm."""
    plane = SlicePlane.standard(orientation, np.zeros(3))
    n = plane.normal
    ax = int(np.argmax(np.abs(n)))
    value = offset_mm * float(np.sign(n[ax]))  # LPS coordinate along that axis
    pos, neg = (("L", "R"), ("P", "A"), ("S", "I"))[ax]
    return f"{pos if value >= 0 else neg} {abs(value):.1f} mm"
