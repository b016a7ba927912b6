"""Export a :class:`~biomech.problem.Problem` as an FEBio 4.0 input file (``.feb``).

Coordinates are the patient LPS frame in mm (units mm, N, MPa, tonne/mm^3, s). Mapping:
``linear-elastic`` -> ``isotropic elastic`` (St. Venant-Kirchhoff in large deformation, as our
solver), ``neo-hookean`` -> ``neo-Hookean`` (E, v), ``mooney-rivlin`` -> ``Mooney-Rivlin`` (c1, c2, k);
fixed -> ``zero displacement``; displacement -> ``prescribed displacement`` per component; force ->
``traction`` surface load (F / area); pressure -> ``pressure`` surface load; gravity g -> ``const`` body
load with value -g (FEBio's body-force sign convention); each rigid indenter -> a meshed ``rigid body``
(ball or plate) driven by ``rigid_displacement`` with a frictionless ``sliding-elastic`` contact (FEBio 4
has no analytic rigid wall). Everything is ramped by one linear load controller over ``steps`` time
steps of size 1/steps.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from biomech import bcs as bcmod
from biomech.elements import reorient_cells
from biomech.problem import COMPONENTS, Contact, Problem, material_of_cells
from twin.io.atomic import atomic_path

FEB_MATERIAL = {"linear-elastic": "isotropic elastic", "neo-hookean": "neo-Hookean", "mooney-rivlin": "Mooney-Rivlin"}


def _sub(parent: ET.Element, tag: str, text: object | None = None, **attrib: str) -> ET.Element:
    e = ET.SubElement(parent, tag, attrib)
    if text is not None:
        e.text = str(text)
    return e


def _fmt(v: float) -> str:
    return f"{float(v):.12g}"


def _ids(nodes: NDArray[np.int64]) -> str:
    return ",".join(str(int(i) + 1) for i in nodes)


def _indenter_mesh(c: Contact, tissue_points: NDArray[np.float64]) -> tuple[NDArray[np.float64],
                                                                           NDArray[np.int64], NDArray[np.int64]]:
    """Points, tet4 cells and contact triangles (normals towards the tissue) of a rigid indenter."""
    q = c.params
    if c.shape == "sphere":
        import pyvista as pv

        center, r = np.asarray(q["center"], float), float(q["radius"])
        ico = pv.Icosphere(radius=r, center=center, nsub=3)
        tri = ico.faces.reshape(-1, 4)[:, 1:]
        pts = np.vstack([np.asarray(ico.points), center])
        cells = np.column_stack([tri, np.full(len(tri), len(pts) - 1)])
        cells, _ = reorient_cells(pts, cells)
        return pts, cells, tri
    n = np.asarray(q["normal"], float)
    n /= np.linalg.norm(n)
    p0 = np.asarray(q["point"], float)
    a = np.cross(n, [1.0, 0.0, 0.0] if abs(n[0]) < 0.9 else [0.0, 1.0, 0.0])
    a /= np.linalg.norm(a)
    b = np.cross(n, a)
    rel = tissue_points - p0
    half = 1.5 * max(np.abs(rel @ a).max(), np.abs(rel @ b).max(), 1.0)
    t = 0.05 * half
    top = [p0 + s * half * a + u * half * b for s, u in ((-1, -1), (1, -1), (1, 1), (-1, 1))]
    pts = np.array(top + [p - t * n for p in top])
    cells = np.array([[0, 1, 3, 4], [1, 2, 3, 6], [1, 4, 5, 6], [3, 4, 6, 7], [1, 3, 4, 6]])
    cells, _ = reorient_cells(pts, cells)
    return pts, cells, np.array([[0, 1, 2], [0, 2, 3]])


def problem_to_feb(problem: Problem) -> ET.ElementTree:
    """Build the FEBio 4.0 XML tree of ``problem``."""
    from biomech.materials import make_material
    from biomech.solver import promote_mesh

    mesh = promote_mesh(problem.mesh) if problem.options.element == "tet10" else problem.mesh
    cells, _ = reorient_cells(mesh.points_lps, np.asarray(mesh.cells))
    faces = bcmod.boundary_faces(cells)
    nonlinear = problem.is_nonlinear or bool(problem.contacts)
    steps = max(1, int(problem.options.steps))
    root = ET.Element("febio_spec", version="4.0")
    _sub(root, "Module", type="solid")
    ctrl = _sub(root, "Control")
    _sub(ctrl, "analysis", "STATIC")
    _sub(ctrl, "time_steps", steps)
    _sub(ctrl, "step_size", _fmt(1.0 / steps))
    solver = _sub(ctrl, "solver", type="solid")
    _sub(solver, "symmetric_stiffness", 0 if problem.loads and any(ld.kind == "pressure" for ld in problem.loads)
         else 1)
    _sub(solver, "max_refs", problem.options.max_iterations)
    # FEBio compares squared norms for dtol (|du|^2 <= dtol^2 |U|^2, so dtol is as ours) and rtol
    # (R.R <= rtol R0.R0): our unsquared residual tolerance maps to rtol = tolerance^2
    _sub(solver, "dtol", _fmt(problem.options.displacement_tolerance))
    _sub(solver, "etol", _fmt(problem.options.energy_tolerance))
    _sub(solver, "rtol", _fmt(problem.options.tolerance ** 2))
    _sub(solver, "lstol", "0.9" if problem.options.line_search else "0")
    qn = _sub(solver, "qn_method", type="BFGS")
    _sub(qn, "max_ups", 0)  # full Newton, as our solver
    ts = _sub(ctrl, "time_stepper", type="default")
    _sub(ts, "max_retries", problem.options.max_cutbacks)
    _sub(ts, "opt_iter", 10)
    glob = _sub(root, "Globals")
    consts = _sub(glob, "Constants")
    for k in ("T", "R", "Fc"):
        _sub(consts, k, 0)

    mats = _sub(root, "Material")
    which = material_of_cells(problem.materials, mesh.region)
    mat_names = {}
    for mid, i in enumerate(sorted(set(which[which >= 0].tolist())), start=1):
        a = problem.materials[i]
        if not a.model and a.tissue:
            from biomech.case import resolve_tissue

            a = resolve_tissue(a)
        m = make_material(a)
        name = a.name or a.tissue or f"Material{mid}"
        mat_names[i] = name
        e = _sub(mats, "material", id=str(mid), name=name, type=FEB_MATERIAL[m.model])
        _sub(e, "density", _fmt(m.density or 1e-9))
        if m.model == "mooney-rivlin":
            _sub(e, "c1", _fmt(m.c10))
            _sub(e, "c2", _fmt(m.c01))
            _sub(e, "k", _fmt(m.bulk_modulus))
        else:
            _sub(e, "E", _fmt(m.youngs_modulus))
            _sub(e, "v", _fmt(m.poisson_ratio))
    n_mat = len(mat_names)

    mesh_el = _sub(root, "Mesh")
    nodes_el = _sub(mesh_el, "Nodes", name="tissue")
    for i, p in enumerate(mesh.points_lps):
        _sub(nodes_el, "node", ",".join(_fmt(c) for c in p), id=str(i + 1))
    etype = "tet4" if cells.shape[1] == 4 else "tet10"
    domains = []
    for i, name in mat_names.items():
        idx = np.flatnonzero(which == i)
        part = f"Part_{name}"
        el = _sub(mesh_el, "Elements", type=etype, name=part)
        for c in idx:
            _sub(el, "elem", _ids(cells[c]), id=str(int(c) + 1))
        domains.append((part, name))
    offset_nodes, offset_elems = mesh.n_points, mesh.n_cells
    indenters = []
    for c in problem.contacts:
        pts, icells, tri = _indenter_mesh(c, mesh.points_lps)
        nd = _sub(mesh_el, "Nodes", name=f"indenter_{c.name}")
        for i, p in enumerate(pts):
            _sub(nd, "node", ",".join(_fmt(v) for v in p), id=str(offset_nodes + i + 1))
        part = f"Indenter_{c.name}"
        el = _sub(mesh_el, "Elements", type="tet4", name=part)
        for i, cc in enumerate(icells):
            _sub(el, "elem", _ids(cc + offset_nodes), id=str(offset_elems + i + 1))
        indenters.append((c, part, tri + offset_nodes, pts))
        offset_nodes += len(pts)
        offset_elems += len(icells)
    for i, bc in enumerate(problem.boundary_conditions):
        mask = bcmod.select_nodes(bc.selector, mesh, f"boundary_conditions[{i}].select")
        _sub(mesh_el, "NodeSet", _ids(np.flatnonzero(mask)), name=f"bc_{bc.name}")
    surfaces = {}
    for i, ld in enumerate(problem.loads):
        if ld.kind == "gravity" or ld.selector is None:
            continue
        sel = bcmod.select_faces(ld.selector, mesh, faces, f"loads[{i}].select")
        surfaces[ld.name] = sel
        _write_surface(mesh_el, f"load_{ld.name}", sel)
    for c, _part, tri, _ in indenters:
        cand = bcmod.select_faces(c.selector, mesh, faces, f"contacts.{c.name}.select") if c.selector else faces
        _write_surface(mesh_el, f"contact_{c.name}", cand)
        _write_surface(mesh_el, f"indenter_{c.name}", tri)
        pair = _sub(mesh_el, "SurfacePair", name=f"pair_{c.name}")
        _sub(pair, "primary", f"contact_{c.name}")
        _sub(pair, "secondary", f"indenter_{c.name}")

    md = _sub(root, "MeshDomains")
    for part, name in domains:
        _sub(md, "SolidDomain", name=part, mat=name)
    for k, (c, part, _, _) in enumerate(indenters):
        rname = f"rigid_{c.name}"
        e = _sub(mats, "material", id=str(n_mat + k + 1), name=rname, type="rigid body")
        _sub(e, "density", "1e-9")
        _sub(e, "center_of_mass", ",".join(_fmt(v) for v in (c.params.get("center") or c.params.get("point"))))
        _sub(md, "SolidDomain", name=part, mat=rname)

    bnd = _sub(root, "Boundary")
    for bc in problem.boundary_conditions:
        if bc.kind == "fixed":
            e = _sub(bnd, "bc", name=bc.name, node_set=f"bc_{bc.name}", type="zero displacement")
            for comp in COMPONENTS:
                _sub(e, f"{comp}_dof", int(comp in bc.components))
        else:
            for comp in bc.components:
                e = _sub(bnd, "bc", name=f"{bc.name}_{comp}", node_set=f"bc_{bc.name}",
                         type="prescribed displacement")
                _sub(e, "dof", comp)
                _sub(e, "value", _fmt(bc.value[COMPONENTS.index(comp)]), lc="1")
                _sub(e, "relative", 0)
    if indenters:
        rig = _sub(root, "Rigid")
        for c, _, _, _ in indenters:
            e = _sub(rig, "rigid_bc", name=f"{c.name}_rotations", type="rigid_fixed")
            _sub(e, "rb", f"rigid_{c.name}")
            for d in ("Ru", "Rv", "Rw"):
                _sub(e, f"{d}_dof", 1)
            for j, comp in enumerate(COMPONENTS):
                e = _sub(rig, "rigid_bc", name=f"{c.name}_{comp}", type="rigid_displacement")
                _sub(e, "rb", f"rigid_{c.name}")
                _sub(e, "dof", comp)
                _sub(e, "value", _fmt(c.displacement_mm[j]), lc="1")
                _sub(e, "relative", 0)
    loads = _sub(root, "Loads")
    for ld in problem.loads:
        if ld.kind == "gravity":
            # FEBio assembles a body force b like a stress term (FEElasticSolidDomain::ElementBodyForce
            # subtracts rho b N), i.e. the applied load is -rho b: gravity g is written as b = -g
            e = _sub(loads, "body_load", name=ld.name, type="const")
            for comp, v in zip(COMPONENTS, ld.value):
                _sub(e, comp, _fmt(-float(v)), lc="1")
        elif ld.kind == "pressure":
            e = _sub(loads, "surface_load", name=ld.name, surface=f"load_{ld.name}", type="pressure")
            _sub(e, "pressure", _fmt(ld.value), lc="1")
            _sub(e, "symmetric_stiffness", 0)
            _sub(e, "linear", 0 if nonlinear else 1)
            _sub(e, "shell_bottom", 0)
        else:
            area = float(bcmod.face_areas(mesh.points_lps, surfaces[ld.name]).sum())
            e = _sub(loads, "surface_load", name=ld.name, surface=f"load_{ld.name}", type="traction")
            _sub(e, "scale", "1", lc="1")
            _sub(e, "traction", ",".join(_fmt(v / area) for v in ld.value))
    if indenters:
        con = _sub(root, "Contact")
        for c, _, _, _ in indenters:
            e = _sub(con, "contact", name=c.name, surface_pair=f"pair_{c.name}", type="sliding-elastic")
            _sub(e, "laugon", "AUGLAG" if c.augmented else "PENALTY")
            _sub(e, "tolerance", "0.05")
            _sub(e, "penalty", _fmt(c.penalty / 10.0))
            _sub(e, "auto_penalty", 1)
            _sub(e, "two_pass", 0)
            _sub(e, "fric_coeff", 0)
            _sub(e, "symmetric_stiffness", 0)
    ld_el = _sub(root, "LoadData")
    lc = _sub(ld_el, "load_controller", id="1", name="ramp", type="loadcurve")
    _sub(lc, "interpolate", "LINEAR")
    pts_el = _sub(lc, "points")
    _sub(pts_el, "pt", "0,0")
    _sub(pts_el, "pt", "1,1")
    out = _sub(root, "Output")
    plot = _sub(out, "plotfile", type="febio")
    for v in ("displacement", "stress", "Lagrange strain", "reaction forces"):
        _sub(plot, "var", type=v)
    ET.indent(root, space="  ")
    return ET.ElementTree(root)


def _write_surface(parent: ET.Element, name: str, faces: NDArray[np.int64]) -> None:
    s = _sub(parent, "Surface", name=name)
    tag = "tri3" if faces.shape[1] == 3 else "tri6"
    for i, f in enumerate(faces):
        _sub(s, tag, _ids(f), id=str(i + 1))


def export_feb(problem: Problem, path: str | Path) -> Path:
    """Write ``problem`` as an FEBio 4.0 ``.feb`` file, atomically. Returns the path."""
    tree = problem_to_feb(problem)
    path = Path(path)
    with atomic_path(path) as tmp:
        tree.write(tmp, encoding="ISO-8859-1", xml_declaration=True)
    return path
