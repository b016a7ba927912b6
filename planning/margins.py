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
    ``supersample``^3 points. The grown tumour is every voxel whose cube lies
    within ``margin_mm`` of the tumour (exact Euclidean distance transform).

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
    grown = _grow_mm(tumour, geom, zone.margin_mm) if zone.margin_mm > 0 else tumour
    g_cov = _covered_fraction(zone, geom, np.argwhere(grown), supersample)
    depth = inside_depth_mm(zone, _boundary_points(tumour, geom))
    return {
        "tumour_segment": name,
        "shape": zone.shape,
        "zone_volume_mm3": float(4.0 / 3.0 * np.pi * np.prod(zone.radii_mm)),
        "tumour_volume_mm3": float(np.count_nonzero(tumour) * vv),
        "tumour_coverage_percent": float(100.0 * t_cov.mean()),
        "margin_mm": float(zone.margin_mm),
        "margin_volume_mm3": float(np.count_nonzero(grown) * vv),
        "margin_coverage_percent": float(100.0 * g_cov.mean()),
        "min_margin_achieved_mm": float(depth.min()),
        "complete": bool(g_cov.min() >= 1.0 - 1e-12),
    }


def _covered_fraction(zone: AblationZone, geom: ImageGeometry, ijk: NDArray[np.int64], ss: int) -> NDArray[np.float64]:
    a = geom.direction * geom.spacing[None, :]
    s = (np.arange(ss) + 0.5) / ss - 0.5
    offs = np.stack(np.meshgrid(s, s, s, indexing="ij"), axis=-1).reshape(-1, 3) @ a.T
    out = np.empty(len(ijk))
    for chunk in np.array_split(np.arange(len(ijk)), max(1, len(ijk) // 20000)):
        pts = geom.index_to_lps(ijk[chunk])[:, None, :] + offs[None]
        out[chunk] = (ellipsoid_radius_ratio(zone, pts.reshape(-1, 3)).reshape(len(chunk), -1) <= 1.0).mean(axis=1)
    return out


def _grow_mm(mask: NDArray[np.bool_], geom: ImageGeometry, margin_mm: float) -> NDArray[np.bool_]:
    """Voxels whose centre is within ``margin_mm`` of a mask voxel centre (exact EDT with spacing)."""
    pad = int(np.ceil(margin_mm / float(np.min(geom.spacing)))) + 1
    idx = np.argwhere(mask)
    lo = np.maximum(idx.min(axis=0) - pad, 0)
    hi = np.minimum(idx.max(axis=0) + pad + 1, mask.shape)
    sub = mask[lo[0]:hi[0], lo[1]:hi[1], lo[2]:hi[2]]
    dist = ndimage.distance_transform_edt(~sub, sampling=geom.spacing)
    out = np.zeros(mask.shape, dtype=bool)
    out[lo[0]:hi[0], lo[1]:hi[1], lo[2]:hi[2]] = dist <= margin_mm + 1e-9
    return out
