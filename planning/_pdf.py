"""reportlab layout of the case report (used by :func:`planning.report.write_report_pdf`).

All numbers come from the report-data dict; nothing is computed here.
Coordinates are printed in LPS mm.
"""

from __future__ import annotations

import io
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import (
    Image,
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from planning.report import NOT_COMPUTED, _vec, fmt
from planning.report_data import person_name
from planning.segment_roles import role_overrides_text

PAGE_W, PAGE_H = A4
MARGIN = 15 * mm
BODY_W = PAGE_W - 2 * MARGIN

_ss = getSampleStyleSheet()
H1 = ParagraphStyle("h1", parent=_ss["Heading1"], fontSize=16, spaceAfter=4)
H2 = ParagraphStyle("h2", parent=_ss["Heading2"], fontSize=12, spaceBefore=8, spaceAfter=4,
                    textColor=colors.HexColor("#1f3b5b"))
BODY = ParagraphStyle("body", parent=_ss["BodyText"], fontSize=8.5, leading=11)
SMALL = ParagraphStyle("small", parent=BODY, fontSize=7.5, leading=9.5, textColor=colors.HexColor("#444444"))
CELL = ParagraphStyle("cell", parent=BODY, fontSize=7.5, leading=9)
WARN = ParagraphStyle("warn", parent=BODY, textColor=colors.HexColor("#9b1c1c"))


def make_doc(path: str, data: dict[str, Any]) -> tuple[SimpleDocTemplate, Any]:
    """Document template and the page decorator (header, footer with page number)."""
    case = data.get("case", {})
    who = person_name(case["PatientName"]) if case.get("identified") and case.get("PatientName") \
        else case.get("pseudonym", "")
    doc = SimpleDocTemplate(path, pagesize=A4, leftMargin=MARGIN, rightMargin=MARGIN, topMargin=MARGIN + 4 * mm,
                            bottomMargin=MARGIN + 2 * mm, title=f"VHT Planner case report {who}",
                            author=case.get("software", "VHT Planner"), subject="Surgical planning report")

    def on_page(canvas: Any, doc_: Any) -> None:
        canvas.saveState()
        canvas.setFont("Helvetica", 7)
        canvas.setFillColor(colors.HexColor("#555555"))
        canvas.drawString(MARGIN, PAGE_H - MARGIN + 2 * mm, f"VHT Planner case report - {who}")
        canvas.drawRightString(PAGE_W - MARGIN, PAGE_H - MARGIN + 2 * mm, case.get("report_date", ""))
        canvas.drawString(MARGIN, MARGIN - 4 * mm, "Research use only - not a medical device.")
        canvas.drawRightString(PAGE_W - MARGIN, MARGIN - 4 * mm, f"page {doc_.page}")
        canvas.restoreState()

    return doc, on_page


def _table(rows: list[list[Any]], widths: list[float] | None = None, header: bool = True) -> Table:
    body = [[c if isinstance(c, Paragraph) else Paragraph(str(c), CELL) for c in r] for r in rows]
    if widths is not None:
        total = sum(widths)
        widths = [w * BODY_W / total for w in widths]
    t = Table(body, colWidths=widths, repeatRows=1 if header else 0, hAlign="LEFT")
    style = [
        ("GRID", (0, 0), (-1, -1), 0.25, colors.HexColor("#b0b8c0")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("TOPPADDING", (0, 0), (-1, -1), 1.5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
    ]
    if header:
        style += [("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#dde6ef"))]
    t.setStyle(TableStyle(style))
    return t


def _kv(pairs: list[tuple[str, Any]]) -> Table:
    return _table([[Paragraph(f"<b>{k}</b>", CELL), v] for k, v in pairs], [1, 3], header=False)


def _not_computed(what: str) -> Paragraph:
    return Paragraph(f"{what}: <i>{NOT_COMPUTED}</i>.", BODY)


def _img(png: bytes, width: float) -> Image:
    from PIL import Image as PILImage

    w, h = PILImage.open(io.BytesIO(png)).size
    return Image(io.BytesIO(png), width=width, height=width * h / w)


# ----------------------------------------------------------------- sections
def _case(data: dict[str, Any]) -> list[Any]:
    c = data.get("case", {})
    pairs: list[tuple[str, Any]] = [("Case", c.get("pseudonym", "")), ("Project", c.get("project", ""))]
    if c.get("identified"):
        for k, label in (("PatientName", "Patient name"), ("PatientID", "Patient ID"),
                         ("PatientBirthDate", "Birth date"), ("StudyDate", "Study date")):
            if c.get(k):
                pairs.append((label, person_name(c[k]) if k == "PatientName" else c[k]))
    else:
        pairs.append(("Identity", "de-identified (pseudonym; names, IDs and dates removed)"))
    pairs += [("Report date", c.get("report_date", "")), ("Software", c.get("software", "")),
              ("Coordinate frame", "patient LPS, millimetres")]
    out: list[Any] = [Paragraph("Surgical planning report", H1), _kv(pairs), Paragraph("Data provenance", H2)]
    prov = data.get("provenance") or []
    if not prov:
        out.append(_not_computed("Image data"))
    else:
        rows = [["Volume", "Modality", "Size (voxels)", "Voxel size (mm)", "Series UID hash", "Source", "Acquired"]]
        for p in prov:
            rows.append([p["volume"], p.get("modality", ""), " x ".join(str(s) for s in p.get("size", [])),
                         " x ".join(f"{s:.3g}" for s in p.get("voxel_size_mm", [])),
                         p.get("series_uid_hash") or "n/a",
                         ", ".join(str(x) for x in (p.get("source"), p.get("manufacturer")) if x) or "n/a",
                         p.get("acquisition_date") or ("removed" if not c.get("identified") else "n/a")])
        out.append(_table(rows, [1.1, 0.8, 1.2, 1.3, 1.3, 2, 0.9]))
    return out


def _images(images: dict[str, bytes], notes: list[str]) -> list[Any]:
    out: list[Any] = [Paragraph("Images of the plan", H2)]
    mpr = [k for k in ("axial", "coronal", "sagittal") if k in images]
    if mpr:
        w = (BODY_W - 6 * mm) / 3
        cells = [_img(images[k], w) for k in mpr]
        caps = [Paragraph(f"{k} (radiological view; crosshair at the focus point)", SMALL) for k in mpr]
        t = Table([cells, caps], colWidths=[w + 2 * mm] * len(mpr), hAlign="LEFT")
        t.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 1)]))
        out.append(t)
    if "3d" in images:
        cap = ("3-D view from anterior (patient right on image left): segments, trajectories (tubes), "
               "cutting planes, landmarks (red).")
        out.append(KeepTogether([_img(images["3d"], BODY_W * 0.72), Paragraph(cap, SMALL)]))
    eye = [k for k in ("probe", "path") if k in images]
    if eye:
        w = (BODY_W - 6 * mm) / 2
        caps = {"probe": "Probe's eye: plane perpendicular to the trajectory at the target; circle = tool diameter.",
                "path": "Along the path (entry left, target right; in-plane axis towards superior). Orange: "
                        "critical structures; green: target."}
        t = Table([[_img(images[k], w if k == "probe" else w * 1.0) for k in eye],
                   [Paragraph(caps[k], SMALL) for k in eye]], colWidths=[w + 2 * mm] * len(eye), hAlign="LEFT")
        t.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 1)]))
        out.append(KeepTogether([t]))
    if "fe" in images:
        out.append(KeepTogether([_img(images["fe"], BODY_W * 0.5),
                                 Paragraph("Rehearsal: displacement magnitude (mm) on the deformed mesh.", SMALL)]))
    if not images:
        out.append(_not_computed("Images"))
    for n in notes:
        out.append(Paragraph(n, SMALL))
    return out


