"""Live metrics of plan objects for the planning panel: cache keys, computation (in workers), formatting.

Frame: LPS mm. Metrics are derived data: the panel computes them with the
pure functions of :mod:`planning` (``evaluate_trajectory``,
``evaluate_resection``, ``evaluate_safety_margin``, ``ablation_coverage``) and
keeps them in a cache keyed by the object's geometry/parameters, the critical
segment list and the label map revision, so editing a plan never adds undo
steps for recomputed numbers. Reports recompute them anyway
(:func:`planning.report_data.evaluate_plan`). Qt-free.
"""

from __future__ import annotations

import html
import json
from typing import Any

from twin.plan import Plan, PlanObject

SLOW_COLLECTIONS = ("trajectories", "resections", "safety_margins", "ablation_zones")
"""Collections whose metrics need the label map (computed in a worker)."""


def metrics_key(obj: PlanObject, plan: Plan, labelmap: Any) -> str:
    """Cache key: everything the metrics depend on (not the name, not stored metrics/results)."""
    d = {k: v for k, v in obj.to_dict().items() if k not in ("name", "metrics", "result", "description")}
    crit: Any = []
    if obj.collection == "trajectories":  # the plan's safety settings (margin, role overrides)
        crit = [list(plan.critical_segments), plan.segment_roles, plan.margin_for(obj)]  # type: ignore[arg-type]
    lm = (id(labelmap), getattr(labelmap, "revision", -1)) if labelmap is not None else None
    return json.dumps([obj.collection, d, crit, lm], sort_keys=True, default=str)


def compute_metrics(obj: PlanObject, plan: Plan, labelmap: Any, progress: Any = None) -> dict[str, Any]:
    """Metrics of one object on ``labelmap`` (may take seconds: call from a worker).

    Raises whatever the :mod:`planning` function raises (InputError for a missing segment...).
    """
    coll = obj.collection
    if coll == "trajectories":
        from planning.trajectories import evaluate_trajectory, plan_safety_settings

        return evaluate_trajectory(obj, labelmap, progress=progress, **plan_safety_settings(plan, obj))  # type: ignore[arg-type]
    if labelmap is None:
        raise ValueError("no segmentation loaded")
    if coll == "resections":
        from planning.resection import evaluate_resection

        return evaluate_resection(obj, labelmap, progress=progress)
    if coll == "safety_margins":
        from planning.margins import evaluate_safety_margin

        return evaluate_safety_margin(obj, labelmap)
    if coll == "ablation_zones":
        from planning.margins import ablation_coverage

        return ablation_coverage(obj, labelmap)
    raise ValueError(f"no computed metrics for {coll}")


def _f(v: Any, digits: int = 1, unit: str = "") -> str:
    if v is None:
        return "-"
    try:
        return f"{float(v):.{digits}f}{(' ' + unit) if unit else ''}"
    except (TypeError, ValueError):
        return html.escape(str(v))


def _warn(text: str) -> str:
    return f"<b><span style='color:#d33'>{html.escape(text)}</span></b>"


def short_summary(obj: PlanObject, metrics: dict[str, Any] | None) -> str:
    """One-line summary for the object list (second column)."""
    coll = obj.collection
    if coll == "landmarks":
        return "({:.1f}, {:.1f}, {:.1f})".format(*obj.position_lps)
    if coll == "measurements":
        return f"{obj.value:.1f} {obj.units}"
    if coll == "rehearsals":
        r = obj.result
        if not r:
            return "not run"
        return f"max u {_f(r.get('max_displacement_mm'), 1, 'mm')}" if r.get("converged") else "not converged"
    if metrics is None:
        return "..."
    if "error" in metrics:
        return "error"
    if coll == "trajectories":
        s = f"{metrics['path_length_mm']:.1f} mm"
        if metrics.get("crossed"):
            s += "  CROSSES " + ", ".join(metrics["crossed"])
        elif metrics.get("too_close"):
            s += f"  {metrics['min_clearance_mm']:.1f} mm from {metrics['closest_structure']} " \
                 f"(< {metrics.get('safety_margin_mm', 0):g} mm)"
        elif metrics.get("min_clearance_mm") is not None:
            s += f"  clear {metrics['min_clearance_mm']:.1f} mm"
        return s
    if coll == "resections":
        return f"remnant {_f(metrics.get('remnant_percent'))} %"
    if coll == "safety_margins":
        d = [s.get("min_distance_mm") for s in metrics.get("structures", []) if s.get("min_distance_mm") is not None]
        return f"min {_f(min(d) if d else None, 1, 'mm')}"
    if coll == "ablation_zones":
        return f"cover {_f(metrics.get('margin_coverage_percent'))} %"
    return ""


