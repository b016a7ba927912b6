"""FE solver: patch tests, closed-form hyperelastic states, loads, contact and failure detection."""

from __future__ import annotations

import copy

import numpy as np
import pytest
from scipy.optimize import brentq, fsolve

from biomech.linsolve import available
from biomech.materials import lame_from_young
from biomech.solver import _linear, _Stats, prepare, promote_mesh, run_case
from tests.biomech.fe_meshes import box_mesh
from twin.errors import InputError
from twin.meshes import TetMesh


def _plane(point, normal, tol=1e-6):
    return {"plane": {"point": list(point), "normal": list(normal)}, "tolerance": tol}


def _rollers(L=1.0):
    return [
        {"name": "x0", "kind": "fixed", "components": ["x"], "select": _plane((0, 0, 0), (1, 0, 0))},
        {"name": "y0", "kind": "fixed", "components": ["y"], "select": _plane((0, 0, 0), (0, 1, 0))},
        {"name": "z0", "kind": "fixed", "components": ["z"], "select": _plane((0, 0, 0), (0, 0, 1))},
    ]


def _mat(model="linear-elastic", E=10.0, nu=0.3, **kw):
    return {"model": model, "youngs_modulus": E, "poisson_ratio": nu, **kw}


# --------------------------------------------------------------------------- patch tests
@pytest.mark.parametrize("element", ["tet4", "tet10"])
def test_displacement_patch_test_irregular_mesh(element):
    """Boundary nodes follow u = A x + b; every node and every cell strain must match to 1e-8."""
    from biomech.problem import BoundaryCondition, MaterialAssignment, Problem, Selector, SolverOptions

    mesh = box_mesh((2.0, 1.5, 1.0), (4, 3, 3), jitter=0.3, seed=2)
    prob = Problem(mesh, (MaterialAssignment("linear-elastic", youngs_modulus=7.0, poisson_ratio=0.33),),
                   (BoundaryCondition("all", "fixed", Selector("all")),), options=SolverOptions(element=element))
    model = prepare(prob)
    pts = model.mesh.points_lps
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    boundary = np.any((np.abs(pts - lo) < 1e-9) | (np.abs(pts - hi) < 1e-9), axis=1)
    A = np.array([[1e-3, 2e-4, -3e-4], [5e-4, -2e-3, 1e-4], [-1e-4, 3e-4, 1.5e-3]])
    b = np.array([0.01, -0.02, 0.005])
    exact = pts @ A.T + b
    fixed = np.repeat(boundary, 3)
    model.dirichlet.fixed[:] = fixed
    model.dirichlet.values[:] = exact.ravel()
    u = _linear(model, _Stats()).reshape(-1, 3)
    interior = ~boundary
    assert interior.sum() > 10
    err = np.abs(u[interior] - exact[interior]).max() / np.abs(exact).max()
    assert err < 1e-8
    from biomech.results import cell_fields

    _, strain = cell_fields(model, u.ravel())
    eps = 0.5 * (A + A.T)
    assert np.abs(strain - eps).max() / np.abs(eps).max() < 1e-8


@pytest.mark.parametrize("element", ["tet4", "tet10"])
def test_traction_patch_test(element):
    """Uniaxial tension by a total force on an irregular mesh: constant stress, exact Poisson contraction."""
    mesh = box_mesh((1.0, 1.0, 2.0), (3, 3, 4), jitter=0.3, seed=4)
    E, nu, F = 10.0, 0.3, 2.0
    case = {"mesh": {"element": element}, "materials": [_mat(E=E, nu=nu)], "boundary_conditions": _rollers(),
            "loads": [{"name": "pull", "kind": "force", "value": [0, 0, F], "select": _plane((0, 0, 2), (0, 0, 1))}]}
    r = run_case(case, mesh)
    assert r.converged, r.status
    sig = F / 1.0
    s = r.cell_stress_mpa
    assert np.abs(s[:, 2, 2] - sig).max() < 1e-8 * sig
    assert np.abs(s[:, :2, :2]).max() < 1e-8 * sig
    p = r.mesh.points_lps
    np.testing.assert_allclose(r.displacement_mm[:, 2], sig / E * p[:, 2], atol=1e-8 * sig / E * 2)
    np.testing.assert_allclose(r.displacement_mm[:, 0], -nu * sig / E * p[:, 0], atol=1e-8 * sig / E * 2)
    np.testing.assert_allclose(r.reaction_forces["z0"], [0, 0, -F], atol=1e-9)
    np.testing.assert_allclose(r.von_mises_mpa, sig, rtol=1e-8)
    np.testing.assert_allclose(r.principal_stress_mpa[:, 0], sig, rtol=1e-8)


