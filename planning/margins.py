"""Safety margins and ablation coverage.

Frame: LPS millimetres.

* :func:`surface_distance_map`: for every vertex of a target (tumour) surface,
  the distance in mm to each critical structure (its voxel cubes), ready to be
  shown as colours (``point_data["distance_mm"]``).
* :func:`ablation_coverage`: how much of a tumour grown by a margin lies inside
  a sphere/ellipsoid ablation zone, and the smallest margin achieved.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage

from planning.distance import MaskDistance, boundary_voxels
from twin.errors import InputError
from twin.geometry import ImageGeometry
from twin.labelmap import LabelMap
from twin.meshes import SurfaceModel
from twin.plan import AblationZone, SafetyMargin
from twin.progress import Progress, ensure_progress


def surface_distance_map(
    surface: SurfaceModel,
    labelmap: LabelMap,
    critical_segments: list[str],
    progress: Progress | None = None,
) -> tuple[SurfaceModel, dict[str, NDArray[np.float64]]]:
    """Distance from each vertex of ``surface`` to each critical segment.

    Returns
    -------
    surface : SurfaceModel
        Copy with ``point_data["distance_mm"]`` (minimum over the structures)
        and ``point_data["nearest_structure"]`` (index into ``critical_segments``).
    per_structure : dict of str -> ndarray (n_points,)
        Distances in mm per segment (0 where the vertex lies inside it).
    """
    prog = ensure_progress(progress)
    per: dict[str, NDArray[np.float64]] = {}
    for n, name in enumerate(critical_segments):
        prog.raise_if_cancelled()
        prog.update(n / max(1, len(critical_segments)), f"distances to {name}")
        per[name] = MaskDistance(labelmap.mask(name), labelmap.geometry).distance_mm(surface.points_lps)
    if per:
        stack = np.stack([per[k] for k in critical_segments])
        dmin = stack.min(axis=0)
        nearest = stack.argmin(axis=0).astype(np.int32)
    else:
        dmin = np.full(surface.n_points, np.inf)
        nearest = np.full(surface.n_points, -1, np.int32)
    pdata = dict(surface.point_data)
    pdata["distance_mm"] = dmin
    pdata["nearest_structure"] = nearest
    prog.update(1.0, "distance map done")
    return replace(surface, point_data=pdata), per


def evaluate_safety_margin(margin: SafetyMargin, labelmap: LabelMap) -> dict[str, Any]:
    """Minimum distance from the target segment to each critical segment (voxel cubes to voxel cubes).

    Uses the target's boundary voxel corners against each structure's voxel
    cubes; exact for the voxel model up to the corner sampling (< half a voxel).
    """
    target = labelmap.mask(margin.target_segment)
    if not target.any():
        raise InputError(f"target segment {margin.target_segment!r} is empty")
    geom = labelmap.geometry
    pts = _boundary_points(target, geom)
    rows = []
    for name in margin.critical_segments:
        try:
            d = MaskDistance(labelmap.mask(name), geom).distance_mm(pts)
        except InputError:
            rows.append({"segment": name, "min_distance_mm": None, "note": "segment not found"})
            continue
        dmin = float(d.min())
        rows.append({"segment": name, "min_distance_mm": dmin if np.isfinite(dmin) else None,
                     "below_threshold": bool(dmin < margin.threshold_mm)})
    valid = [r for r in rows if r.get("min_distance_mm") is not None]
    return {
        "target_segment": margin.target_segment,
        "threshold_mm": margin.threshold_mm,
        "structures": rows,
        "min_distance_mm": min((r["min_distance_mm"] for r in valid), default=None),
        "violations": [r["segment"] for r in valid if r["below_threshold"]],
    }


def _boundary_points(mask: NDArray[np.bool_], geom: ImageGeometry) -> NDArray[np.float64]:
    """Face centres of boundary voxels plus their centres, LPS ``(n, 3)``."""
    b = boundary_voxels(mask)
    a = geom.direction * geom.spacing[None, :]
    offs = np.vstack([np.zeros(3), 0.5 * a.T, -0.5 * a.T])  # centre + 6 face centres
    return (geom.index_to_lps(b)[:, None, :] + offs[None]).reshape(-1, 3)


# ----------------------------------------------------------------- ablation
def ellipsoid_radius_ratio(zone: AblationZone, points_lps: NDArray[np.float64]) -> NDArray[np.float64]:
    """``rho = sqrt(sum((x_i / a_i)^2))`` in the zone's axes: < 1 inside, 1 on the surface."""
    local = (np.asarray(points_lps, dtype=np.float64).reshape(-1, 3) - np.asarray(zone.center_lps)) @ np.asarray(
        zone.axes_lps).T
    return np.sqrt(np.sum((local / np.asarray(zone.radii_mm)) ** 2, axis=1))


def inside_depth_mm(zone: AblationZone, points_lps: NDArray[np.float64]) -> NDArray[np.float64]:
    """How deep each point is inside the zone, mm (negative outside).

    Exact for a sphere (``R - |x - c|``); for an ellipsoid ``(1 - rho) * min(radii)``,
    a lower bound of the true distance to the surface for inside points.
    """
    pts = np.asarray(points_lps, dtype=np.float64).reshape(-1, 3)
    if zone.shape == "sphere":
        return zone.radii_mm[0] - np.linalg.norm(pts - np.asarray(zone.center_lps), axis=1)
    return (1.0 - ellipsoid_radius_ratio(zone, pts)) * min(zone.radii_mm)


