"""Surgical rehearsal: a retraction or indentation of an organ, simulated with :mod:`biomech`.

Frame: LPS mm; units mm, N, MPa. From a :class:`twin.plan.Rehearsal` and a tet
mesh of the organ we build a case dictionary in the ``vht simulate`` schema
(materials per region, a fixed region, the loaded region as node sets carried
by the mesh), run it through ``biomech.solver.run_case`` and keep a summary
(max displacement, max von Mises stress, converged, reaction force, mesh
quality) in the plan.

* Retraction: the organ's boundary nodes within ``radius_mm`` of ``point_lps``
  are displaced by ``displacement_lps`` (prescribed displacement).
* Indentation: a rigid sphere of radius ``radius_mm`` touching the surface at
  ``point_lps`` is pushed by ``displacement_lps`` (frictionless contact).

In both cases the boundary nodes farther than ``fixed_distance_mm`` from the
point (default: 60 % of the farthest boundary node) are held fixed, standing in
for the organ's attachments.
"""

from __future__ import annotations

import copy
from dataclasses import replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from twin.errors import InputError, SolverError
from twin.meshes import TetMesh
from twin.plan import Rehearsal
from twin.progress import Progress, SubProgress, ensure_progress

_INFO_KEYS = ("frame", "units", "rehearsal")
"""Keys of the case dict that document the rehearsal but are not part of the solver's case schema."""
LOADED = "rehearsal_loaded"
FIXED = "rehearsal_fixed"

# Small-strain moduli used when a region's tissue is not in biomech's library
# (MPa). Liver ~ 5-10 kPa by elastography; tumours 2-5x stiffer. Matched by substring, first key wins
# (so "liver_tumor" is a tumour).
DEFAULT_TISSUE_MPA: dict[str, tuple[float, float]] = {
    "tumour": (0.025, 0.45), "tumor": (0.025, 0.45), "liver": (0.008, 0.45), "kidney": (0.010, 0.45),
    "spleen": (0.008, 0.45), "vessel": (0.1, 0.45), "fat": (0.003, 0.45), "muscle": (0.02, 0.45),
}


def boundary_faces(cells: NDArray[np.int64]) -> NDArray[np.int64]:
    """Triangles ``(m, 3)`` on the boundary of a tet mesh (faces used by one cell), outward ordered."""
    c = np.asarray(cells)[:, :4]
    faces = np.concatenate([c[:, [1, 2, 3]], c[:, [0, 3, 2]], c[:, [0, 1, 3]], c[:, [0, 2, 1]]])
    key = np.sort(faces, axis=1)
    _, idx, counts = np.unique(key, axis=0, return_index=True, return_counts=True)
    return faces[idx[counts == 1]]


def _outward_normal(points: NDArray[np.float64], faces: NDArray[np.int64], centre: NDArray[np.float64],
                    near: NDArray[np.bool_]) -> NDArray[np.float64]:
    p = points[faces]
    n = np.cross(p[:, 1] - p[:, 0], p[:, 2] - p[:, 0])
    sel = near[faces].all(axis=1)
    if not sel.any():
        d = np.linalg.norm(p.mean(axis=1) - centre, axis=1)
        sel = d <= d.min() + 1e-9
    v = n[sel].sum(axis=0)
    return v / max(np.linalg.norm(v), 1e-12)


def _material_for(region_name: str, region: int, model: str) -> dict[str, Any]:
    """Explicit material of a region: biomech's tissue library when the name matches, else defaults."""
    key = region_name.lower()
    tissue = next((k for k in DEFAULT_TISSUE_MPA if k in key), "liver")
    e, nu = DEFAULT_TISSUE_MPA[tissue]
    density, source = 1.06e-9, "VHT Planner default"
    try:
        from biomech.tissues import get_tissue

        t = get_tissue(tissue)
        e, nu, density, source = t.youngs_modulus_mpa, t.poisson_ratio, t.density_tonne_per_mm3, f"tissue {t.name}"
    except (ImportError, InputError):
        pass
    return {"region": int(region), "model": model, "youngs_modulus": float(e), "poisson_ratio": float(nu),
            "density": float(density), "name": f"{region_name or f'region {region}'} ({source})"}