# --------------------------------------------------------------------------- hyperelastic closed forms
def test_neo_hookean_uniaxial_stretch_matches_closed_form():
    E, nu, stretch = 1.0, 0.3, 1.5
    lam, mu = lame_from_young(E, nu)

    def sigma_lateral(l2):
        J = stretch * l2 * l2
        return mu * (l2 * l2 - 1) + lam * np.log(J)

    l2 = brentq(sigma_lateral, 0.3, 1.0)
    J = stretch * l2 * l2
    nominal = (mu * (stretch**2 - 1) + lam * np.log(J)) / stretch
    mesh = box_mesh((1.0, 1.0, 1.0), (2, 2, 2), jitter=0.2)
    bcs = _rollers() + [{"name": "pull", "kind": "displacement", "components": ["x"], "value": [stretch - 1, 0, 0],
                         "select": _plane((1, 0, 0), (1, 0, 0))}]
    case = {"materials": [_mat("neo-hookean", E, nu)], "boundary_conditions": bcs,
            "solver": {"nonlinear": True, "steps": 5}}
    r = run_case(case, mesh)
    assert r.converged and r.steps == 5 and r.newton_iterations >= 10 and not r.warnings
    assert abs(r.reaction_forces["pull"][0] - nominal) / nominal < 1e-6
    corner = int(np.argmin(np.linalg.norm(r.mesh.points_lps - 1.0, axis=1)))
    assert r.displacement_mm[corner, 1] == pytest.approx(l2 - 1, rel=1e-6)
    # Cauchy stress = nominal * stretch / (l2^2) in every cell; Green-Lagrange strain exact
    np.testing.assert_allclose(r.cell_stress_mpa[:, 0, 0], nominal * stretch / J, rtol=1e-6)
    np.testing.assert_allclose(r.strain[:, 0, 0], 0.5 * (stretch**2 - 1), rtol=1e-8)


def test_follower_pressure_compression_matches_closed_form():
    """Cauchy stress = -p on the deformed face (a dead load would give a different stretch)."""
    E, nu, p = 1.0, 0.3, 0.25
    lam, mu = lame_from_young(E, nu)

    def eqs(v):
        l1, l2 = v
        J = l1 * l2 * l2
        return [(mu * (l1 * l1 - 1) + lam * np.log(J)) / J + p, mu * (l2 * l2 - 1) + lam * np.log(J)]

    l1, l2 = fsolve(eqs, [0.8, 1.05], xtol=1e-13)
    mesh = box_mesh((1.0, 1.0, 1.0), (2, 2, 2), jitter=0.2)
    case = {"materials": [_mat("neo-hookean", E, nu)], "boundary_conditions": _rollers(),
            "loads": [{"name": "p", "kind": "pressure", "value": p, "select": _plane((1, 0, 0), (1, 0, 0))}],
            "solver": {"nonlinear": True, "steps": 4}}
    r = run_case(case, mesh)
    assert r.converged, r.status
    x1 = np.abs(r.mesh.points_lps[:, 0] - 1) < 1e-9
    np.testing.assert_allclose(r.displacement_mm[x1, 0], l1 - 1, rtol=1e-6)
    np.testing.assert_allclose(r.cell_stress_mpa[:, 0, 0], -p, rtol=1e-6)
    # quadratic convergence: the last residual of each step is tiny after few iterations
    assert r.newton_iterations <= 4 * 6


def test_mooney_rivlin_uniaxial_matches_closed_form():
    c1, c2, k, stretch = 0.2, 0.05, 50.0, 1.3

    def stress(l2):
        J = stretch * l2 * l2
        F = np.diag([stretch, l2, l2])
        from biomech.materials import make_material
        from biomech.problem import MaterialAssignment

        m = make_material(MaterialAssignment("mooney-rivlin", c10=c1, c01=c2, bulk_modulus=k))
        S, _ = m.pk2_and_tangent(F[None])
        return S[0], J

    l2 = brentq(lambda x: stress(x)[0][1, 1], 0.5, 1.0)
    S, _ = stress(l2)
    nominal = stretch * S[0, 0]
    mesh = box_mesh((1.0, 1.0, 1.0), (1, 1, 1))
    bcs = _rollers() + [{"name": "pull", "kind": "displacement", "components": ["x"], "value": [stretch - 1, 0, 0],
                         "select": _plane((1, 0, 0), (1, 0, 0))}]
    case = {"materials": [{"model": "mooney-rivlin", "c10": c1, "c01": c2, "bulk_modulus": k}],
            "boundary_conditions": bcs, "solver": {"nonlinear": True, "steps": 3}}
    r = run_case(case, mesh)
    assert r.converged, r.status
    assert r.reaction_forces["pull"][0] == pytest.approx(nominal, rel=1e-6)


