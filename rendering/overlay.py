"""Label-map overlay on grey slices: segment colours, opacity, fill / outline.

Display settings (visibility, opacity, colour overrides) are kept apart from the
:class:`twin.labelmap.LabelMap` (3D Slicer's data / display split): a label map
knows its default colours, an :class:`OverlayStyle` says how to show it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from twin.labelmap import LabelMap

MODES = ("fill", "outline", "fill+outline")


@dataclass
class SegmentStyle:
    """How one segment is shown; ``None`` fields fall back to the overlay / label-map defaults."""

    visible: bool = True
    opacity: float | None = None
    color: tuple[float, float, float] | None = None


@dataclass
class OverlayStyle:
    """How a label map is drawn on slices.

    Parameters
    ----------
    opacity : float
        Fill opacity in [0, 1] (outlines are drawn opaque).
    mode : {"fill", "outline", "fill+outline"}
        Area fill, boundary only, or both (fill at ``opacity``, opaque outline).
    segments : dict of str -> SegmentStyle
        Per-segment overrides by segment name.
    visible : bool
        Master switch.
    """

    opacity: float = 0.5
    mode: str = "fill+outline"
    segments: dict[str, SegmentStyle] = field(default_factory=dict)
    visible: bool = True

    def style(self, name: str) -> SegmentStyle:
        """The (possibly default) style of a segment; created on first use so callers may edit it."""
        return self.segments.setdefault(name, SegmentStyle())

    def is_visible(self, name: str) -> bool:
        """Whether segment ``name`` is drawn."""
        s = self.segments.get(name)
        return self.visible and (s is None or s.visible)


def _outline(labels: NDArray[Any]) -> NDArray[np.bool_]:
    """Pixels of a non-zero label with a 4-neighbour of another value (inner boundary)."""
    lab = labels
    edge = np.zeros(lab.shape, dtype=bool)
    diff_v = lab[1:, :] != lab[:-1, :]
    diff_h = lab[:, 1:] != lab[:, :-1]
    edge[1:, :] |= diff_v
    edge[:-1, :] |= diff_v
    edge[:, 1:] |= diff_h
    edge[:, :-1] |= diff_h
    # image border counts as boundary
    edge[0, :] = edge[-1, :] = True
    edge[:, 0] = edge[:, -1] = True
    return edge & (lab != 0)


def label_rgba(
    layer_slices: list[NDArray[Any]],
    labelmap: LabelMap,
    style: OverlayStyle | None = None,
) -> NDArray[np.float32]:
    """RGBA overlay ``(rows, cols, 4)`` float32 in [0, 1] (straight, not premultiplied) for label slices.

    Parameters
    ----------
    layer_slices : list of ndarray (rows, cols)
        The label map's layers sampled on the same slice grid.
    labelmap : LabelMap
        For the segment table (values, default colours).
    style : OverlayStyle, optional
        Display settings; default fill+outline at 50 %.
    """
    style = style or OverlayStyle()
    rows, cols = layer_slices[0].shape
    out = np.zeros((rows, cols, 4), dtype=np.float32)
    if not style.visible:
        return out
    fill = style.mode in ("fill", "fill+outline")
    outline = style.mode in ("outline", "fill+outline")
    for layer, lab in enumerate(layer_slices):
        segs = [s for s in labelmap.segments if s.layer == layer and style.is_visible(s.name)]
        if not segs or not lab.any():
            continue
        top = max(int(lab.max()), max(s.value for s in segs))
        lut = np.zeros((top + 1, 4), dtype=np.float32)
        edge_lut = np.zeros((top + 1, 4), dtype=np.float32)
        for s in segs:
            if s.value > top:
                continue
            st = style.segments.get(s.name) or SegmentStyle()
            color = st.color or s.color
            alpha = style.opacity if st.opacity is None else st.opacity
            if fill:
                lut[s.value] = (*color, alpha)
            if outline:
                edge_lut[s.value] = (*color, 1.0 if alpha > 0 else 0.0)
        lab_i = lab.astype(np.intp, copy=False)
        rgba = lut[lab_i]
        if outline:
            edge = _outline(lab)
            rgba[edge] = edge_lut[lab_i[edge]]
        a = rgba[..., 3:4]
        # "over" compositing of this layer on the previous ones (premultiplied colours)
        out[..., :3] = rgba[..., :3] * a + out[..., :3] * (1 - a)
        out[..., 3:4] = a + out[..., 3:4] * (1 - a)
    alpha = out[..., 3:4]
    np.divide(out[..., :3], alpha, out=out[..., :3], where=alpha > 0)
    return out


def _tables(segs: list[Any], style: OverlayStyle, top: int) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Alpha (0..256) and premultiplied colour (0..255*256) per index; indices > top are outline pixels."""
    fill = style.mode in ("fill", "fill+outline")
    outline = style.mode in ("outline", "fill+outline")
    alpha = np.zeros(2 * (top + 1), np.int64)
    colour = np.zeros((2 * (top + 1), 3), np.int64)
    for s in segs:
        st = style.segments.get(s.name) or SegmentStyle()
        rgb = np.clip(np.asarray(st.color or s.color, float), 0, 1) * 255.0
        a = float(style.opacity if st.opacity is None else st.opacity)
        if fill:
            alpha[s.value] = int(round(256 * np.clip(a, 0, 1)))
        if outline and a > 0:
            alpha[top + 1 + s.value] = 256
        for i in (s.value, top + 1 + s.value):
            colour[i] = np.rint(rgb * alpha[i]).astype(np.int64)
    return alpha, colour