def build_rehearsal_case(
    reh: Rehearsal,
    mesh: TetMesh,
    material_model: str = "neo-hookean",
    steps: int = 4,
    element: str = "tet4",
) -> tuple[dict[str, Any], TetMesh]:
    """Case dictionary (``vht simulate`` schema) and the mesh carrying its node sets.

    Returns
    -------
    case : dict
        ``mesh``, ``materials``, ``boundary_conditions``, ``contacts``, ``solver``,
        plus ``rehearsal`` (what was asked, for the report).
    mesh : TetMesh
        ``mesh`` with point_data ``rehearsal_loaded`` and ``rehearsal_fixed`` (0/1).

    Raises
    ------
    InputError
        If no boundary node lies within the radius, or the fixed set is empty.
    """
    pts = np.asarray(mesh.points_lps)
    faces = boundary_faces(mesh.cells)
    bnodes = np.unique(faces)
    centre = np.asarray(reh.point_lps)
    dist = np.linalg.norm(pts - centre, axis=1)
    loaded = np.zeros(mesh.n_points, np.int8)
    near = np.zeros(mesh.n_points, bool)
    near[bnodes] = dist[bnodes] <= reh.radius_mm
    if not near.any():
        nearest = float(dist[bnodes].min())
        raise InputError(f"rehearsal {reh.name!r}: no organ surface within {reh.radius_mm:g} mm of the point "
                         f"(nearest surface node {nearest:.1f} mm away)")
    fixed_d = reh.fixed_distance_mm if reh.fixed_distance_mm is not None else 0.6 * float(dist[bnodes].max())
    fixed = np.zeros(mesh.n_points, np.int8)
    fixed[bnodes[dist[bnodes] >= fixed_d]] = 1
    if reh.fixed_segment:
        ids = [k for k, v in mesh.region_names.items() if v == reh.fixed_segment]
        if not ids:
            raise InputError(f"rehearsal {reh.name!r}: no mesh region named {reh.fixed_segment!r}")
        fixed[np.unique(mesh.cells[np.isin(mesh.region, ids)])] = 1
    fixed[near] = 0
    if not fixed.any():
        raise InputError(f"rehearsal {reh.name!r}: the fixed region is empty (fixed distance {fixed_d:.1f} mm)")
    names = dict(mesh.region_names)
    materials = [_material_for(names.get(int(r), ""), int(r), material_model) for r in np.unique(mesh.region)]
    case: dict[str, Any] = {
        "name": reh.name,
        "mesh": {"element": element},
        "materials": materials,
        "boundary_conditions": [
            {"name": "attachments", "kind": "fixed", "select": {"node_set": FIXED}},
        ],
        "solver": {"nonlinear": material_model != "linear-elastic", "steps": int(steps)},
        "frame": "LPS",
        "units": {"length": "mm", "force": "N", "stress": "MPa"},
        "rehearsal": {"kind": reh.kind, "point_lps": list(reh.point_lps), "radius_mm": reh.radius_mm,
                      "displacement_lps": list(reh.displacement_lps), "fixed_distance_mm": fixed_d,
                      "n_loaded_nodes": int(near.sum()), "n_fixed_nodes": int(fixed.sum())},
    }
    if reh.kind == "retraction":
        loaded[near] = 1
        case["boundary_conditions"].append({"name": "retractor", "kind": "displacement",
                                            "value": list(reh.displacement_lps), "select": {"node_set": LOADED}})
    else:
        nrm = _outward_normal(pts, faces, centre, near)
        sphere_c = centre + nrm * reh.radius_mm
        loaded[bnodes[dist[bnodes] <= 3 * reh.radius_mm]] = 1
        case["contacts"] = [{"name": "indenter", "indenter": {"sphere": {"center": sphere_c.tolist(),
                                                                         "radius": reh.radius_mm}},
                             "displacement": list(reh.displacement_lps), "select": {"node_set": LOADED}}]
    pdata = dict(mesh.point_data)
    pdata[LOADED] = loaded
    pdata[FIXED] = fixed
    return case, replace(mesh, point_data=pdata)


