"""Case files (TOML or JSON) <-> :class:`~biomech.problem.Problem`.

Schema (units mm, N, MPa, tonne/mm^3, s; geometry in the patient LPS frame; paths relative to the
case file): ``[mesh] file, element, max_cell_volume_mm3``; ``[[materials]] region, model | tissue,
youngs_modulus, poisson_ratio, c10, c01, bulk_modulus, density``; ``[[boundary_conditions]] name, kind,
components, value, select``; ``[[loads]] name, kind, value, select``; ``[[contacts]] name, indenter,
displacement, select, penalty, augmented, gap_tolerance``; ``[solver] nonlinear, steps, tolerance
(residual), displacement_tolerance, energy_tolerance, max_iterations, max_cutbacks, line_search,
linear_solver`` (Newton convergence: see :class:`~biomech.problem.SolverOptions`). Selectors:
``{plane = {point, normal}, tolerance}`` (nodes within tolerance of the plane),
``{half_space = {point, normal}}`` (nodes on the side the normal points to), ``{box = {min, max}}``,
``{sphere = {center, radius}}``, ``{node_set = "NAME"}``, ``"all"``, and the painted surface patch
``{surface_spheres = {centers = [[x, y, z], ...], radius = R | [R, ...], normals = [[nx, ny, nz], ...],
max_angle = 80, erase = [false, ...], connected = true}}``: boundary faces whose centroid lies in a dab
sphere (within ``max_angle`` degrees of the dab normal, surface-connected to the dab centre), dabs
applied in order (``erase`` removes); see :mod:`biomech.surface_patch`. Force and pressure loads on a
patch act on exactly its painted faces; a condition on it holds every node of those faces.
Every error is an :class:`InputError` naming the file and the key.
"""

from __future__ import annotations

import json
import math
import tomllib
from dataclasses import replace
from pathlib import Path
from typing import Any

from biomech.problem import (
    COMPONENTS,
    BoundaryCondition,
    Contact,
    Load,
    MaterialAssignment,
    Problem,
    Selector,
    SolverOptions,
)
from twin.errors import InputError
from twin.meshes import SurfaceModel, TetMesh

SURFACE_SUFFIXES = (".stl", ".vtp", ".ply", ".obj")
VOLUME_SUFFIXES = (".vtu", ".vtk", ".msh")
_KEYS = {
    "": {"mesh", "materials", "boundary_conditions", "loads", "contacts", "solver", "name", "description"},
    "mesh": {"file", "element", "max_cell_volume_mm3"},
    "materials": {"region", "model", "tissue", "youngs_modulus", "poisson_ratio", "density", "c10", "c01",
                  "bulk_modulus", "name"},
    "boundary_conditions": {"name", "kind", "components", "value", "select"},
    "loads": {"name", "kind", "value", "select"},
    "contacts": {"name", "indenter", "displacement", "select", "penalty", "augmented", "gap_tolerance",
                 "max_augmentations"},
    "solver": {"nonlinear", "steps", "tolerance", "displacement_tolerance", "energy_tolerance", "max_iterations",
               "max_cutbacks", "line_search", "linear_solver"},
}


def _check_keys(d: Any, section: str, where: str) -> dict[str, Any]:
    if not isinstance(d, dict):
        raise InputError(f"{where or 'case'}: expected a table/object, got {type(d).__name__}")
    unknown = set(d) - _KEYS[section]
    if unknown:
        raise InputError(f"{where + '.' if where else ''}{sorted(unknown)[0]}: unknown key "
                         f"(expected one of {', '.join(sorted(_KEYS[section]))})")
    return d


def _num(v: Any, where: str, positive: bool = False) -> float:
    if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
        raise InputError(f"{where}: expected a number, got {v!r}")
    if positive and v <= 0:
        raise InputError(f"{where}: must be > 0, got {v}")
    return float(v)


def _vec3(v: Any, where: str) -> tuple[float, float, float]:
    if not isinstance(v, list | tuple) or len(v) != 3:
        raise InputError(f"{where}: expected [x, y, z], got {v!r}")
    x, y, z = (_num(c, f"{where}[{i}]") for i, c in enumerate(v))
    return (x, y, z)


