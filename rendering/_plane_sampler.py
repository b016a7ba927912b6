"""Numba kernels sampling a voxel array on a regular grid of a plane (index space; LPS handled by the caller).

The caller maps the plane's pixel grid to continuous voxel indices: pixel
``(r, c)`` is at index ``ijk0 + r * d_row + c * d_col`` (an affine map, because
``ImageGeometry.lps_to_index`` is affine). Each row first clips its column range
to the image box analytically, so pixels outside the volume cost nothing; pixels
are visited in tiles (cache reuse across image slices).

* linear: trilinear on ``[0, n - 1]`` per axis (exact for fields linear in
  the index; outside -> ``fill``);
* nearest: the voxel whose extent ``[i - 0.5, i + 0.5)`` holds the point
  (outside -> ``fill``), as a label map is drawn.

About 4-8x faster than ``scipy.ndimage.map_coordinates`` on the same points,
single-threaded and without building a coordinate array.
"""

from __future__ import annotations

import math

import numba
import numpy as np
from numpy.typing import NDArray


@numba.njit(cache=True, nogil=True)
def _column_range(b: np.ndarray, s: np.ndarray, lo: np.ndarray, hi: np.ndarray, ncols: int) -> tuple[int, int]:
    """Columns ``c`` (inclusive range) with ``lo <= b + c * s <= hi`` on every axis; empty when c0 > c1."""
    t_lo = 0.0
    t_hi = ncols - 1.0
    for a in range(3):
        if abs(s[a]) < 1e-12:
            if b[a] < lo[a] or b[a] > hi[a]:
                return 1, 0
        else:
            t0 = (lo[a] - b[a]) / s[a]
            t1 = (hi[a] - b[a]) / s[a]
            if t0 > t1:
                t0, t1 = t1, t0
            t_lo = max(t_lo, t0)
            t_hi = min(t_hi, t1)
    if t_hi < t_lo:
        return 1, 0
    # widen by one column: the per-pixel test below is exact
    return max(0, int(math.ceil(t_lo)) - 1), min(ncols - 1, int(math.floor(t_hi)) + 1)


TILE = 32
"""Pixels are visited in TILE x TILE blocks: neighbouring pixels touch neighbouring voxels, so an oblique plane
(which crosses image slices every few pixels) reuses cached voxels; about 1.5-2x faster than row order."""


@numba.njit(cache=True, nogil=True)
def _row_ranges(ijk0, d_row, d_col, lo, hi, nrows, ncols):  # noqa: ANN001, ANN202 - numba kernel
    """Per output row, the inclusive column range that may lie inside ``[lo, hi]`` (empty when start > end)."""
    start = np.empty(nrows, np.int64)
    end = np.empty(nrows, np.int64)
    base = np.empty(3)
    for r in range(nrows):
        for a in range(3):
            base[a] = ijk0[a] + r * d_row[a]
        start[r], end[r] = _column_range(base, d_col, lo, hi, ncols)
    return start, end