# --------------------------------------------------------------------------- loads
def test_gravity_hanging_bar_tet10_exact():
    """nu = 0 bar hanging from its top: u_z(z) = -rho g (L z' - z'^2 / 2) / E (quadratic: exact in tet10)."""
    E, rho, g, L = 0.01, 1.0e-9, 9810.0, 10.0
    mesh = box_mesh((2.0, 2.0, L), (1, 1, 4), origin=(0, 0, -L), jitter=0.0)
    case = {"mesh": {"element": "tet10"}, "materials": [_mat(E=E, nu=0.0, density=rho)],
            "boundary_conditions": [{"name": "top", "kind": "fixed", "select": _plane((0, 0, 0), (0, 0, 1))}],
            "loads": [{"name": "g", "kind": "gravity", "value": [0, 0, -g]}]}
    r = run_case(case, mesh)
    assert r.converged
    depth = -r.mesh.points_lps[:, 2]
    expected = -rho * g * (L * depth - depth**2 / 2) / E
    np.testing.assert_allclose(r.displacement_mm[:, 2], expected, atol=1e-9 * abs(expected).max())
    weight = rho * g * 4.0 * L
    np.testing.assert_allclose(r.reaction_forces["top"], [0, 0, weight], rtol=1e-10, atol=1e-15)


def test_linear_pressure_total_force_and_node_set_selection():
    mesh = box_mesh((2.0, 3.0, 1.0), (2, 3, 1), jitter=0.0)
    base = (np.abs(mesh.points_lps[:, 2]) < 1e-9).astype(np.uint8)
    mesh = TetMesh(mesh.points_lps, mesh.cells, point_data={"base": base})
    case = {"mesh": {"element": "tet10"}, "materials": [_mat(E=5.0, nu=0.25)],
            "boundary_conditions": [{"name": "base", "kind": "fixed", "select": {"node_set": "base"}}],
            "loads": [{"name": "p", "kind": "pressure", "value": 0.1, "select": _plane((0, 0, 1), (0, 0, 1))}]}
    r = run_case(case, mesh)
    assert r.converged
    np.testing.assert_allclose(r.reaction_forces["base"], [0, 0, 0.1 * 6.0], atol=1e-10)


# --------------------------------------------------------------------------- linear solvers
@pytest.mark.parametrize("method", ["amg", "scipy", "cholmod"])
def test_linear_solver_paths_agree(method):
    if not available(method):
        pytest.skip(f"{method} backend not installed")
    mesh = box_mesh((3.0, 1.0, 1.0), (6, 2, 2), jitter=0.2)
    case = {"materials": [_mat()], "boundary_conditions": [
        {"name": "fix", "kind": "fixed", "select": _plane((0, 0, 0), (1, 0, 0))}],
        "loads": [{"name": "tip", "kind": "force", "value": [0, 0, -0.1], "select": _plane((3, 0, 0), (1, 0, 0))}],
        "solver": {"linear_solver": "pardiso" if available("pardiso") else "scipy"}}
    ref = run_case(case, mesh)
    case["solver"]["linear_solver"] = method
    r = run_case(case, mesh)
    assert r.converged and r.solver == method
    assert np.abs(r.displacement_mm - ref.displacement_mm).max() < 1e-8 * ref.max_displacement_mm


