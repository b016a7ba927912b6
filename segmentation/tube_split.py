"""Split a large tubular vessel from the branches that join it (e.g. the IVC and the hepatic veins); frame LPS, mm.

Arrays are ``[i, j, k]`` on the volume's grid. Where a branch drains into a large vessel, the two masks
touch and their boundary (a 15-30 HU step between the hepatic veins and the IVC, less than the noise)
is where region growing places it at random. The large vessel is a smooth tube whose cross-section,
on slices across it, is an ellipse; the branches are what sticks out of that ellipse. So, slice by slice
(perpendicular to ``axis``, the axial slices for the IVC or aorta):

1. the boundary of the large vessel where it touches neither branch nor image border is sampled: with the
   CT, where the image crosses half-way between the vessel's level and that of its surroundings along each
   edge voxel's outward axis (the half-maximum boundary, sub-voxel); without it, as the mid-points between
   its edge voxels and their outside neighbours;
2. an ellipse is fitted to those points by RANSAC (Fischler & Bolles 1981, MSAC scoring of Torr &
   Zisserman 2000, consensus within ``residual_mm``) around the direct least-squares ellipse fit
   (Fitzgibbon, Pilu & Fisher 1999, in the numerically stable form of Halir & Flusser 1998), so that the
   parts of the vessel's outline that are really a swallowed branch (outliers) do not bias it;
3. every voxel of the vessel + branches blob in that slice goes to the vessel when its centre is inside the
   ellipse and to the branches otherwise (vessel voxels within ``keep_band_mm`` outside it stay vessel);
   vessel voxels cut off this way become branch only where they join a branch in 3-D.

Slices are refitted where a branch comes within ``z_reach`` slices of the vessel.

A slice is left unchanged when the fit is not trustworthy: fewer than ``min_inlier_fraction`` of the
points agree, the ellipse misses the vessel's deepest point, or its area differs from the vessel's
cross-section by more than a factor ``max_area_ratio``.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import ndimage as ndi

from segmentation._common import Mask, check_mask
from twin.errors import InputError
from twin.geometry import ImageGeometry
from twin.volume import Volume


def fit_ellipse(points: NDArray[np.float64]) -> NDArray[np.float64] | None:
    """Direct least-squares ellipse (Fitzgibbon 1999 / Halir & Flusser 1998) through 2-D points.

    Parameters
    ----------
    points : (n, 2) float, n >= 5
        Points in mm (any 2-D frame).

    Returns
    -------
    (6,) float or None
        Conic coefficients ``(a, b, c, d, e, f)`` of ``a x^2 + b x y + c y^2 + d x + e y + f = 0``,
        an ellipse (``b^2 < 4 a c``); None when the points admit none (degenerate).
    """
    p = np.asarray(points, float)
    if len(p) < 5:
        return None
    mean = p.mean(axis=0)
    scale = float(np.abs(p - mean).max()) or 1.0
    x, y = ((p - mean) / scale).T  # centred and scaled: conditioning
    d1 = np.c_[x * x, x * y, y * y]
    d2 = np.c_[x, y, np.ones_like(x)]
    s1, s2, s3 = d1.T @ d1, d1.T @ d2, d2.T @ d2
    try:
        t = -np.linalg.solve(s3, s2.T)
    except np.linalg.LinAlgError:
        return None
    m = s1 + s2 @ t
    m = np.array([m[2] / 2.0, -m[1], m[0] / 2.0])  # C1^-1 M for the constraint 4ac - b^2 = 1
    if not np.all(np.isfinite(m)):
        return None
    _, vec = np.linalg.eig(m)
    vec = np.real(vec)
    ok = np.nonzero(4.0 * vec[0] * vec[2] - vec[1] ** 2 > 0)[0]
    if len(ok) == 0:
        return None
    a1 = vec[:, ok[0]]
    a, b, c, d, e, f = np.r_[a1, t @ a1]
    # back to the original frame: substitute x -> (x - mx) / s, y -> (y - my) / s
    mx, my, s = mean[0], mean[1], scale
    a2, b2, c2 = a / s**2, b / s**2, c / s**2
    d2_ = d / s - 2 * a2 * mx - b2 * my
    e2 = e / s - 2 * c2 * my - b2 * mx
    f2 = f + a2 * mx * mx + b2 * mx * my + c2 * my * my - d / s * mx - e / s * my
    coef = np.array([a2, b2, c2, d2_, e2, f2])
    return coef / (np.linalg.norm(coef) or 1.0)


def _conic(coef: NDArray[np.float64], p: NDArray[np.float64]) -> NDArray[np.float64]:
    a, b, c, d, e, f = coef
    x, y = p[:, 0], p[:, 1]
    return a * x * x + b * x * y + c * y * y + d * x + e * y + f


def ellipse_distance(coef: NDArray[np.float64], points: NDArray[np.float64]) -> NDArray[np.float64]:
    """First-order (Sampson) distance (mm) of ``points (n, 2)`` from the conic ``coef``."""
    a, b, c, d, e, _ = coef
    x, y = points[:, 0], points[:, 1]
    gx = 2 * a * x + b * y + d
    gy = b * x + 2 * c * y + e
    return np.abs(_conic(coef, points)) / np.maximum(np.hypot(gx, gy), 1e-12)


def inside_ellipse(coef: NDArray[np.float64], points: NDArray[np.float64]) -> NDArray[np.bool_]:
    """Whether ``points (n, 2)`` lie inside (or on) the ellipse ``coef``."""
    return _conic(coef, points) * np.sign(coef[0] + coef[2]) <= 0


def ellipse_area(coef: NDArray[np.float64]) -> float:
    """Area (mm^2) of the ellipse ``coef``; 0 if the conic is not a real ellipse."""
    a, b, c, d, e, f = coef
    m = np.array([[a, b / 2, d / 2], [b / 2, c, e / 2], [d / 2, e / 2, f]])
    det2 = a * c - b * b / 4.0
    if det2 <= 0:
        return 0.0
    det3 = float(np.linalg.det(m))
    if det3 * (a + c) >= 0:  # imaginary ellipse
        return 0.0
    return float(np.pi * abs(det3) / det2**1.5)


def ransac_ellipse(points: NDArray[np.float64], residual_mm: float, trials: int = 300,
                   seed: int = 0) -> tuple[NDArray[np.float64] | None, NDArray[np.bool_] | None]:
    """Robust ellipse: RANSAC (Fischler & Bolles 1981) over 6-point direct fits, refitted on the consensus.

    Each candidate is scored by MSAC (Torr & Zisserman 2000: the sum of squared distances truncated at
    ``residual_mm``), which, unlike a plain inlier count, prefers the ellipse that the majority fits closely
    over a larger one that also grazes a branch's outline.

    Returns ``(coef, inliers)`` or ``(None, None)`` (too few points or no ellipse); deterministic for a ``seed``.
    """
    p = np.asarray(points, float)
    n = len(p)
    if n < 8:
        return None, None
    rng = np.random.default_rng(seed)
    best: NDArray[np.float64] | None = None
    best_in: NDArray[np.bool_] | None = None
    best_cost = np.inf
    for _ in range(trials):
        coef = fit_ellipse(p[rng.choice(n, 6, replace=False)])
        if coef is None:
            continue
        d = ellipse_distance(coef, p)
        cost = float(np.minimum(d * d, residual_mm**2).sum())  # MSAC: truncated squared distance
        if cost < best_cost:
            best, best_in, best_cost = coef, d < residual_mm, cost
    if best is None or best_in is None:
        return None, None
    for _ in range(3):  # least squares on the consensus set, then re-select it
        coef = fit_ellipse(p[best_in])
        if coef is None:
            break
        best, best_in = coef, ellipse_distance(coef, p) < residual_mm
    return best, best_in


def _edge_points(tube: NDArray[np.bool_], other: NDArray[np.bool_],
                 spacing: NDArray[np.float64]) -> NDArray[np.float64]:
    """Mid-points (mm) between the 2-D ``tube`` mask's edge pixels and 4-neighbours that are in neither mask."""
    pts = []
    for ax in (0, 1):
        lo = [slice(None)] * 2
        hi = [slice(None)] * 2
        lo[ax], hi[ax] = slice(None, -1), slice(1, None)
        a, b = tube[tuple(lo)], tube[tuple(hi)]
        oa, ob = other[tuple(lo)], other[tuple(hi)]
        idx = np.argwhere((a & ~b & ~ob) | (b & ~a & ~oa)).astype(float)
        idx[:, ax] += 0.5
        pts.append(idx)
    return np.vstack(pts) * spacing


