"""Verification cases of the FE engine against closed-form solutions (LPS mm, N, MPa).

Each case builds a case dictionary in the ``vht simulate`` schema and a structured mesh,
runs :func:`biomech.solver.run_case`, and compares one quantity to its analytic value.
Every case function accepts ``mutate(case_dict)``, called on the case before it is solved
while the expected value keeps the true parameters: tests use it to prove that a wrong
engine input makes the case fail.
"""

from __future__ import annotations

import copy
import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

from biomech.verification import analytic
from biomech.verification.convergence import l2_displacement_error, observed_orders
from biomech.verification.harness import (
    CaseResult,
    Mutator,
    case_dict,
    fixed_bc,
    guarded,
    make_result,
    material_entry,
    node_set_select,
    plane_select,
    solve_case,
)
from biomech.verification.structured_meshes import (
    box_mesh,
    octant_ball_mesh,
    octant_shell_mesh,
    quarter_cylinder_mesh,
)
from twin.meshes import TetMesh

# --------------------------------------------------------------------------- patch test
PATCH_GRADIENT = np.array([[1.0e-3, 2.0e-4, -3.0e-4], [5.0e-4, -2.0e-3, 1.0e-4], [-2.0e-4, 3.0e-4, 1.5e-3]])
PATCH_TRANSLATION = np.array([0.01, -0.02, 0.03])


def patch_test(order: int = 1, quick: bool = False, mutate: Mutator | None = None) -> CaseResult:
    """Displacement patch test on an irregular box mesh.

    Every boundary node gets ``u = c + G x`` (one displacement condition per node, sphere selector);
    the interior nodes of a jittered mesh must reproduce the affine field and every cell the
    constant stress ``C : sym(G)`` to 1e-8 relative.
    """
    element = "tet4" if order == 1 else "tet10"
    name = f"patch test {element}"
    quantity = "max rel. error u, stress"
    e, nu = 1000.0, 0.3
    tol = 1e-8

    def body() -> CaseResult:
        div = (3, 3, 3) if quick else (4, 4, 3)
        mesh = box_mesh((10.0, 8.0, 6.0), div, order=order, jitter=0.3, seed=7)
        u_exact = analytic.affine_displacement(mesh.points_lps, PATCH_GRADIENT, PATCH_TRANSLATION)
        bnd = np.flatnonzero(mesh.point_data["boundary"])
        bcs = [{"name": f"n{i}", "kind": "displacement", "components": ["x", "y", "z"],
                "value": [float(v) for v in u_exact[i]],
                "select": {"sphere": {"center": [float(c) for c in mesh.points_lps[i]], "radius": 1e-6},
                           "tolerance": 0.0}} for i in bnd]
        case = case_dict(element, [material_entry("linear-elastic", e, nu)], bcs)
        s = solve_case(case, mesh, mutate)
        u_ex = analytic.affine_displacement(s.mesh.points_lps, PATCH_GRADIENT, PATCH_TRANSLATION)
        err_u = float(np.abs(s.displacement - u_ex).max() / np.abs(u_ex).max())
        sig_ex = analytic.isotropic_stress(PATCH_GRADIENT, e, nu)
        sig = s.stress()
        err_s = float(np.abs(sig - sig_ex[None]).max() / np.abs(sig_ex).max())
        interior = int(s.mesh.n_points - len(bnd))
        return make_result(name, quantity, 0.0, max(err_u, err_s), tol,
                           {"displacement_error": err_u, "stress_error": err_s, "nodes": s.mesh.n_points,
                            "interior_nodes": interior, "cells": s.mesh.n_cells, "seconds": s.seconds},
                           error=max(err_u, err_s))

    return guarded(name, quantity, 0.0, tol, body)


PATCH_STRESS_MPA = np.array([[1.0, 0.3, -0.2], [0.3, -0.5, 0.1], [-0.2, 0.1, 0.8]])