def blend_labels(
    gray_u8: NDArray[np.uint8],
    layer_slices: list[NDArray[Any]],
    labelmap: LabelMap,
    style: OverlayStyle | None = None,
) -> NDArray[np.uint8]:
    """Grey slice + label layers -> RGB ``(rows, cols, 3)`` uint8 in integer arithmetic (the fast display path).

    Same result as ``composite(gray_u8, label_rgba(...))`` up to rounding (1/256 steps). With one
    layer and label values < 512 the blend is a single table lookup indexed by (label, grey).
    """
    style = style or OverlayStyle()
    gray = np.ascontiguousarray(gray_u8)
    rgb: NDArray[np.uint8] | None = None
    outline = style.mode in ("outline", "fill+outline")
    for layer, lab in enumerate(layer_slices if style.visible else []):
        segs = [s for s in labelmap.segments if s.layer == layer and style.is_visible(s.name)]
        if not segs or not lab.any():
            continue
        top = max(int(lab.max()), max(s.value for s in segs))
        alpha, colour = _tables(segs, style, top)
        idx = lab.astype(np.intp)
        if outline:
            edge = _outline(lab)
            idx[edge] += top + 1
        if rgb is None and top < 512:
            g = np.arange(256, dtype=np.int64)
            table = ((g[None, :, None] * (256 - alpha)[:, None, None] + colour[:, None, :]) >> 8).astype(np.uint8)
            rgb = np.take(table.reshape(-1, 3), idx * 256 + gray, axis=0)
            continue
        if rgb is None:
            rgb = np.repeat(gray[..., None], 3, axis=2)
        a = alpha[idx]
        sel = a > 0
        base = rgb[sel].astype(np.int64)
        rgb[sel] = ((base * (256 - a[sel])[:, None] + colour[idx[sel]]) >> 8).astype(np.uint8)
    if rgb is None:
        rgb = np.repeat(gray[..., None], 3, axis=2)
    return rgb


def composite(gray_u8: NDArray[np.uint8], rgba: NDArray[np.float32] | None) -> NDArray[np.uint8]:
    """Blend an overlay on a grey image -> RGB ``(rows, cols, 3)`` uint8."""
    g = gray_u8.astype(np.float32)[..., None]
    if rgba is None or not np.any(rgba[..., 3]):
        return np.ascontiguousarray(np.repeat(gray_u8[..., None], 3, axis=2))
    a = rgba[..., 3:4]
    rgb = g * (1 - a) + rgba[..., :3] * 255.0 * a
    return np.clip(rgb + 0.5, 0, 255).astype(np.uint8)
