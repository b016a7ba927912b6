"""The numbers of the case report, gathered from a :class:`twin.project.Project` (no PDF, no rendering).

:func:`collect_report_data` returns one JSON-ready dict; :mod:`planning.report`
lays it out as a PDF and ``vht report --json`` writes it as is, so the PDF and
the JSON always carry the same numbers. Sections without data hold
``None``/empty lists and the PDF says "not computed".

De-identification: by default the patient's name and IDs are replaced by a
stable pseudonym (``twin.deid.pseudonym`` when available, else a SHA-256 based
one), dates of birth/acquisition are dropped, and the series UID is reported
only as a hash. Frame: LPS mm.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
from typing import Any

import numpy as np

from planning.segment_roles import role_overrides_text
from twin.errors import InputError, VhtError
from twin.plan import Plan
from twin.progress import Progress, ensure_progress

LIMITATIONS = (
    "Research use only. VHT Planner is not a medical device and has not been cleared or approved by any "
    "regulatory authority. Segmentations, distances, volumes and simulated tissue responses are computed "
    "from image data with finite resolution (distances are exact for the voxel model, which differs from the "
    "anatomy by up to half a voxel) and from generic tissue properties, not from patient-specific measurements. "
    "Biomechanical results depend on boundary conditions that only approximate the organ's attachments. "
    "All results must be reviewed by qualified clinicians and must not be used as the sole basis for any "
    "diagnostic or therapeutic decision."
)

_IDENTIFYING = ("PatientName", "PatientID", "PatientBirthDate", "OtherPatientIDs", "AccessionNumber",
                "InstitutionName", "ReferringPhysicianName")


def _hash(text: str, n: int = 12) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:n]


def pseudonym(meta: dict[str, Any]) -> str:
    """Stable pseudonym of a case from its metadata (``twin.deid.pseudonym`` if it exists)."""
    try:
        from twin.deid import pseudonym as deid_pseudonym  # type: ignore[import-not-found]

        return str(deid_pseudonym(meta))
    except (ImportError, AttributeError, TypeError, KeyError):
        pass
    key = "|".join(str(meta.get(k, "")) for k in ("PatientID", "PatientName", "StudyInstanceUID"))
    if not key.strip("|"):
        key = str(meta.get("SeriesInstanceUID", "")) or "anonymous"
    return f"VHT-{_hash(key, 8).upper()}"


def software_version() -> str:
    """``vht-planner`` version string."""
    from importlib import metadata

    try:
        return f"VHT Planner {metadata.version('vht-planner')}"
    except metadata.PackageNotFoundError:  # pragma: no cover - running from a source tree
        import twin

        return f"VHT Planner {twin.__version__}"


def person_name(value: Any) -> str:
    """A DICOM PN (``Family^Given^Middle^Prefix^Suffix``) as readable text: ``"Family, Given Middle"``."""
    parts = [x.strip() for x in str(value).split("=")[0].split("^")]
    family, rest = parts[0], " ".join(x for x in parts[1:3] if x)
    return f"{family}, {rest}" if family and rest else (family or rest)


def identity_terms(meta: dict[str, Any]) -> list[str]:
    """Strings that would identify the patient if they appeared in free text (names, IDs), longest first."""
    terms: set[str] = set()
    for key in ("PatientName", "OtherPatientNames", "PatientBirthName"):
        value = str(meta.get(key, "") or "")
        for piece in [value, *value.replace("=", "^").replace(",", "^").replace(" ", "^").split("^")]:
            if len(piece.strip()) >= 3:
                terms.add(piece.strip())
    for key in ("PatientID", "OtherPatientIDs", "AccessionNumber"):
        value = str(meta.get(key, "") or "").strip()
        if len(value) >= 3:
            terms.add(value)
    return sorted(terms, key=len, reverse=True)


def scrub(text: Any, terms: list[str]) -> Any:
    """``text`` with every identity term replaced by ``[removed]`` (case-insensitive); non-strings unchanged."""
    if not isinstance(text, str) or not terms:
        return text
    import re

    pattern = "|".join(re.escape(t) for t in terms)
    return re.sub(pattern, "[removed]", text, flags=re.IGNORECASE)


def _case_section(project: Any, identify: bool) -> dict[str, Any]:
    vol = project.main_volume
    meta = dict(vol.metadata) if vol is not None else {}
    out: dict[str, Any] = {
        # de-identified: a project or file named after the patient must not carry the name into the report
        "project": project.name if identify else scrub(project.name, identity_terms(meta)),
        "pseudonym": pseudonym(meta),
        "identified": bool(identify),
        "report_date": _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "software": software_version(),
        "frame": "LPS",
    }
    if identify:
        for k in _IDENTIFYING:
            if meta.get(k):
                out[k] = str(meta[k])  # raw DICOM values in the data; the PDF formats names
        for k in ("StudyDate", "PatientBirthDate", "PatientSex"):
            if meta.get(k):
                out[k] = str(meta[k])
    return out


def _provenance(project: Any, identify: bool) -> list[dict[str, Any]]:
    rows = []
    for key, vol in project.volumes.items():
        meta = vol.metadata
        uid = meta.get("SeriesInstanceUID")
        uid = None if str(uid).strip().lower() in ("", "none", "unknown") else uid
        terms = [] if identify else identity_terms(dict(meta))
        # PS3.15 basic profile removes SeriesDescription (free text); our own descriptions are kept, scrubbed
        described = meta.get("source") or (meta.get("SeriesDescription") if identify else None) \
            or meta.get("description")
        row = {
            "volume": scrub(key, terms),
            "modality": vol.modality,
            "units": vol.units,
            "size": list(vol.geometry.shape),
            "voxel_size_mm": [float(s) for s in vol.geometry.spacing],
            "series_uid_hash": _hash(str(uid)) if uid else None,
            "source": scrub(described, terms),
            "manufacturer": meta.get("Manufacturer"),
            "acquisition_date": (meta.get("StudyDate") or meta.get("AcquisitionDate")) if identify else None,
        }
        rows.append(row)
    return rows


def _hu_stats(values: np.ndarray) -> dict[str, float]:
    if values.size == 0:
        return {}
    p = np.percentile(values, [5, 50, 95])
    return {"mean": float(values.mean()), "std": float(values.std()), "min": float(values.min()),
            "p5": float(p[0]), "median": float(p[1]), "p95": float(p[2]), "max": float(values.max())}


def _segments(project: Any) -> list[dict[str, Any]]:
    lm = project.main_labelmap
    if lm is None:
        return []
    vol = project.main_volume
    same_grid = vol is not None and vol.geometry.is_same_grid(lm.geometry)
    rows = []
    for seg in lm.segments:
        mask = lm.mask(seg)
        n = int(np.count_nonzero(mask))
        row: dict[str, Any] = {"segment": seg.name, "value": seg.value, "voxels": n,
                               "volume_mm3": n * lm.geometry.voxel_volume_mm3,
                               "volume_ml": n * lm.geometry.voxel_volume_mm3 / 1000.0,
                               "intensity_units": vol.units if vol is not None else None,
                               "intensity": None}
        if same_grid and n:
            row["intensity"] = _hu_stats(np.asarray(vol.array)[mask].astype(np.float64))
        rows.append(row)
    return rows


def _guard(fn: Any, *args: Any, **kw: Any) -> dict[str, Any]:
    """Run a metric function; failures become ``{"error": message}`` (the report still gets written)."""
    try:
        return dict(fn(*args, **kw))
    except (VhtError, ValueError, KeyError) as exc:
        return {"error": str(exc)}


def evaluate_plan(plan: Plan, project: Any, progress: Progress | None = None) -> Plan:
    """Recompute every metric of the plan on the project's main label map; returns a new Plan.

    Trajectories use the plan's saved safety settings (critical list, role
    overrides, safety margin; :func:`planning.trajectories.plan_safety_settings`).
    """
    from planning.margins import ablation_coverage, evaluate_safety_margin
    from planning.resection import evaluate_resection
    from planning.trajectories import evaluate_trajectory, plan_safety_settings

    prog = ensure_progress(progress)
    lm = project.labelmaps.get(plan.labelmap) if plan.labelmap else None
    lm = lm or project.main_labelmap
    new = Plan.from_dict(plan.to_dict())
    objs = [*new.trajectories, *new.resections, *new.safety_margins, *new.ablation_zones]
    for n, obj in enumerate(objs):
        prog.raise_if_cancelled()
        prog.update(n / max(1, len(objs)), f"evaluating {obj.name}")
        if obj.collection == "trajectories":
            m = _guard(evaluate_trajectory, obj, lm, **plan_safety_settings(new, obj))
        elif lm is None:
            continue
        elif obj.collection == "resections":
            m = _guard(evaluate_resection, obj, lm)
        elif obj.collection == "safety_margins":
            m = _guard(evaluate_safety_margin, obj, lm)
        else:
            m = _guard(ablation_coverage, obj, lm)
        new.replace(obj.with_metrics(m))
    prog.update(1.0, "plan evaluated")
    return new


def _plan_section(plan: Plan) -> dict[str, Any]:
    return {
        "critical_segments": list(plan.critical_segments),
        "safety_margin_mm": plan.safety_margin_mm,
        "segment_roles": dict(plan.segment_roles),
        "roles": role_overrides_text(plan.segment_roles),
        "landmarks": [{"name": x.name, "position_lps": list(x.position_lps)} for x in plan.landmarks],
        "measurements": [{"name": m.name, "kind": m.kind, "value": m.value, "units": m.units}
                         for m in plan.measurements],
        "trajectories": [{"name": t.name, "kind": t.kind, "entry_lps": list(t.entry_lps),
                          "target_lps": list(t.target_lps), "diameter_mm": t.diameter_mm, "length_mm": t.length_mm,
                          "target_segment": t.target_segment, "safety_margin_mm": plan.margin_for(t),
                          "metrics": t.metrics or None}
                         for t in plan.trajectories],
        "resections": [{"name": r.name, "organ_segment": r.organ_segment, "tumour_segment": r.tumour_segment,
                        "n_planes": len(r.planes), "polyline": bool(r.polyline_lps), "metrics": r.metrics or None}
                       for r in plan.resections],
        "safety_margins": [{"name": s.name, "target_segment": s.target_segment, "threshold_mm": s.threshold_mm,
                            "metrics": s.metrics or None} for s in plan.safety_margins],
        "ablation_zones": [{"name": a.name, "shape": a.shape, "center_lps": list(a.center_lps),
                            "radii_mm": list(a.radii_mm), "margin_mm": a.margin_mm, "metrics": a.metrics or None}
                           for a in plan.ablation_zones],
    }


def _biomech_section(project: Any, plan: Plan) -> dict[str, Any]:
    rehearsals = [{"name": r.name, "kind": r.kind, "organ_segment": r.organ_segment, "mesh": r.mesh,
                   "result": r.result or None} for r in plan.rehearsals]
    simulations = []
    for key, doc in project.documents.items():
        if isinstance(doc, dict) and "converged" in doc and "max_displacement_mm" in doc:
            simulations.append({"document": key, **{k: doc.get(k) for k in (
                "converged", "status", "max_displacement_mm", "max_von_mises_mpa", "elements", "element",
                "nonlinear", "solver", "wall_seconds")}})
    meshes = []
    for key, mesh in project.meshes.items():
        row: dict[str, Any] = {"mesh": key, "n_cells": mesh.n_cells, "n_points": mesh.n_points, "order": mesh.order,
                               "regions": {str(k): v for k, v in mesh.region_names.items()},
                               "volume_mm3": mesh.volume_mm3()}
        try:
            from planning.rehearsal import mesh_quality_summary

            q = mesh_quality_summary(mesh)
            row.update({k: q[k] for k in ("min_dihedral_deg", "min_scaled_jacobian", "n_inverted") if k in q})
        except (ImportError, ValueError) as exc:  # pragma: no cover
            row["quality_error"] = str(exc)
        meshes.append(row)
    verification = None
    for key in ("verification", "verify", "fe_verification"):
        if key in project.documents:
            verification = project.documents[key]
            break
    return {"rehearsals": rehearsals, "simulations": simulations, "meshes": meshes, "verification": verification}


def collect_report_data(
    project: Any, identify: bool = False, recompute: bool = True, progress: Progress | None = None
) -> dict[str, Any]:
    """Every number of the report as one JSON-ready dict.

    Parameters
    ----------
    project : Project
        The case (volumes, label maps, meshes, plan, documents).
    identify : bool
        Include the patient's name, IDs and dates (default: pseudonymised).
    recompute : bool
        Re-evaluate the plan's metrics on the current label map (else use the stored ones).

    Returns
    -------
    dict
        ``case``, ``provenance``, ``segments``, ``plan``, ``biomechanics``, ``limitations``.
    """
    prog = ensure_progress(progress)
    try:
        plan = Plan.from_project(project)
    except InputError as exc:
        raise InputError(f"the project's plan cannot be read: {exc}") from None
    prog.update(0.05, "segments")
    data: dict[str, Any] = {
        "schema": "vht-report/1",
        "case": _case_section(project, identify),
        "provenance": _provenance(project, identify),
        "segments": _segments(project),
    }
    if recompute and project.main_labelmap is not None:
        from twin.progress import SubProgress

        plan = evaluate_plan(plan, project, SubProgress(prog, 0.3, 0.9, "plan: "))
    data["segmentation_check"] = next(
        ({"document": k, "dice": dict(d["segmentation_dice_vs_ground_truth"])} for k, d in project.documents.items()
         if isinstance(d, dict) and isinstance(d.get("segmentation_dice_vs_ground_truth"), dict)), None)
    data["plan"] = _plan_section(plan)
    data["biomechanics"] = _biomech_section(project, plan)
    data["limitations"] = LIMITATIONS
    prog.update(1.0, "report data ready")
    return _clean(data)


def _clean(value: Any) -> Any:
    """JSON-safe: numpy scalars to Python, NaN/inf to None."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if isinstance(value, np.ndarray):
        return _clean(value.tolist())
    if isinstance(value, np.bool_ | bool):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        f = float(value)
        return f if np.isfinite(f) else None
    return value