def _segments(data: dict[str, Any]) -> list[Any]:
    out: list[Any] = [Paragraph("Segments", H2)]
    segs = data.get("segments") or []
    if not segs:
        return out + [_not_computed("Segmentation")]
    unit = next((s.get("intensity_units") for s in segs if s.get("intensity_units")), "") or "value"
    rows = [["Segment", "Volume (mL)", f"Mean ({unit})", "SD", "Median", "P5 - P95", "Min - max"]]
    for s in segs:
        st = s.get("intensity") or {}
        rows.append([s["segment"], fmt(s["volume_ml"], 2), fmt(st.get("mean"), 0), fmt(st.get("std"), 0),
                     fmt(st.get("median"), 0),
                     f"{fmt(st.get('p5'), 0)} - {fmt(st.get('p95'), 0)}" if st else NOT_COMPUTED,
                     f"{fmt(st.get('min'), 0)} - {fmt(st.get('max'), 0)}" if st else NOT_COMPUTED])
    table = _table(rows, [2.2, 1, 1, 0.8, 0.9, 1.5, 1.5])
    extra: list[Any] = []
    check = data.get("segmentation_check")
    if check and check.get("dice"):
        dice = ", ".join(f"{k} {v:.3f}" for k, v in check["dice"].items() if v is not None)
        extra = [Spacer(1, 1.5 * mm), Paragraph(f"Agreement with the reference segmentation (Dice): {dice}.", SMALL)]
    return [KeepTogether([*out, table, *extra])] if len(rows) < 25 else [*out, table, *extra]