def traction_patch_test(order: int = 1, quick: bool = False, mutate: Mutator | None = None) -> CaseResult:
    """Force (Neumann) patch test: a constant stress state from uniform tractions on all six faces.

    Each face of a 10 x 8 x 6 box (irregular interior) carries the total force ``sigma . n * area`` as a
    ``force`` load (checks the consistent area distribution, also on 6-node faces); rigid motion is
    removed by 6 point supports (which must carry no load). Every cell must have ``sigma`` and every node
    ``u = (eps + W) x`` (the rotation W fixed by the supports) to 1e-8 relative.
    """
    element = "tet4" if order == 1 else "tet10"
    name = f"traction patch {element}"
    quantity = "max rel. error u, stress"
    e, nu = 1000.0, 0.3
    lx, ly, lz = 10.0, 8.0, 6.0
    tol = 1e-8

    def body() -> CaseResult:
        div = (3, 3, 3) if quick else (4, 4, 3)
        mesh = box_mesh((lx, ly, lz), div, order=order, jitter=0.3, seed=11)
        sig = PATCH_STRESS_MPA
        loads = []
        for axis, (lo, hi), area in ((0, ("xmin", "xmax"), ly * lz), (1, ("ymin", "ymax"), lx * lz),
                                     (2, ("zmin", "zmax"), lx * ly)):
            for sign, set_name in ((-1.0, lo), (1.0, hi)):
                traction = sign * sig[:, axis]
                loads.append({"name": set_name, "kind": "force", "value": [float(v) for v in traction * area],
                              "select": node_set_select(set_name)})

        def point(p: tuple[float, float, float]) -> dict[str, Any]:
            return {"sphere": {"center": list(p), "radius": 1e-6}, "tolerance": 0.0}

        bcs = [fixed_bc("pin", point((0.0, 0.0, 0.0))),
               fixed_bc("roll_x", point((lx, 0.0, 0.0)), ("y", "z")),
               fixed_bc("roll_y", point((0.0, ly, 0.0)), ("z",))]
        s = solve_case(case_dict(element, [material_entry("linear-elastic", e, nu)], bcs, loads), mesh, mutate)
        mu, lam = analytic.lame_parameters(e, nu)
        eps = (sig - lam / (3 * lam + 2 * mu) * np.trace(sig) * np.eye(3)) / (2 * mu)
        wx, wy, wz = -eps[2, 1], eps[2, 0], -eps[1, 0]  # infinitesimal rotation fixed by the supports
        grad = eps + np.array([[0.0, -wz, wy], [wz, 0.0, -wx], [-wy, wx, 0.0]])
        u_ex = analytic.affine_displacement(s.mesh.points_lps, grad)
        err_u = float(np.abs(s.displacement - u_ex).max() / np.abs(u_ex).max())
        err_s = float(np.abs(s.stress() - sig[None]).max() / np.abs(sig).max())
        support = max(float(np.abs(s.reaction(n)).max()) for n in ("pin", "roll_x", "roll_y"))
        err = max(err_u, err_s)
        return make_result(name, quantity, 0.0, err, tol,
                           {"displacement_error": err_u, "stress_error": err_s, "max_support_reaction_n": support,
                            "nodes": s.mesh.n_points, "seconds": s.seconds}, error=err)

    return guarded(name, quantity, 0.0, tol, body)


# --------------------------------------------------------------------------- cantilever
def cantilever(quick: bool = False, mutate: Mutator | None = None) -> CaseResult:
    """Tet10 cantilever (L 100, 10 x 10 section, E 200 GPa, nu 0.3), end force on the free face.

    Expected: Timoshenko tip deflection ``P L^3 / (3 E I) + P L / (kappa G A)`` (Cowper's kappa);
    computed: vertical displacement of the tip-face centre node. Tolerance 2%.
    """
    length, width, height, e, nu, force = 100.0, 10.0, 10.0, 200e3, 0.3, 100.0
    expected = analytic.timoshenko_tip_deflection(force, length, width, height, e, nu)
    name, quantity, tol = "cantilever tet10", "tip deflection mm", 0.02

    def body() -> CaseResult:
        div = (20, 2, 2) if quick else (40, 4, 4)
        mesh = box_mesh((length, width, height), div)  # tet4: the engine promotes it (element = tet10)
        case = case_dict("tet10", [material_entry("linear-elastic", e, nu)],
                         [fixed_bc("clamp", plane_select((0, 0, 0), (1, 0, 0)))],
                         [{"name": "tip", "kind": "force", "value": [0.0, 0.0, -force],
                           "select": node_set_select("xmax")}])
        s = solve_case(case, mesh, mutate)
        tip = int(np.argmin(np.linalg.norm(s.mesh.points_lps - [length, width / 2, height / 2], axis=1)))
        computed = -float(s.displacement[tip, 2])
        eb = analytic.euler_bernoulli_tip_deflection(force, length, width, height, e)
        return make_result(name, quantity, expected, computed, tol,
                           {"euler_bernoulli_mm": eb, "dofs": 3 * s.mesh.n_points, "cells": s.mesh.n_cells,
                            "seconds": s.seconds})

    return guarded(name, quantity, expected, tol, body)


