"""Shared synthetic geometry for planning tests (frame LPS, mm)."""

from __future__ import annotations

import numpy as np

from twin.geometry import ImageGeometry
from twin.labelmap import LabelMap


def grid(lo_mm: float, hi_mm: float, h: float | tuple[float, float, float]) -> ImageGeometry:
    """Axis-aligned grid whose voxel cubes tile [lo, hi]^3 exactly."""
    hs = np.broadcast_to(np.asarray(h, dtype=float), (3,))
    n = np.round((hi_mm - lo_mm) / hs).astype(int)
    return ImageGeometry(tuple(int(x) for x in n), hs, lo_mm + hs / 2.0, np.eye(3))


def centres(geom: ImageGeometry) -> np.ndarray:
    """LPS centres of all voxels, (ni, nj, nk, 3)."""
    idx = np.stack(np.meshgrid(*[np.arange(s) for s in geom.shape], indexing="ij"), axis=-1).reshape(-1, 3)
    return geom.index_to_lps(idx).reshape(*geom.shape, 3)


def sphere_mask(geom: ImageGeometry, centre, radius: float) -> np.ndarray:
    c = centres(geom)
    return np.linalg.norm(c - np.asarray(centre, float), axis=-1) <= radius


def labelmap(geom: ImageGeometry, masks: dict[str, np.ndarray]) -> LabelMap:
    arr = np.zeros(geom.shape, np.uint8)
    names = {}
    for v, (name, m) in enumerate(masks.items(), start=1):
        arr[m] = v
        names[v] = name
    return LabelMap.from_array(arr, geom, names=names)