ROLE_TEXT = {"container": "body wall", "traversable": "traversable organ",
             "target_organ": "organ containing the target", "target": "target", "critical": "CRITICAL",
             "ignore": "ignored (plan)"}
"""How a segment role (:mod:`planning.segment_roles`) is printed."""


def _critical_status(s: dict[str, Any], margin: Any) -> str:
    if s.get("clearance_mm") is None:
        return s.get("note", NOT_COMPUTED)
    if s.get("crosses"):
        return "<font color='#9b1c1c'><b>CROSSED</b></font>"
    if s.get("within_margin"):
        return f"<font color='#9b1c1c'>closer than {fmt(margin, 1, 'mm')}</font>"
    return "clear"


def _trajectory_safety(m: dict[str, Any]) -> list[tuple[str, Any]]:
    """Key/value rows: traversed tissue, critical crossings, margin, closest critical structure."""
    if not m:
        return [("Critical structures", NOT_COMPUTED)]
    margin = m.get("safety_margin_mm")
    trav = m.get("traversed")
    source = {"plan": "chosen in the plan", "default": "default set by segment name"}.get(m.get("critical_source"))
    crossed = m.get("crossed") or []
    close = m.get("too_close") or []
    rows: list[tuple[str, Any]] = []
    if trav is not None:
        parts = [f"{r['segment']} {fmt(r['length_mm'], 1, 'mm')}" for r in trav if not r.get("critical")]
        if (m.get("unlabelled_length_mm") or 0.0) >= 0.05:
            parts.append(f"unsegmented {fmt(m['unlabelled_length_mm'], 1, 'mm')}")
        rows.append(("Traversed (expected)", ", ".join(parts) or "none"))
    n_checked = len(m.get("structures") or [])
    over = m.get("role_overrides") or {}
    rows.append(("Safety settings", Paragraph(
        f"margin {fmt(margin, 1, 'mm')}; roles: {role_overrides_text(over)}"
        + (" (" + escape(", ".join(f"{n}: {r}" for n, r in sorted(over.items()))) + ")" if over else ""), CELL)))
    rows.append(("Critical structures checked", f"{n_checked}" + (f" ({source})" if source else "")))
    rows.append(("Crossed critical structures", Paragraph(
        f"<font color='#9b1c1c'><b>{', '.join(crossed)}</b></font>", CELL) if crossed else "none"))
    if margin is not None:
        rows.append((f"Critical within {fmt(margin, 1, 'mm')} safety margin", Paragraph(
            f"<font color='#9b1c1c'>{', '.join(close)}</font>", CELL) if close else "none"))
    rows.append(("Minimum clearance to a critical structure",
                 f"{fmt(m.get('min_clearance_mm'), 1, 'mm')} ({m.get('closest_structure') or '-'})"))
    return rows