def run_rehearsal(
    reh: Rehearsal,
    mesh: TetMesh,
    material_model: str = "neo-hookean",
    steps: int = 4,
    progress: Progress | None = None,
) -> tuple[Rehearsal, dict[str, Any], TetMesh | None]:
    """Build and solve the rehearsal; return the rehearsal with its ``result``, the case and the result mesh.

    The result summary holds ``converged``, ``status``, ``max_displacement_mm``,
    ``max_von_mises_mpa``, ``retraction_force_n`` (reaction on the loaded region or
    contact force), ``mesh_quality`` and the case's materials and conditions. A
    non-converged solve is stored as such (``converged: False``) with no result mesh.

    Raises
    ------
    SolverError
        If :mod:`biomech` is not available.
    """
    prog = ensure_progress(progress)
    try:
        from biomech.solver import run_case
    except ImportError as exc:
        raise SolverError(f"biomechanics solver unavailable ({exc})") from None
    case, case_mesh = build_rehearsal_case(reh, mesh, material_model, steps)
    prog.update(0.05, "mesh quality")
    quality = mesh_quality_summary(case_mesh)
    solver_case = {k: copy.deepcopy(v) for k, v in case.items() if k not in _INFO_KEYS}
    result = run_case(solver_case, case_mesh, progress=SubProgress(prog, 0.1, 1.0, "solve: "))
    summary = result.summary()
    force = None
    if reh.kind == "retraction" and "retractor" in summary.get("reaction_forces", {}):
        force = summary["reaction_forces"]["retractor"]
    elif summary.get("contact_forces"):
        force = next(iter(summary["contact_forces"].values()))
    res = {
        "converged": bool(summary["converged"]),
        "status": summary["status"],
        "max_displacement_mm": summary["max_displacement_mm"] if summary["converged"] else None,
        "max_von_mises_mpa": summary["max_von_mises_mpa"] if summary["converged"] else None,
        "retraction_force_n": float(np.linalg.norm(force)) if force is not None and summary["converged"] else None,
        "load_fraction": summary.get("load_fraction"),
        "steps": summary.get("steps"),
        "newton_iterations": summary.get("newton_iterations"),
        "dofs": summary.get("dofs"),
        "elements": summary.get("elements"),
        "element": summary.get("element"),
        "nonlinear": summary.get("nonlinear"),
        "solver": summary.get("solver"),
        "wall_seconds": summary.get("wall_seconds"),
        "materials": case["materials"],
        "boundary_conditions": [{k: v for k, v in bc.items() if k != "select"} for bc in case["boundary_conditions"]],
        "contacts": [{"name": c["name"], "indenter": c["indenter"], "displacement": c["displacement"]}
                     for c in case.get("contacts", [])],
        "rehearsal": case["rehearsal"],
        "mesh_quality": quality,
        "warnings": summary.get("warnings", []),
    }
    prog.update(1.0, result.status)
    out_mesh = result.to_mesh() if result.converged else None
    return reh.with_metrics(res), case, out_mesh  # type: ignore[return-value]


def mesh_quality_summary(mesh: TetMesh) -> dict[str, Any]:
    """A few mesh-quality numbers (biomech's metrics when available, else volumes only)."""
    try:
        from biomech.quality import mesh_quality

        s = mesh_quality(mesh).to_dict()
        return {"n_cells": s["n_cells"], "n_points": s["n_points"], "order": s.get("order"),
                "min_dihedral_deg": s["min_dihedral_deg"]["min"], "p5_dihedral_deg": s["min_dihedral_deg"]["p5"],
                "min_scaled_jacobian": s["scaled_jacobian"]["min"], "n_inverted": s["n_inverted"],
                "volume_mm3": s.get("total_volume_mm3")}
    except ImportError:
        vol = mesh.cell_volumes_mm3()
        return {"n_cells": mesh.n_cells, "n_points": mesh.n_points, "order": mesh.order,
                "n_inverted": int(np.count_nonzero(vol <= 0)), "volume_mm3": float(np.abs(vol).sum())}