SELECTOR_KINDS = ("plane", "half_space", "box", "sphere", "node_set", "surface_spheres")
_SURFACE_KEYS = {"centers", "radius", "normals", "max_angle", "erase", "connected"}


def _surface_spheres(q: Any, where: str) -> dict[str, Any]:
    w = f"{where}.surface_spheres"
    if not isinstance(q, dict) or not {"centers", "radius"} <= set(q) or set(q) - _SURFACE_KEYS:
        raise InputError(f"{w}: expected keys centers, radius (optional: normals, max_angle, erase, connected)")
    centers = q["centers"]
    if not isinstance(centers, list) or not centers:
        raise InputError(f"{w}.centers: expected a non-empty list of [x, y, z]")
    out: dict[str, Any] = {"centers": tuple(_vec3(c, f"{w}.centers[{i}]") for i, c in enumerate(centers))}
    n = len(centers)
    r = q["radius"]
    if isinstance(r, list):
        if len(r) != n:
            raise InputError(f"{w}.radius: expected one radius or {n} (one per centre), got {len(r)}")
        out["radius"] = tuple(_num(x, f"{w}.radius[{i}]", positive=True) for i, x in enumerate(r))
    else:
        out["radius"] = _num(r, f"{w}.radius", positive=True)
    if "normals" in q:
        nv = q["normals"]
        if not isinstance(nv, list) or len(nv) != n:
            raise InputError(f"{w}.normals: expected {n} vectors (one per centre)")
        out["normals"] = tuple(_vec3(v, f"{w}.normals[{i}]") for i, v in enumerate(nv))
    if "max_angle" in q:
        a = _num(q["max_angle"], f"{w}.max_angle")
        if not 0 < a <= 180:
            raise InputError(f"{w}.max_angle: expected degrees in (0, 180], got {a}")
        out["max_angle"] = a
    if "erase" in q:
        e = q["erase"]
        if not isinstance(e, list) or len(e) != n or not all(isinstance(x, bool) for x in e):
            raise InputError(f"{w}.erase: expected {n} booleans (one per centre)")
        out["erase"] = tuple(e)
    if "connected" in q:
        if not isinstance(q["connected"], bool):
            raise InputError(f"{w}.connected: expected true or false")
        out["connected"] = q["connected"]
    return out


def parse_selector(sel: Any, where: str) -> Selector:
    """A selector table -> :class:`Selector`."""
    if sel == "all":
        return Selector("all")
    names = ", ".join(SELECTOR_KINDS)
    if not isinstance(sel, dict):
        raise InputError(f"{where}: expected a selector table ({names})")
    tol = _num(sel.get("tolerance", 1e-6), f"{where}.tolerance")
    kinds = [k for k in SELECTOR_KINDS if k in sel]
    extra = set(sel) - {*SELECTOR_KINDS, "tolerance"}
    if len(kinds) != 1 or extra:
        raise InputError(f"{where}: give exactly one of {names}"
                         + (f" (unknown key {sorted(extra)[0]!r})" if extra else ""))
    k = kinds[0]
    q = sel[k]
    if k == "node_set":
        if not isinstance(q, str):
            raise InputError(f"{where}.node_set: expected the name of a point_data array")
        return Selector("node_set", {"name": q}, tol)
    if k == "surface_spheres":
        return Selector(k, _surface_spheres(q, where), tol)
    need = {"plane": ("point", "normal"), "half_space": ("point", "normal"), "box": ("min", "max"),
            "sphere": ("center", "radius")}[k]
    if not isinstance(q, dict) or set(q) != set(need):
        raise InputError(f"{where}.{k}: expected keys {', '.join(need)}")
    params: dict[str, Any] = {}
    for key in need:
        params[key] = _num(q[key], f"{where}.{k}.{key}", positive=True) if key == "radius" else \
            _vec3(q[key], f"{where}.{k}.{key}")
    if k in ("plane", "half_space") and not any(params["normal"]):
        raise InputError(f"{where}.{k}.normal: must be nonzero")
    return Selector(k, params, tol)


