"""The intervention plan: landmarks, measurements, trajectories, resections, margins, ablations, rehearsals.

Frame: every coordinate is patient **LPS, millimetres** (``*_lps`` fields);
lengths are mm, angles degrees. A :class:`Plan` is plain data: geometry and
metrics are computed by :mod:`planning` (pure functions), which store their
results in the ``metrics`` dict of each object so that reports can be written
without recomputing.

Storage: ``Project.plan`` holds ``Plan.to_dict()`` (JSON with
``schema_version``, ``frame``). :meth:`Plan.from_dict` migrates older versions
(version 0 = an unversioned dict with ``landmarks`` as ``{name: [x, y, z]}``).
Edit a project's plan only through the commands of :mod:`twin.plan_commands`.
"""

from __future__ import annotations

import copy
import uuid
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any, ClassVar

import numpy as np

from twin.errors import InputError
from twin.geometry import FRAME

SCHEMA_VERSION = 1
"""Version of the plan JSON written by :meth:`Plan.to_dict`."""

Vec3 = tuple[float, float, float]

TRAJECTORY_KINDS = ("needle", "screw", "electrode", "ablation_probe")
MEASUREMENT_KINDS = ("distance", "angle")
REHEARSAL_KINDS = ("retraction", "indentation")
SEGMENT_ROLES = ("container", "traversable", "target", "critical", "ignore")
"""Role a segment may be given in :attr:`Plan.segment_roles` (meaning: :mod:`planning.segment_roles`)."""
DEFAULT_SAFETY_MARGIN_MM = 5.0
"""Clearance (mm, tool surface to a critical structure) below which a trajectory is flagged."""


def _margin_mm(value: Any, what: str) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{what} must be a number of mm, got {value!r}") from None
    if not (np.isfinite(v) and v >= 0):
        raise InputError(f"{what} must be >= 0 mm, got {value!r}")
    return v


def validate_segment_roles(roles: Any) -> dict[str, str]:
    """``{segment name: role}`` checked against :data:`SEGMENT_ROLES` (a plain copy).

    Raises
    ------
    InputError
        Not a mapping, an empty name, or an unknown role.
    """
    if not isinstance(roles, dict):
        raise InputError(f"segment roles must be a mapping name -> role, got {type(roles).__name__}")
    out: dict[str, str] = {}
    for name, role in roles.items():
        if not str(name):
            raise InputError("segment role given for an empty segment name")
        if role not in SEGMENT_ROLES:
            raise InputError(f"segment role must be one of {SEGMENT_ROLES}, got {role!r} for {name!r}")
        out[str(name)] = str(role)
    return out


def new_id(prefix: str) -> str:
    """A short unique id such as ``"traj-3f2a9c1b"``."""
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def _vec3(value: Any, what: str) -> Vec3:
    arr = np.asarray(value, dtype=np.float64).reshape(-1)
    if arr.shape != (3,) or not np.all(np.isfinite(arr)):
        raise InputError(f"{what} must be 3 finite numbers (LPS mm), got {value!r}")
    return (float(arr[0]), float(arr[1]), float(arr[2]))


def _unit(value: Any, what: str) -> Vec3:
    v = np.asarray(_vec3(value, what))
    n = float(np.linalg.norm(v))
    if n < 1e-12:
        raise InputError(f"{what} must be a non-zero vector")
    v = v / n
    return (float(v[0]), float(v[1]), float(v[2]))