# --------------------------------------------------------------------------- failure detection
def test_singular_system_is_reported():
    mesh = box_mesh(n=(2, 2, 2))
    case = {"materials": [_mat()], "boundary_conditions": [
        {"name": "z", "kind": "fixed", "components": ["z"], "select": _plane((0, 0, 0), (0, 0, 1))}],
        "loads": [{"name": "f", "kind": "force", "value": [0, 0, 1.0], "select": _plane((0, 0, 1), (0, 0, 1))}]}
    r = run_case(case, mesh)
    assert not r.converged and "singular" in r.status and "rigid-body" in r.status
    # a single fixed node leaves the three rotations free
    case["boundary_conditions"] = [{"name": "pt", "kind": "fixed", "select": {"sphere": {"center": [0, 0, 0],
                                                                                          "radius": 0.01}}}]
    r = run_case(case, mesh)
    assert not r.converged and "3 rigid-body" in r.status and "rotation" in r.status


def test_unconstrained_second_part_is_reported():
    a = box_mesh(n=(1, 1, 1))
    b = box_mesh(n=(1, 1, 1), origin=(3.0, 0.0, 0.0))
    mesh = TetMesh(np.vstack([a.points_lps, b.points_lps]), np.vstack([a.cells, b.cells + a.n_points]))
    case = {"materials": [_mat()], "boundary_conditions": [
        {"name": "fix", "kind": "fixed", "select": _plane((0, 0, 0), (1, 0, 0))}],
        "loads": [{"name": "g", "kind": "gravity", "value": [0, 0, -9810]}]}
    case["materials"][0]["density"] = 1e-9
    r = run_case(case, mesh)
    assert not r.converged and "part 2 of 2" in r.status


def test_inverted_elements_are_reported():
    mesh = box_mesh((4.0, 4.0, 2.0), (4, 4, 2))
    case = {"materials": [_mat("neo-hookean", E=1.0, nu=0.3)],
            "boundary_conditions": [{"name": "b", "kind": "fixed", "select": _plane((0, 0, 0), (0, 0, 1))}],
            "loads": [{"name": "p", "kind": "pressure", "value": 50.0, "select": _plane((0, 0, 2), (0, 0, 1))}],
            "solver": {"nonlinear": True, "steps": 1, "max_cutbacks": 2}}
    r = run_case(case, mesh)
    assert not r.converged and "J <= 0" in r.status and r.load_fraction < 1.0
    # an initially inverted quadratic element (midside node pushed through the cell)
    q = promote_mesh(box_mesh(n=(1, 1, 1)))
    pts = np.array(q.points_lps)
    pts[q.cells[0, 4]] += 3.0 * (pts[q.cells[0, 1]] - pts[q.cells[0, 0]])
    bad = TetMesh(pts, q.cells)
    case = {"mesh": {"element": "tet10"}, "materials": [_mat()], "boundary_conditions": _rollers()}
    r = run_case(case, bad)
    assert not r.converged and "J <= 0" in r.status


def test_non_convergence_is_reported():
    mesh = box_mesh(n=(1, 1, 1))
    bcs = _rollers() + [{"name": "pull", "kind": "displacement", "components": ["x"], "value": [0.8, 0, 0],
                         "select": _plane((1, 0, 0), (1, 0, 0))}]
    case = {"materials": [_mat("neo-hookean")], "boundary_conditions": bcs,
            "solver": {"nonlinear": True, "steps": 1, "max_iterations": 2, "max_cutbacks": 1}}
    r = run_case(case, mesh)
    assert not r.converged and "no convergence" in r.status
    assert r.summary()["converged"] is False


def test_bad_inputs_raise_input_error():
    mesh = box_mesh(n=(1, 1, 1))
    case = {"materials": [_mat()], "boundary_conditions": [
        {"name": "none", "kind": "fixed", "select": _plane((5, 0, 0), (1, 0, 0))}]}
    with pytest.raises(InputError, match=r"boundary_conditions\[0\].*picks no node"):
        run_case(case, mesh)
    case["boundary_conditions"][0]["select"] = {"node_set": "missing"}
    with pytest.raises(InputError, match="no point_data array 'missing'"):
        run_case(case, mesh)
    case = {"materials": [dict(_mat(), region=7)], "boundary_conditions": _rollers()}
    with pytest.raises(InputError, match="no cell has region 7"):
        run_case(case, mesh)