def _half_level_points(tube: NDArray[np.bool_], other: NDArray[np.bool_], image: NDArray[np.float32],
                       spacing: NDArray[np.float64]) -> NDArray[np.float64]:
    """Sub-voxel edge points (mm) of the 2-D ``tube`` mask where the image crosses half-way between the tube's
    level and its surroundings' (the full-width-at-half-maximum boundary), searched along each edge pair's axis
    from one voxel inside to one voxel outside; the mid-point of the pair where no crossing is found."""
    core = ndi.binary_erosion(tube, np.ones((3, 3), bool))
    ring = ndi.binary_dilation(tube, np.ones((5, 5), bool)) & ~ndi.binary_dilation(tube, np.ones((3, 3), bool)) & ~other
    if not core.any() or not ring.any():
        return _edge_points(tube, other, spacing)
    half = 0.5 * (float(np.median(image[core])) + float(np.median(image[ring])))
    pts = []
    for ax in (0, 1):
        for step in (1, -1):  # inside voxel p, outside neighbour q = p + step along ax
            q_in = np.roll(tube, -step, axis=ax)
            q_other = np.roll(other, -step, axis=ax)
            p = tube & ~q_in & ~q_other
            edge = [slice(None)] * 2
            edge[ax] = slice(-1, None) if step == 1 else slice(0, 1)
            p[tuple(edge)] = False  # no neighbour across the image border
            idx = np.argwhere(p)
            if not len(idx):
                continue
            v = []  # values one voxel inside p, at p, at q, one beyond q
            for off in (-1, 0, 1, 2):
                j = idx.copy()
                j[:, ax] = np.clip(j[:, ax] + off * step, 0, tube.shape[ax] - 1)
                v.append(image[j[:, 0], j[:, 1]].astype(float))
            t = np.full(len(idx), 0.5)
            found = np.zeros(len(idx), bool)
            for s0, (a, b) in zip((0.0, -1.0, 1.0), ((v[1], v[2]), (v[0], v[1]), (v[2], v[3]))):
                hit = ~found & (a >= half) & (b < half)
                t[hit] = s0 + (a[hit] - half) / (a[hit] - b[hit])
                found |= hit
            pos = idx.astype(float)
            pos[:, ax] += step * t
            pts.append(pos)
    return np.vstack(pts) * spacing if pts else np.zeros((0, 2))


