"""Segment table of the demo phantom (ground-truth labels).

One label layer, no overlaps: every voxel of the body belongs to exactly one
segment; ``body`` holds the body voxels not claimed by a more specific segment
(skin, visceral fat and bowel, mediastinum, spinal canal, renal sinus), so the
whole body outline is the union of all segments (:func:`body_outline_mask`).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from twin.labelmap import LabelMap, Segment


def _sct(code: str, meaning: str) -> dict[str, str]:
    return {"scheme": "SCT", "code": code, "meaning": meaning}


DEMO_SEGMENTS: tuple[Segment, ...] = (
    Segment(1, "body", (0.69, 0.48, 0.40), 0, _sct("38266002", "Entire body")),
    Segment(2, "subcutaneous_fat", (0.90, 0.86, 0.27), 0, None),
    Segment(3, "muscle", (0.75, 0.39, 0.35), 0, None),
    Segment(4, "liver", (0.87, 0.51, 0.41), 0, _sct("10200004", "Liver")),
    Segment(5, "liver_tumor", (0.56, 0.93, 0.56), 0, _sct("108369006", "Neoplasm")),
    Segment(6, "hepatic_vessels", (0.0, 0.59, 0.81), 0, _sct("59820001", "Blood vessel")),
    Segment(7, "kidney_right", (0.72, 0.45, 0.20), 0, _sct("9846003", "Right kidney")),
    Segment(8, "kidney_left", (0.80, 0.55, 0.25), 0, _sct("18639004", "Left kidney")),
    Segment(9, "spleen", (0.62, 0.19, 0.38), 0, _sct("78961009", "Spleen")),
    Segment(10, "aorta", (0.85, 0.11, 0.11), 0, _sct("15825003", "Aorta")),
    Segment(11, "inferior_vena_cava", (0.0, 0.35, 0.75), 0, _sct("64131007", "Inferior vena cava")),
    Segment(12, "spine", (0.95, 0.93, 0.84), 0, _sct("421060004", "Spinal column")),
    Segment(13, "ribs", (0.91, 0.86, 0.71), 0, _sct("113197003", "Rib")),
    Segment(14, "intervertebral_discs", (0.55, 0.75, 0.85), 0, None),
    Segment(15, "lungs", (0.77, 0.85, 0.96), 0, _sct("39607008", "Lung")),
    Segment(16, "stomach", (0.85, 0.73, 0.55), 0, _sct("69695003", "Stomach")),
    Segment(17, "gallbladder", (0.54, 0.67, 0.19), 0, _sct("28231008", "Gallbladder")),
)
"""The label table: ``Segment(value, name, colour RGB 0-1, layer 0, terminology)``."""

LABEL: dict[str, int] = {s.name: s.value for s in DEMO_SEGMENTS}
"""Name -> label value (read-only by convention; build a copy to modify)."""


def body_outline_mask(labelmap: LabelMap) -> NDArray[np.bool_]:
    """The whole body (skin surface inwards): every labelled voxel of the phantom, ``(ni, nj, nk)`` bool."""
    values = np.array([s.value for s in DEMO_SEGMENTS])
    return np.isin(labelmap.layers[0], values)
