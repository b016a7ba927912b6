"""3D Slicer markups (``.mrk.json``) import and export.

Follows Slicer's markups JSON schema (``markups-schema-v1.0.3.json``): a top
object with ``@schema`` and a ``markups`` list; each markup has a ``type``
(``Fiducial``, ``Line``, ``Angle``, ``Plane``...), a ``coordinateSystem``
(``LPS`` or ``RAS``), ``controlPoints`` with ``position``; planes of
``planeType`` ``pointNormal`` carry their orientation in ``baseToNode``
(row-major 4x4 whose third column is the normal) and/or ``normal``.

We write ``coordinateSystem: "LPS"`` (our internal frame, mm) and read both
LPS and RAS files (RAS is converted: x, y negated). Units ``um`` are scaled.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from twin.errors import InputError
from twin.io.atomic import atomic_write_text
from twin.plan import CutPlane, Landmark, Measurement, Plan

SCHEMA_URL = ("https://raw.githubusercontent.com/slicer/slicer/master/Modules/Loadable/Markups/"
              "Resources/Schema/markups-schema-v1.0.3.json#")
_FLIP = np.array([-1.0, -1.0, 1.0])


@dataclass
class MarkupsContent:
    """What a markups file holds, converted to plan objects (LPS mm)."""

    landmarks: list[Landmark] = field(default_factory=list)
    measurements: list[Measurement] = field(default_factory=list)
    planes: list[tuple[str, CutPlane]] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    def add_to(self, plan: Plan) -> Plan:
        """A copy of ``plan`` with the landmarks and measurements added (planes are returned separately)."""
        new = Plan.from_dict(plan.to_dict())
        for obj in [*self.landmarks, *self.measurements]:
            new.add(obj)
        return new


def _point_dict(n: int, label: str, pos: Any, description: str = "") -> dict[str, Any]:
    return {
        "id": str(n), "label": label, "description": description, "associatedNodeID": "",
        "position": [float(x) for x in pos],
        "orientation": [-1.0, -0.0, -0.0, -0.0, -1.0, -0.0, 0.0, 0.0, 1.0],
        "selected": True, "locked": False, "visibility": True, "positionStatus": "defined",
    }


def _markup(mtype: str, name: str, points: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    m: dict[str, Any] = {
        "type": mtype, "name": name, "coordinateSystem": "LPS", "coordinateUnits": "mm",
        "locked": False, "fixedNumberOfControlPoints": False, "labelFormat": "%N-%d",
        "lastUsedControlPointNumber": len(points), "controlPoints": points,
    }
    m.update(extra)
    m["measurements"] = []
    m["display"] = {"visibility": True, "opacity": 1.0, "color": [0.4, 1.0, 1.0],
                    "selectedColor": [1.0, 0.5, 0.5], "pointLabelsVisibility": True}
    return m


def plane_base_to_node(plane: CutPlane) -> np.ndarray:
    """4x4 ``baseToNode``: columns = in-plane x, in-plane y, normal (LPS); translation = origin."""
    nrm = np.asarray(plane.normal_lps)
    ref = np.array([1.0, 0.0, 0.0]) if abs(nrm[0]) < 0.9 else np.array([0.0, 1.0, 0.0])
    x = np.cross(ref, nrm)
    x /= np.linalg.norm(x)
    y = np.cross(nrm, x)
    m = np.eye(4)
    m[:3, 0], m[:3, 1], m[:3, 2], m[:3, 3] = x, y, nrm, plane.origin_lps
    return m


def plan_to_markups(plan: Plan, planes: list[tuple[str, CutPlane]] | None = None,
                    include_trajectories: bool = True) -> dict[str, Any]:
    """Slicer markups JSON (dict) of a plan: landmarks as one Fiducial list, measurements as
    Line/Angle, trajectories as Line (entry -> target), resection planes as Plane."""
    markups: list[dict[str, Any]] = []
    if plan.landmarks:
        pts = [_point_dict(i + 1, lm.name, lm.position_lps, lm.description) for i, lm in enumerate(plan.landmarks)]
        markups.append(_markup("Fiducial", "Landmarks", pts))
    for m in plan.measurements:
        labels = ["A", "B"] if m.kind == "distance" else ["A", "O", "B"]
        pts = [_point_dict(i + 1, lab, p) for i, (lab, p) in enumerate(zip(labels, m.points_lps))]
        markups.append(_markup("Line" if m.kind == "distance" else "Angle", m.name, pts,
                               fixedNumberOfControlPoints=True))
    if include_trajectories:
        for t in plan.trajectories:
            pts = [_point_dict(1, "entry", t.entry_lps), _point_dict(2, "target", t.target_lps)]
            markups.append(_markup("Line", t.name, pts, fixedNumberOfControlPoints=True))
    all_planes = list(planes or [])
    for res in plan.resections:
        all_planes.extend((res.name if len(res.planes) == 1 else f"{res.name}-{i + 1}", p)
                          for i, p in enumerate(res.planes))
    for name, p in all_planes:
        b2n = plane_base_to_node(p)
        markups.append(_markup(
            "Plane", name, [_point_dict(1, f"{name}-1", p.origin_lps)],
            planeType="pointNormal", sizeMode="auto", autoScalingSizeFactor=1.0,
            center=[float(x) for x in p.origin_lps], normal=[float(x) for x in p.normal_lps],
            size=[100.0, 100.0, 0.0], planeBounds=[-50.0, 50.0, -50.0, 50.0],
            objectToBase=np.eye(4).reshape(-1).tolist(), baseToNode=b2n.reshape(-1).tolist(),
            orientation=b2n[:3, :3].reshape(-1).tolist()))
    return {"@schema": SCHEMA_URL, "markups": markups}


def write_markups(path: str | Path, plan: Plan, planes: list[tuple[str, CutPlane]] | None = None) -> Path:
    """Write a plan's markups to ``path`` (``.mrk.json``) atomically."""
    p = Path(path)
    atomic_write_text(p, json.dumps(plan_to_markups(plan, planes), indent=2))
    return p


