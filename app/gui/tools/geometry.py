"""Qt-free geometry of the slice tools: brush dabs, lasso polygons (frame LPS, mm; arrays ``[i, j, k]``).

A brush dab is a ball of ``radius_mm`` around an LPS point (``sphere``), or its
intersection with the slab of one voxel thickness around the viewed plane
(``disc``). The scissors erase (or fill) the voxels whose projection on the
viewed plane falls inside a polygon, i.e. the polygon extruded along the view
normal through the whole volume. Everything is computed on bounding boxes only.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from twin.geometry import ImageGeometry

Box = tuple[slice, slice, slice]


def _box_of_points(points_lps: NDArray[np.float64], geometry: ImageGeometry, pad_vox: int = 1) -> Box | None:
    """Index bounding box (clipped to the grid) of LPS points; None when it misses the grid."""
    ijk = geometry.lps_to_index(np.asarray(points_lps, float).reshape(-1, 3))
    lo = np.floor(ijk.min(axis=0)).astype(int) - pad_vox
    hi = np.ceil(ijk.max(axis=0)).astype(int) + pad_vox + 1
    lo = np.maximum(lo, 0)
    hi = np.minimum(hi, np.asarray(geometry.shape))
    if np.any(hi <= lo):
        return None
    return slice(int(lo[0]), int(hi[0])), slice(int(lo[1]), int(hi[1])), slice(int(lo[2]), int(hi[2]))


def box_centres_lps(geometry: ImageGeometry, box: Box) -> NDArray[np.float64]:
    """LPS mm of the voxel centres of ``box``, shape ``(ni, nj, nk, 3)``."""
    axes = [np.arange(s.start, s.stop, dtype=float) for s in box]
    grid = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1)
    m = geometry.ijk_to_lps
    return grid @ m[:3, :3].T + m[:3, 3]


def dab(geometry: ImageGeometry, center_lps: ArrayLike, radius_mm: float, shape: str = "sphere",
        normal: ArrayLike | None = None) -> tuple[Box, NDArray[np.bool_]] | None:
    """Voxels of one brush dab: ``(box, mask_in_box)`` or None when outside the image.

    Parameters
    ----------
    center_lps : (3,)
        Dab centre, mm.
    radius_mm : float
        Brush radius; at least the voxel under the centre is always painted.
    shape : {"sphere", "disc"}
        ``disc`` keeps only voxels within half a voxel (along ``normal``) of the plane through the centre.
    normal : (3,), optional
        Unit normal of the viewed plane (needed for ``disc``).
    """
    c = np.asarray(center_lps, float).reshape(3)
    r = max(float(radius_mm), 0.0)
    corners = c + np.array([[sx, sy, sz] for sx in (-r, r) for sy in (-r, r) for sz in (-r, r)])
    box = _box_of_points(corners, geometry)
    if box is None:
        return None
    pts = box_centres_lps(geometry, box)
    d = pts - c
    inside = np.einsum("...i,...i->...", d, d) <= r * r + 1e-9
    if shape == "disc":
        n = np.asarray(normal if normal is not None else (0, 0, 1), float)
        n = n / np.linalg.norm(n)
        # half thickness: the voxel extent along the normal
        half = 0.5 * float(np.abs(geometry.direction.T @ n) @ geometry.spacing) + 1e-6
        inside &= np.abs(d @ n) <= half
    elif shape != "sphere":
        raise ValueError(f"unknown brush shape {shape!r} (sphere or disc)")
    centre_ijk = np.rint(geometry.lps_to_index(c[None])[0]).astype(int)
    if geometry.contains_index(centre_ijk[None])[0]:
        local = centre_ijk - np.array([s.start for s in box])
        if np.all(local >= 0) and np.all(local < inside.shape):
            inside[tuple(local)] = True
    if not inside.any():
        return None
    return box, inside


def stroke_points(a_lps: ArrayLike, b_lps: ArrayLike, radius_mm: float, min_step_mm: float) -> NDArray[np.float64]:
    """Dab centres from ``a`` (excluded) to ``b`` (included) spaced at most half a radius apart."""
    a = np.asarray(a_lps, float)
    b = np.asarray(b_lps, float)
    dist = float(np.linalg.norm(b - a))
    step = max(0.5 * radius_mm, min_step_mm, 1e-6)
    n = max(1, int(np.ceil(dist / step)))
    t = np.arange(1, n + 1)[:, None] / n
    return a + t * (b - a)


def points_in_polygon(uv: NDArray[np.float64], polygon_uv: NDArray[np.float64]) -> NDArray[np.bool_]:
    """Even-odd test of points ``(..., 2)`` against a closed polygon ``(m, 2)`` (same plane coordinates)."""
    poly = np.asarray(polygon_uv, float).reshape(-1, 2)
    x = uv[..., 0]
    y = uv[..., 1]
    inside = np.zeros(x.shape, bool)
    j = len(poly) - 1
    for i in range(len(poly)):
        xi, yi = poly[i]
        xj, yj = poly[j]
        if yi != yj:
            crosses = (yi > y) != (yj > y)
            x_at = (xj - xi) * (y - yi) / (yj - yi) + xi
            inside ^= crosses & (x < x_at)
        j = i
    return inside


def prism_mask(geometry: ImageGeometry, polygon_uv: ArrayLike, col_dir: ArrayLike, row_dir: ArrayLike,
               restrict: NDArray[np.bool_] | None = None, chunk_voxels: int = 4_000_000) -> NDArray[np.bool_]:
    """Voxels whose centre projects inside a polygon drawn on a plane (the polygon extruded along the normal).

    Parameters
    ----------
    polygon_uv : (m, 2)
        Polygon in plane coordinates (mm along ``col_dir`` and ``row_dir``).
    col_dir, row_dir : (3,)
        Unit LPS vectors spanning the plane.
    restrict : ndarray of bool, optional
        Only voxels inside this mask's bounding box are tested (e.g. the segment to cut).

    Returns
    -------
    ndarray of bool, (ni, nj, nk)
    """
    poly = np.asarray(polygon_uv, float).reshape(-1, 2)
    out = np.zeros(geometry.shape, bool)
    if len(poly) < 3:
        return out
    col = np.asarray(col_dir, float)
    row = np.asarray(row_dir, float)
    if restrict is not None:
        from twin.labelmap import mask_bbox

        box = mask_bbox(restrict)
        if box is None:
            return out
    else:
        box = (slice(0, geometry.shape[0]), slice(0, geometry.shape[1]), slice(0, geometry.shape[2]))
    m = geometry.ijk_to_lps
    # project the index axes once: uv(i, j, k) = uv0 + i*a + j*b + k*c
    a_uv = np.array([[m[:3, ax] @ col, m[:3, ax] @ row] for ax in range(3)])
    o_uv = np.array([m[:3, 3] @ col, m[:3, 3] @ row])
    umin, vmin = poly.min(axis=0)
    umax, vmax = poly.max(axis=0)
    ii = np.arange(box[0].start, box[0].stop)
    jj = np.arange(box[1].start, box[1].stop)
    kk = np.arange(box[2].start, box[2].stop)
    per_i = max(1, chunk_voxels // max(1, len(jj) * len(kk)))
    for start in range(0, len(ii), per_i):
        i_chunk = ii[start:start + per_i]
        uv = (o_uv + i_chunk[:, None, None, None] * a_uv[0] + jj[None, :, None, None] * a_uv[1]
              + kk[None, None, :, None] * a_uv[2])
        near = (uv[..., 0] >= umin) & (uv[..., 0] <= umax) & (uv[..., 1] >= vmin) & (uv[..., 1] <= vmax)
        if not near.any():
            continue
        hit = np.zeros(near.shape, bool)
        hit[near] = points_in_polygon(uv[near], poly)
        out[i_chunk[0]:i_chunk[-1] + 1, box[1], box[2]] = hit
    if restrict is not None:
        out &= restrict
    return out
