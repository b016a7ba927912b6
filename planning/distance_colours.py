"""Signed distances (mm) shown as colours on structure surfaces: to a safety margin's target or to a
resection's cut, measured with the voxel models of :mod:`planning.margins` / :mod:`planning.resection`,
so the smallest colour is the number in the metrics and the report (a smoothed surface never looks
safer). Pure numerics (no Qt, no rendering); drawn by :mod:`rendering.distance_view`.

* :func:`voxel_model_distances`: the colour of each surface vertex is the distance of the structure's
  voxel cubes near it (within one voxel diagonal) to the target, measured as
  :func:`planning.margins.evaluate_safety_margin` measures it (target boundary voxel centres and face
  centres to the structure's voxel cubes); structure voxels inside the target get minus their depth
  in it (:func:`signed_distance_to_mask`).
* :func:`voxel_cut_distances`: signed distance to the cut surface (the voxel-corner model of
  :func:`planning.resection.tumour_margin_mm`: + on the resected side, - on the remnant side, 0 where
  the cut passes).

Frame: patient LPS, mm.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
from numpy.typing import NDArray


def signed_distance_to_mask(points_lps: NDArray[np.float64], mask: NDArray[np.bool_], geometry: Any
                            ) -> NDArray[np.float64]:
    """Signed distance (mm) from ``points_lps`` ``(n, 3)`` to the voxel cubes of ``mask`` on ``geometry``.

    Positive outside (distance to the nearest voxel cube, as :class:`planning.distance.MaskDistance`),
    negative inside (minus the distance to the nearest voxel cube outside the mask), ``inf`` for an empty mask.
    """
    from planning.distance import MaskDistance
    from twin.geometry import ImageGeometry
    from twin.labelmap import mask_bbox

    pts = np.asarray(points_lps, float).reshape(-1, 3)
    md = MaskDistance(mask, geometry)
    d = md.distance_mm(pts)
    inside = md.inside(pts)
    if inside.any():
        # depth: distance to the complement, on the mask's box grown by one voxel (that layer is outside,
        # and every path to a farther outside voxel crosses it, so the restriction is exact)
        box = mask_bbox(mask)
        lo = np.array([max(s.start - 1, 0) for s in box])
        hi = np.array([min(s.stop + 1, n) for s, n in zip(box, mask.shape, strict=True)])
        sub = ~np.asarray(mask)[lo[0]:hi[0], lo[1]:hi[1], lo[2]:hi[2]]
        padded = np.pad(sub, [(int(lo[a] == 0), int(hi[a] == mask.shape[a])) for a in range(3)], constant_values=True)
        start = lo - np.array([int(lo[a] == 0) for a in range(3)])
        sub_geom = ImageGeometry(padded.shape, geometry.spacing, geometry.index_to_lps(start[None].astype(float))[0],
                                 geometry.direction)
        d[inside] = -MaskDistance(padded, sub_geom).distance_mm(pts[inside])
    return d


def _target_samples_lps(mask: NDArray[np.bool_], geometry: Any) -> NDArray[np.float64]:
    """Boundary voxel centres and their 6 face centres (LPS), the target samples of the safety-margin metric."""
    from planning.distance import boundary_voxels

    b = boundary_voxels(mask)
    a = np.asarray(geometry.direction) * np.asarray(geometry.spacing)[None, :]
    offs = np.vstack([np.zeros(3), 0.5 * a.T, -0.5 * a.T])
    return (geometry.index_to_lps(b.astype(float))[:, None, :] + offs[None]).reshape(-1, 3)


def voxel_model_distances(points_lps: NDArray[np.float64], target_mask: NDArray[np.bool_],
                          structure_mask: NDArray[np.bool_], geometry: Any) -> NDArray[np.float64]:
    """Signed distance (mm) shown at each point of a structure's surface (see the module docstring).

    Parameters
    ----------
    points_lps : (n, 3)
        Surface vertices of the structure (LPS mm).
    target_mask, structure_mask : bool (ni, nj, nk)
        Target (tumour) and structure on ``geometry``.

    Returns
    -------
    (n,) float
        Smallest voxel-model distance of the structure's boundary voxels within one voxel diagonal of
        each point (the nearest one when none is); negative where those voxels lie inside the target;
        ``inf`` when the target is empty.
    """
    from scipy.spatial import cKDTree

    from planning.distance import boundary_voxels

    pts = np.asarray(points_lps, float).reshape(-1, 3)
    sp = np.asarray(geometry.spacing, float)
    tmask = np.asarray(target_mask, bool)
    sb = boundary_voxels(np.asarray(structure_mask, bool))
    if not tmask.any() or len(sb) == 0:
        return np.full(len(pts), np.inf)
    # 1. per structure boundary voxel: distance of the target samples to its cube (grid index space x spacing)
    samples = geometry.lps_to_index(_target_samples_lps(tmask, geometry)) * sp
    tree = cKDTree(samples)
    centres = sb * sp
    half = sp / 2
    half_diag = float(np.linalg.norm(half))
    k = int(min(16, len(samples)))
    dist_c, nn = tree.query(centres, k=k)
    dist_c, nn = dist_c.reshape(len(centres), k), nn.reshape(len(centres), k)

    def box(c: NDArray[np.float64], q: NDArray[np.float64]) -> NDArray[np.float64]:
        d = np.maximum(np.abs(q - c) - half, 0.0)
        return np.sqrt(np.sum(d * d, axis=-1))

    vox = box(centres[:, None, :], samples[nn]).min(axis=1)
    for i in np.flatnonzero((dist_c[:, -1] - half_diag < vox) & (k < len(samples))):
        cand = tree.query_ball_point(centres[i], vox[i] + half_diag)
        if cand:
            vox[i] = min(vox[i], float(box(centres[i][None], samples[cand]).min()))
    inside = tmask[sb[:, 0], sb[:, 1], sb[:, 2]]
    if inside.any():
        vox[inside] = signed_distance_to_mask(geometry.index_to_lps(sb[inside].astype(float)), tmask, geometry)
    # 2. per vertex: the smallest value of the boundary voxels within one voxel diagonal
    lo, _ = _near_voxel_range(pts, sb, vox, geometry)
    return lo


def _near_voxel_range(points_lps: NDArray[np.float64], voxels: NDArray[np.int64], values: NDArray[np.float64],
                      geometry: Any) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """(min, max) of ``values`` (one per voxel of ``voxels``) over the voxels within one voxel diagonal of each
    point (the nearest voxel when none is)."""
    from scipy.spatial import cKDTree

    sp = np.asarray(geometry.spacing, float)
    centres = voxels * sp
    tree = cKDTree(centres)
    q = geometry.lps_to_index(np.asarray(points_lps, float).reshape(-1, 3)) * sp
    kk = int(min(27, len(centres)))
    dd, ii = tree.query(q, k=kk, distance_upper_bound=float(np.linalg.norm(sp)))
    dd, ii = dd.reshape(len(q), kk), ii.reshape(len(q), kk)
    ok = np.isfinite(dd)
    v = values[np.minimum(ii, len(values) - 1)]
    lo = np.where(ok, v, np.inf).min(axis=1)
    hi = np.where(ok, v, -np.inf).max(axis=1)
    lonely = ~ok.any(axis=1)
    if lonely.any():
        _, j = tree.query(q[lonely], k=1)
        lo[lonely] = hi[lonely] = values[np.asarray(j).reshape(-1)]
    return lo, hi


def structure_distances(labelmap: Any, target: str, structures: dict[str, Any], progress: Any = None
                        ) -> dict[str, Any]:
    """``{name: SurfaceModel with point_data["distance_mm"]}`` (:func:`voxel_model_distances` of each
    structure's surface to the ``target`` segment; ``structures``: name -> SurfaceModel, LPS mm)."""
    mask = labelmap.mask(target)
    out = {}
    for n, (name, surf) in enumerate(structures.items()):
        if progress is not None:
            progress.raise_if_cancelled()
            progress.update(n / max(1, len(structures)), f"distances of {name}")
        d = voxel_model_distances(surf.points_lps, mask, labelmap.mask(name), labelmap.geometry)
        out[name] = replace(surf, point_data={**dict(surf.point_data), "distance_mm": d})
    return out


def voxel_cut_distances(points_lps: NDArray[np.float64], structure_mask: NDArray[np.bool_], geometry: Any,
                        resection: Any) -> NDArray[np.float64]:
    """Signed distance (mm, + resected side) to the cut shown at each point of a structure's surface.

    The voxel model of :func:`planning.resection.tumour_margin_mm`: the cut depth of the 8 corners of
    each boundary voxel of the structure (:func:`planning.resection.resected_depth_mm`); a voxel the
    cut passes through counts 0, otherwise its corner nearest to the cut. Each point takes, over the
    voxels within one voxel diagonal, 0 if their values have both signs, else the value nearest to
    the cut - so the colours never look farther from the cut than the voxels are, and the smallest
    colour of a tumour on the resected side is ``tumour_margin_mm``.
    """
    import itertools

    from planning.distance import boundary_voxels
    from planning.resection import resected_depth_mm

    pts = np.asarray(points_lps, float).reshape(-1, 3)
    sb = boundary_voxels(np.asarray(structure_mask, bool))
    if len(sb) == 0:
        return np.full(len(pts), np.nan)
    a = np.asarray(geometry.direction) * np.asarray(geometry.spacing)[None, :]
    corners = np.array(list(itertools.product((-0.5, 0.5), repeat=3))) @ a.T
    c = geometry.index_to_lps(sb.astype(float))[:, None, :] + corners[None]
    depth = np.asarray(resected_depth_mm(resection, c.reshape(-1, 3)), float).reshape(len(sb), 8)
    dlo, dhi = depth.min(axis=1), depth.max(axis=1)
    vox = np.where(dlo >= 0, dlo, np.where(dhi <= 0, dhi, 0.0))
    lo, hi = _near_voxel_range(pts, sb, vox, geometry)
    return np.where(lo >= 0, lo, np.where(hi <= 0, hi, 0.0))


def cut_distances(labelmap: Any, resection: Any, structures: dict[str, Any], progress: Any = None
                  ) -> dict[str, Any]:
    """``{name: SurfaceModel with point_data["distance_mm"]}``: :func:`voxel_cut_distances` of each
    structure's surface to the cut of ``resection`` (+ resected side)."""
    out = {}
    for n, (name, surf) in enumerate(structures.items()):
        if progress is not None:
            progress.raise_if_cancelled()
            progress.update(n / max(1, len(structures)), f"distances of {name} to the cut")
        d = voxel_cut_distances(surf.points_lps, labelmap.mask(name), labelmap.geometry, resection)
        out[name] = replace(surf, point_data={**dict(surf.point_data), "distance_mm": d})
    return out