def resolve_tissue(a: MaterialAssignment, where: str = "materials") -> MaterialAssignment:
    """Fill model and parameters of an assignment from the tissue library (explicit values win)."""
    try:
        from biomech.tissues import get_tissue
    except ImportError:  # pragma: no cover - tissue library not installed
        raise InputError(f"{where}.tissue: the tissue library is not available") from None
    try:
        t = get_tissue(a.tissue)
    except (KeyError, ValueError, InputError) as exc:
        raise InputError(f"{where}.tissue: {exc}") from None
    return replace(
        a,
        model=a.model or getattr(t, "model", "linear-elastic"),
        youngs_modulus=a.youngs_modulus if a.youngs_modulus is not None else getattr(t, "youngs_modulus_mpa", None),
        poisson_ratio=a.poisson_ratio if a.poisson_ratio is not None else getattr(t, "poisson_ratio", None),
        density=a.density if a.density else float(getattr(t, "density_tonne_per_mm3", 0.0) or 0.0),
        c10=a.c10 if a.c10 is not None else getattr(t, "c10_mpa", None),
        c01=a.c01 if a.c01 is not None else getattr(t, "c01_mpa", None),
        bulk_modulus=a.bulk_modulus if a.bulk_modulus is not None else getattr(t, "bulk_modulus_mpa", None),
    )


def _materials(items: Any) -> tuple[MaterialAssignment, ...]:
    if not isinstance(items, list) or not items:
        raise InputError("materials: at least one [[materials]] entry is needed")
    out = []
    for i, m in enumerate(items):
        w = f"materials[{i}]"
        _check_keys(m, "materials", w)
        region = m.get("region")
        if region is not None and (isinstance(region, bool) or not isinstance(region, int)):
            raise InputError(f"{w}.region: expected an integer region id, got {region!r}")
        vals = {k: (_num(m[k], f"{w}.{k}") if k in m else None)
                for k in ("youngs_modulus", "poisson_ratio", "c10", "c01", "bulk_modulus")}
        a = MaterialAssignment(model=str(m.get("model", "")), region=region, density=_num(m.get("density", 0.0),
                               f"{w}.density"), tissue=m.get("tissue"), name=str(m.get("name", "")), **vals)
        if not a.model and not a.tissue:
            raise InputError(f"{w}: give model or tissue")
        if a.tissue:
            a = resolve_tissue(a, w)
        if a.model not in ("linear-elastic", "neo-hookean", "mooney-rivlin"):
            raise InputError(f"{w}.model: unknown model {a.model!r} (expected linear-elastic, neo-hookean, "
                             "mooney-rivlin)")
        from biomech.materials import make_material

        try:
            make_material(a)
        except InputError as exc:
            raise InputError(f"{w}: {exc.reason.split(': ', 1)[-1]}") from None
        out.append(a)
    return tuple(out)


def _named(items: Any, section: str, prefix: str) -> list[tuple[str, str, dict[str, Any]]]:
    if items is None:
        return []
    if not isinstance(items, list):
        raise InputError(f"{section}: expected a list of tables ([[{section}]])")
    out, names = [], set()
    for i, d in enumerate(items):
        w = f"{section}[{i}]"
        _check_keys(d, section, w)
        name = str(d.get("name", f"{prefix}{i + 1}"))
        if name in names:
            raise InputError(f"{w}.name: duplicate name {name!r}")
        names.add(name)
        out.append((w, name, d))
    return out


def problem_from_dict(case: dict[str, Any], mesh: TetMesh | None, base_dir: str | Path | None = None) -> Problem:
    """Validate a case dictionary (TOML schema) and build a :class:`Problem` on ``mesh``.

    ``mesh`` may be None when ``case["mesh"]["file"]`` names a file (read relative to ``base_dir``).
    """
    mesh_sec = _mesh_section(case)
    if mesh is None:
        if "file" not in mesh_sec:
            raise InputError("mesh.file: missing (path of a .vtu/.vtk/.msh tet mesh or a closed surface)")
        base = Path(base_dir) if base_dir is not None else Path.cwd()
        vol = mesh_sec.get("max_cell_volume_mm3")
        mesh = read_mesh(base / str(mesh_sec["file"]), None if vol is None else
                         _num(vol, "mesh.max_cell_volume_mm3", positive=True))
    materials, bcs, loads, contacts, opts = parse_sections(case)
    return Problem(mesh, materials, tuple(bcs), tuple(loads), tuple(contacts), opts,
                   name=str(case.get("name", "case")), case=case)


