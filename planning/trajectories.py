"""Straight tool trajectories: length, angles, clearance from critical structures, probe's-eye reslice.

Frame: LPS millimetres. A trajectory's tool is a cylinder of diameter
``diameter_mm`` whose axis runs from the entry point to the target point.
The clearance to a segment is the distance from the segment (its voxel cubes,
see :mod:`planning.distance`) to the cylinder surface: axis distance minus
the tool radius; zero or less means the tool crosses the structure.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from planning.distance import MaskDistance, SurfaceDistance
from twin.errors import InputError
from twin.geometry import ImageGeometry
from twin.labelmap import LabelMap
from twin.meshes import SurfaceModel
from twin.plan import Trajectory
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


def evaluate_trajectory(
    traj: Trajectory,
    labelmap: LabelMap | None = None,
    critical_segments: list[str] | None = None,
    step_mm: float | None = None,
    progress: Progress | None = None,
    surfaces: dict[str, SurfaceModel] | None = None,
) -> dict[str, Any]:
    """All metrics of a trajectory (stored in ``Trajectory.metrics``).

    Parameters
    ----------
    traj : Trajectory
        Entry/target in LPS mm.
    labelmap : LabelMap, optional
        Segments to check; without it only geometric metrics are returned.
    critical_segments : list of str, optional
        Segment names to check (default: every segment except the target one).
    step_mm : float, optional
        Axis sampling step (see :func:`segment_clearance`).
    surfaces : dict of str -> SurfaceModel, optional
        Surfaces by segment name; a structure with a surface here is measured
        against the surface (``"source": "surface"``) instead of its voxels. With
        no label map, the structures are exactly these surfaces.

    Returns
    -------
    dict
        ``path_length_mm``, ``direction_lps``, ``angles_deg``, ``reaches_target``,
        ``structures`` (one dict per segment, see :func:`segment_clearance`),
        ``min_clearance_mm``, ``closest_structure``, ``crossed`` (names),
        ``target_inside`` (target point inside its segment, if given).
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
    }
    surfaces = surfaces or {}
    if labelmap is None and not surfaces:
        return out
    if critical_segments:
        names = list(critical_segments)
    else:
        names = [s.name for s in labelmap.segments] if labelmap is not None else list(surfaces)
    names = [n for n in names if n != traj.target_segment]
    for n, name in enumerate(names):
        prog.raise_if_cancelled()
        prog.update(n / max(1, len(names)), f"clearance to {name}")
        if name in surfaces:
            res = segment_clearance(traj, SurfaceDistance(surfaces[name]), step_mm)
            out["structures"].append({"segment": name, "source": "surface", **res})
            continue
        try:
            if labelmap is None:
                raise InputError(f"no segment {name!r}")
            mask = labelmap.mask(name)
        except InputError:
            out["structures"].append({"segment": name, "note": "segment not found", "crosses": False})
            continue
        res = segment_clearance(traj, MaskDistance(mask, labelmap.geometry), step_mm)
        out["structures"].append({"segment": name, "source": "label map", **res})
    valid = [s for s in out["structures"] if s.get("clearance_mm") is not None]
    if valid:
        best = min(valid, key=lambda s: s["clearance_mm"])
        out["min_clearance_mm"] = best["clearance_mm"]
        out["closest_structure"] = best["segment"]
    out["crossed"] = [s["segment"] for s in out["structures"] if s.get("crosses")]
    if traj.target_segment and labelmap is not None:
        try:
            md = MaskDistance(labelmap.mask(traj.target_segment), labelmap.geometry)
            out["target_inside"] = bool(md.inside(np.asarray(traj.target_lps)[None])[0])
        except InputError:
            out["target_inside"] = None
    prog.update(1.0, "trajectory evaluated")
    return out


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