# --------------------------------------------------------------------------- Lame cylinder
LAME = {"a": 5.0, "b": 10.0, "p": 1.0, "e": 1000.0, "nu": 0.3}


def lame_case(mesh: TetMesh, element: str, e: float = LAME["e"], nu: float = LAME["nu"],
              pressure: float = LAME["p"]) -> dict[str, Any]:
    """Plane-strain quarter cylinder: symmetry on x = 0 and y = 0, u_z = 0 on both ends, inner pressure."""
    zmax = float(mesh.points_lps[:, 2].max())
    bcs = [fixed_bc("sym_x", plane_select((0, 0, 0), (1, 0, 0)), ("x",)),
           fixed_bc("sym_y", plane_select((0, 0, 0), (0, 1, 0)), ("y",)),
           fixed_bc("z0", plane_select((0, 0, 0), (0, 0, 1)), ("z",)),
           fixed_bc("z1", plane_select((0, 0, zmax), (0, 0, 1)), ("z",))]
    loads = [{"name": "inner_pressure", "kind": "pressure", "value": pressure, "select": node_set_select("inner")}]
    return case_dict(element, [material_entry("linear-elastic", e, nu)], bcs, loads)


def lame_mesh(n: int, order: int) -> TetMesh:
    """Quarter cylinder with ``n`` radial and ``2n`` circumferential divisions, one layer of thickness h."""
    a, b = LAME["a"], LAME["b"]
    return quarter_cylinder_mesh(a, b, (b - a) / n, n, 2 * n, 1, order=order)


def _lame_exact(points: NDArray[np.float64]) -> NDArray[np.float64]:
    return analytic.lame_cylinder_displacement(points, LAME["a"], LAME["b"], LAME["p"], LAME["e"], LAME["nu"])


def lame_cylinder(quick: bool = False, mutate: Mutator | None = None) -> CaseResult:
    """Thick-walled cylinder under internal pressure (tet10, curved edges): nodal radial displacement.

    Error = max over nodes of ``|u_r - u_r,exact|`` divided by the exact inner-wall value. Tolerance 1%.
    """
    a = LAME["a"]
    expected = float(analytic.lame_cylinder_radial_displacement(a, a, LAME["b"], LAME["p"], LAME["e"], LAME["nu"]))
    name, quantity, tol = "Lame cylinder tet10", "u_r(a) mm", 0.01

    def body() -> CaseResult:
        mesh = lame_mesh(2 if quick else 4, 2)
        s = solve_case(lame_case(mesh, "tet10"), mesh, mutate)
        p = s.mesh.points_lps
        r = np.hypot(p[:, 0], p[:, 1])
        ur = (s.displacement[:, 0] * p[:, 0] + s.displacement[:, 1] * p[:, 1]) / r
        ur_ex = analytic.lame_cylinder_radial_displacement(r, a, LAME["b"], LAME["p"], LAME["e"], LAME["nu"])
        err = float(np.abs(ur - ur_ex).max() / expected)
        inner = s.mesh.point_data["inner"].astype(bool) if "inner" in s.mesh.point_data else np.abs(r - a) < 1e-9
        l2 = l2_displacement_error(s.mesh, s.displacement, _lame_exact)
        return make_result(name, quantity, expected, float(ur[inner].mean()), tol,
                           {"max_nodal_error": err, "l2_relative_error": l2.relative, "dofs": 3 * s.mesh.n_points,
                            "seconds": s.seconds}, error=err)

    return guarded(name, quantity, expected, tol, body)


