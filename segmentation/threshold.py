"""Intensity thresholds and named Hounsfield-unit ranges (frame LPS, arrays ``[i, j, k]``).

The HU ranges are the usual radiology windows used by 3D Slicer's threshold
presets and by InVesalius; they are starting points, not tissue truth.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from segmentation._common import Mask
from twin.errors import InputError
from twin.progress import Progress, ensure_progress
from twin.volume import Volume


@dataclass(frozen=True)
class HURange:
    """A named closed HU interval ``[low_hu, high_hu]``."""

    name: str
    low_hu: float
    high_hu: float
    description: str = ""


HU_RANGES: dict[str, HURange] = {
    "bone": HURange("bone", 226.0, 3071.0, "cortical and dense trabecular bone"),
    "cancellous_bone": HURange("cancellous_bone", 110.0, 3071.0, "bone including low-density marrow edges"),
    "soft_tissue": HURange("soft_tissue", -100.0, 200.0, "organs, muscle and fat-free soft tissue"),
    "muscle": HURange("muscle", -29.0, 150.0, "skeletal muscle (Alberta protocol -29..150 HU)"),
    "fat": HURange("fat", -190.0, -30.0, "adipose tissue (-190..-30 HU)"),
    "lung": HURange("lung", -1000.0, -400.0, "aerated lung parenchyma"),
    "air": HURange("air", -1100.0, -400.0, "air and gas"),
    "contrast_vessel": HURange("contrast_vessel", 150.0, 600.0, "contrast-enhanced vessels (arterial phase)"),
    "body": HURange("body", -300.0, 3071.0, "anything denser than air"),
}


def hu_range(name: str) -> HURange:
    """Look up a named HU range.

    Raises
    ------
    InputError
        For an unknown name (the message lists the known ones).
    """
    key = name.lower().replace(" ", "_").replace("-", "_")
    if key not in HU_RANGES:
        raise InputError(f"unknown threshold preset {name!r}; known: {', '.join(HU_RANGES)}")
    return HU_RANGES[key]


def threshold(volume: Volume, low: float, high: float, progress: Progress | None = None) -> Mask:
    """Voxels with ``low <= value <= high``.

    Parameters
    ----------
    volume : Volume
        Image (HU for CT).
    low, high : float
        Inclusive bounds in the volume's units; ``low > high`` is an input error.

    Returns
    -------
    ndarray of bool, (ni, nj, nk)
    """
    if not np.isfinite(low) or not np.isfinite(high):
        raise InputError("threshold bounds must be finite numbers")
    if low > high:
        raise InputError(f"threshold low ({low}) is above high ({high})")
    p = ensure_progress(progress)
    p.update(0.0, "threshold")
    a = volume.array
    out = (a >= low) & (a <= high)
    p.update(1.0, "threshold")
    return np.asarray(out)


def threshold_preset(volume: Volume, name: str, progress: Progress | None = None) -> Mask:
    """Threshold with a named HU range (see :data:`HU_RANGES`)."""
    r = hu_range(name)
    return threshold(volume, r.low_hu, r.high_hu, progress)


def otsu_threshold(volume: Volume, mask: Mask | None = None, bins: int = 256) -> float:
    """Otsu's threshold of the voxel values (inside ``mask`` when given)."""
    a = np.asarray(volume.array if mask is None else volume.array[mask], dtype=np.float64).ravel()
    if a.size == 0:
        raise InputError("cannot compute a threshold of an empty region")
    hist, edges = np.histogram(a, bins=bins)
    centers = 0.5 * (edges[1:] + edges[:-1])
    w0 = np.cumsum(hist)
    w1 = w0[-1] - w0
    m0 = np.cumsum(hist * centers)
    mu0 = np.divide(m0, w0, out=np.zeros_like(m0, dtype=float), where=w0 > 0)
    mu1 = np.divide(m0[-1] - m0, w1, out=np.zeros_like(m0, dtype=float), where=w1 > 0)
    between = w0 * w1 * (mu0 - mu1) ** 2
    return float(centers[int(np.argmax(between))])