@numba.njit(cache=True, nogil=True)
def _sample_linear(arr, ijk0, d_row, d_col, out, fill):  # noqa: ANN001, ANN202 - numba kernel
    ni, nj, nk = arr.shape
    nrows, ncols = out.shape
    hi = np.array([ni - 1.0, nj - 1.0, nk - 1.0])
    eps = 1e-6
    start, end = _row_ranges(ijk0, d_row, d_col, np.zeros(3) - eps, hi + eps, nrows, ncols)
    out[:, :] = fill
    for r0 in range(0, nrows, TILE):
        for c0 in range(0, ncols, TILE):
            for r in range(r0, min(r0 + TILE, nrows)):
                bx = ijk0[0] + r * d_row[0]
                by = ijk0[1] + r * d_row[1]
                bz = ijk0[2] + r * d_row[2]
                for c in range(max(c0, start[r]), min(c0 + TILE - 1, end[r]) + 1):
                    x = bx + c * d_col[0]
                    y = by + c * d_col[1]
                    z = bz + c * d_col[2]
                    if x < -eps or y < -eps or z < -eps or x > hi[0] + eps or y > hi[1] + eps or z > hi[2] + eps:
                        continue
                    x = min(max(x, 0.0), hi[0])
                    y = min(max(y, 0.0), hi[1])
                    z = min(max(z, 0.0), hi[2])
                    i0 = min(int(x), max(ni - 2, 0))
                    j0 = min(int(y), max(nj - 2, 0))
                    k0 = min(int(z), max(nk - 2, 0))
                    i1 = min(i0 + 1, ni - 1)
                    j1 = min(j0 + 1, nj - 1)
                    k1 = min(k0 + 1, nk - 1)
                    fx = x - i0
                    fy = y - j0
                    fz = z - k0
                    c00 = arr[i0, j0, k0] * (1.0 - fx) + arr[i1, j0, k0] * fx
                    c10 = arr[i0, j1, k0] * (1.0 - fx) + arr[i1, j1, k0] * fx
                    c01 = arr[i0, j0, k1] * (1.0 - fx) + arr[i1, j0, k1] * fx
                    c11 = arr[i0, j1, k1] * (1.0 - fx) + arr[i1, j1, k1] * fx
                    out[r, c] = (c00 * (1.0 - fy) + c10 * fy) * (1.0 - fz) + (c01 * (1.0 - fy) + c11 * fy) * fz


@numba.njit(cache=True, nogil=True)
def _sample_linear_flat(flat, strides, shape, ijk0, d_row, d_col, out, fill):  # noqa: ANN001, ANN202 - kernel
    """:func:`_sample_linear` on a contiguous array seen as 1-D with element ``strides`` (~30% faster)."""
    ni, nj, nk = shape[0], shape[1], shape[2]
    nrows, ncols = out.shape
    hi = np.array([ni - 1.0, nj - 1.0, nk - 1.0])
    eps = 1e-6
    start, end = _row_ranges(ijk0, d_row, d_col, np.zeros(3) - eps, hi + eps, nrows, ncols)
    si, sj, sk = strides[0], strides[1], strides[2]  # scalars: array reads in the loop defeat optimisation
    h0, h1, h2 = hi[0], hi[1], hi[2]
    ox, oy, oz = ijk0[0], ijk0[1], ijk0[2]
    rx, ry, rz = d_row[0], d_row[1], d_row[2]
    cx, cy, cz = d_col[0], d_col[1], d_col[2]
    di = si if ni > 1 else 0
    dj = sj if nj > 1 else 0
    dk = sk if nk > 1 else 0
    out[:, :] = fill
    for r0 in range(0, nrows, TILE):
        for c0 in range(0, ncols, TILE):
            for r in range(r0, min(r0 + TILE, nrows)):
                bx = ox + r * rx
                by = oy + r * ry
                bz = oz + r * rz
                for c in range(max(c0, start[r]), min(c0 + TILE - 1, end[r]) + 1):
                    x = bx + c * cx
                    y = by + c * cy
                    z = bz + c * cz
                    if x < -eps or y < -eps or z < -eps or x > h0 + eps or y > h1 + eps or z > h2 + eps:
                        continue
                    x = min(max(x, 0.0), h0)
                    y = min(max(y, 0.0), h1)
                    z = min(max(z, 0.0), h2)
                    i0 = min(int(x), max(ni - 2, 0))
                    j0 = min(int(y), max(nj - 2, 0))
                    k0 = min(int(z), max(nk - 2, 0))
                    fx = x - i0
                    fy = y - j0
                    fz = z - k0
                    q = i0 * si + j0 * sj + k0 * sk
                    c00 = flat[q] * (1.0 - fx) + flat[q + di] * fx
                    c10 = flat[q + dj] * (1.0 - fx) + flat[q + dj + di] * fx
                    c01 = flat[q + dk] * (1.0 - fx) + flat[q + dk + di] * fx
                    c11 = flat[q + dk + dj] * (1.0 - fx) + flat[q + dk + dj + di] * fx
                    out[r, c] = (c00 * (1.0 - fy) + c10 * fy) * (1.0 - fz) + (c01 * (1.0 - fy) + c11 * fy) * fz


