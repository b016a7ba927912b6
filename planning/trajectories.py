"""Straight tool trajectories: length, angles, traversed tissue, clearance from critical structures, reslice.

Frame: LPS millimetres. A trajectory's tool is a cylinder of diameter
``diameter_mm`` whose axis runs from the entry point to the target point.
The clearance to a segment is the distance from the segment (its voxel cubes,
see :mod:`planning.distance`) to the cylinder surface: axis distance minus
the tool radius; zero or less means the tool crosses the structure.
Only *critical* segments are checked that way; the tissue a percutaneous path
must traverse (body wall, the organ containing the target, the target) is
reported as traversed, with the axis length through each segment from an exact
voxel walk (:func:`line_traversal`). Roles: :mod:`planning.segment_roles`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from planning.distance import MaskDistance, SurfaceDistance
from planning.segment_roles import ROLES, classify_name, default_roles
from twin.errors import InputError
from twin.geometry import ImageGeometry
from twin.labelmap import LabelMap
from twin.meshes import SurfaceModel
from twin.plan import DEFAULT_SAFETY_MARGIN_MM, Plan, Trajectory
from twin.progress import Progress, ensure_progress

AXES_LPS = {"L": np.array([1.0, 0.0, 0.0]), "P": np.array([0.0, 1.0, 0.0]), "S": np.array([0.0, 0.0, 1.0])}


def direction(traj: Trajectory) -> NDArray[np.float64]:
    """Unit vector from entry to target (LPS)."""
    d = np.subtract(traj.target_lps, traj.entry_lps)
    return d / np.linalg.norm(d)


def path_length_mm(traj: Trajectory) -> float:
    """Entry-to-target distance in mm."""
    return float(np.linalg.norm(np.subtract(traj.target_lps, traj.entry_lps)))


def axis_angles_deg(traj: Trajectory) -> dict[str, float]:
    """Angles of the path direction in degrees.

    Returns
    -------
    dict
        ``to_L``, ``to_P``, ``to_S``: angle (0-180) between the direction and
        each positive patient axis; ``craniocaudal``: tilt out of the axial
        plane (0 = in plane, + = towards superior); ``axial_in_plane``: angle of
        the axial projection measured from +L towards +P (-180..180).
    """
    d = direction(traj)
    out = {f"to_{k}": float(np.degrees(np.arccos(np.clip(d @ a, -1.0, 1.0)))) for k, a in AXES_LPS.items()}
    out["craniocaudal"] = float(np.degrees(np.arcsin(np.clip(d[2], -1.0, 1.0))))
    out["axial_in_plane"] = float(np.degrees(np.arctan2(d[1], d[0]))) if np.hypot(d[0], d[1]) > 1e-12 else 0.0
    return out


def _axis_samples(traj: Trajectory, step_mm: float) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    length = path_length_mm(traj)
    n = max(2, int(np.ceil(length / step_mm)) + 1)
    s = np.linspace(0.0, length, n)
    return s, np.asarray(traj.entry_lps) + s[:, None] * direction(traj)[None, :]


def segment_clearance(
    traj: Trajectory, md: MaskDistance | SurfaceDistance, step_mm: float | None = None
) -> dict[str, Any]:
    """Clearance between the tool cylinder and one segment.

    Parameters
    ----------
    traj : Trajectory
        The tool (entry, target, diameter).
    md : MaskDistance or SurfaceDistance
        Distance helper of the segment (label grid or surface).
    step_mm : float, optional
        Sampling step along the axis; default a quarter of the smallest voxel
        size (or of the surface's median edge). The minimum is then refined 20x finer around the best sample, so
        the axis discretisation error is below ``step_mm / 40``.

    Returns
    -------
    dict
        ``axis_distance_mm`` (axis to segment), ``clearance_mm`` (cylinder
        surface to segment, negative when overlapping), ``crosses`` (bool),
        ``closest_depth_mm`` (distance from the entry along the path),
        ``closest_point_lps``, ``length_inside_mm`` (axis length inside the segment).
    """
    radius = traj.diameter_mm / 2.0
    if md.empty:
        return {"axis_distance_mm": None, "clearance_mm": None, "crosses": False, "closest_depth_mm": None,
                "closest_point_lps": None, "length_inside_mm": 0.0, "note": "segment is empty"}
    res = md.resolution_mm if isinstance(md, SurfaceDistance) else float(np.min(md.geometry.spacing))
    h = step_mm or res / 4.0
    s, pts = _axis_samples(traj, h)
    d = md.distance_mm(pts)
    i = int(np.argmin(d))
    fine = np.linspace(max(0.0, s[i] - h), min(s[-1], s[i] + h), 41)
    fine_pts = np.asarray(traj.entry_lps) + fine[:, None] * direction(traj)[None, :]
    df = md.distance_mm(fine_pts)
    j = int(np.argmin(df))
    axis_d = float(min(d[i], df[j]))
    depth = float(fine[j] if df[j] <= d[i] else s[i])
    inside = md.inside(pts)
    length_inside = float(np.count_nonzero(inside) * (s[1] - s[0])) if len(s) > 1 else 0.0
    closest = np.asarray(traj.entry_lps) + depth * direction(traj)
    return {
        "axis_distance_mm": axis_d,
        "clearance_mm": axis_d - radius,
        "crosses": bool(axis_d <= radius),
        "closest_depth_mm": depth,
        "closest_point_lps": closest.tolist(),
        "length_inside_mm": length_inside,
    }


def line_traversal(traj: Trajectory, labelmap: LabelMap) -> list[dict[str, Any]]:
    """Segments the tool axis passes through, with the path length in each (exact voxel walk).

    The axis entry -> target is cut at every voxel face it crosses (Siddon's
    parametric ray walk in index space, valid for any direction matrix); each
    piece lies in one voxel, looked up in every layer, so overlapping segments
    of different layers are each credited.

    Parameters
    ----------
    traj : Trajectory
        Entry and target in LPS mm.
    labelmap : LabelMap
        Segments.

    Returns
    -------
    list of dict
        In order of first entry along the path: ``segment``, ``length_mm``
        (axis length inside its voxels), ``entry_depth_mm`` / ``exit_depth_mm``
        (first entry and last exit, mm from the entry point), ``intervals_mm``
        (list of ``[start, end]`` depths).
    """
    geom = labelmap.geometry
    a, b = geom.lps_to_index(np.asarray([traj.entry_lps, traj.target_lps], dtype=np.float64))
    d = b - a
    length = path_length_mm(traj)
    ts = [np.array([0.0, 1.0])]
    for ax in range(3):
        if abs(d[ax]) < 1e-12:
            continue
        lo, hi = sorted((a[ax], b[ax]))
        faces = np.arange(np.ceil(lo - 0.5), np.floor(hi - 0.5) + 1) + 0.5
        ts.append((faces - a[ax]) / d[ax])
    t = np.unique(np.clip(np.concatenate(ts), 0.0, 1.0))
    if len(t) < 2:
        return []
    mid = (t[:-1] + t[1:]) / 2.0
    dl = np.diff(t) * length
    idx = np.floor(a[None, :] + mid[:, None] * d[None, :] + 0.5).astype(np.int64)
    ok = np.all((idx >= 0) & (idx < np.asarray(geom.shape)), axis=1)
    rows: list[dict[str, Any]] = []
    for seg in labelmap.segments:
        lab = np.zeros(len(mid), dtype=bool)
        layer = labelmap.layers[seg.layer]
        lab[ok] = layer[idx[ok, 0], idx[ok, 1], idx[ok, 2]] == seg.value
        if not lab.any():
            continue
        edges = np.flatnonzero(np.diff(np.concatenate([[0], lab.astype(np.int8), [0]])))
        intervals = [[float(t[s0] * length), float(t[e0] * length)] for s0, e0 in zip(edges[::2], edges[1::2],
                                                                                     strict=True)]
        rows.append({"segment": seg.name, "length_mm": float(dl[lab].sum()),
                     "entry_depth_mm": intervals[0][0], "exit_depth_mm": intervals[-1][1], "intervals_mm": intervals})
    rows.sort(key=lambda r: r["entry_depth_mm"])
    return rows


def _union_length(intervals: list[list[float]]) -> float:
    """Total length covered by possibly overlapping ``[start, end]`` intervals (mm)."""
    total, end = 0.0, -np.inf
    for a, b in sorted(intervals):
        if b > end:
            total += b - max(a, end)
            end = b
    return float(total)


def _segment_at(labelmap: LabelMap, point_lps: Any) -> list[str]:
    """Names of the segments whose voxel contains the point (every layer)."""
    ijk = np.floor(labelmap.geometry.lps_to_index(np.asarray(point_lps, dtype=np.float64)[None])[0] + 0.5)
    ijk = ijk.astype(np.int64)
    if np.any(ijk < 0) or np.any(ijk >= np.asarray(labelmap.geometry.shape)):
        return []
    return [s.name for s in labelmap.segments if labelmap.layers[s.layer][tuple(ijk)] == s.value]


def _surrounding_segment(labelmap: LabelMap, name: str, min_share: float = 0.5) -> str | None:
    """The segment that holds at least ``min_share`` of the one-voxel shell around segment ``name``."""
    from scipy import ndimage

    try:
        mask = labelmap.mask(name)
    except InputError:
        return None
    nz = np.argwhere(mask)
    if len(nz) == 0:
        return None
    lo = np.maximum(nz.min(axis=0) - 2, 0)
    hi = np.minimum(nz.max(axis=0) + 3, mask.shape)
    box = tuple(slice(int(x), int(y)) for x, y in zip(lo, hi, strict=True))
    sub = mask[box]
    shell = ndimage.binary_dilation(sub) & ~sub
    n_shell = int(shell.sum())
    if n_shell == 0:
        return None
    best, best_n = None, 0
    for seg in labelmap.segments:
        if seg.name == name:
            continue
        n = int(np.count_nonzero(shell & (labelmap.layers[seg.layer][box] == seg.value)))
        if n > best_n:
            best, best_n = seg.name, n
    return best if best_n >= min_share * n_shell else None


def _roles_for(traj: Trajectory, labelmap: LabelMap | None, names: list[str],
               roles: dict[str, str] | None) -> tuple[dict[str, dict[str, str]], str | None, str | None]:
    """Per-trajectory roles: defaults by name, user overrides, then the target and the organ containing it."""
    segs = labelmap.segments if labelmap is not None else names
    table = default_roles(segs)
    for n in names:
        table.setdefault(n, {"role": classify_name(n)[0], "category": classify_name(n)[1]})
    for n, r in (roles or {}).items():
        if r not in ROLES:
            raise InputError(f"segment role must be one of {ROLES}, got {r!r} for {n!r}")
        table.setdefault(n, {"role": r, "category": "other"})["role"] = r
    target = traj.target_segment
    organ = None
    if labelmap is not None:
        here = _segment_at(labelmap, traj.target_lps)
        if target is None:
            target = next((n for n in here if table[n]["role"] == "target"), None)
        cand = [n for n in here if n != target]
        if not cand and target is not None:
            sur = _surrounding_segment(labelmap, target)
            cand = [sur] if sur else []
        for n in cand:
            if roles and n in roles:  # the user decided this segment's role
                continue
            if table[n]["role"] == "traversable" or (table[n]["role"] == "critical"
                                                     and table[n]["category"] == "organ"):
                organ = n
                break
    if target in table:
        table[target] = {**table[target], "role": "target"}
    if organ is not None:
        table[organ] = {**table[organ], "role": "target_organ"}
    return table, target, organ


def evaluate_trajectory(
    traj: Trajectory,
    labelmap: LabelMap | None = None,
    critical_segments: list[str] | None = None,
    step_mm: float | None = None,
    progress: Progress | None = None,
    surfaces: dict[str, SurfaceModel] | None = None,
    roles: dict[str, str] | None = None,
    safety_margin_mm: float = DEFAULT_SAFETY_MARGIN_MM,
) -> dict[str, Any]:
    """All metrics of a trajectory (stored in ``Trajectory.metrics``).

    Tissue the path must traverse (body wall, the organ containing the target,
    the target) is listed under ``traversed`` with the length through each;
    only *critical* structures are checked for crossing and clearance (see
    :mod:`planning.segment_roles` for the default roles).

    Parameters
    ----------
    traj : Trajectory
        Entry/target in LPS mm.
    labelmap : LabelMap, optional
        Segments to check; without it only geometric metrics are returned.
    critical_segments : list of str, optional
        Segment names to check, overriding the default critical set (the
        segments whose role is ``critical``, minus the target segment and the
        solid organ containing the target).
    step_mm : float, optional
        Axis sampling step (see :func:`segment_clearance`).
    surfaces : dict of str -> SurfaceModel, optional
        Surfaces by segment name; a structure with a surface here is measured
        against the surface (``"source": "surface"``) instead of its voxels. With
        no label map, the structures are exactly these surfaces.
    roles : dict of str -> str, optional
        Role overrides by segment name (:data:`planning.segment_roles.ROLES`:
        ``container``, ``traversable``, ``target``, ``critical``, ``ignore``).
        They win over ``critical_segments``: a listed segment overridden to a
        non-critical role is not checked, a segment overridden to ``critical``
        is checked even when not listed.
    safety_margin_mm : float
        A critical structure closer than this to the tool surface (clearance) is
        listed in ``too_close``. For a plan use :func:`plan_safety_settings`
        (the plan's margin, or the trajectory's own).

    Returns
    -------
    dict
        ``path_length_mm``, ``direction_lps``, ``angles_deg``, ``reaches_target``,
        ``structures`` (one dict per *critical* segment, see
        :func:`segment_clearance`, plus ``role`` and ``within_margin``),
        ``min_clearance_mm``, ``closest_structure``, ``crossed`` (critical names crossed),
        ``too_close`` (critical names not crossed but within the margin), ``safety_margin_mm``,
        ``traversed`` (see :func:`line_traversal`, plus ``role`` and ``critical``), ``unlabelled_length_mm``
        (axis length in no segment: unsegmented tissue, air, outside the image),
        ``roles`` (name -> role for this trajectory), ``role_overrides`` (the ``roles`` given),
        ``critical_source`` (``"plan"`` or ``"default"``),
        ``target_segment``, ``target_organ``, ``target_inside`` (target point inside its segment, if given).
    """
    prog = ensure_progress(progress)
    length = path_length_mm(traj)
    out: dict[str, Any] = {
        "path_length_mm": length,
        "direction_lps": direction(traj).tolist(),
        "angles_deg": axis_angles_deg(traj),
        "tool_radius_mm": traj.diameter_mm / 2.0,
        "reaches_target": None if traj.length_mm is None else bool(traj.length_mm >= length),
        "structures": [],
        "min_clearance_mm": None,
        "closest_structure": None,
        "crossed": [],
        "too_close": [],
        "safety_margin_mm": float(safety_margin_mm),
        "role_overrides": dict(roles or {}),
        "traversed": [],
    }
    if not (np.isfinite(safety_margin_mm) and safety_margin_mm >= 0):
        raise InputError(f"safety margin must be >= 0 mm, got {safety_margin_mm}")
    surfaces = surfaces or {}
    if labelmap is None and not surfaces:
        return out
    all_names = [s.name for s in labelmap.segments] if labelmap is not None else []
    all_names += [n for n in surfaces if n not in all_names]
    table, target, organ = _roles_for(traj, labelmap, all_names, roles)
    if critical_segments:
        given = roles or {}
        names = [n for n in critical_segments if n != traj.target_segment and given.get(n, "critical") == "critical"]
        names += [n for n, r in given.items() if r == "critical" and n in all_names and n not in names and n != target]
        out["critical_source"] = "plan"
    else:
        names = [n for n in all_names if table[n]["role"] == "critical" and n != target]
        out["critical_source"] = "default"
    out["roles"] = {n: table[n]["role"] for n in all_names}
    out["target_segment"] = target
    out["target_organ"] = organ
    critical = set(names)
    if labelmap is not None:
        prog.update(0.02, "walking the path through the segments")
        out["traversed"] = [{**r, "role": table.get(r["segment"], {}).get("role", "critical"),
                             "critical": r["segment"] in critical} for r in line_traversal(traj, labelmap)]
        out["unlabelled_length_mm"] = length - _union_length([iv for r in out["traversed"] for iv in r["intervals_mm"]])
    for n, name in enumerate(names):
        prog.raise_if_cancelled()
        prog.update(0.05 + 0.95 * n / max(1, len(names)), f"clearance to {name}")
        if name in surfaces:
            res = segment_clearance(traj, SurfaceDistance(surfaces[name]), step_mm)
            source = "surface"
        else:
            try:
                if labelmap is None:
                    raise InputError(f"no segment {name!r}")
                mask = labelmap.mask(name)
            except InputError:
                out["structures"].append({"segment": name, "note": "segment not found", "crosses": False,
                                          "role": "critical"})
                continue
            res = segment_clearance(traj, MaskDistance(mask, labelmap.geometry), step_mm)
            source = "label map"
        c = res.get("clearance_mm")
        res["within_margin"] = bool(c is not None and not res["crosses"] and c < safety_margin_mm)
        out["structures"].append({"segment": name, "source": source, "role": "critical", **res})
    valid = [s for s in out["structures"] if s.get("clearance_mm") is not None]
    if valid:
        best = min(valid, key=lambda s: s["clearance_mm"])
        out["min_clearance_mm"] = best["clearance_mm"]
        out["closest_structure"] = best["segment"]
    out["crossed"] = [s["segment"] for s in out["structures"] if s.get("crosses")]
    out["too_close"] = [s["segment"] for s in out["structures"] if s.get("within_margin")]
    if traj.target_segment and labelmap is not None:
        try:
            md = MaskDistance(labelmap.mask(traj.target_segment), labelmap.geometry)
            out["target_inside"] = bool(md.inside(np.asarray(traj.target_lps)[None])[0])
        except InputError:
            out["target_inside"] = None
    prog.update(1.0, "trajectory evaluated")
    return out


def plan_safety_settings(plan: Plan, traj: Trajectory) -> dict[str, Any]:
    """Keyword arguments of :func:`evaluate_trajectory` saved in ``plan`` for ``traj``.

    ``critical_segments`` (the plan's list, or ``None`` = default set),
    ``roles`` (:attr:`twin.plan.Plan.segment_roles`) and ``safety_margin_mm``
    (the trajectory's own margin, else the plan's).

    Examples
    --------
    >>> p = Plan(segment_roles={"ribs": "traversable"}, safety_margin_mm=8.0)
    >>> plan_safety_settings(p, Trajectory(name="t", target_lps=(0, 0, 9)))["safety_margin_mm"]
    8.0
    """
    return {"critical_segments": list(plan.critical_segments) or None,
            "roles": dict(plan.segment_roles),
            "safety_margin_mm": plan.margin_for(traj)}


# ------------------------------------------------------------------ reslice
@dataclass(frozen=True)
class ResliceFrame:
    """An oblique plane: ``origin_lps`` + a * ``u_lps`` + b * ``v_lps`` (mm); ``normal_lps`` = u x v."""

    origin_lps: NDArray[np.float64]
    u_lps: NDArray[np.float64]
    v_lps: NDArray[np.float64]

    @property
    def normal_lps(self) -> NDArray[np.float64]:
        """Unit normal of the plane."""
        return np.cross(self.u_lps, self.v_lps)


def _perpendicular(d: NDArray[np.float64]) -> NDArray[np.float64]:
    ref = AXES_LPS["S"] if abs(d[2]) < 0.9 else AXES_LPS["P"]
    u = np.cross(ref, d)
    return u / np.linalg.norm(u)


def probes_eye_frame(traj: Trajectory, depth_mm: float | None = None) -> ResliceFrame:
    """Plane perpendicular to the path at ``depth_mm`` from the entry (default: the target).

    The in-plane axes are stable: ``u`` is horizontal (perpendicular to S and
    the path) unless the path is nearly cranio-caudal.
    """
    d = direction(traj)
    depth = path_length_mm(traj) if depth_mm is None else float(depth_mm)
    u = _perpendicular(d)
    v = np.cross(d, u)
    return ResliceFrame(np.asarray(traj.entry_lps) + depth * d, u, v)


def along_path_frames(traj: Trajectory) -> tuple[ResliceFrame, ResliceFrame]:
    """Two orthogonal planes containing the path, centred at its midpoint; ``u`` runs entry -> target."""
    d = direction(traj)
    p = _perpendicular(d)
    mid = (np.asarray(traj.entry_lps) + np.asarray(traj.target_lps)) / 2.0
    return ResliceFrame(mid, d, p), ResliceFrame(mid, d, np.cross(d, p))


def reslice(
    array: NDArray[Any],
    geometry: ImageGeometry,
    frame: ResliceFrame,
    size_mm: tuple[float, float] = (100.0, 100.0),
    spacing_mm: float = 0.5,
    order: int = 1,
    fill: float = 0.0,
) -> NDArray[np.float64]:
    """Sample ``array`` on an oblique plane.

    Parameters
    ----------
    array : ndarray (ni, nj, nk)
        Voxels on ``geometry``.
    frame : ResliceFrame
        Plane; the output is centred on its origin.
    size_mm : (float, float)
        Extent along u and v.
    spacing_mm : float
        Output pixel size.
    order : int
        Interpolation order (0 nearest for label maps, 1 linear).

    Returns
    -------
    ndarray, (nu, nv)
        ``out[a, b]`` is the value at ``origin + (a - (nu-1)/2) * spacing * u + (b - (nv-1)/2) * spacing * v``.
    """
    from scipy import ndimage

    nu = max(1, int(round(size_mm[0] / spacing_mm)) + 1)
    nv = max(1, int(round(size_mm[1] / spacing_mm)) + 1)
    a = (np.arange(nu) - (nu - 1) / 2.0) * spacing_mm
    b = (np.arange(nv) - (nv - 1) / 2.0) * spacing_mm
    pts = (frame.origin_lps[None, None, :] + a[:, None, None] * frame.u_lps[None, None, :]
           + b[None, :, None] * frame.v_lps[None, None, :])
    ijk = geometry.lps_to_index(pts.reshape(-1, 3))
    vals = ndimage.map_coordinates(np.asarray(array, dtype=np.float64), ijk.T, order=order, mode="constant", cval=fill)
    return vals.reshape(nu, nv)
