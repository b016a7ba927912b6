"""Manual editing masks: brush (sphere or in-slice disc) and scissors (frame LPS, mm).

These functions only compute boolean masks on the label map's grid; apply them with
:func:`segmentation.commands.apply_mask` (paint / erase one segment) or
:func:`segmentation.commands.erase_everywhere` (scissors on all segments), so that a
brush stroke or a cut is one undo step.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from segmentation._common import Mask
from twin.errors import InputError
from twin.geometry import ImageGeometry


def _stroke_samples(points_lps: NDArray[np.float64], step_mm: float) -> NDArray[np.float64]:
    """Points along the polyline, at most ``step_mm`` apart."""
    if len(points_lps) < 2:
        return points_lps
    out = [points_lps[:1]]
    for a, b in zip(points_lps[:-1], points_lps[1:]):
        n = max(int(np.ceil(np.linalg.norm(b - a) / step_mm)), 1)
        t = np.linspace(0.0, 1.0, n + 1)[1:, None]
        out.append(a + t * (b - a))
    return np.vstack(out)


def brush_mask(
    geometry: ImageGeometry,
    points_lps: ArrayLike,
    radius_mm: float,
    shape: str = "sphere",
    slice_axis: int = 2,
) -> Mask:
    """Voxels painted by a brush of ``radius_mm`` dragged through ``points_lps``.

    Parameters
    ----------
    geometry : ImageGeometry
        Grid of the label map.
    points_lps : array_like, (n, 3) or (3,)
        Brush centres in LPS mm (consecutive points are joined: a stroke).
    radius_mm : float
        Brush radius in mm (a voxel is painted when its centre is within the radius).
    shape : {"sphere", "disc"}
        ``sphere``: 3-D ball; ``disc``: only in the slice (normal to voxel axis ``slice_axis``)
        containing each centre, as painting on a 2-D view.
    slice_axis : int
        0, 1 or 2 (i, j, k) for ``disc``.

    Returns
    -------
    ndarray of bool, (ni, nj, nk)
        May be empty if the stroke lies outside the image.
    """
    if radius_mm <= 0:
        raise InputError("brush radius must be positive")
    if shape not in ("sphere", "disc"):
        raise InputError(f"unknown brush shape {shape!r} (sphere or disc)")
    if slice_axis not in (0, 1, 2):
        raise InputError("slice_axis must be 0, 1 or 2")
    pts = np.asarray(points_lps, dtype=float).reshape(-1, 3)
    out = np.zeros(geometry.shape, bool)
    if len(pts) == 0:
        return out
    sp = geometry.spacing
    samples = _stroke_samples(pts, max(0.5 * float(sp.min()), 0.25 * radius_mm))
    centres = geometry.lps_to_index(samples)
    r_vox = np.ceil(radius_mm / sp).astype(int)
    if shape == "disc":
        r_vox[slice_axis] = 0
    lin = geometry.direction * sp[None, :]
    shape_arr = np.array(geometry.shape)
    for c in centres:
        if shape == "disc":
            c = c.copy()
            c[slice_axis] = np.rint(c[slice_axis])
        lo = np.maximum(np.floor(c).astype(int) - r_vox, 0)
        hi = np.minimum(np.ceil(c).astype(int) + r_vox + 1, shape_arr)
        if np.any(hi <= lo):
            continue
        grid = np.stack(np.meshgrid(*[np.arange(a, b) for a, b in zip(lo, hi)], indexing="ij"), -1)
        d_mm = (grid - c) @ lin.T
        inside = np.einsum("...i,...i->...", d_mm, d_mm) <= radius_mm * radius_mm + 1e-9
        out[lo[0]:hi[0], lo[1]:hi[1], lo[2]:hi[2]] |= inside
    return out


def scissors_mask(
    geometry: ImageGeometry,
    polygon_lps: ArrayLike,
    direction_lps: ArrayLike,
    inside: bool = True,
    depth_mm: float | None = None,
) -> Mask:
    """Voxels inside (or outside) a polygon extruded along a view direction.

    Parameters
    ----------
    polygon_lps : array_like, (n >= 3, 3)
        Polygon vertices in LPS mm, as drawn on a view (need not be exactly planar).
    direction_lps : array_like, (3,)
        Viewing direction (extrusion axis) in LPS; normalised here.
    inside : bool
        True: the voxels inside the extruded polygon; False: those outside it.
    depth_mm : float, optional
        Limit the extrusion to a slab of ``depth_mm`` total thickness centred on the
        polygon's mean plane (default: through the whole image).

    Returns
    -------
    ndarray of bool, (ni, nj, nk)
    """
    from skimage.measure import points_in_poly

    poly = np.asarray(polygon_lps, dtype=float).reshape(-1, 3)
    if len(poly) < 3:
        raise InputError("scissors need a polygon of at least 3 points")
    d = np.asarray(direction_lps, dtype=float).reshape(3)
    norm = np.linalg.norm(d)
    if not np.isfinite(norm) or norm == 0:
        raise InputError("scissors direction must be a non-zero vector")
    d = d / norm
    helper = np.eye(3)[int(np.argmin(np.abs(d)))]
    u = np.cross(d, helper)
    u /= np.linalg.norm(u)
    v = np.cross(d, u)
    poly2 = np.stack([poly @ u, poly @ v], -1)
    centre_depth = float(np.mean(poly @ d))
    lo2, hi2 = poly2.min(0), poly2.max(0)
    out = np.zeros(geometry.shape, bool)
    m = geometry.ijk_to_lps
    ni, nj, nk = geometry.shape
    ii, jj = np.meshgrid(np.arange(ni), np.arange(nj), indexing="ij")
    base = np.stack([ii.ravel(), jj.ravel(), np.zeros(ii.size)], -1) @ m[:3, :3].T + m[:3, 3]
    step_k = m[:3, 2]
    for k in range(nk):
        pts = base + k * step_k
        a = pts @ u
        b = pts @ v
        cand = (a >= lo2[0]) & (a <= hi2[0]) & (b >= lo2[1]) & (b <= hi2[1])
        if depth_mm is not None:
            cand &= np.abs(pts @ d - centre_depth) <= 0.5 * depth_mm
        if not cand.any():
            continue
        sel = np.zeros(ii.size, bool)
        sel[cand] = points_in_poly(np.stack([a[cand], b[cand]], -1), poly2)
        out[:, :, k] = sel.reshape(ni, nj)
    return out if inside else ~out
