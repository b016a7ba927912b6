"""Window/level: mapping voxel values (HU for CT) to display grey levels.

Presets are (window width, level centre) in the image's units, as used by
radiology workstations. For MR (arbitrary units) the window is chosen from
robust percentiles of the voxel values.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
from numpy.typing import NDArray


@dataclass(frozen=True)
class WindowLevel:
    """A display window: values ``level - width/2`` .. ``level + width/2`` map to black .. white."""

    width: float
    level: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "width", max(float(self.width), 1e-6))

    @property
    def low(self) -> float:
        """Value shown black."""
        return self.level - self.width / 2

    @property
    def high(self) -> float:
        """Value shown white."""
        return self.level + self.width / 2


CT_PRESETS: dict[str, WindowLevel] = {
    "soft tissue": WindowLevel(400, 40),
    "lung": WindowLevel(1500, -600),
    "bone": WindowLevel(1800, 400),
    "brain": WindowLevel(80, 40),
    "liver": WindowLevel(150, 60),
}
"""Standard CT windows (HU)."""


def auto_window(
    array: NDArray[Any], low_pct: float = 1.0, high_pct: float = 99.5, max_samples: int = 2_000_000
) -> WindowLevel:
    """Window from percentiles of the non-background voxels (MR and unknown modalities).

    Parameters
    ----------
    array : ndarray
        Voxel values (any shape).
    low_pct, high_pct : float
        Percentiles mapped to black and white.
    max_samples : int
        Voxels sampled (strided) for speed on large volumes.
    """
    flat = np.asarray(array).reshape(-1)
    if flat.size > max_samples:
        flat = flat[:: int(np.ceil(flat.size / max_samples))]
    if flat.size == 0:
        return WindowLevel(1.0, 0.0)
    lo_all = flat.min()
    fg = flat[flat > lo_all]
    if fg.size < 0.05 * flat.size:
        fg = flat
    lo, hi = np.percentile(fg.astype(np.float64), [low_pct, high_pct])
    if hi <= lo:
        hi = lo + 1.0
    return WindowLevel(float(hi - lo), float((hi + lo) / 2))


def default_window(array: NDArray[Any], modality: str) -> WindowLevel:
    """Soft-tissue window for CT, percentile window otherwise."""
    if modality.upper() == "CT":
        return CT_PRESETS["soft tissue"]
    return auto_window(array)


def presets_for(modality: str) -> dict[str, WindowLevel | None]:
    """Preset names for a modality; ``None`` means "auto from percentiles"."""
    out: dict[str, WindowLevel | None] = {}
    if modality.upper() == "CT":
        out.update(CT_PRESETS)
    out["auto"] = None
    return out


def apply_window(values: NDArray[Any], window: WindowLevel) -> NDArray[np.uint8]:
    """Map values to uint8 grey levels (linear ramp, clamped).

    Integer images of 8/16 bits use a lookup table over all possible values,
    which is several times faster than floating-point arithmetic on a slice.
    """
    v = np.asarray(values)
    if v.dtype in (np.int8, np.uint8, np.int16, np.uint16):
        lut = _lut(v.dtype.str, float(window.width), float(window.level))
        if v.dtype.kind == "u":
            return np.take(lut, v)
        # signed: value - min == (value reinterpreted as unsigned) XOR sign bit
        unsigned = v.view(np.uint8 if v.dtype.itemsize == 1 else np.uint16)
        return np.take(lut, unsigned ^ unsigned.dtype.type(1 << (8 * v.dtype.itemsize - 1)))
    f = (v.astype(np.float32) - np.float32(window.low)) * np.float32(255.0 / window.width)
    return np.clip(f + np.float32(0.5), 0, 255).astype(np.uint8)


@lru_cache(maxsize=16)
def _lut(dtype: str, width: float, level: float) -> NDArray[np.uint8]:
    """Grey level of every value of an 8/16-bit integer type (index = value - type minimum)."""
    info = np.iinfo(np.dtype(dtype))
    codes = np.arange(info.min, info.max + 1, dtype=np.float64)
    lut = np.clip((codes - (level - width / 2)) * (255.0 / width) + 0.5, 0, 255).astype(np.uint8)
    lut.setflags(write=False)
    return lut