def _sphere_exact(x: NDArray[np.float64]) -> NDArray[np.float64]:
    r = np.linalg.norm(x, axis=1)
    ur = analytic.lame_sphere_radial_displacement(r, LAME["a"], LAME["b"], LAME["p"], LAME["e"], LAME["nu"])
    return x * (ur / r)[:, None]


def lame_sphere_case(element: str) -> dict[str, Any]:
    """Octant of the thick sphere: symmetry planes (plane selectors), inner pressure (sphere selector)."""
    bcs = [fixed_bc(f"sym_{c}", plane_select((0, 0, 0), n), (c,))
           for c, n in (("x", (1, 0, 0)), ("y", (0, 1, 0)), ("z", (0, 0, 1)))]
    loads = [{"name": "inner_pressure", "kind": "pressure", "value": LAME["p"],
              "select": {"sphere": {"center": [0.0, 0.0, 0.0], "radius": LAME["a"]}, "tolerance": 1e-6}}]
    return case_dict(element, [material_entry("linear-elastic", LAME["e"], LAME["nu"])], bcs, loads)


def lame_sphere(quick: bool = False, mutate: Mutator | None = None) -> CaseResult:
    """Thick-walled sphere (a 5, b 10 mm) under internal pressure: octant, symmetry planes, curved tet10.

    Error = max over nodes of ``|u_r - u_r,exact|`` divided by the exact inner-wall value. Tolerance 1%.
    """
    a, b, p, e, nu = LAME["a"], LAME["b"], LAME["p"], LAME["e"], LAME["nu"]
    expected = float(analytic.lame_sphere_radial_displacement(a, a, b, p, e, nu))
    name, quantity, tol = "Lame sphere tet10", "u_r(a) mm", 0.01

    def body() -> CaseResult:
        mesh = octant_shell_mesh(a, b, 4 if quick else 6, 4, order=2)
        s = solve_case(lame_sphere_case("tet10"), mesh, mutate)
        x = s.mesh.points_lps
        r = np.linalg.norm(x, axis=1)
        ur = np.einsum("ij,ij->i", s.displacement, x) / r
        err = float(np.abs(ur - analytic.lame_sphere_radial_displacement(r, a, b, p, e, nu)).max() / expected)
        l2 = l2_displacement_error(s.mesh, s.displacement, _sphere_exact)
        return make_result(name, quantity, expected, float(ur[np.abs(r - a) < 1e-9].mean()), tol,
                           {"max_nodal_error": err, "l2_relative_error": l2.relative, "dofs": 3 * s.mesh.n_points,
                            "seconds": s.seconds}, error=err)

    return guarded(name, quantity, expected, tol, body)


def lame_convergence(order: int, quick: bool = False, mutate: Mutator | None = None,
                     geometry: str = "cylinder") -> CaseResult:
    """Observed L2 displacement order on the Lame cylinder (plane strain) or sphere (octant, 3-D).

    Three uniformly refined meshes (ratio 2), curved tet10; expected order 2 (tet4) or 3 (tet10),
    passes within 0.3 on the finest pair.
    """
    element = "tet4" if order == 1 else "tet10"
    expected = float(order + 1)
    name, quantity, tol = f"L2 order {element} {geometry}", "observed order", 0.3

    def body() -> CaseResult:
        if geometry == "cylinder":
            base = (4 if quick else 8) if order == 1 else (4 if quick else 6)
        else:
            base = (2 if quick else 4) if order == 1 else 2
        ns = [base, 2 * base, 4 * base]
        errs, secs, dofs = [], 0.0, 0
        for n in ns:
            if geometry == "cylinder":
                mesh, exact = lame_mesh(n, order), _lame_exact
                case = lame_case(mesh, element)
            else:
                mesh = octant_shell_mesh(LAME["a"], LAME["b"], n, n, order=order)
                case, exact = lame_sphere_case(element), _sphere_exact
            s = solve_case(case, mesh, mutate)
            errs.append(l2_displacement_error(s.mesh, s.displacement, exact).relative)
            secs += s.seconds
            dofs = 3 * s.mesh.n_points
        orders = observed_orders([1.0 / n for n in ns], errs)
        return make_result(name, quantity, expected, orders[-1], tol,
                           {"divisions": ns, "l2_relative_errors": errs, "orders": orders, "finest_dofs": dofs,
                            "seconds": secs}, error=abs(orders[-1] - expected))

    return guarded(name, quantity, expected, tol, body)


