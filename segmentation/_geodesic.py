"""Competitive geodesic growing kernel (numba): every seed label floods the image along
minimal-cost paths; each voxel takes the label whose path reached it first (a Dijkstra
"grow-cut" as in 3D Slicer's Grow from seeds, with per-label intensity windows).

Arrays are ``[i, j, k]`` C-contiguous; costs are per voxel and multiplied by the step
length in mm so anisotropic grids are handled.
"""

from __future__ import annotations

import numba
import numpy as np
from numpy.typing import ArrayLike, NDArray


@numba.njit(cache=True, nogil=True)
def _push(hk, hv, n, key, val):  # type: ignore[no-untyped-def]
    i = n
    hk[i] = key
    hv[i] = val
    while i > 0:
        p = (i - 1) >> 1
        if hk[p] <= hk[i]:
            break
        hk[p], hk[i] = hk[i], hk[p]
        hv[p], hv[i] = hv[i], hv[p]
        i = p
    return n + 1


@numba.njit(cache=True, nogil=True)
def _pop(hk, hv, n):  # type: ignore[no-untyped-def]
    key = hk[0]
    val = hv[0]
    n -= 1
    hk[0] = hk[n]
    hv[0] = hv[n]
    i = 0
    while True:
        left = 2 * i + 1
        right = left + 1
        s = i
        if left < n and hk[left] < hk[s]:
            s = left
        if right < n and hk[right] < hk[s]:
            s = right
        if s == i:
            break
        hk[s], hk[i] = hk[i], hk[s]
        hv[s], hv[i] = hv[i], hv[s]
        i = s
    return key, val, n