def ablation_coverage(
    zone: AblationZone, labelmap: LabelMap, tumour_segment: str | None = None, supersample: int = 3
) -> dict[str, Any]:
    """Coverage of a tumour (and of the tumour grown by ``zone.margin_mm``) by the ablation zone.

    The tumour is the union of its voxel cubes; each voxel is sampled at
    ``supersample``^3 points. The tumour grown by the margin is sampled by
    :func:`grown_points_lps` (smoothed boundary, exact distance transform on a
    grid 3x finer), which avoids the staircase bias of growing voxels.

    Returns
    -------
    dict
        ``tumour_volume_mm3``, ``tumour_coverage_percent``, ``margin_mm``,
        ``margin_volume_mm3`` (tumour + margin), ``margin_coverage_percent``,
        ``min_margin_achieved_mm`` (smallest depth of a tumour boundary point
        inside the zone; negative = tumour not fully covered),
        ``zone_volume_mm3`` (4/3 pi abc), ``complete`` (tumour + margin fully covered).
    """
    name = tumour_segment or zone.tumour_segment
    if not name:
        raise InputError(f"ablation zone {zone.name!r} has no tumour segment")
    geom = labelmap.geometry
    tumour = labelmap.mask(name)
    if not tumour.any():
        raise InputError(f"tumour segment {name!r} is empty")
    vv = geom.voxel_volume_mm3
    t_cov = _covered_fraction(zone, geom, np.argwhere(tumour), supersample)
    grown_lps, cell_mm3 = grown_points_lps(tumour, geom, zone.margin_mm)
    g_in = ellipsoid_radius_ratio(zone, grown_lps) <= 1.0
    depth = inside_depth_mm(zone, _boundary_points(tumour, geom))
    return {
        "tumour_segment": name,
        "shape": zone.shape,
        "zone_volume_mm3": float(4.0 / 3.0 * np.pi * np.prod(zone.radii_mm)),
        "tumour_volume_mm3": float(np.count_nonzero(tumour) * vv),
        "tumour_coverage_percent": float(100.0 * t_cov.mean()),
        "margin_mm": float(zone.margin_mm),
        "margin_volume_mm3": float(len(grown_lps) * cell_mm3),
        "margin_coverage_percent": float(100.0 * g_in.mean()) if len(g_in) else None,
        "min_margin_achieved_mm": float(depth.min()),
        "complete": bool(g_in.all() and t_cov.min() >= 1.0 - 1e-12),
    }


def grown_points_lps(
    mask: NDArray[np.bool_], geom: ImageGeometry, margin_mm: float, refine: int = 3, sigma_vox: float = 0.4
) -> tuple[NDArray[np.float64], float]:
    """Sample points (LPS) of a segment grown by ``margin_mm``, and the volume each stands for (mm^3).

    The voxel staircase would bias the grown volume (the dilation keeps the
    outward corners of the voxels): growing from voxel centres under-estimates it
    by 3 % (0.5 mm voxels) to 9 % (1 mm) for a 5 mm sphere grown by 5 mm, growing
    from voxel cubes over-estimates it by as much. Instead the mask is resampled
    ``refine`` times finer, its boundary smoothed (Gaussian, ``sigma_vox`` coarse
    voxels, cut at 0.5, which preserves the volume) and grown with an exact
    Euclidean distance transform on the fine grid: within about 1-2 % of the
    continuous answer for voxels up to 1 mm (see tests). With ``margin_mm`` = 0
    the points are the fine samples of the mask itself.
    """
    idx = np.argwhere(mask)
    h = np.asarray(geom.spacing, dtype=np.float64)
    pad = np.ceil((margin_mm + 2 * h.max()) / h).astype(int)
    lo = np.maximum(idx.min(axis=0) - pad, 0)
    hi = np.minimum(idx.max(axis=0) + pad + 1, mask.shape)
    sub = mask[lo[0]:hi[0], lo[1]:hi[1], lo[2]:hi[2]]
    f = int(refine)
    while f > 1 and sub.size * f**3 > 30_000_000:
        f -= 1
    fine = sub
    for ax in range(3):
        fine = np.repeat(fine, f, axis=ax)
    if margin_mm > 0 or f > 1:
        fine = ndimage.gaussian_filter(fine.astype(np.float32), sigma_vox * f) > 0.5
    if margin_mm > 0:
        fine = ndimage.distance_transform_edt(~fine, sampling=h / f) <= margin_mm + 1e-9
    fidx = np.argwhere(fine).astype(np.float64)
    coarse = lo + (fidx + 0.5) / f - 0.5
    return geom.index_to_lps(coarse), float(np.prod(h / f))


def _covered_fraction(zone: AblationZone, geom: ImageGeometry, ijk: NDArray[np.int64], ss: int) -> NDArray[np.float64]:
    a = geom.direction * geom.spacing[None, :]
    s = (np.arange(ss) + 0.5) / ss - 0.5
    offs = np.stack(np.meshgrid(s, s, s, indexing="ij"), axis=-1).reshape(-1, 3) @ a.T
    out = np.empty(len(ijk))
    for chunk in np.array_split(np.arange(len(ijk)), max(1, len(ijk) // 20000)):
        pts = geom.index_to_lps(ijk[chunk])[:, None, :] + offs[None]
        out[chunk] = (ellipsoid_radius_ratio(zone, pts.reshape(-1, 3)).reshape(len(chunk), -1) <= 1.0).mean(axis=1)
    return out