# --------------------------------------------------------------------------- neo-Hookean
def _uniaxial(name: str, material: dict[str, Any], expected: float, lateral: float, stretch: float, quick: bool,
              mutate: Mutator | None) -> CaseResult:
    """Stretch a 10 mm cube (irregular tet4, symmetry rollers on x, y, z = 0) to ``stretch`` along x."""
    side, tol, quantity = 10.0, 0.005, "nominal stress MPa"

    def body() -> CaseResult:
        mesh = box_mesh((side,) * 3, (2, 2, 2) if quick else (3, 3, 3), jitter=0.25, seed=3)
        bcs = [fixed_bc("sym_x", plane_select((0, 0, 0), (1, 0, 0)), ("x",)),
               fixed_bc("sym_y", plane_select((0, 0, 0), (0, 1, 0)), ("y",)),
               fixed_bc("sym_z", plane_select((0, 0, 0), (0, 0, 1)), ("z",)),
               {"name": "pull", "kind": "displacement", "components": ["x"],
                "value": [(stretch - 1.0) * side, 0.0, 0.0], "select": plane_select((side, 0, 0), (1, 0, 0))}]
        steps = 5 if quick else 10
        case = case_dict("tet4", [dict(material)], bcs, nonlinear=True, steps=steps, tolerance=1e-9)
        s = solve_case(case, mesh, mutate)
        computed = abs(float(s.reaction("pull")[0])) / side**2
        corner = int(np.argmin(np.linalg.norm(s.mesh.points_lps - side, axis=1)))
        t_fe = 1.0 + float(s.displacement[corner, 1]) / side
        return make_result(name, quantity, expected, computed, tol,
                           {"lateral_stretch_expected": lateral, "lateral_stretch_computed": t_fe, "steps": steps,
                            "newton_iterations": int(getattr(s.result, "newton_iterations", -1)), "seconds": s.seconds})

    return guarded(name, quantity, expected, tol, body)


def neo_hookean_uniaxial(quick: bool = False, mutate: Mutator | None = None, stretch: float = 1.5) -> CaseResult:
    """Uniaxial stretch of a neo-Hookean cube (E 1 MPa, nu 0.3) to ``stretch``, lateral faces free.

    Computed nominal stress = axial reaction on the pulled face / reference area; expected from
    :func:`analytic.neo_hookean_uniaxial`. Tolerance 0.5%.
    """
    e, nu = 1.0, 0.3
    expected, lateral = analytic.neo_hookean_uniaxial(stretch, e, nu)
    return _uniaxial(f"neo-Hookean uniaxial {stretch:g}", material_entry("neo-hookean", e, nu), expected, lateral,
                     stretch, quick, mutate)


def mooney_rivlin_uniaxial(quick: bool = False, mutate: Mutator | None = None, stretch: float = 1.5) -> CaseResult:
    """Uniaxial stretch of an uncoupled Mooney-Rivlin cube (c10 0.1, c01 0.05, k 10 MPa). Tolerance 0.5%."""
    c10, c01, k = 0.1, 0.05, 10.0
    expected, lateral = analytic.mooney_rivlin_uniaxial(stretch, c10, c01, k)
    material = {"model": "mooney-rivlin", "c10": c10, "c01": c01, "bulk_modulus": k}
    return _uniaxial(f"Mooney-Rivlin uniaxial {stretch:g}", material, expected, lateral, stretch, quick, mutate)


