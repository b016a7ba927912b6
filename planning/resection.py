"""Virtual resection: planes or an extruded polyline cutting an organ segment.

Frame: LPS millimetres. The organ is the union of its voxel cubes. For a single
plane, the resected fraction of every voxel the plane crosses is computed
exactly (volume of a box below a plane, inclusion-exclusion formula), so
volumes are exact for the voxel model whatever the plane's orientation. When
several planes or a polyline cross one voxel, that voxel is supersampled
(``supersample``^3 points).

Conventions: each plane removes the half-space its normal points to; several
planes combine by union (each removes its own side) or intersection (a wedge).
A polyline cut removes the side ``extrude_direction x segment`` points to.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

from planning.distance import boundary_voxels
from twin.errors import InputError
from twin.geometry import ImageGeometry
from twin.labelmap import LabelMap
from twin.plan import Resection
from twin.progress import Progress, ensure_progress

_FAR_MM = 1.0e5


# ----------------------------------------------------------------- signed depth of the resected region
def _poly2d(res: Resection) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """In-plane basis (e1, e2) perpendicular to the extrusion, and the polyline in 2-D."""
    d = np.asarray(res.extrude_direction_lps, dtype=np.float64)
    ref = np.array([1.0, 0.0, 0.0]) if abs(d[0]) < 0.9 else np.array([0.0, 1.0, 0.0])
    e1 = np.cross(d, ref)
    e1 /= np.linalg.norm(e1)
    e2 = np.cross(d, e1)
    poly = np.asarray(res.polyline_lps, dtype=np.float64)
    return e1, e2, np.stack([poly @ e1, poly @ e2], axis=1)


def _polyline_depth(res: Resection, pts: NDArray[np.float64]) -> NDArray[np.float64]:
    """Signed 2-D distance to the polyline (ends extended to infinity), + on the resected (left) side.

    The side of the nearest feature decides the sign: the segment normal, or at a
    vertex the sum of the two adjacent normals (pseudo-normal), which is exact in 2-D.
    """
    e1, e2, p2 = _poly2d(res)
    q = np.stack([pts @ e1, pts @ e2], axis=1)
    a = p2[:-1].copy()
    b = p2[1:].copy()
    t0 = (p2[1] - p2[0]) / np.linalg.norm(p2[1] - p2[0])
    t1 = (p2[-1] - p2[-2]) / np.linalg.norm(p2[-1] - p2[-2])
    a[0] = p2[0] - _FAR_MM * t0
    b[-1] = p2[-1] + _FAR_MM * t1
    segs = b - a
    units = segs / np.linalg.norm(segs, axis=1)[:, None]
    lefts = np.stack([-units[:, 1], units[:, 0]], axis=1)
    best = np.full(len(q), np.inf)
    sign = np.ones(len(q))
    last = len(a) - 1
    for k, (s0, seg) in enumerate(zip(a, segs)):
        t = np.clip(((q - s0) @ seg) / (seg @ seg), 0.0, 1.0)
        rel = q - (s0 + t[:, None] * seg)
        d = np.linalg.norm(rel, axis=1)
        # side: segment normal in the interior; angle-bisecting pseudo-normal at shared vertices
        nrm = np.repeat(lefts[k][None], len(q), axis=0)
        if k > 0:
            nrm[t <= 0.0] = lefts[k] + lefts[k - 1]
        if k < last:
            nrm[t >= 1.0] = lefts[k] + lefts[k + 1]
        s = np.where(np.sum(rel * nrm, axis=1) >= 0, 1.0, -1.0)
        better = d < best
        best[better] = d[better]
        sign[better] = s[better]
    return sign * best


def resected_depth_mm(res: Resection, points_lps: NDArray[np.float64]) -> NDArray[np.float64]:
    """Signed depth ``(n,)`` of points in the resected region, mm (+ resected side, - remnant side).

    Exact for one plane or a polyline; for several planes it is a bound on the
    distance to the cut surface: ``max`` of plane depths (union) or ``min``
    (intersection, exact when positive).
    """
    pts = np.asarray(points_lps, dtype=np.float64).reshape(-1, 3)
    if res.polyline_lps:
        return _polyline_depth(res, pts)
    depths = np.stack([(pts - np.asarray(p.origin_lps)) @ np.asarray(p.normal_lps) for p in res.planes])
    return depths.max(axis=0) if res.combine == "union" else depths.min(axis=0)


# ----------------------------------------------------------------- exact voxel fractions
def box_fraction_below_plane(n: NDArray[np.float64], t: NDArray[np.float64]) -> NDArray[np.float64]:
    """Fraction of the unit cube ``[0, 1]^3`` where ``n . u <= t``.

    Parameters
    ----------
    n : ndarray (m, 3)
        Plane coefficients per cube (any length, any sign).
    t : ndarray (m,)
        Offsets.

    Notes
    -----
    Inclusion-exclusion over the cube corners: with all ``n_i > 0`` over the
    ``d`` non-degenerate axes, ``V = sum_v (-1)^|v| max(0, t - n.v)^d / (d! prod n_i)``.
    Negative components are flipped (``u_i -> 1 - u_i``); components below 1e-5
    of the largest are treated as zero (the plane is parallel to that axis).
    """
    n = np.asarray(n, dtype=np.float64).reshape(-1, 3).copy()
    t = np.asarray(t, dtype=np.float64).reshape(-1).copy()
    neg = n < 0
    t -= np.where(neg, n, 0.0).sum(axis=1)
    n = np.abs(n)
    scale = n.max(axis=1)
    scale[scale == 0] = 1.0
    n /= scale[:, None]
    t /= scale
    active = n > 1e-5
    out = np.empty(len(n))
    for pattern in set(map(tuple, active.tolist())):
        rows = np.flatnonzero(np.all(active == np.asarray(pattern), axis=1))
        dims = [i for i in range(3) if pattern[i]]
        nn = n[np.ix_(rows, dims)]
        tt = t[rows]
        d = len(dims)
        if d == 0:
            out[rows] = (tt >= 0).astype(float)
            continue
        acc = np.zeros(len(rows))
        for corner in itertools.product((0, 1), repeat=d):
            c = np.asarray(corner, dtype=float)
            acc += (-1) ** int(c.sum()) * np.maximum(0.0, tt - nn @ c) ** d
        out[rows] = acc / (math.factorial(d) * np.prod(nn, axis=1))
    return np.clip(out, 0.0, 1.0)


def resected_fraction(
    res: Resection, geometry: ImageGeometry, ijk: NDArray[np.int64], supersample: int = 6
) -> NDArray[np.float64]:
    """Resected fraction in [0, 1] of each voxel ``ijk (m, 3)``."""
    ijk = np.asarray(ijk, dtype=np.int64).reshape(-1, 3)
    centres = geometry.index_to_lps(ijk)
    a = geometry.direction * geometry.spacing[None, :]  # columns: LPS step per index
    half_diag = 0.5 * float(np.linalg.norm(geometry.spacing))
    depth = resected_depth_mm(res, centres)
    frac = (depth > 0).astype(np.float64)
    near = np.abs(depth) < half_diag + 1e-9
    if res.polyline_lps:
        near = _polyline_near(res, centres, half_diag) | near
    if not near.any():
        return frac
    idx = np.flatnonzero(near)
    if len(res.planes) == 1 and not res.polyline_lps:
        p = res.planes[0]
        nrm = np.asarray(p.normal_lps)
        g = a.T @ nrm  # plane normal in index units
        # resected: nrm.(x - o) > 0  <=>  g.u > t' with u in [0,1]^3 the voxel's local coordinates
        corner0 = centres[idx] - 0.5 * (a @ np.ones(3))
        tprime = (np.asarray(p.origin_lps) - corner0) @ nrm
        below = box_fraction_below_plane(np.repeat(g[None], len(idx), axis=0), tprime)
        frac[idx] = 1.0 - below
        return frac
    s = (np.arange(supersample) + 0.5) / supersample - 0.5
    offs = np.stack(np.meshgrid(s, s, s, indexing="ij"), axis=-1).reshape(-1, 3) @ a.T
    for chunk in np.array_split(idx, max(1, len(idx) // 2000)):
        sub = centres[chunk][:, None, :] + offs[None, :, :]
        frac[chunk] = (resected_depth_mm(res, sub.reshape(-1, 3)).reshape(len(chunk), -1) > 0).mean(axis=1)
    return frac


def _polyline_near(res: Resection, centres: NDArray[np.float64], half_diag: float) -> NDArray[np.bool_]:
    return np.abs(_polyline_depth(res, centres)) < half_diag + 1e-9


# ----------------------------------------------------------------- analysis
def evaluate_resection(
    res: Resection, labelmap: LabelMap, supersample: int = 6, progress: Progress | None = None
) -> dict[str, Any]:
    """Volumes, remnant fraction, tumour margin and crossed vessels of a resection.

    Returns
    -------
    dict
        ``organ_volume_mm3``, ``resected_volume_mm3``/``_ml``, ``remnant_volume_mm3``/``_ml``,
        ``remnant_percent`` (future liver remnant for a liver), ``tumour_margin_mm``
        (minimum distance from the tumour's voxel cubes to the cut surface, + when the
        whole tumour is on the resected side, <= 0 when the cut touches or misses it),
        ``tumour_resected_percent``, ``vessels`` (per vessel segment: ``crossed``,
        ``resected_volume_mm3``).

    Raises
    ------
    InputError
        If the organ segment is missing or empty.
    """
    prog = ensure_progress(progress)
    geom = labelmap.geometry
    organ = labelmap.mask(res.organ_segment)
    if not organ.any():
        raise InputError(f"organ segment {res.organ_segment!r} is empty")
    vv = geom.voxel_volume_mm3
    prog.update(0.1, "cutting organ")
    ijk = np.argwhere(organ)
    frac = resected_fraction(res, geom, ijk, supersample)
    organ_mm3 = float(len(ijk) * vv)
    resected_mm3 = float(frac.sum() * vv)
    remnant_mm3 = organ_mm3 - resected_mm3
    out: dict[str, Any] = {
        "organ_segment": res.organ_segment,
        "organ_volume_mm3": organ_mm3,
        "resected_volume_mm3": resected_mm3,
        "resected_volume_ml": resected_mm3 / 1000.0,
        "remnant_volume_mm3": remnant_mm3,
        "remnant_volume_ml": remnant_mm3 / 1000.0,
        "remnant_percent": 100.0 * remnant_mm3 / organ_mm3,
        "tumour_segment": res.tumour_segment,
        "tumour_margin_mm": None,
        "tumour_resected_percent": None,
        "vessels": [],
    }
    if res.tumour_segment:
        prog.update(0.5, "tumour margin")
        tumour = labelmap.mask(res.tumour_segment)
        if tumour.any():
            out["tumour_margin_mm"] = tumour_margin_mm(res, tumour, geom)
            t_ijk = np.argwhere(tumour)
            out["tumour_resected_percent"] = float(100.0 * resected_fraction(res, geom, t_ijk, supersample).mean())
    region = _dilate(organ, 2)
    for n, name in enumerate(res.vessel_segments):
        prog.update(0.6 + 0.4 * n / max(1, len(res.vessel_segments)), f"vessel {name}")
        try:
            vmask = labelmap.mask(name) & region
        except InputError:
            out["vessels"].append({"segment": name, "crossed": None, "note": "segment not found"})
            continue
        if not vmask.any():
            out["vessels"].append({"segment": name, "crossed": False, "resected_volume_mm3": 0.0,
                                   "note": "not in the organ"})
            continue
        v_ijk = np.argwhere(vmask)
        vf = resected_fraction(res, geom, v_ijk, supersample)
        crossed = bool(np.any((vf > 1e-9) & (vf < 1 - 1e-9)) or (np.any(vf > 0.5) and np.any(vf < 0.5)))
        out["vessels"].append({"segment": name, "crossed": crossed, "resected_volume_mm3": float(vf.sum() * vv),
                               "n_voxels_on_cut": int(np.count_nonzero((vf > 1e-9) & (vf < 1 - 1e-9)))})
    prog.update(1.0, "resection evaluated")
    return out


def tumour_margin_mm(res: Resection, tumour: NDArray[np.bool_], geometry: ImageGeometry) -> float:
    """Minimum signed depth of the tumour's voxel cubes in the resected region, mm.

    Evaluated at the 8 corners of every boundary voxel (where a convex cube is
    closest to a plane). Positive: the whole tumour lies on the resected side,
    this far from the cut; zero or negative: the cut touches or transects it.
    """
    b = boundary_voxels(tumour)
    a = geometry.direction * geometry.spacing[None, :]
    corners = np.array(list(itertools.product((-0.5, 0.5), repeat=3))) @ a.T
    pts = geometry.index_to_lps(b)[:, None, :] + corners[None, :, :]
    return float(resected_depth_mm(res, pts.reshape(-1, 3)).min())


def _dilate(mask: NDArray[np.bool_], iterations: int) -> NDArray[np.bool_]:
    from scipy import ndimage

    return ndimage.binary_dilation(mask, iterations=iterations)


def resected_mask(res: Resection, labelmap: LabelMap) -> NDArray[np.bool_]:
    """Organ voxels whose centre is on the resected side (for display), ``(ni, nj, nk)``."""
    organ = labelmap.mask(res.organ_segment)
    ijk = np.argwhere(organ)
    out = np.zeros(organ.shape, dtype=bool)
    keep = resected_depth_mm(res, labelmap.geometry.index_to_lps(ijk)) > 0
    out[tuple(ijk[keep].T)] = True
    return out