def read_markups(path: str | Path) -> MarkupsContent:
    """Read a Slicer ``.mrk.json`` file (LPS or RAS, mm or um).

    Raises
    ------
    InputError
        Not JSON, no ``markups`` list, malformed points.
    """
    p = Path(path)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read markups file ({exc})", p) from None
    try:
        return markups_from_dict(data)
    except InputError as exc:
        raise InputError(exc.reason, p) from None


def markups_from_dict(data: Any) -> MarkupsContent:
    """Convert parsed markups JSON to plan objects (see :func:`read_markups`)."""
    if not isinstance(data, dict) or not isinstance(data.get("markups"), list):
        raise InputError("not a Slicer markups file (no 'markups' list)")
    out = MarkupsContent()
    for k, m in enumerate(data["markups"]):
        if not isinstance(m, dict):
            raise InputError(f"markup {k} is not an object")
        mtype = m.get("type")
        name = str(m.get("name") or f"{mtype}-{k + 1}")
        system = m.get("coordinateSystem", "LPS")
        if system not in ("LPS", "RAS"):
            raise InputError(f"markup {name!r}: unknown coordinateSystem {system!r}")
        units = m.get("coordinateUnits", "mm")
        if isinstance(units, list):
            units = units[0] if units else "mm"
        scale = {"mm": 1.0, "um": 1e-3}.get(str(units))
        if scale is None:
            raise InputError(f"markup {name!r}: unsupported coordinateUnits {units!r}")
        flip = _FLIP if system == "RAS" else np.ones(3)

        def conv(pos: Any, flip: np.ndarray = flip, scale: float = scale, name: str = name) -> np.ndarray:
            arr = np.asarray(pos, dtype=np.float64).reshape(-1)
            if arr.shape != (3,) or not np.all(np.isfinite(arr)):
                raise InputError(f"markup {name!r}: invalid position {pos!r}")
            return arr * flip * scale

        cps = [cp for cp in m.get("controlPoints", []) if cp.get("positionStatus", "defined") == "defined"
               and "position" in cp]
        pts = [conv(cp["position"]) for cp in cps]
        if mtype == "Fiducial":
            for i, (cp, pt) in enumerate(zip(cps, pts)):
                out.landmarks.append(Landmark(name=str(cp.get("label") or f"{name}-{i + 1}"), position_lps=pt,
                                              description=str(cp.get("description", ""))))
        elif mtype == "Line" and len(pts) == 2:
            out.measurements.append(Measurement(name=name, kind="distance", points_lps=tuple(pts)))
        elif mtype == "Angle" and len(pts) == 3:
            out.measurements.append(Measurement(name=name, kind="angle", points_lps=tuple(pts)))
        elif mtype == "Plane":
            out.planes.append((name, _plane_from_markup(m, pts, flip, scale, name)))
        else:
            out.skipped.append(f"{mtype} {name!r} ({len(pts)} points)")
    return out


def _plane_from_markup(m: dict[str, Any], pts: list[np.ndarray], flip: np.ndarray, scale: float,
                       name: str) -> CutPlane:
    """Origin and normal of a Slicer plane markup (pointNormal or 3 points)."""
    ptype = str(m.get("planeType", "pointNormal")).lower()
    if ptype == "3points" and len(pts) >= 3:
        nrm = np.cross(pts[1] - pts[0], pts[2] - pts[0])
        return CutPlane(pts[0], nrm)
    if "baseToNode" in m:
        b2n = np.asarray(m["baseToNode"], dtype=np.float64).reshape(4, 4)
        o2b = np.asarray(m.get("objectToBase", np.eye(4).reshape(-1)), dtype=np.float64).reshape(4, 4)
        nrm = (b2n[:3, :3] @ o2b[:3, :3])[:, 2] * flip
        origin = pts[0] if pts else (b2n[:3, 3] * flip * scale)
    elif "normal" in m:
        nrm = np.asarray(m["normal"], dtype=np.float64) * flip
        origin = pts[0] if pts else np.asarray(m.get("center", (0, 0, 0)), float) * flip * scale
    else:
        raise InputError(f"plane markup {name!r} has no normal or baseToNode")
    return CutPlane(origin, nrm)
