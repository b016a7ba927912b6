"""A fast CT-like cylinder (int16 HU) for benchmarks and memory tests of the segmentation presets.

Not anatomy (see :func:`twin.phantom.make_abdomen_phantom` for that): a body ellipse (40 HU) with a
fat rim, two lungs, a spine-like rod (700 HU) with marrow, a table, noise; optionally a portal-venous
phase (enhanced aorta 190 HU beside the rod, kidneys with a 200 HU cortex round a 150 HU medulla,
far enough from the rod that ``segmentation.presets.contrast_enhanced`` is true) and ribs round the
body. Frame LPS, mm; spacing 0.8 x 0.8 x 1.0 mm; array in SimpleITK memory order (i fastest).
"""

from __future__ import annotations

import numpy as np

from twin.geometry import ImageGeometry
from twin.volume import Volume


def ct_like(shape: tuple[int, int, int], contrast: bool = False, noise_per_voxel: bool = True) -> Volume:
    """The CT-like cylinder of ``shape`` ``(ni, nj, nk)`` voxels.

    Parameters
    ----------
    shape : tuple of int
        Grid size.
    contrast : bool
        Add the portal-venous structures and ribs (12 of every 30 slices).
    noise_per_voxel : bool
        Gaussian noise (sd 15 HU) per voxel; False: one noise image repeated along k (cheap for
        huge benchmark volumes).
    """
    ni, nj, nk = shape
    i = np.arange(ni)[:, None] - ni / 2
    j = np.arange(nj)[None, :] - nj / 2
    body = (i / (0.42 * ni)) ** 2 + (j / (0.32 * nj)) ** 2 <= 1
    sl = np.full((ni, nj), -1000, np.int16)
    sl[body] = 40
    sl[body & ((i / (0.40 * ni)) ** 2 + (j / (0.30 * nj)) ** 2 > 1)] = -100
    sl[body & (((np.abs(i) - 0.18 * ni) / (0.12 * ni)) ** 2 + ((j + 0.05 * nj) / (0.15 * nj)) ** 2 <= 1)] = -850
    sl[(i / (0.04 * ni)) ** 2 + ((j - 0.2 * nj) / (0.04 * nj)) ** 2 <= 1] = 700
    sl[(i / (0.025 * ni)) ** 2 + ((j - 0.2 * nj) / (0.025 * nj)) ** 2 <= 1] = 150
    if contrast:
        sl[np.sqrt((i * 0.8) ** 2 + ((j - 0.2 * nj) * 0.8 + 45.0) ** 2) <= 13.0] = 190  # aorta
        for side in (-1, 1):
            kid = ((i - side * 0.17 * ni) / (0.06 * ni)) ** 2 + ((j - 0.15 * nj) / (0.09 * nj)) ** 2
            sl[kid <= 1] = 200
            sl[kid <= 0.45] = 150
    sl[:, int(0.86 * nj):int(0.88 * nj)] = 300  # table
    arr = np.repeat(sl[:, :, None], nk, axis=2)
    if contrast:  # ribs: an elliptic band of 600 HU cortex round 250 HU marrow, 12 of every 30 slices
        ell = (i / (0.36 * ni)) ** 2 + (j / (0.26 * nj)) ** 2
        rib = (ell >= 0.9) & (ell <= 1.0) & (j < 0.12 * nj)
        rib_sl = sl.copy()
        rib_sl[rib] = 600
        rib_sl[rib & (ell >= 0.93) & (ell <= 0.97)] = 250
        for k0 in range(0, nk, 30):
            arr[:, :, k0:k0 + 12] = rib_sl[:, :, None]
    rng = np.random.default_rng(0)
    arr += rng.normal(0, 15, (ni, nj, nk) if noise_per_voxel else (ni, nj, 1)).astype(np.int16)
    g = ImageGeometry(shape, (0.8, 0.8, 1.0), (-100.0, -100.0, 0.0))
    return Volume(np.asfortranarray(arr), g, modality="CT", units="HU")