def _trajectories(plan: dict[str, Any]) -> list[Any]:
    out: list[Any] = [Paragraph("Trajectories", H2)]
    trajs = plan.get("trajectories") or []
    if not trajs:
        return out + [_not_computed("Trajectories")]
    for t in trajs:
        m = t.get("metrics") or {}
        ang = m.get("angles_deg") or {}
        pairs = [("Tool", f"{t['kind']}, diameter {fmt(t['diameter_mm'], 1, 'mm')}, length "
                          f"{fmt(t['length_mm'], 0, 'mm') if t.get('length_mm') else 'unspecified'}"),
                 ("Entry / target (LPS mm)", f"{_vec(t['entry_lps'])} -> {_vec(t['target_lps'])}"),
                 ("Path length", fmt(m.get("path_length_mm"), 1, "mm")),
                 ("Angles", f"to L {fmt(ang.get('to_L'), 1)} deg, to P {fmt(ang.get('to_P'), 1)} deg, to S "
                            f"{fmt(ang.get('to_S'), 1)} deg; cranio-caudal tilt {fmt(ang.get('craniocaudal'), 1)} deg"
                  if ang else NOT_COMPUTED),
                 ("Tool reaches target", fmt(m.get("reaches_target")) if m.get("reaches_target") is not None
                  else "tool length not given"),
                 ("Target inside", fmt(m.get("target_inside")) if "target_inside" in m else NOT_COMPUTED),
                 *_trajectory_safety(m)]
        if m.get("error"):
            pairs.append(("Error", m["error"]))
        block: list[Any] = [Paragraph(f"<b>{t['name']}</b>", BODY), _kv(pairs)]
        trav = [["Tissue along the path", "Role", "From depth (mm)", "To depth (mm)", "Length (mm)"]]
        for r in m.get("traversed") or []:
            role = "CRITICAL" if r.get("critical") else ROLE_TEXT.get(r.get("role"), r.get("role") or "-")
            trav.append([r["segment"], role, fmt(r.get("entry_depth_mm"), 1), fmt(r.get("exit_depth_mm"), 1),
                         fmt(r.get("length_mm"), 1)])
        if len(trav) > 1:
            block += [Spacer(1, 2 * mm), _table(trav, [2, 1.8, 1.1, 1.1, 1])]
        rows = [["Critical structure", "Axis distance (mm)", "Clearance (mm)", "Status", "Depth of closest point (mm)",
                 "Length inside (mm)"]]
        for s in m.get("structures") or []:
            rows.append([s["segment"], fmt(s.get("axis_distance_mm"), 1), fmt(s.get("clearance_mm"), 1),
                         Paragraph(_critical_status(s, m.get("safety_margin_mm")), CELL),
                         fmt(s.get("closest_depth_mm"), 1), fmt(s.get("length_inside_mm"), 1)])
        if len(rows) > 1:
            block.append(Spacer(1, 2 * mm))
            block.append(_table(rows, [2, 1.2, 1.1, 1.2, 1.6, 1.2]))
        if len(out) == 1:  # keep the section heading with the first trajectory
            out = [KeepTogether([out[0], *block])]
        else:
            out.append(KeepTogether(block))
        out.append(Spacer(1, 3 * mm))
    return out


def _resections(plan: dict[str, Any]) -> list[Any]:
    out: list[Any] = [Paragraph("Resections", H2)]
    res = plan.get("resections") or []
    if not res:
        return out + [_not_computed("Resections")]
    rows = [["Resection", "Organ", "Organ (mL)", "Resected (mL)", "Remnant (mL)", "Remnant %", "Tumour margin (mm)",
             "Vessels crossed"]]
    for r in res:
        m = r.get("metrics") or {}
        crossed = [v["segment"] for v in m.get("vessels", []) if v.get("crossed")]
        vessels = ", ".join(crossed) if crossed else ("none" if m.get("vessels") is not None and m else NOT_COMPUTED)
        margin = m.get("tumour_margin_mm")
        rows.append([r["name"], r["organ_segment"], fmt(_ml(m.get("organ_volume_mm3")), 1),
                     fmt(m.get("resected_volume_ml"), 1), fmt(m.get("remnant_volume_ml"), 1),
                     fmt(m.get("remnant_percent"), 1),
                     (fmt(margin, 1) + (" (transected)" if margin is not None and margin <= 0 else ""))
                     if r.get("tumour_segment") else "no tumour", vessels])
    out = [KeepTogether([*out, _table(rows, [1.3, 1, 0.9, 1, 1, 0.9, 1.2, 1.6])])]
    for r in res:
        if (r.get("metrics") or {}).get("error"):
            out.append(Paragraph(f"{r['name']}: {r['metrics']['error']}", WARN))
    return out


def _ml(v: Any) -> Any:
    return None if v is None else v / 1000.0