@numba.njit(cache=True, nogil=True)
def _sample_nearest(arr, ijk0, d_row, d_col, out, fill):  # noqa: ANN001, ANN202 - numba kernel
    ni, nj, nk = arr.shape
    nrows, ncols = out.shape
    lo = np.array([-0.5, -0.5, -0.5])
    hi = np.array([ni - 0.5, nj - 0.5, nk - 0.5])
    start, end = _row_ranges(ijk0, d_row, d_col, lo, hi, nrows, ncols)
    out[:, :] = fill
    for r0 in range(0, nrows, TILE):
        for c0 in range(0, ncols, TILE):
            for r in range(r0, min(r0 + TILE, nrows)):
                bx = ijk0[0] + r * d_row[0]
                by = ijk0[1] + r * d_row[1]
                bz = ijk0[2] + r * d_row[2]
                for c in range(max(c0, start[r]), min(c0 + TILE - 1, end[r]) + 1):
                    i = int(math.floor(bx + c * d_col[0] + 0.5))
                    j = int(math.floor(by + c * d_col[1] + 0.5))
                    k = int(math.floor(bz + c * d_col[2] + 0.5))
                    if 0 <= i < ni and 0 <= j < nj and 0 <= k < nk:
                        out[r, c] = arr[i, j, k]


def sample_plane_grid(
    array: NDArray,
    ijk0: NDArray[np.float64],
    d_row: NDArray[np.float64],
    d_col: NDArray[np.float64],
    shape: tuple[int, int],
    order: int,
    fill: float,
) -> NDArray:
    """Sample ``array[i, j, k]`` at indices ``ijk0 + r * d_row + c * d_col`` for a ``shape = (rows, cols)`` grid.

    Parameters
    ----------
    array : ndarray (ni, nj, nk)
        Any numeric or bool dtype, any memory layout.
    ijk0, d_row, d_col : ndarray (3,)
        Continuous voxel index of pixel ``(0, 0)`` and the index steps per row / column.
    order : int
        0 nearest (result keeps ``array.dtype``), 1 trilinear (result float32).
    fill : float
        Value outside the volume (cast to the output dtype).
    """
    if array.ndim != 3:
        raise ValueError(f"expected a 3-D array, got shape {array.shape}")
    ijk0 = np.ascontiguousarray(ijk0, dtype=np.float64)
    d_row = np.ascontiguousarray(d_row, dtype=np.float64)
    d_col = np.ascontiguousarray(d_col, dtype=np.float64)
    rows, cols = int(shape[0]), int(shape[1])
    src = array.view(np.uint8) if array.dtype == np.bool_ else array
    if order == 0:
        out = np.empty((rows, cols), dtype=src.dtype)
        _sample_nearest(src, ijk0, d_row, d_col, out, out.dtype.type(fill))
        return out.view(np.bool_) if array.dtype == np.bool_ else out
    if order != 1:
        raise ValueError(f"order must be 0 (nearest) or 1 (linear), got {order}")
    out = np.empty((rows, cols), dtype=np.float32)
    if src.flags.f_contiguous or src.flags.c_contiguous:  # one flat view, no copy
        flat = src.reshape(-1, order="F" if src.flags.f_contiguous else "C")
        strides = np.array(src.strides, dtype=np.int64) // src.itemsize
        _sample_linear_flat(flat, strides, np.array(src.shape, np.int64), ijk0, d_row, d_col, out, np.float32(fill))
    else:
        _sample_linear(src, ijk0, d_row, d_col, out, np.float32(fill))
    return out