def neo_hookean_sphere(quick: bool = False, mutate: Mutator | None = None, pressure_mpa: float = 0.1) -> CaseResult:
    """Large inflation of a neo-Hookean thick sphere (a 5, b 10 mm, E 1 MPa, nu 0.3) by a follower pressure.

    Octant, curved tet10, Newton with load steps; the reference is the spherically symmetric boundary-value
    problem solved by :func:`analytic.neo_hookean_sphere_inflation` (21% above linear Lame at 0.1 MPa).
    Computed: mean radial displacement of the inner wall; error = max over nodes of
    ``|u_r - u_r,ref|`` / ``u_r,ref(a)``. Tolerance 1%.
    """
    a, b, e, nu = LAME["a"], LAME["b"], 1.0, 0.3
    radii, ur_ref = analytic.neo_hookean_sphere_inflation(a, b, pressure_mpa, e, nu)
    expected = float(ur_ref[0])
    name, quantity, tol = "neo-Hookean sphere inflation", "u_r(a) mm", 0.01

    def body() -> CaseResult:
        mesh = octant_shell_mesh(a, b, 4 if quick else 6, 4, order=2)
        case = lame_sphere_case("tet10")
        case["materials"] = [material_entry("neo-hookean", e, nu)]
        case["loads"][0]["value"] = pressure_mpa
        case["solver"].update(nonlinear=True, steps=4 if quick else 8, tolerance=1e-9)
        s = solve_case(case, mesh, mutate)
        x = s.mesh.points_lps
        r = np.linalg.norm(x, axis=1)
        ur = np.einsum("ij,ij->i", s.displacement, x) / r
        err = float(np.abs(ur - np.interp(r, radii, ur_ref)).max() / expected)
        linear = float(analytic.lame_sphere_radial_displacement(a, a, b, pressure_mpa, e, nu))
        return make_result(name, quantity, expected, float(ur[np.abs(r - a) < 1e-9].mean()), tol,
                           {"max_nodal_error": err, "linear_lame_mm": linear, "dofs": 3 * s.mesh.n_points,
                            "newton_iterations": int(getattr(s.result, "newton_iterations", -1)),
                            "seconds": s.seconds}, error=err)

    return guarded(name, quantity, expected, tol, body)


