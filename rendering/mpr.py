"""Multi-planar reformat: one displayable RGB slice from a volume and a label map (LPS mm).

Pure numpy: used by the Qt slice views (which paint the result) and by the
off-screen renderer (which annotates it with Pillow). Nothing here draws on a
screen.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from rendering.overlay import OverlayStyle, blend_labels
from rendering.slicing import SliceImage, SlicePlane, dominant_letter, is_axis_aligned, resample_like, reslice
from rendering.windowing import WindowLevel, default_window
from twin.labelmap import LabelMap
from twin.volume import Volume


@dataclass(frozen=True)
class RenderedSlice:
    """An RGB slice and where it is.

    Attributes
    ----------
    rgb : ndarray (rows, cols, 3) uint8
        Grey image with the overlay blended in.
    slice : SliceImage
        Geometry (LPS placement, pixel spacing) of the grey values; ``slice.pixels`` are the raw values.
    """

    rgb: NDArray[np.uint8]
    slice: SliceImage


def label_slices(labelmap: LabelMap, target: SliceImage, plane: SlicePlane) -> list[NDArray[Any]]:
    """Each layer of ``labelmap`` sampled on the pixel grid of ``target`` (nearest neighbour).

    An axis-aligned plane on the label map's own grid is a view of the layer (one gather); anything else
    (oblique planes, another grid) is sampled directly on ``target``'s pixel grid.
    """
    aligned = is_axis_aligned(labelmap.geometry, plane)
    out = []
    for layer in labelmap.layers:
        if aligned:
            s = reslice(layer, labelmap.geometry, plane, order=0, fill=0)
            if s.shape == target.shape and np.allclose(s.origin_lps, target.origin_lps, atol=1e-3):
                out.append(np.ascontiguousarray(s.pixels))  # one gather; strided views make every later pass slow
                continue
        out.append(resample_like(layer, labelmap.geometry, target, order=0))
    return out


def render_slice(
    volume: Volume,
    plane: SlicePlane,
    window: WindowLevel | None = None,
    labelmap: LabelMap | None = None,
    overlay: OverlayStyle | None = None,
) -> RenderedSlice:
    """Reslice, window and overlay in one call.

    Parameters
    ----------
    volume : Volume
        Image (LPS mm).
    plane : SlicePlane
        Cut plane; e.g. ``SlicePlane.standard("axial", point_lps)``.
    window : WindowLevel, optional
        Default: soft tissue for CT, percentiles otherwise.
    labelmap : LabelMap, optional
        Segments to overlay (any grid; resampled when it differs from the volume's).
    overlay : OverlayStyle, optional
        Opacity, fill/outline, per-segment visibility.
    """
    from rendering.windowing import apply_window

    window = window or default_window(volume.array, volume.modality)
    sl = reslice(volume.array, volume.geometry, plane, order=1, fill=black_fill_value(volume, window))
    gray = apply_window(sl.pixels, window)
    if labelmap is not None and labelmap.segments:
        return RenderedSlice(blend_labels(gray, label_slices(labelmap, sl, plane), labelmap, overlay), sl)
    return RenderedSlice(np.repeat(gray[..., None], 3, axis=2), sl)


def black_fill_value(volume: Volume, window: WindowLevel) -> float:
    """A fill value shown black under ``window`` and representable in the volume's dtype."""
    if volume.array.dtype.kind in "iu":
        info = np.iinfo(volume.array.dtype)
        return float(np.clip(np.floor(window.low), info.min, info.max))
    return float(window.low)


def screen_letters(plane: SlicePlane) -> dict[str, str]:
    """Orientation letters at the screen edges: keys ``left, right, top, bottom``.

    One letter per edge: the patient direction closest to that screen direction (as 3D Slicer and
    ITK-SNAP label oblique views); exact for the standard planes.
    """
    return {
        "right": dominant_letter(plane.col_dir),
        "left": dominant_letter(-plane.col_dir),
        "bottom": dominant_letter(plane.row_dir),
        "top": dominant_letter(-plane.row_dir),
    }


def nice_scale_length(max_mm: float) -> float:
    """Largest 1-2-5 x 10^n length (mm) not above ``max_mm`` (for scale bars)."""
    if max_mm <= 0:
        return 0.0
    exp = np.floor(np.log10(max_mm))
    for m in (5.0, 2.0, 1.0):
        if m * 10**exp <= max_mm:
            return float(m * 10**exp)
    return float(10 ** (exp - 1) * 5)
