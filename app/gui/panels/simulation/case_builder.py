"""Qt-free pieces of the simulation panel: selectors, case dictionaries (``vht simulate`` TOML schema), text.

The panel edits a list of *conditions* (boundary conditions, loads, indenter
contacts) and a material table, and turns them into the case dictionary of the
biomechanics issue (sections ``mesh``, ``materials``, ``boundary_conditions``,
``loads``, ``contacts``, ``solver``), which :func:`biomech.case.problem_from_dict`
validates. Geometry is in the patient LPS frame, mm; forces N; moduli MPa.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

AXES = {"L (x)": (1.0, 0.0, 0.0), "P (y)": (0.0, 1.0, 0.0), "S (z)": (0.0, 0.0, 1.0)}
CONDITION_KINDS = ("fixed", "displacement", "force", "pressure", "indenter")
SECTIONS = {"fixed": "boundary_conditions", "displacement": "boundary_conditions", "force": "loads",
            "pressure": "loads", "indenter": "contacts"}


def _v(p: ArrayLike) -> list[float]:
    return [round(float(x), 6) for x in np.asarray(p, float).reshape(3)]


def sphere_selector(center_lps: ArrayLike, radius_mm: float) -> dict[str, Any]:
    """Nodes within ``radius_mm`` of a point (LPS mm)."""
    return {"sphere": {"center": _v(center_lps), "radius": float(radius_mm)}}


def plane_selector(point_lps: ArrayLike, normal: ArrayLike, tolerance_mm: float) -> dict[str, Any]:
    """Nodes within ``tolerance_mm`` of a plane through ``point_lps`` with ``normal``."""
    n = np.asarray(normal, float)
    n = n / np.linalg.norm(n)
    return {"plane": {"point": _v(point_lps), "normal": _v(n)}, "tolerance": float(tolerance_mm)}


def box_selector(center_lps: ArrayLike, half_size_mm: float) -> dict[str, Any]:
    """Nodes in an axis-aligned cube of half size ``half_size_mm`` around a point."""
    c = np.asarray(center_lps, float)
    return {"box": {"min": _v(c - half_size_mm), "max": _v(c + half_size_mm)}}


def half_space_selector(point_lps: ArrayLike, normal: ArrayLike, far_mm: float = 1e4) -> dict[str, Any]:
    """Nodes beyond a plane (on the ``-normal`` side), as a large box: e.g. 'everything below this level'."""
    n = np.asarray(normal, float)
    axis = int(np.argmax(np.abs(n)))
    lo = np.full(3, -far_mm)
    hi = np.full(3, far_mm)
    p = np.asarray(point_lps, float)
    if n[axis] > 0:
        hi[axis] = p[axis]
    else:
        lo[axis] = p[axis]
    return {"box": {"min": _v(lo), "max": _v(hi)}}


def half_space_cap_selector(point_lps: ArrayLike, normal: ArrayLike, depth_mm: float,
                            other_side: bool = False) -> dict[str, Any]:
    """Nodes within ``depth_mm`` under a surface point, measured along its outward ``normal``: the cap cut off by
    a plane parallel to the tangent plane (``other_side``: everything deeper than that plane)."""
    n = np.asarray(normal, float)
    n = n / np.linalg.norm(n)
    cut = np.asarray(point_lps, float) - float(depth_mm) * n
    return {"half_space": {"point": _v(cut), "normal": _v(-n if other_side else n)}}


def indenter_condition(name: str, shape: str, point_lps: ArrayLike, normal: ArrayLike, radius_mm: float,
                       travel_mm: float) -> dict[str, Any]:
    """A rigid indenter touching the surface at ``point_lps`` and moving ``travel_mm`` along ``-normal``.

    ``shape="sphere"``: ball of ``radius_mm`` centred ``radius_mm`` outside the surface point;
    ``"plane"``: rigid plate on the tangent plane (its normal points into the tissue). Candidate nodes:
    within ``3 radius + travel`` of the point.
    """
    n = np.asarray(normal, float)
    n = n / np.linalg.norm(n)
    p = np.asarray(point_lps, float)
    if shape == "sphere":
        ind = {"sphere": {"center": _v(p + float(radius_mm) * n), "radius": float(radius_mm)}}
    elif shape == "plane":
        ind = {"plane": {"point": _v(p), "normal": _v(-n)}}
    else:
        raise ValueError(f"unknown indenter shape {shape!r}")
    return {"_section": "contacts", "name": name, "indenter": ind, "displacement": _v(-float(travel_mm) * n),
            "select": sphere_selector(p, 3.0 * float(radius_mm) + float(travel_mm))}


def make_condition(kind: str, name: str, select: dict[str, Any], vector: ArrayLike = (0, 0, 0),
                   scalar: float = 0.0, radius_mm: float = 5.0, center_lps: ArrayLike | None = None) -> dict[str, Any]:
    """One condition as a case-file entry, tagged with its section in ``"_section"``.

    Parameters
    ----------
    kind : {"fixed", "displacement", "force", "pressure", "indenter"}
    select : dict
        Node selector (see the ``*_selector`` helpers).
    vector : (3,)
        Displacement (mm) for ``displacement`` and ``indenter``, total force (N) for ``force``.
    scalar : float
        Pressure (MPa) for ``pressure``.
    radius_mm, center_lps :
        Indenter sphere.
    """
    if kind not in CONDITION_KINDS:
        raise ValueError(f"unknown condition kind {kind!r}")
    d: dict[str, Any] = {"_section": SECTIONS[kind], "name": name}
    if kind == "fixed":
        d.update(kind="fixed", select=select)
    elif kind == "displacement":
        d.update(kind="displacement", value=_v(vector), select=select)
    elif kind == "force":
        d.update(kind="force", value=_v(vector), select=select)
    elif kind == "pressure":
        d.update(kind="pressure", value=float(scalar), select=select)
    else:
        c = np.asarray(center_lps if center_lps is not None else (0, 0, 0), float)
        d.update(indenter={"sphere": {"center": _v(c), "radius": float(radius_mm)}}, displacement=_v(vector),
                 select=select)
    return d


def zero_load_message(cond: dict[str, Any]) -> str | None:
    """Why ``cond`` (a :func:`make_condition` / :func:`indenter_condition` entry) does nothing, or None.

    A force or pressure of zero and an indenter that does not move load nothing: the solve would return a
    zero field, which looks like a result. Supports (fixed, prescribed displacement incl. zero) always act.
    """
    if cond.get("_section") == "contacts":
        travel = np.asarray(cond.get("displacement", (0.0, 0.0, 0.0)), float)
        return None if np.linalg.norm(travel) > 0 else "The indenter's travel is zero: enter Travel mm (LPS)"
    if cond.get("kind") == "force" and not np.any(np.asarray(cond.get("value", (0, 0, 0)), float)):
        return "The force is zero: enter its L, P, S components (N) first"
    if cond.get("kind") == "pressure" and not float(cond.get("value", 0.0)):
        return "The pressure is zero: enter it (MPa) first"
    return None


def material_entry(region: int | None, tissue: str | None = None, model: str = "linear-elastic",
                   youngs_modulus_mpa: float = 0.01, poisson_ratio: float = 0.45,
                   name: str | None = None) -> dict[str, Any]:
    """A ``[[materials]]`` entry: a library tissue by name, or a custom model with E (MPa) and nu."""
    d: dict[str, Any] = {}
    if region is not None:
        d["region"] = int(region)
    if name:
        d["name"] = name
    if tissue:
        d["tissue"] = tissue
    else:
        d.update(model=model, youngs_modulus=float(youngs_modulus_mpa), poisson_ratio=float(poisson_ratio))
    return d


def make_case(materials: list[dict[str, Any]], conditions: list[dict[str, Any]], *, element: str = "tet4",
              nonlinear: bool | None = None, steps: int = 1, name: str = "case",
              mesh_file: str | None = None) -> dict[str, Any]:
    """The case dictionary (``vht simulate`` schema) from materials and tagged conditions."""
    case: dict[str, Any] = {"name": name, "mesh": {"element": element}}
    if mesh_file:
        case["mesh"]["file"] = mesh_file
    case["materials"] = [dict(m) for m in materials]
    for sec in ("boundary_conditions", "loads", "contacts"):
        items = [{k: copy.deepcopy(v) for k, v in c.items() if k != "_section"}
                 for c in conditions if c.get("_section") == sec]
        if items:
            case[sec] = items
    solver: dict[str, Any] = {"steps": int(steps)}
    if nonlinear is not None:
        solver["nonlinear"] = bool(nonlinear)
    case["solver"] = solver
    return case


def conditions_from_case(case: dict[str, Any]) -> list[dict[str, Any]]:
    """Inverse of :func:`make_case` for the conditions (tags restored)."""
    out = []
    for sec in ("boundary_conditions", "loads", "contacts"):
        for item in case.get(sec, []) or []:
            d = copy.deepcopy(item)
            d["_section"] = sec
            out.append(d)
    return out


def case_to_toml(case: dict[str, Any]) -> str:
    """TOML text of a case (header comment states frame and units)."""
    import tomli_w

    head = "# VHT Planner simulation case (vht simulate). Frame: patient LPS; units mm, N, MPa, tonne/mm^3, s.\n"
    return head + tomli_w.dumps(case)


def save_case(case: dict[str, Any], mesh: Any, path: str | Path) -> Path:
    """Write ``CASE.toml`` (or ``.json``) and its tet mesh ``<stem>_mesh.vtu`` beside it, atomically.

    The case's ``mesh.file`` is set to the mesh file name (relative to the case file).
    """
    import json

    from twin.io.atomic import atomic_path, atomic_write_text

    p = Path(path)
    stem = p.name[: -len(p.suffix)] if p.suffix else p.name
    mesh_name = f"{stem}_mesh.vtu"
    case = copy.deepcopy(case)
    case.setdefault("mesh", {})["file"] = mesh_name
    with atomic_path(p.parent / mesh_name) as tmp:  # temp name ends with .vtu: pyvista picks the writer
        mesh.to_pyvista().save(str(tmp))
    text = json.dumps(case, indent=2) if p.suffix.lower() == ".json" else case_to_toml(case)
    atomic_write_text(p, text)
    return p


def describe_condition(c: dict[str, Any]) -> str:
    """One line for the conditions list."""
    sel = c.get("select", {})
    if "surface_spheres" in sel:
        q = sel["surface_spheres"]
        r = q["radius"]
        rad = f"r={r:g} mm" if isinstance(r, int | float) else f"r={min(r):g}-{max(r):g} mm"
        n_erase = sum(bool(e) for e in q.get("erase", []))
        where = (f"painted patch ({len(q['centers'])} dabs{f', {n_erase} erasing' if n_erase else ''}, {rad}"
                 + (f", ≤{q.get('max_angle', 80):g}°" if q.get("normals") else "") + ")")
    elif "half_space" in sel:
        h = sel["half_space"]
        pt = ", ".join(f"{x:.1f}" for x in h["point"])
        nv = ", ".join(f"{x:.2f}" for x in h["normal"])
        where = f"the side n=[{nv}] of a plane through [{pt}] mm"
    elif "sphere" in sel:
        where = f"sphere r={sel['sphere']['radius']:g} mm at {sel['sphere']['center']} mm"
    elif "plane" in sel:
        where = f"plane n={sel['plane']['normal']} through {sel['plane']['point']} (±{sel.get('tolerance', 0):g} mm)"
    elif "box" in sel:
        lo, hi = np.asarray(sel["box"]["min"], float), np.asarray(sel["box"]["max"], float)
        open_lo, open_hi = lo <= -1e4 + 1e-6, hi >= 1e4 - 1e-6
        if open_lo.sum() + open_hi.sum() == 5:  # a half space ("beyond plane")
            axis = int(np.flatnonzero(~(open_lo & open_hi))[0])
            letter = "LPS"[axis]
            where = (f"{letter} ≤ {hi[axis]:g} mm" if open_lo[axis] else f"{letter} ≥ {lo[axis]:g} mm")
        else:
            where = f"box {_v(lo)}..{_v(hi)} mm"
    else:
        where = str(sel)
    sec = c.get("_section")
    if sec == "contacts":
        on = " (contact on a painted patch)" if "surface_spheres" in sel else ""
        if "sphere" in c["indenter"]:
            s = c["indenter"]["sphere"]
            return f"{c['name']}: indenter r={s['radius']:g} mm at {s['center']} moves {c['displacement']} mm{on}"
        pl = c["indenter"]["plane"]
        return (f"{c['name']}: rigid plate through {pl['point']} (n={pl['normal']}) moves {c['displacement']} mm"
                + on)
    kind = c.get("kind")
    value = "" if kind == "fixed" else f" {c.get('value')}" + {"displacement": " mm", "force": " N",
                                                               "pressure": " MPa"}.get(kind, "")
    return f"{c['name']}: {kind}{value} on {where}"


def summary_text(summary: dict[str, Any]) -> str:
    """Solver status as readable lines (converged, iterations, maxima, reaction forces)."""
    ok = summary.get("converged")
    lines = [f"Status: {'CONVERGED' if ok else summary.get('status', 'failed')}",
             f"Element {summary.get('element')}, {summary.get('elements')} cells, {summary.get('dofs')} DOF, "
             f"{'nonlinear' if summary.get('nonlinear') else 'linear'} ({summary.get('solver', '')})",
             f"Load steps {summary.get('steps')}, Newton iterations {summary.get('newton_iterations')}, "
             f"load reached {100 * float(summary.get('load_fraction', 0)):.0f} %",
             f"Max displacement {summary.get('max_displacement_mm', 0):.4g} mm",
             f"Max von Mises {summary.get('max_von_mises_mpa', 0) * 1000:.4g} kPa",
             f"Wall time {summary.get('wall_seconds', 0):.2f} s"]
    for title, key in (("Reaction", "reaction_forces"), ("Indenter force", "contact_forces")):
        for name, f in (summary.get(key) or {}).items():
            lines.append(f"{title} {name}: [{', '.join(f'{x:.4g}' for x in f)}] N")
    for w in summary.get("warnings", []) or []:
        lines.append(f"Warning: {w}")
    return "\n".join(lines)