def _mesh_section(case: Any) -> dict[str, Any]:
    _check_keys(case, "", "")
    mesh_sec = _check_keys(case.get("mesh", {}), "mesh", "mesh")
    element = mesh_sec.get("element", "tet4")
    if element not in ("tet4", "tet10"):
        raise InputError(f"mesh.element: expected \"tet4\" or \"tet10\", got {element!r}")
    return mesh_sec


def check_setup(case: dict[str, Any]) -> None:
    """Validate a case dictionary without a mesh (an edited set-up): every key and value as
    :func:`problem_from_dict` checks them, except that ``mesh.file`` may be missing and ``materials``
    may be empty (the editor fills unassigned regions). Raises :class:`InputError` naming the key."""
    _mesh_section(case)
    parse_sections(case, require_materials=False)


def parse_sections(case: dict[str, Any], require_materials: bool = True) -> tuple[
        tuple[MaterialAssignment, ...], list[BoundaryCondition], list[Load], list[Contact], SolverOptions]:
    """Materials, boundary conditions, loads, contacts and solver options of a case dictionary (validated)."""
    element = case.get("mesh", {}).get("element", "tet4")
    materials = _materials(case.get("materials")) if require_materials or case.get("materials") else ()
    bcs = []
    for w, name, d in _named(case.get("boundary_conditions"), "boundary_conditions", "bc"):
        kind = d.get("kind", "fixed")
        if kind not in ("fixed", "displacement"):
            raise InputError(f"{w}.kind: expected fixed or displacement, got {kind!r}")
        comps = d.get("components", list(COMPONENTS))
        if not isinstance(comps, list) or not comps or any(c not in COMPONENTS for c in comps):
            raise InputError(f"{w}.components: expected a non-empty subset of [\"x\", \"y\", \"z\"], got {comps!r}")
        if kind == "displacement" and "value" not in d:
            raise InputError(f"{w}.value: a displacement condition needs value = [dx, dy, dz] (mm)")
        value = _vec3(d.get("value", [0.0, 0.0, 0.0]), f"{w}.value")
        if "select" not in d:
            raise InputError(f"{w}.select: missing node selector")
        bcs.append(BoundaryCondition(name, kind, parse_selector(d["select"], f"{w}.select"), tuple(comps), value))
    loads = []
    for w, name, d in _named(case.get("loads"), "loads", "load"):
        kind = d.get("kind")
        if kind not in ("force", "pressure", "gravity"):
            raise InputError(f"{w}.kind: expected force, pressure or gravity, got {kind!r}")
        if "value" not in d:
            raise InputError(f"{w}.value: missing")
        value: Any = _num(d["value"], f"{w}.value") if kind == "pressure" else _vec3(d["value"], f"{w}.value")
        sel = None
        if kind != "gravity":
            if "select" not in d:
                raise InputError(f"{w}.select: missing node selector")
            sel = parse_selector(d["select"], f"{w}.select")
        loads.append(Load(name, kind, value, sel))
    contacts = []
    for w, name, d in _named(case.get("contacts"), "contacts", "contact"):
        ind = d.get("indenter")
        if not isinstance(ind, dict) or len(ind) != 1 or next(iter(ind)) not in ("sphere", "plane"):
            raise InputError(f"{w}.indenter: expected {{ sphere = {{center, radius}} }} "
                             "or { plane = {point, normal} }")
        shape = next(iter(ind))
        sel = parse_selector({shape: ind[shape]}, f"{w}.indenter")
        contacts.append(Contact(
            name, shape, sel.params, _vec3(d.get("displacement", [0.0, 0.0, 0.0]), f"{w}.displacement"),
            parse_selector(d["select"], f"{w}.select") if "select" in d else None,
            penalty=_num(d.get("penalty", 10.0), f"{w}.penalty", positive=True),
            augmented=bool(d.get("augmented", True)),
            gap_tolerance_mm=None if "gap_tolerance" not in d else _num(d["gap_tolerance"], f"{w}.gap_tolerance",
                                                                         positive=True),
            max_augmentations=int(_num(d.get("max_augmentations", 20), f"{w}.max_augmentations"))))
    s = _check_keys(case.get("solver", {}), "solver", "solver")
    nonlinear = s.get("nonlinear")
    if nonlinear is not None and not isinstance(nonlinear, bool):
        raise InputError(f"solver.nonlinear: expected true or false, got {nonlinear!r}")
    steps = s.get("steps", 1 if not nonlinear else 10)
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise InputError(f"solver.steps: expected a positive integer, got {steps!r}")
    ls = s.get("linear_solver", "auto")
    if ls not in ("auto", "pardiso", "cholmod", "amg", "scipy"):
        raise InputError(f"solver.linear_solver: expected auto, pardiso, cholmod, amg or scipy, got {ls!r}")
    opts = SolverOptions(nonlinear=nonlinear, steps=steps,
                         tolerance=_num(s.get("tolerance", 1e-8), "solver.tolerance", positive=True),
                         displacement_tolerance=_num(s.get("displacement_tolerance", 1e-3),
                                                     "solver.displacement_tolerance"),
                         energy_tolerance=_num(s.get("energy_tolerance", 1e-2), "solver.energy_tolerance"),
                         max_iterations=int(_num(s.get("max_iterations", 25), "solver.max_iterations", True)),
                         max_cutbacks=int(_num(s.get("max_cutbacks", 6), "solver.max_cutbacks")),
                         line_search=bool(s.get("line_search", True)), linear_solver=ls, element=element)
    return materials, bcs, loads, contacts, opts