def split_tube_junction(
    tube_mask: ArrayLike,
    branch_mask: ArrayLike,
    geometry: ImageGeometry,
    image: Volume | None = None,
    *,
    axis: int = 2,
    residual_mm: float = 1.0,
    min_inlier_fraction: float = 0.5,
    max_area_ratio: float = 1.5,
    keep_band_mm: float = 0.5,
    z_reach: int = 1,
    seed: int = 0,
) -> tuple[Mask, Mask]:
    """Re-divide a large vessel and the branches joining it by the vessel's elliptic cross-section.

    Parameters
    ----------
    tube_mask : array of bool, (ni, nj, nk)
        The large vessel (e.g. the IVC), roughly along ``axis``.
    branch_mask : array of bool, (ni, nj, nk)
        The branches (e.g. the hepatic vessels).
    geometry : ImageGeometry
        Grid of both masks (the in-slice spacing makes the ellipse metric, mm).
    image : Volume, optional
        The CT on the same grid: the outline points are then placed where the image crosses half-way
        between the vessel's level and its surroundings' (sub-voxel, independent of where growing happened
        to stop); without it, half-way between the mask's edge voxels and their outside neighbours.
    axis : int
        Array axis the vessel runs along (2: axial slices).
    residual_mm : float
        RANSAC consensus distance (mm) of an outline point from the ellipse.
    min_inlier_fraction, max_area_ratio : float
        Trust tests of a slice's fit (see the module docstring).
    keep_band_mm : float
        Vessel voxels less than this (mm) outside the ellipse stay vessel.
    z_reach : int
        Slices are refitted where a branch is within this many slices of the vessel.
    seed : int
        Random stream of RANSAC (results are deterministic).

    Returns
    -------
    tube, branches : ndarray of bool, (ni, nj, nk)
        The same voxels as ``tube_mask | branch_mask``, divided again where the two touch.

    Raises
    ------
    InputError
        For an ``axis`` other than 0, 1, 2 or masks / image not on ``geometry``.
    """
    tube_in = check_mask(tube_mask, geometry, "vessel mask")
    branch_in = check_mask(branch_mask, geometry, "branch mask")
    if axis not in (0, 1, 2):
        raise InputError(f"axis must be 0, 1 or 2, not {axis}")
    tube = np.moveaxis(tube_in.copy(), axis, 2)
    branch = np.moveaxis(branch_in & ~tube_in, axis, 2)
    img = None
    if image is not None:
        if not image.geometry.is_same_grid(geometry):
            raise InputError("the image and the masks are not on the same grid")
        img = np.moveaxis(np.asarray(image.array), axis, 2)
    sp = np.delete(np.asarray(geometry.spacing, float), axis)
    # slices where the vessel touches a branch in 3-D (a branch grazing the vessel may be swallowed whole in
    # one slice and touch it only from the next)
    near = ndi.binary_dilation(branch, np.ones((3, 3, 1 + 2 * z_reach), bool))
    touching = np.nonzero((tube & near).any(axis=(0, 1)))[0]
    original = tube.copy()
    for k in touching:
        t2, b2 = tube[..., k], branch[..., k]
        blob_lab, _ = ndi.label(t2 | b2)
        blob = np.isin(blob_lab, np.unique(blob_lab[t2]))
        pts = _edge_points(t2, b2, sp) if img is None else _half_level_points(t2, b2, img[..., k], sp)
        coef, inl = ransac_ellipse(pts, residual_mm, seed=seed + int(k))
        if coef is None or inl is None or inl.mean() < min_inlier_fraction:
            continue
        dt = ndi.distance_transform_edt(t2, sampling=sp)
        deepest = np.array(np.unravel_index(int(np.argmax(dt)), dt.shape), float)[None] * sp
        area = ellipse_area(coef)
        area_t = float(t2.sum() * sp.prod())
        if not inside_ellipse(coef, deepest)[0] or not (area_t / max_area_ratio <= area <= area_t * max_area_ratio):
            continue
        ii, jj = np.nonzero(blob)
        xy = np.c_[ii, jj] * sp
        # inside -> vessel; within ``keep_band_mm`` of the outline a voxel keeps its label (the fit's own
        # sub-voxel uncertainty must not peel the vessel's rim)
        ins = inside_ellipse(coef, xy) | (t2[ii, jj] & (ellipse_distance(coef, xy) < keep_band_mm))
        t2[blob] = False
        b2[blob] = False
        t2[ii[ins], jj[ins]] = True
        b2[ii[~ins], jj[~ins]] = True
    # vessel voxels cut off by the ellipse become branch only where they join a branch (in 3-D); the rest
    # (the vessel's own partial-volume rim outside the fit) stays vessel
    moved = original & branch
    if moved.any():
        joined = ndi.binary_propagation(branch & ~moved, mask=branch, structure=np.ones((3, 3, 3), bool))
        back = moved & ~joined
        tube |= back
        branch &= ~back
    return np.moveaxis(tube, 2, axis), np.moveaxis(branch, 2, axis)