def _margins(plan: dict[str, Any]) -> list[Any]:
    out: list[Any] = []
    sm = plan.get("safety_margins") or []
    ab = plan.get("ablation_zones") or []
    out.append(Paragraph("Safety margins and ablation", H2))
    if not sm and not ab:
        return out + [_not_computed("Safety margins and ablation zones")]
    if sm:
        rows = [["Margin", "Target", "Structure", "Min distance (mm)", "Below threshold"]]
        for s in sm:
            m = s.get("metrics") or {}
            for r in m.get("structures") or [{"segment": NOT_COMPUTED}]:
                rows.append([s["name"], s["target_segment"], r.get("segment"), fmt(r.get("min_distance_mm"), 1),
                             fmt(r.get("below_threshold")) + f" (threshold {s['threshold_mm']:g} mm)"
                             if r.get("below_threshold") is not None else NOT_COMPUTED])
        out = [KeepTogether([*out, _table(rows, [1.2, 1.2, 1.6, 1.2, 1.3])])]
        out.append(Spacer(1, 2 * mm))
    if ab:
        rows = [["Ablation", "Shape, radii (mm)", "Tumour covered %", "Margin (mm)", "Tumour+margin covered %",
                 "Min margin achieved (mm)", "Complete"]]
        for a in ab:
            m = a.get("metrics") or {}
            rows.append([a["name"], f"{a['shape']} {'/'.join(f'{r:g}' for r in a['radii_mm'])}",
                         fmt(m.get("tumour_coverage_percent"), 1), fmt(a["margin_mm"], 1),
                         fmt(m.get("margin_coverage_percent"), 1), fmt(m.get("min_margin_achieved_mm"), 1),
                         fmt(m.get("complete"))])
        out.append(_table(rows, [1.1, 1.3, 1, 0.8, 1.2, 1.2, 0.8]))
    return out


def _landmarks(plan: dict[str, Any]) -> list[Any]:
    lms, ms = plan.get("landmarks") or [], plan.get("measurements") or []
    if not lms and not ms:
        return []
    out: list[Any] = [Paragraph("Landmarks and measurements", H2)]
    rows = [["Name", "Kind", "Value / position (LPS mm)"]]
    rows += [[x["name"], "landmark", _vec(x["position_lps"])] for x in lms]
    rows += [[m["name"], m["kind"], fmt(m["value"], 1, m["units"])] for m in ms]
    return [KeepTogether([*out, _table(rows, [2, 1, 3])])] if len(rows) < 25 else out + [_table(rows, [2, 1, 3])]