def metrics_html(obj: PlanObject, metrics: dict[str, Any] | None) -> str:
    """Readable metrics of one object (HTML for a QTextBrowser)."""
    coll = obj.collection
    name = html.escape(obj.name)
    if coll == "landmarks":
        return f"<b>{name}</b><br>LPS ({', '.join(f'{x:.1f}' for x in obj.position_lps)}) mm"
    if coll == "measurements":
        what = "Distance" if obj.kind == "distance" else "Angle"
        return f"<b>{name}</b><br>{what}: <b>{obj.value:.2f} {obj.units}</b>"
    if coll == "rehearsals":
        return _rehearsal_html(obj)
    if metrics is None:
        return f"<b>{name}</b><br><i>computing...</i>"
    if "error" in metrics:
        return f"<b>{name}</b><br>{_warn(metrics['error'])}"
    if coll == "trajectories":
        return _trajectory_html(obj, metrics)
    if coll == "resections":
        m = metrics
        rows = [f"<b>{name}</b> on {html.escape(m['organ_segment'])}",
                f"Organ {_f(m['organ_volume_mm3'] / 1000, 1, 'mL')}",
                f"Resected <b>{_f(m['resected_volume_ml'], 1, 'mL')}</b>, "
                f"remnant <b>{_f(m['remnant_volume_ml'], 1, 'mL')}</b> ({_f(m['remnant_percent'])} % of the organ)"]
        if m.get("tumour_segment"):
            margin = m.get("tumour_margin_mm")
            txt = f"Tumour margin {_f(margin, 1, 'mm')}, tumour resected {_f(m.get('tumour_resected_percent'))} %"
            rows.append(_warn(txt) if margin is not None and margin <= 0 else txt)
        for v in m.get("vessels", []):
            if v.get("crossed"):
                rows.append(_warn(f"cut crosses {v['segment']}"))
            else:
                rows.append(f"{html.escape(v['segment'])}: not crossed ({html.escape(v.get('note', ''))})")
        return "<br>".join(rows)
    if coll == "safety_margins":
        rows = [f"<b>{name}</b>: {html.escape(obj.target_segment)} to critical structures"]
        for s in metrics.get("structures", []):
            d = s.get("min_distance_mm")
            txt = f"{s.get('segment')}: {_f(d, 1, 'mm')}"
            rows.append(_warn(txt) if d is not None and d < obj.threshold_mm else html.escape(txt))
        return "<br>".join(rows)
    if coll == "ablation_zones":
        m = metrics
        rows = [f"<b>{name}</b> ({m.get('shape')}, {_f(m.get('zone_volume_mm3', 0) / 1000, 1, 'mL')})",
                f"Tumour {html.escape(str(m.get('tumour_segment')))} "
                f"{_f(m.get('tumour_volume_mm3', 0) / 1000, 2, 'mL')}: "
                f"covered <b>{_f(m.get('tumour_coverage_percent'))} %</b>",
                f"With {_f(m.get('margin_mm'), 1, 'mm')} margin: "
                f"covered <b>{_f(m.get('margin_coverage_percent'))} %</b>",
                f"Smallest margin achieved {_f(m.get('min_margin_achieved_mm'), 1, 'mm')}"]
        rows.append("complete" if m.get("complete") else _warn("incomplete coverage"))
        return "<br>".join(rows)
    return f"<b>{name}</b>"


TRAVERSED_ROLE_TEXT = {"container": "body wall", "traversable": "traversable", "target_organ": "target organ",
                       "target": "target"}


def trajectory_alarm(metrics: dict[str, Any] | None) -> str | None:
    """Colour of a trajectory's summary: red if it crosses a critical structure, orange within the margin."""
    if not metrics:
        return None
    if metrics.get("crossed"):
        return "#d33"
    if metrics.get("too_close"):
        return "#d80"
    return None


def critical_hint_short(plan: Plan, segment_names: list[str]) -> str:
    """One or two lines under the critical-structure list (the whole text, :func:`critical_hint`, is its tooltip)."""
    from planning.segment_roles import checked_names

    over = f"; {len(plan.segment_roles)} role override(s)" if plan.segment_roles else ""
    if plan.critical_segments:
        return f"{len(plan.critical_segments)} chosen (uncheck all for the default set){over}."
    names = checked_names(segment_names, None, plan.segment_roles)
    if not names:
        return "None checked and none critical by name: check the structures to protect."
    return f"None checked: default set by name, {len(names)} structures (hover for the list){over}."