@dataclass(frozen=True)
class PlanObject:
    """Base of every plan object: a unique ``id`` and a display ``name``."""

    collection: ClassVar[str] = ""
    id: str = ""
    name: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (tuples become lists)."""
        return _jsonify(asdict(self))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PlanObject:
        """Build from :meth:`to_dict` output; unknown keys are ignored."""
        known = {f.name for f in fields(cls)}
        kwargs = {k: copy.deepcopy(v) for k, v in data.items() if k in known}
        return cls(**kwargs)

    def with_metrics(self, metrics: dict[str, Any]) -> PlanObject:
        """A copy with ``metrics`` replaced (objects without metrics return themselves)."""
        if "metrics" not in {f.name for f in fields(self)}:
            return self
        return replace(self, metrics=_jsonify(metrics))  # type: ignore[call-arg]


def _jsonify(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonify(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonify(v) for v in value]
    if isinstance(value, np.ndarray):
        return _jsonify(value.tolist())
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    return value


@dataclass(frozen=True)
class Landmark(PlanObject):
    """A named point, ``position_lps`` in mm."""

    collection: ClassVar[str] = "landmarks"
    position_lps: Vec3 = (0.0, 0.0, 0.0)
    description: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "position_lps", _vec3(self.position_lps, f"landmark {self.name!r} position"))
        if not self.id:
            object.__setattr__(self, "id", new_id("lm"))


@dataclass(frozen=True)
class Measurement(PlanObject):
    """A distance (2 points) or an angle (3 points, vertex in the middle).

    ``value`` (mm or degrees) is derived from ``points_lps``.
    """

    collection: ClassVar[str] = "measurements"
    kind: str = "distance"
    points_lps: tuple[Vec3, ...] = ()

    def __post_init__(self) -> None:
        if self.kind not in MEASUREMENT_KINDS:
            raise InputError(f"measurement kind must be one of {MEASUREMENT_KINDS}, got {self.kind!r}")
        pts = tuple(_vec3(p, f"measurement {self.name!r} point") for p in self.points_lps)
        need = 2 if self.kind == "distance" else 3
        if len(pts) != need:
            raise InputError(f"a {self.kind} measurement needs {need} points, got {len(pts)}")
        object.__setattr__(self, "points_lps", pts)
        if not self.id:
            object.__setattr__(self, "id", new_id("meas"))

    @property
    def value(self) -> float:
        """Distance in mm or angle in degrees (0-180)."""
        p = np.asarray(self.points_lps)
        if self.kind == "distance":
            return float(np.linalg.norm(p[1] - p[0]))
        a, b = p[0] - p[1], p[2] - p[1]
        na, nb = np.linalg.norm(a), np.linalg.norm(b)
        if na < 1e-12 or nb < 1e-12:
            return float("nan")
        return float(np.degrees(np.arctan2(np.linalg.norm(np.cross(a, b)), float(np.dot(a, b)))))

    @property
    def units(self) -> str:
        """``"mm"`` or ``"deg"``."""
        return "mm" if self.kind == "distance" else "deg"

    def to_dict(self) -> dict[str, Any]:  # noqa: D102
        d = super().to_dict()
        d["value"] = self.value
        d["units"] = self.units
        return d


@dataclass(frozen=True)
class Trajectory(PlanObject):
    """A straight tool path from ``entry_lps`` (skin) to ``target_lps`` (tip), mm.

    ``kind`` is one of ``needle, screw, electrode, ablation_probe``. ``length_mm``
    is the usable tool length (``None`` = long enough). ``target_segment`` is
    excluded from the critical-structure check. ``safety_margin_mm`` overrides
    :attr:`Plan.safety_margin_mm` for this trajectory (``None`` = the plan's).
    ``metrics`` holds results of :func:`planning.trajectories.evaluate_trajectory`.
    """

    collection: ClassVar[str] = "trajectories"
    entry_lps: Vec3 = (0.0, 0.0, 0.0)
    target_lps: Vec3 = (0.0, 0.0, 1.0)
    diameter_mm: float = 2.0
    length_mm: float | None = None
    kind: str = "needle"
    target_segment: str | None = None
    safety_margin_mm: float | None = None
    metrics: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.safety_margin_mm is not None:
            object.__setattr__(self, "safety_margin_mm",
                               _margin_mm(self.safety_margin_mm, f"trajectory {self.name!r} safety margin"))
        object.__setattr__(self, "entry_lps", _vec3(self.entry_lps, f"trajectory {self.name!r} entry"))
        object.__setattr__(self, "target_lps", _vec3(self.target_lps, f"trajectory {self.name!r} target"))
        if self.kind not in TRAJECTORY_KINDS:
            raise InputError(f"trajectory kind must be one of {TRAJECTORY_KINDS}, got {self.kind!r}")
        if not (np.isfinite(self.diameter_mm) and self.diameter_mm > 0):
            raise InputError(f"tool diameter must be > 0 mm, got {self.diameter_mm}")
        if self.length_mm is not None and not self.length_mm > 0:
            raise InputError(f"tool length must be > 0 mm, got {self.length_mm}")
        if np.allclose(self.entry_lps, self.target_lps):
            raise InputError(f"trajectory {self.name!r}: entry and target are the same point")
        object.__setattr__(self, "diameter_mm", float(self.diameter_mm))
        if not self.id:
            object.__setattr__(self, "id", new_id("traj"))


@dataclass(frozen=True)
class CutPlane:
    """A cutting plane through ``origin_lps``; the side ``normal_lps`` points to is resected."""

    origin_lps: Vec3 = (0.0, 0.0, 0.0)
    normal_lps: Vec3 = (0.0, 0.0, 1.0)

    def __post_init__(self) -> None:
        object.__setattr__(self, "origin_lps", _vec3(self.origin_lps, "plane origin"))
        object.__setattr__(self, "normal_lps", _unit(self.normal_lps, "plane normal"))

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> CutPlane:
        """Inverse of ``asdict``."""
        return cls(d["origin_lps"], d["normal_lps"])


@dataclass(frozen=True)
class Resection(PlanObject):
    """A virtual resection of ``organ_segment``.

    Either ``planes`` (each removes the half-space its normal points to; several
    planes are combined by ``combine`` = ``"union"`` or ``"intersection"``), or an
    open ``polyline_lps`` extruded along ``extrude_direction_lps`` (the resected
    side is to the left of the polyline seen from the tip of the extrusion
    direction, i.e. the side ``direction x segment`` points to).
    """

    collection: ClassVar[str] = "resections"
    organ_segment: str = ""
    tumour_segment: str | None = None
    planes: tuple[CutPlane, ...] = ()
    combine: str = "union"
    polyline_lps: tuple[Vec3, ...] = ()
    extrude_direction_lps: Vec3 | None = None
    vessel_segments: tuple[str, ...] = ()
    metrics: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        planes = tuple(p if isinstance(p, CutPlane) else CutPlane.from_dict(p) for p in self.planes)
        object.__setattr__(self, "planes", planes)
        poly = tuple(_vec3(p, "polyline point") for p in self.polyline_lps)
        object.__setattr__(self, "polyline_lps", poly)
        object.__setattr__(self, "vessel_segments", tuple(str(v) for v in self.vessel_segments))
        if self.combine not in ("union", "intersection"):
            raise InputError(f"resection combine must be 'union' or 'intersection', got {self.combine!r}")
        if poly:
            if len(poly) < 2:
                raise InputError("a polyline cut needs at least 2 points")
            if self.extrude_direction_lps is None:
                raise InputError("a polyline cut needs an extrusion direction")
            object.__setattr__(self, "extrude_direction_lps", _unit(self.extrude_direction_lps, "extrusion direction"))
        elif not planes:
            raise InputError(f"resection {self.name!r} needs at least one plane or a polyline")
        if not self.organ_segment:
            raise InputError(f"resection {self.name!r} needs an organ segment")
        if not self.id:
            object.__setattr__(self, "id", new_id("res"))


@dataclass(frozen=True)
class SafetyMargin(PlanObject):
    """Distances from ``target_segment`` (tumour) to ``critical_segments``; warn below ``threshold_mm``."""

    collection: ClassVar[str] = "safety_margins"
    target_segment: str = ""
    critical_segments: tuple[str, ...] = ()
    threshold_mm: float = 5.0
    metrics: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "critical_segments", tuple(str(c) for c in self.critical_segments))
        if not self.target_segment:
            raise InputError("a safety margin needs a target segment")
        if not self.id:
            object.__setattr__(self, "id", new_id("margin"))


@dataclass(frozen=True)
class AblationZone(PlanObject):
    """A sphere or ellipsoid ablation zone.

    ``radii_mm`` are the semi-axes along ``axes_lps`` (3 orthonormal rows; the
    first is usually the probe axis). A sphere has three equal radii.
    Coverage is evaluated on ``tumour_segment`` grown by ``margin_mm``.
    """

    collection: ClassVar[str] = "ablation_zones"
    center_lps: Vec3 = (0.0, 0.0, 0.0)
    radii_mm: Vec3 = (15.0, 15.0, 15.0)
    axes_lps: tuple[Vec3, Vec3, Vec3] = ((1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0))
    tumour_segment: str | None = None
    margin_mm: float = 5.0
    trajectory_id: str | None = None
    metrics: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "center_lps", _vec3(self.center_lps, "ablation centre"))
        radii = _vec3(self.radii_mm, "ablation radii")
        if min(radii) <= 0:
            raise InputError(f"ablation radii must be > 0 mm, got {radii}")
        object.__setattr__(self, "radii_mm", radii)
        axes = np.asarray([_vec3(a, "ablation axis") for a in self.axes_lps])
        if axes.shape != (3, 3) or np.max(np.abs(axes @ axes.T - np.eye(3))) > 1e-6:
            raise InputError("ablation axes must be 3 orthonormal vectors")
        object.__setattr__(self, "axes_lps", tuple(tuple(float(x) for x in a) for a in axes))
        if self.margin_mm < 0:
            raise InputError("ablation margin must be >= 0 mm")
        if not self.id:
            object.__setattr__(self, "id", new_id("abl"))

    @property
    def shape(self) -> str:
        """``"sphere"`` when the three radii are equal, else ``"ellipsoid"``."""
        return "sphere" if np.ptp(self.radii_mm) < 1e-9 else "ellipsoid"


@dataclass(frozen=True)
class Rehearsal(PlanObject):
    """A simulated retraction/indentation on ``organ_segment``, linked to a biomech case.

    The loaded region is the organ surface within ``radius_mm`` of ``point_lps``;
    it is displaced by ``displacement_lps`` (mm). The region farther than
    ``fixed_distance_mm`` from the point (or ``fixed_segment``) is held fixed.
    ``case_document`` names the case dict stored in ``Project.documents``;
    ``result`` holds the summary (max displacement, max stress, converged...).
    """

    collection: ClassVar[str] = "rehearsals"
    kind: str = "retraction"
    organ_segment: str = ""
    mesh: str | None = None
    point_lps: Vec3 = (0.0, 0.0, 0.0)
    radius_mm: float = 15.0
    displacement_lps: Vec3 = (0.0, 0.0, 10.0)
    fixed_distance_mm: float | None = None
    fixed_segment: str | None = None
    case_document: str | None = None
    result: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.kind not in REHEARSAL_KINDS:
            raise InputError(f"rehearsal kind must be one of {REHEARSAL_KINDS}, got {self.kind!r}")
        object.__setattr__(self, "point_lps", _vec3(self.point_lps, "rehearsal point"))
        object.__setattr__(self, "displacement_lps", _vec3(self.displacement_lps, "rehearsal displacement"))
        if not self.radius_mm > 0:
            raise InputError(f"rehearsal radius must be > 0 mm, got {self.radius_mm}")
        if not self.id:
            object.__setattr__(self, "id", new_id("reh"))

    def with_metrics(self, metrics: dict[str, Any]) -> PlanObject:  # noqa: D102
        return replace(self, result=_jsonify(metrics))


OBJECT_TYPES: dict[str, type[PlanObject]] = {
    cls.collection: cls
    for cls in (Landmark, Measurement, Trajectory, Resection, SafetyMargin, AblationZone, Rehearsal)
}
"""Collection name in the JSON -> dataclass."""


def _object_from_dict(collection: str, d: dict[str, Any]) -> PlanObject:
    cls = OBJECT_TYPES[collection]
    if cls is Resection:
        d = dict(d)
        d["planes"] = tuple(CutPlane.from_dict(p) for p in d.get("planes", ()))
    return cls.from_dict(d)


SEGMENT_FIELDS = ("target_segment", "organ_segment", "tumour_segment", "vessel_segments", "critical_segments",
                  "fixed_segment")
"""Fields of plan objects that name segments (followed by :meth:`Plan.rename_segment`)."""


@dataclass
class Plan:
    """All plan objects of one case, by collection, plus the trajectory safety settings.

    ``critical_segments`` names the segments (vessels, nerves, organs) every
    trajectory is checked against (empty = the default critical set).
    ``segment_roles`` overrides the default role of a segment by name (one of
    :data:`SEGMENT_ROLES`; absent = default role from the name).
    ``safety_margin_mm`` is the clearance below which a critical structure is
    flagged (a trajectory's own ``safety_margin_mm`` wins when set).
    Both are optional in the JSON (files written before they existed load with
    no overrides and 5 mm).
    """

    landmarks: list[Landmark] = field(default_factory=list)
    measurements: list[Measurement] = field(default_factory=list)
    trajectories: list[Trajectory] = field(default_factory=list)
    resections: list[Resection] = field(default_factory=list)
    safety_margins: list[SafetyMargin] = field(default_factory=list)
    ablation_zones: list[AblationZone] = field(default_factory=list)
    rehearsals: list[Rehearsal] = field(default_factory=list)
    critical_segments: list[str] = field(default_factory=list)
    segment_roles: dict[str, str] = field(default_factory=dict)
    safety_margin_mm: float = DEFAULT_SAFETY_MARGIN_MM
    labelmap: str | None = None
    notes: str = ""

    def __post_init__(self) -> None:
        self.segment_roles = validate_segment_roles(self.segment_roles)
        self.safety_margin_mm = _margin_mm(self.safety_margin_mm, "plan safety margin")

    def set_segment_role(self, name: str, role: str | None) -> None:
        """Override the role of segment ``name`` (``None`` = back to its default role)."""
        if role is None:
            self.segment_roles.pop(name, None)
        else:
            self.segment_roles.update(validate_segment_roles({name: role}))

    def rename_segment(self, old: str, new: str) -> int:
        """Follow a segment rename: every reference to segment ``old`` (targets, organs, tumours, vessels,
        critical lists, fixed segments, role overrides) now names ``new``. Returns how many were changed."""
        if not new or old == new:
            return 0
        changed = 0

        def ren(value: Any) -> Any:
            nonlocal changed
            if isinstance(value, str) and value == old:
                changed += 1
                return new
            if isinstance(value, (list, tuple)) and old in value:
                changed += 1
                return type(value)(new if v == old else v for v in value)
            return value

        for coll in OBJECT_TYPES:
            items = getattr(self, coll)
            for n, obj in enumerate(items):
                fields = {f: ren(getattr(obj, f)) for f in SEGMENT_FIELDS if hasattr(obj, f)}
                if any(fields[f] is not getattr(obj, f) for f in fields):
                    items[n] = replace(obj, **fields)
        self.critical_segments = ren(self.critical_segments)
        if old in self.segment_roles:
            roles = {(new if k == old else k): v for k, v in self.segment_roles.items()}
            self.segment_roles = validate_segment_roles(roles)
            changed += 1
        return changed

    def set_safety_margin(self, margin_mm: float) -> None:
        """Set the plan's safety margin (mm, >= 0)."""
        self.safety_margin_mm = _margin_mm(margin_mm, "plan safety margin")

    def margin_for(self, traj: Trajectory) -> float:
        """The safety margin (mm) that applies to ``traj``: its own, else the plan's."""
        return self.safety_margin_mm if traj.safety_margin_mm is None else float(traj.safety_margin_mm)

    # ------------------------------------------------------------ access
    def objects(self) -> list[PlanObject]:
        """Every object of every collection."""
        out: list[PlanObject] = []
        for coll in OBJECT_TYPES:
            out.extend(getattr(self, coll))
        return out

    def get(self, object_id: str) -> PlanObject:
        """The object with ``object_id``; InputError if absent."""
        for obj in self.objects():
            if obj.id == object_id:
                return obj
        raise InputError(f"no plan object with id {object_id!r}")

    def find(self, name: str, collection: str | None = None) -> PlanObject:
        """The first object named ``name`` (optionally within one collection)."""
        for obj in self.objects():
            if obj.name == name and (collection is None or obj.collection == collection):
                return obj
        raise InputError(f"no plan object named {name!r}")

    def add(self, obj: PlanObject) -> None:
        """Append ``obj`` to its collection (ids must be unique)."""
        if any(o.id == obj.id for o in self.objects()):
            raise InputError(f"plan already holds an object with id {obj.id!r}")
        getattr(self, obj.collection).append(obj)

    def remove(self, object_id: str) -> PlanObject:
        """Remove and return the object with ``object_id``."""
        obj = self.get(object_id)
        getattr(self, obj.collection).remove(obj)
        return obj

    def replace(self, obj: PlanObject) -> PlanObject:
        """Put ``obj`` in place of the object with the same id; returns the old one."""
        old = self.get(obj.id)
        coll = getattr(self, old.collection)
        if type(obj) is not type(old):
            raise InputError(f"cannot replace a {type(old).__name__} by a {type(obj).__name__}")
        coll[coll.index(old)] = obj
        return old

    # ------------------------------------------------------------ JSON
    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict with ``schema_version`` and ``frame`` (LPS, mm)."""
        d: dict[str, Any] = {
            "schema_version": SCHEMA_VERSION,
            "frame": FRAME,
            "units": {"length": "mm", "angle": "deg", "volume": "mm^3"},
            "labelmap": self.labelmap,
            "critical_segments": list(self.critical_segments),
            "segment_roles": dict(self.segment_roles),
            "safety_margin_mm": self.safety_margin_mm,
            "notes": self.notes,
        }
        for coll in OBJECT_TYPES:
            d[coll] = [o.to_dict() for o in getattr(self, coll)]
        return d

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> Plan:
        """Build from JSON, migrating older schema versions.

        Raises
        ------
        InputError
            Newer schema, another frame, malformed objects.
        """
        if not data:
            return cls()
        data = migrate(copy.deepcopy(data))
        if data.get("frame", FRAME) != FRAME:
            raise InputError(f"plan frame {data.get('frame')!r} is not {FRAME}")
        plan = cls(
            critical_segments=[str(s) for s in data.get("critical_segments", [])],
            segment_roles=data.get("segment_roles") or {},
            safety_margin_mm=(DEFAULT_SAFETY_MARGIN_MM if data.get("safety_margin_mm") is None
                              else data["safety_margin_mm"]),
            labelmap=data.get("labelmap"),
            notes=str(data.get("notes", "")),
        )
        for coll in OBJECT_TYPES:
            for i, od in enumerate(data.get(coll, [])):
                try:
                    plan.add(_object_from_dict(coll, od))
                except InputError as exc:
                    raise InputError(f"plan {coll}[{i}]: {exc}") from None
                except (KeyError, TypeError, ValueError, AttributeError) as exc:
                    raise InputError(f"plan {coll}[{i}] is malformed: {exc!r}") from None
        return plan

    @classmethod
    def from_project(cls, project: Any) -> Plan:
        """The plan stored in ``project.plan`` (empty if none)."""
        return cls.from_dict(getattr(project, "plan", None) or {})


def migrate(data: dict[str, Any]) -> dict[str, Any]:
    """Bring a plan dict up to :data:`SCHEMA_VERSION` (in place; returns it).

    Version 0 (no ``schema_version``): ``landmarks`` may be ``{name: [x, y, z]}``
    and trajectories may use ``entry``/``target``/``diameter`` keys.
    Optional keys added within version 1 (``segment_roles``, ``safety_margin_mm``
    of the plan and of trajectories) need no migration: absent means default.
    """
    version = int(data.get("schema_version", 0))
    if version > SCHEMA_VERSION:
        raise InputError(f"plan was written by a newer VHT Planner (schema {version} > {SCHEMA_VERSION})")
    if version == 0:
        lms = data.get("landmarks", [])
        if isinstance(lms, dict):
            data["landmarks"] = [{"name": str(k), "position_lps": list(v)} for k, v in lms.items()]
        for t in data.get("trajectories", []):
            for old, new in (("entry", "entry_lps"), ("target", "target_lps"), ("diameter", "diameter_mm")):
                if old in t and new not in t:
                    t[new] = t.pop(old)
        data.setdefault("frame", FRAME)
        data["schema_version"] = 1
    return data