def _biomech(data: dict[str, Any]) -> list[Any]:
    b = data.get("biomechanics") or {}
    out: list[Any] = [Paragraph("Biomechanics", H2)]
    meshes = b.get("meshes") or []
    if meshes:
        rows = [["Mesh", "Tetrahedra", "Nodes", "Order", "Regions", "Volume (mL)", "Min dihedral (deg)",
                 "Min scaled Jacobian", "Inverted"]]
        for m in meshes:
            rows.append([m["mesh"], m["n_cells"], m["n_points"], m["order"], ", ".join(m["regions"].values()),
                         fmt(_ml(m.get("volume_mm3")), 1), fmt(m.get("min_dihedral_deg"), 1),
                         fmt(m.get("min_scaled_jacobian"), 2), m.get("n_inverted", NOT_COMPUTED)])
        out.append(_table(rows, [1.6, 0.9, 0.8, 0.6, 1.5, 0.8, 0.9, 0.9, 0.7]))
    else:
        out.append(_not_computed("Volume meshes"))
    rehs = b.get("rehearsals") or []
    if not rehs and not b.get("simulations"):
        out.append(_not_computed("Rehearsal simulation"))
    for r in rehs:
        res = r.get("result") or {}
        if not res:
            out.append(_not_computed(f"Rehearsal {r['name']}"))
            continue
        asked = res.get("rehearsal", {})
        mats = "; ".join(f"{m.get('name')}: {m.get('model')} E = {m.get('youngs_modulus', 0) * 1000:.1f} kPa, "
                         f"nu = {m.get('poisson_ratio')}" for m in res.get("materials", []))
        bcs = "; ".join(f"{c['name']}: {c['kind']}" + (f" {_vec(c['value'])} mm" if c.get("value") else "")
                        for c in res.get("boundary_conditions", []))
        pairs = [
            ("Kind", f"{r['kind']} of {r['organ_segment']} at {_vec(asked.get('point_lps'))} (LPS mm), radius "
                     f"{fmt(asked.get('radius_mm'), 0, 'mm')}, displacement {_vec(asked.get('displacement_lps'))} mm"),
            ("Materials", mats or NOT_COMPUTED),
            ("Boundary conditions", f"{bcs}; {asked.get('n_loaded_nodes', '?')} loaded / "
                                    f"{asked.get('n_fixed_nodes', '?')} fixed surface nodes (fixed beyond "
                                    f"{fmt(asked.get('fixed_distance_mm'), 0, 'mm')})"),
            ("Model", f"{res.get('element')}, {'large deformation' if res.get('nonlinear') else 'small strain'}, "
                      f"{res.get('dofs')} DOF, solver {res.get('solver')}"),
            ("Solver status", f"{res.get('status')} ({res.get('steps')} steps, {res.get('newton_iterations')} "
                              f"Newton iterations, load reached {fmt(_pct(res.get('load_fraction')), 0, '%')}, "
                              f"{fmt(res.get('wall_seconds'), 1, 's')})"),
            ("Max displacement", fmt(res.get("max_displacement_mm"), 2, "mm")),
            ("Max von Mises stress", fmt(_kpa(res.get("max_von_mises_mpa")), 2, "kPa")),
            ("Retraction force", fmt(res.get("retraction_force_n"), 3, "N")),
        ]
        q = res.get("mesh_quality") or {}
        if q:
            pairs.append(("Mesh quality", f"{q.get('n_cells')} tets, min dihedral {fmt(q.get('min_dihedral_deg'), 1)}"
                                          f" deg, min scaled Jacobian {fmt(q.get('min_scaled_jacobian'), 2)}, "
                                          f"{q.get('n_inverted')} inverted"))
        out.append(KeepTogether([Paragraph(f"<b>Rehearsal {r['name']}</b>", BODY), _kv(pairs)]))
        if not res.get("converged"):
            out.append(Paragraph("The simulation did not converge: no displacement or stress is reported.", WARN))
    sims = b.get("simulations") or []
    if sims:
        rows = [["Simulation", "Converged", "Max displacement (mm)", "Max von Mises (kPa)", "Elements", "Solver"]]
        for s in sims:
            rows.append([s["document"], fmt(s.get("converged")), fmt(s.get("max_displacement_mm"), 2),
                         fmt(_kpa(s.get("max_von_mises_mpa")), 2), s.get("elements"), s.get("solver")])
        out.append(Spacer(1, 2 * mm))
        out.append(_table(rows, [1.6, 0.8, 1.2, 1.2, 0.9, 1]))
    ver = b.get("verification")
    out.append(Spacer(1, 2 * mm))
    if ver:
        out.append(Paragraph(f"<b>Solver verification</b>: {_verification_text(ver)}", BODY))
    else:
        out.append(Paragraph("<b>Solver verification</b>: not run for this project (run <i>vht verify</i>).", BODY))
    return out


def _verification_text(ver: Any) -> str:
    if isinstance(ver, dict):
        cases = ver.get("cases") or ver.get("results") or []
        if isinstance(cases, list) and cases:
            passed = sum(1 for c in cases if isinstance(c, dict) and (c.get("passed") or c.get("status") == "pass"))
            return f"{passed} of {len(cases)} verification cases passed"
        if "passed" in ver:
            return "passed" if ver["passed"] else "FAILED"
    return "recorded (see project documents)"


def _pct(v: Any) -> Any:
    return None if v is None else 100.0 * v


def _kpa(v: Any) -> Any:
    return None if v is None else 1000.0 * v


def build_story(data: dict[str, Any], images: dict[str, bytes], notes: list[str]) -> list[Any]:
    """The flowables of the whole report."""
    plan = data.get("plan") or {}
    story: list[Any] = []
    story += _case(data)
    story += _images(images, notes)
    story += _segments(data)
    story += _trajectories(plan)
    story += _resections(plan)
    story += _margins(plan)
    story += _landmarks(plan)
    story += _biomech(data)
    story += [KeepTogether([Paragraph("Limitations", H2), Paragraph(data.get("limitations", ""), BODY)])]
    return story