def critical_hint(plan: Plan, segment_names: list[str]) -> str:
    """Text under the critical-structure list: the plan's choice or the default set by segment name."""
    from planning.segment_roles import checked_names

    over = plan.segment_roles
    roles = ""
    if over:
        roles = " Role overrides (right-click): " + ", ".join(f"{n}: {r}" for n, r in sorted(over.items())) + "."
    if plan.critical_segments:
        return (f"{len(plan.critical_segments)} chosen; the others along a path are reported as traversed. "
                "Uncheck all for the default set." + roles)
    names = checked_names(segment_names, None, over)
    if not names:
        return "None checked and no segment is critical by name: check the structures to protect."
    return ("None checked: default set by name (" + ", ".join(names) + "). Body wall, the organ containing the "
            "target and the target are reported as traversed." + roles)


def _trajectory_html(t: Any, m: dict[str, Any]) -> str:
    a = m["angles_deg"]
    margin = m.get("safety_margin_mm")
    rows = [f"<b>{html.escape(t.name)}</b> ({t.kind}, diameter {t.diameter_mm:g} mm)",
            f"Path length <b>{m['path_length_mm']:.1f} mm</b>",
            f"Angles: cranio-caudal {a['craniocaudal']:.1f} deg, axial {a['axial_in_plane']:.1f} deg "
            f"(to L {a['to_L']:.0f}, P {a['to_P']:.0f}, S {a['to_S']:.0f})"]
    if m.get("reaches_target") is False:
        rows.append(_warn(f"tool length {t.length_mm:g} mm does not reach the target"))
    if m.get("target_inside") is not None:
        rows.append(f"target inside {html.escape(str(t.target_segment))}: {'yes' if m['target_inside'] else 'NO'}")
    trav = [r for r in m.get("traversed") or [] if not r.get("critical")]
    parts = [f"{html.escape(r['segment'])} {r['length_mm']:.1f} mm"
             + (f" ({TRAVERSED_ROLE_TEXT[r['role']]})" if r.get("role") in ("target_organ", "target") else "")
             for r in trav]
    if (m.get("unlabelled_length_mm") or 0.0) >= 0.05:
        parts.append(f"unsegmented {m['unlabelled_length_mm']:.1f} mm")
    if parts:
        rows.append("<span style='color:#777'>Traversed (expected): " + ", ".join(parts) + "</span>")
    source = {"plan": "chosen", "default": "default by name"}.get(m.get("critical_source"), "")
    if m.get("role_overrides"):
        n_over = len(m["role_overrides"])
        source += f", {n_over} role override{'s' if n_over > 1 else ''}"
    if m.get("structures"):
        head = f"<b>Critical structures</b> ({len(m['structures'])}{', ' + source if source else ''}"
        rows.append(head + (f"; margin {margin:g} mm)" if margin is not None else ")"))
    if m.get("crossed"):
        rows.append(_warn("CROSSES " + ", ".join(m["crossed"])))
    elif m.get("min_clearance_mm") is not None:
        rows.append(f"closest: {html.escape(str(m.get('closest_structure')))} {m['min_clearance_mm']:.1f} mm")
    for s in sorted(m.get("structures", []), key=lambda s: (s.get("clearance_mm") is None, s.get("clearance_mm") or 0)):
        if s.get("clearance_mm") is None:
            rows.append(f"{html.escape(s['segment'])}: {html.escape(s.get('note', 'n/a'))}")
            continue
        txt = f"{s['segment']}: {s['clearance_mm']:.1f} mm"
        if s.get("crosses"):
            rows.append(_warn(txt + f" - CROSSED ({s.get('length_inside_mm', 0):.1f} mm inside)"))
        elif s.get("within_margin"):
            rows.append(f"<b><span style='color:#d80'>{html.escape(txt)} - within {margin:g} mm margin</span></b>")
        else:
            rows.append(html.escape(txt))
    if not m.get("structures"):
        rows.append("<i>no critical structures checked</i>")
    return "<br>".join(rows)


def _rehearsal_html(h: Any) -> str:
    rows = [f"<b>{html.escape(h.name)}</b>: {h.kind} of {html.escape(h.organ_segment)}, radius {h.radius_mm:g} mm, "
            "displacement ({:.1f}, {:.1f}, {:.1f}) mm".format(*h.displacement_lps)]
    r = h.result
    if not r:
        rows.append("<i>not run yet</i>")
    elif not r.get("converged"):
        rows.append(_warn(f"not converged ({r.get('status')})"))
    else:
        rows.append(f"Max displacement <b>{_f(r.get('max_displacement_mm'), 2, 'mm')}</b>, max von Mises "
                    f"<b>{_f((r.get('max_von_mises_mpa') or 0) * 1000, 2, 'kPa')}</b>")
        if r.get("retraction_force_n") is not None:
            rows.append(f"Force {_f(r['retraction_force_n'], 3, 'N')}")
        rows.append(f"{r.get('elements')} elements, {r.get('dofs')} DOF, {_f(r.get('wall_seconds'), 1, 's')}")
    return "<br>".join(rows)