# --------------------------------------------------------------------------- Hertz
def hertz(quick: bool = False, mutate: Mutator | None = None, core_divisions: int | None = None,
          core_a: float = 1.5, outer_radius_a: float = 300.0, growth: float | None = None,
          order: int = 2) -> CaseResult:
    """Rigid sphere (R 10 mm) pressed 0.1 mm (a = 1 mm) into an elastic half-space, quarter model.

    The half-space is a quarter ball of radius ``outer_radius_a * a`` (fixed on its sphere, symmetry on
    x = 0 and y = 0): a uniform core of ``core_a * a`` per side under the contact (``core_divisions``
    per side: tet10 h = a/2 quick, 3a/8 full) graded outwards by ``growth`` (1.4 quick, 1.3 full).
    Expected: Hertz ``4/3 E* sqrt(R) d^1.5`` for the full sphere (4 x the quarter force). Tolerance 5%
    on every depth: 0.1 mm (quick) or 0.05 and 0.1 mm on the same mesh (full; the error column is the
    worse of the two, the fitted force-depth exponent is in ``details``).
    Measured: +2.4% (quick), +2.1% (full); tet4 with h = a/5 gives +4.4..5.2% (node-lumped contact
    over-estimates the contact area at the edge), which is why the case uses tet10. The fixed far
    sphere at 300 a stiffens by about +0.4% (Boussinesq far field).
    """
    radius, depth, e, nu = 10.0, 0.1, 1.0, 0.3
    expected = analytic.hertz_sphere_force(depth, radius, e, nu)
    a = analytic.hertz_contact_radius(depth, radius)
    name, quantity, tol = "Hertz sphere", "force N", 0.05

    def body() -> CaseResult:
        nd = core_divisions or (3 if quick else 4)
        depths = (depth,) if quick else (0.5 * depth, depth)
        ball = octant_ball_mesh(core_a * a, nd, outer_radius_a * a, growth=growth or (1.4 if quick else 1.3),
                                order=order)
        mesh = TetMesh(ball.points_lps * [1.0, 1.0, -1.0], ball.cells, point_data=dict(ball.point_data))
        bcs = [fixed_bc("sym_x", plane_select((0, 0, 0), (1, 0, 0)), ("x",)),
               fixed_bc("sym_y", plane_select((0, 0, 0), (0, 1, 0)), ("y",)),
               fixed_bc("far_field", node_set_select("outer"))]
        contact = {"name": "indenter", "indenter": {"sphere": {"center": [0.0, 0.0, radius], "radius": radius}},
                   "displacement": [0.0, 0.0, -depth],
                   "select": {"box": {"min": [-1.0, -1.0, -1e-6], "max": [2.0 * a, 2.0 * a, 1.0]}}}
        forces, seconds, s = [], 0.0, None
        for d in depths:  # same mesh for every depth: the contact area must grow as sqrt(R d)
            contact["displacement"] = [0.0, 0.0, -d]
            case = case_dict("tet4" if order == 1 else "tet10", [material_entry("linear-elastic", e, nu)], bcs,
                             contacts=[copy.deepcopy(contact)], steps=1)
            s = solve_case(case, mesh, mutate)
            forces.append(4.0 * abs(float(s.contact_force("indenter")[2])))
            seconds += s.seconds
        hertz_forces = [analytic.hertz_sphere_force(d, radius, e, nu) for d in depths]
        errors = [abs(f - h) / h for f, h in zip(forces, hertz_forces, strict=True)]
        details: dict[str, Any] = {
            "depths_mm": list(depths), "forces_n": forces, "hertz_forces_n": hertz_forces, "errors": errors,
            "contact_radius_mm": a, "h_contact_mm": core_a * a / nd, "domain_radius_mm": outer_radius_a * a,
            "dofs": 3 * s.mesh.n_points, "cells": s.mesh.n_cells, "seconds": seconds}
        if len(depths) > 1:
            details["force_depth_exponent"] = math.log(forces[-1] / forces[0]) / math.log(depths[-1] / depths[0])
        return make_result(name, quantity, expected, forces[-1], tol, details, error=max(errors))

    return guarded(name, quantity, expected, tol, body)


# --------------------------------------------------------------------------- gravity
def hanging_bar(quick: bool = False, mutate: Mutator | None = None) -> CaseResult:
    """A 4 x 4 x 20 mm bar (nu = 0) hanging from its top face under gravity (tet10).

    The exact field ``u_z = -rho g (L s - s^2/2) / E`` is quadratic, so tet10 must reproduce it to
    round-off (tolerance 1e-6 relative on the free-end displacement). Checks density units (tonne/mm^3).
    """
    length, e, rho, g = 20.0, 1.0, 1.0e-6, 9810.0
    expected = float(analytic.hanging_bar_displacement(length, length, rho, g, e))
    name, quantity, tol = "gravity bar tet10", "free-end drop mm", 1e-6

    def body() -> CaseResult:
        mesh = box_mesh((4.0, 4.0, length), (1, 1, 2) if quick else (2, 2, 4), order=2)
        bcs = [fixed_bc("top", plane_select((0, 0, length), (0, 0, 1)), ("z",)),
               fixed_bc("sym_x", plane_select((0, 0, 0), (1, 0, 0)), ("x",)),
               fixed_bc("sym_y", plane_select((0, 0, 0), (0, 1, 0)), ("y",))]
        loads = [{"name": "gravity", "kind": "gravity", "value": [0.0, 0.0, -g]}]
        case = case_dict("tet10", [material_entry("linear-elastic", e, 0.0, density=rho)], bcs, loads)
        s = solve_case(case, mesh, mutate)
        bottom = np.abs(s.mesh.points_lps[:, 2]) < 1e-9
        computed = -float(s.displacement[bottom, 2].mean())
        weight = rho * g * 4.0 * 4.0 * length
        return make_result(name, quantity, expected, computed, tol,
                           {"top_reaction_n": float(s.reaction("top")[2]), "weight_n": weight, "seconds": s.seconds})

    return guarded(name, quantity, expected, tol, body)