@numba.njit(cache=True, nogil=True)
def competitive_grow(cost, value, seeds, low, high, mean, inv_sd, extra, dead_zone, step_mm, max_cost, minimax,
                     length_weight, region, iso_w, step_w, edge_value, inv_step_ref, noise, base):  # type: ignore[no-untyped-def]
    """Dijkstra from all seeds at once.

    Parameters
    ----------
    cost : float32 (ni, nj, nk)
        Edge strength of each voxel (gradient magnitude over its noise level); entering a voxel costs
        ``iso_w * max(cost - noise, 0)^2`` per mm (per label ``iso_w``).
    value : float32 (ni, nj, nk)
        Intensity tested against each label's window.
    seeds : uint16 (ni, nj, nk)
        0 = unlabelled, else the label.
    low, high : float32 (n_labels + 1,)
        Window of intensities a label may enter (``-inf, inf`` for background labels).
    mean, inv_sd : float32 (n_labels + 1,)
        Intensity model of each label: entering voxel ``q`` costs an extra
        ``max(|value[q] - mean| * inv_sd - dead_zone, 0)^2`` per mm (``inv_sd = 0`` for
        background labels): voxels typical of the label cost nothing extra.
    extra : float32 (n_labels + 1,)
        Constant extra cost per mm of each label.
    dead_zone : float32 (n_labels + 1,)
        Deviations up to this many standard deviations cost nothing, per label.
    step_mm : float64 (3,)
        Voxel spacing.
    max_cost : float
        Stop growing beyond this path cost (``inf`` for no bound).
    region : uint8 (ni, nj, nk)
        Voxels that may be entered (nonzero); seeds outside it stay seeds.
    iso_w, step_w : float32 (n_labels + 1,)
        Per label, the weight of ``cost`` (the isotropic edge term) and of the directional edge term
        ``(|edge_value[q] - edge_value[p]| / h * inv_step_ref[axis] - noise)_+^2`` of a step p -> q.
    edge_value : float32 (ni, nj, nk)
        Image whose neighbour differences price directional edges.
    inv_step_ref : float64 (3,)
        1 / noise level of the neighbour differences per axis (mm/HU).
    noise : float
        Edge strengths up to this many noise levels are free (both edge terms).
    base : float
        Cost per mm of any step (path length).

    Returns
    -------
    labels : uint16 (ni, nj, nk)
        0 where no label arrived.
    """
    nx, ny, nz = cost.shape
    total = nx * ny * nz
    f = cost.ravel()
    v = value.ravel()
    ev = edge_value.ravel()
    allowed = region.ravel()
    lab = seeds.ravel().copy()
    dist = np.full(total, np.inf, np.float64)
    cap = 1 << 16
    hk = np.empty(cap, np.float64)
    hv = np.empty(cap, np.int64)
    n = 0
    for p in range(total):
        if lab[p] > 0:
            dist[p] = 0.0
            if n >= cap:
                hk2 = np.empty(cap * 2, np.float64)
                hv2 = np.empty(cap * 2, np.int64)
                hk2[:n] = hk[:n]
                hv2[:n] = hv[:n]
                hk = hk2
                hv = hv2
                cap *= 2
            n = _push(hk, hv, n, 0.0, p)
    sx = ny * nz
    sy = nz
    while n > 0:
        d, p, n = _pop(hk, hv, n)
        if d > dist[p]:
            continue
        lp = lab[p]
        i = p // sx
        j = (p // sy) % ny
        k = p % nz
        for t in range(6):
            ii = i
            jj = j
            kk = k
            if t == 0:
                ii -= 1
            elif t == 1:
                ii += 1
            elif t == 2:
                jj -= 1
            elif t == 3:
                jj += 1
            elif t == 4:
                kk -= 1
            else:
                kk += 1
            if ii < 0 or jj < 0 or kk < 0 or ii >= nx or jj >= ny or kk >= nz:
                continue
            q = ii * sx + jj * sy + kk
            if allowed[q] == 0:
                continue
            if v[q] < low[lp] or v[q] > high[lp]:
                continue
            dev = abs(v[q] - mean[lp]) * inv_sd[lp] - dead_zone[lp]
            if dev < 0.0:
                dev = 0.0
            edge = 0.0
            if step_w[lp] > 0.0:
                e = abs(ev[q] - ev[p]) / step_mm[t // 2] * inv_step_ref[t // 2] - noise
                if e > 0.0:
                    edge = step_w[lp] * e * e
            eq = f[q] - noise
            eq = eq * eq if eq > 0.0 else 0.0
            if minimax:
                nd = max(d, base + iso_w[lp] * eq + edge + dev * dev + extra[lp]) + length_weight * step_mm[t // 2]
            else:
                ep = f[p] - noise
                ep = ep * ep if ep > 0.0 else 0.0
                nd = d + (base + iso_w[lp] * 0.5 * (ep + eq) + edge + dev * dev + extra[lp]) * step_mm[t // 2]
            if nd < dist[q] and nd <= max_cost:
                dist[q] = nd
                lab[q] = lp
                if n >= cap:
                    hk2 = np.empty(cap * 2, np.float64)
                    hv2 = np.empty(cap * 2, np.int64)
                    hk2[:n] = hk[:n]
                    hv2[:n] = hv[:n]
                    hk = hk2
                    hv = hv2
                    cap *= 2
                n = _push(hk, hv, n, nd, q)
    return lab.reshape(cost.shape)


def grow_labels(cost: NDArray[np.float32], value: NDArray[np.float32], seeds: NDArray[np.uint16],
                low: NDArray[np.float32], high: NDArray[np.float32], spacing: NDArray[np.float64],
                max_cost: float = np.inf, mean: NDArray[np.float32] | None = None,
                inv_sd: NDArray[np.float32] | None = None,
                extra: NDArray[np.float32] | None = None, dead_zone: float | NDArray[np.float32] = 0.0,
                minimax: bool = False, length_weight: float = 0.0,
                region: NDArray[np.bool_] | None = None, iso_weight: ArrayLike = 1.0, step_weight: ArrayLike = 0.0,
                base_cost: float = 0.0, edge_value: NDArray[np.float32] | None = None,
                step_ref: ArrayLike = (1.0, 1.0, 1.0), edge_noise: float = 0.0) -> NDArray[np.uint16]:
    """Typed wrapper of :func:`competitive_grow` (makes inputs contiguous with the right dtypes).

    ``dead_zone``, ``iso_weight`` and ``step_weight`` are one value for all labels or one per label;
    ``region`` (bool, image shape) restricts the voxels labels may enter (None: everywhere);
    ``step_ref`` is the neighbour-difference noise per axis (HU/mm) and ``edge_value`` the image it
    is measured on (default ``value``); ``base_cost`` is added per mm to every step; edge strengths up to
    ``edge_noise`` noise levels are free.
    """
    zeros = np.zeros(len(low), np.float32)
    dz = np.broadcast_to(np.asarray(dead_zone, np.float32), zeros.shape)
    allowed = np.ones(cost.shape, np.uint8) if region is None else np.asarray(region, np.uint8)
    return competitive_grow(  # type: ignore[no-any-return]
        np.ascontiguousarray(cost, np.float32), np.ascontiguousarray(value, np.float32),
        np.ascontiguousarray(seeds, np.uint16), np.ascontiguousarray(low, np.float32),
        np.ascontiguousarray(high, np.float32),
        np.ascontiguousarray(zeros if mean is None else mean, np.float32),
        np.ascontiguousarray(zeros if inv_sd is None else inv_sd, np.float32),
        np.ascontiguousarray(zeros if extra is None else extra, np.float32), np.ascontiguousarray(dz, np.float32),
        np.ascontiguousarray(spacing, np.float64), float(max_cost), bool(minimax), float(length_weight),
        np.ascontiguousarray(allowed, np.uint8),
        np.ascontiguousarray(np.broadcast_to(np.asarray(iso_weight, np.float32), zeros.shape)),
        np.ascontiguousarray(np.broadcast_to(np.asarray(step_weight, np.float32), zeros.shape)),
        np.ascontiguousarray(value if edge_value is None else edge_value, np.float32),
        1.0 / np.asarray(step_ref, np.float64), float(edge_noise), float(base_cost),
    )