def read_mesh(path: Path, max_cell_volume_mm3: float | None = None) -> TetMesh:
    """Read a tet mesh (.vtu/.vtk/.msh) or tet-mesh a closed surface (.stl/.vtp/.ply/.obj); LPS mm."""
    suffix = path.suffix.lower()
    if not path.exists():
        raise InputError("mesh.file: file not found", path)
    import pyvista as pv

    if suffix in SURFACE_SUFFIXES:
        from biomech.meshing import tetmesh_from_surface

        try:
            data = pv.read(str(path))
            if not isinstance(data, pv.PolyData):
                data = data.extract_surface()
            surf = SurfaceModel.from_pyvista(data, name=path.stem)
        except (OSError, ValueError) as exc:
            raise InputError(f"mesh.file: cannot read surface ({exc})", path) from None
        return tetmesh_from_surface(surf, max_cell_volume_mm3=max_cell_volume_mm3)
    if suffix not in VOLUME_SUFFIXES:
        raise InputError(f"mesh.file: unsupported format {suffix!r} (expected .vtu .vtk .msh or a surface "
                         ".stl .vtp .ply .obj)", path)
    try:
        grid = pv.read(str(path))
    except Exception as exc:  # noqa: BLE001 - reader errors are user errors here
        raise InputError(f"mesh.file: cannot read mesh ({exc})", path) from None
    grid = pv.wrap(grid)
    if isinstance(grid, pv.MultiBlock):
        grid = grid.combine()
    tet_types = {int(pv.CellType.TETRA), int(pv.CellType.QUADRATIC_TETRA)}
    types = set(int(t) for t in getattr(grid, "celltypes", []))
    if types & tet_types and types - tet_types:
        keep = [i for i, t in enumerate(grid.celltypes) if int(t) in tet_types]
        grid = grid.extract_cells(keep)
    if "region" not in grid.cell_data:
        for alt in ("gmsh:physical", "CellEntityIds", "medit:ref"):
            if alt in grid.cell_data:
                grid.cell_data["region"] = grid.cell_data[alt]
                break
    try:
        return TetMesh.from_pyvista(grid)
    except InputError as exc:
        raise InputError(f"mesh.file: {exc}", path) from None


def load_case(path: str | Path) -> Problem:
    """Read a TOML or JSON case file (paths relative to it) and build the :class:`Problem`."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot read case file ({exc.strerror})", path) from None
    try:
        case = json.loads(text) if path.suffix.lower() == ".json" else tomllib.loads(text)
    except (json.JSONDecodeError, tomllib.TOMLDecodeError) as exc:
        raise InputError(f"syntax error: {exc}", path) from None
    try:
        return problem_from_dict(case, None, base_dir=path.parent)
    except InputError as exc:
        if exc.path:
            raise
        raise InputError(exc.reason, path) from None