# --------------------------------------------------------------------------- FEBio sh13
def febio_sh13(quick: bool = False, mutate: Mutator | None = None) -> CaseResult:
    """FEBio TestSuite sh13/sh15 cantilever (10 x 1 x 0.1, E 1e6, nu 0, tip force 0.001) as a tet10 solid.

    FEBio's deck uses neo-Hookean shells; the stated target is the Euler-Bernoulli tip deflection 0.004
    (shear adds 6e-5 relative at nu = 0). We solve it large-deformation neo-Hookean, 1 load step,
    one element through the thickness, tolerance 2%. Newton residual tolerance 1e-8 (the default): for
    this thin, stiff plate the residual's round-off floor is about eps * cond(K) ~ 1e-7 of the applied
    force, which a residual test alone cannot reach; the solver accepts the step on its FEBio-like
    displacement and energy norms (energy ratio ~1e-20, round-off stagnation) and says so in a warning.
    """
    expected = 0.004
    name, quantity, tol = "FEBio sh13 cantilever", "tip deflection mm", 0.02

    def body() -> CaseResult:
        div = (20, 2, 1) if quick else (40, 4, 1)
        mesh = box_mesh((10.0, 1.0, 0.1), div)  # promoted to tet10 by the engine
        case = case_dict("tet10", [material_entry("neo-hookean", 1.0e6, 0.0)],
                         [fixed_bc("clamp", plane_select((0, 0, 0), (1, 0, 0)))],
                         [{"name": "tip", "kind": "force", "value": [0.0, 0.0, -0.001],
                           "select": node_set_select("xmax")}],
                         nonlinear=True, steps=1, tolerance=1e-8)
        s = solve_case(case, mesh, mutate)
        tip = np.abs(s.mesh.points_lps[:, 0] - 10.0) < 1e-9
        computed = -float(s.displacement[tip, 2].mean())
        return make_result(name, quantity, expected, computed, tol,
                           {"reference": "../shared/data/febio_testsuite_refs/gold_standards_selected.csv row sh13",
                            "dofs": 3 * s.mesh.n_points, "seconds": s.seconds})

    return guarded(name, quantity, expected, tol, body)


# --------------------------------------------------------------------------- GCI
def lame_gci(order: int = 1, quick: bool = False, mutate: Mutator | None = None) -> CaseResult:
    """Grid Convergence Index of the inner-wall radial displacement (Lame cylinder, three grids, r = 2).

    Computed = finest-grid value, error = its true relative error, tolerance = the GCI (the estimated
    error band): passes when the analytic value lies inside the band and the observed order is positive.
    The Richardson extrapolation and order are in ``details``.
    """
    from biomech.verification.convergence import mesh_convergence_study

    element = "tet4" if order == 1 else "tet10"
    a = LAME["a"]
    expected = float(analytic.lame_cylinder_radial_displacement(a, a, LAME["b"], LAME["p"], LAME["e"], LAME["nu"]))
    name, quantity = f"GCI Lame {element}", "u_r(a) mm, tol = GCI"
    base = (2 if quick else 4) if order == 1 else 2

    def run(level: int) -> float:
        mesh = lame_mesh(base * 2**level, order)
        s = solve_case(lame_case(mesh, element), mesh, mutate)
        p = s.mesh.points_lps
        inner = np.abs(np.hypot(p[:, 0], p[:, 1]) - a) < 1e-9
        return float(np.mean((s.displacement[inner, 0] * p[inner, 0] + s.displacement[inner, 1] * p[inner, 1]) / a))

    def body() -> CaseResult:
        g = mesh_convergence_study(run, refinements=3)
        f1 = g.values[-1]
        res = make_result(name, quantity, expected, f1, g.gci_fine, {**g.to_dict(), "summary": g.summary(),
                          "extrapolated_rel_error": abs(g.extrapolated - expected) / expected},
                          error=abs(f1 - expected) / abs(f1))
        res.passed = bool(res.passed and g.observed_order > 0)
        return res

    return guarded(name, quantity, expected, math.nan, body)