# --------------------------------------------------------------------------- contact
def test_rigid_plane_indenter_compression_matches_uniaxial_stiffness():
    E, nu, d = 10.0, 0.3, 0.02
    mesh = box_mesh((1.0, 1.0, 1.0), (2, 2, 2), jitter=0.2)
    case = {"materials": [_mat(E=E, nu=nu)], "boundary_conditions": _rollers(),
            "contacts": [{"name": "plate", "indenter": {"plane": {"point": [0, 0, 1.0], "normal": [0, 0, -1]}},
                          "displacement": [0, 0, -d], "select": _plane((0, 0, 1), (0, 0, 1))}],
            "solver": {"steps": 2}}
    r = run_case(case, mesh)
    assert r.converged, r.status
    expected = E * 1.0 * d / 1.0
    assert r.contact_forces["plate"][2] == pytest.approx(-expected, rel=5e-3)
    np.testing.assert_allclose(r.reaction_forces["z0"] + r.contact_forces["plate"], 0.0, atol=1e-9)
    top = np.abs(r.mesh.points_lps[:, 2] - 1) < 1e-9
    assert np.abs(r.displacement_mm[top, 2] + d).max() < 5e-3 * d  # augmented Lagrangian: tiny penetration


@pytest.mark.slow
def test_sphere_indenter_force_grows_with_depth_and_balances():
    mesh = box_mesh((16.0, 16.0, 8.0), (12, 12, 6), origin=(-8, -8, -8))
    case = {"materials": [_mat(E=0.01, nu=0.45)],
            "boundary_conditions": [{"name": "bottom", "kind": "fixed", "select": _plane((0, 0, -8), (0, 0, 1))}],
            "contacts": [{"name": "finger", "indenter": {"sphere": {"center": [0, 0, 10.0], "radius": 10.0}},
                          "displacement": [0, 0, -1.0], "select": {"box": {"min": [-8, -8, -0.01],
                                                                           "max": [8, 8, 0.01]}}}],
            "solver": {"steps": 2}}
    forces = []
    for depth in (0.5, 1.0):
        c = copy.deepcopy(case)
        c["contacts"][0]["displacement"] = [0, 0, -depth]
        r = run_case(c, mesh)
        assert r.converged, r.status
        np.testing.assert_allclose(r.reaction_forces["bottom"] + r.contact_forces["finger"], 0.0,
                                   atol=1e-7 * abs(r.contact_forces["finger"][2]))
        f = r.contact_forces["finger"]
        assert f[2] < 0 and np.hypot(f[0], f[1]) < 0.03 * abs(f[2])  # the Kuhn mesh is not symmetric
        centre = int(np.argmin(np.linalg.norm(r.mesh.points_lps, axis=1)))
        assert r.displacement_mm[centre, 2] == pytest.approx(-depth, abs=0.01 * depth)
        forces.append(-f[2])
        assert any("tet4 elements lock" in w for w in r.warnings)
    # Hertz: F ~ depth^1.5 on a half-space (a finite block is stiffer, so the ratio lies between 2^1.5 and ~2^1.6)
    assert 2.6 < forces[1] / forces[0] < 3.4


def test_cancellation_stops_the_newton_loop():
    from twin.errors import Cancelled
    from twin.progress import CallbackProgress

    mesh = box_mesh(n=(2, 2, 2))
    bcs = _rollers() + [{"name": "pull", "kind": "displacement", "components": ["x"], "value": [0.3, 0, 0],
                         "select": _plane((1, 0, 0), (1, 0, 0))}]
    case = {"materials": [_mat("neo-hookean")], "boundary_conditions": bcs, "solver": {"nonlinear": True, "steps": 4}}
    seen = []
    prog = CallbackProgress(lambda f, m: seen.append(f))
    r = run_case(case, mesh, progress=prog)
    assert r.converged and seen[-1] == 1.0 and seen == sorted(seen)
    prog = CallbackProgress()
    prog.token.cancel()
    with pytest.raises(Cancelled):
        run_case(case, mesh, progress=prog)


def test_indefinite_newton_tangent_stays_on_pardiso():
    import scipy.sparse as sp

    from biomech.linsolve import solve_spd

    if not available("pardiso"):
        pytest.skip("pypardiso not installed")
    A = sp.random(300, 300, density=0.05, random_state=1)
    A = (A + A.T).tocsr() + 0.1 * sp.eye(300, format="csr")
    assert np.linalg.eigvalsh(A.toarray()).min() < 0
    b = np.ones(300)
    x, info = solve_spd(A, b, "pardiso", allow_indefinite=True)
    assert info.method == "pardiso" and np.linalg.norm(A @ x - b) < 1e-10
    x, info = solve_spd(A, b, "pardiso")  # positive-definite mode refuses, the fallback chain solves it
    assert info.method != "pardiso" and np.linalg.norm(A @ x - b) < 1e-8
