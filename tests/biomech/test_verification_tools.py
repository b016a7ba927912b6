"""Verification machinery on its own (no FE engine): meshes, closed forms, error norms, GCI."""

from __future__ import annotations

import math

import numpy as np
import pytest

from biomech.verification import analytic
from biomech.verification.cases import CaseResult
from biomech.verification.convergence import (
    gci_from_values,
    l2_displacement_error,
    mesh_convergence_study,
    observed_orders,
)
from biomech.verification.structured_meshes import box_mesh, graded_axis, promote_p2, quarter_cylinder_mesh
from biomech.verification.suite import format_table


# --------------------------------------------------------------------------- meshes
@pytest.mark.parametrize("order", [1, 2])
def test_box_mesh_is_conforming_and_positive(order: int) -> None:
    m = box_mesh((10.0, 8.0, 6.0), (3, 4, 2), order=order, jitter=0.3, seed=1)
    assert m.cells.shape[1] == (4 if order == 1 else 10)
    assert m.cell_volumes_mm3().min() > 0
    assert m.volume_mm3() == pytest.approx(480.0, rel=1e-12)
    # Kuhn split of a grid: P2 nodes = the half-spacing grid, so a conforming mesh has exactly that many
    n_expected = 4 * 5 * 3 if order == 1 else 7 * 9 * 5
    assert m.n_points == n_expected
    # every interior face is shared by exactly two cells, boundary faces lie on the box
    faces = np.sort(m.cells[:, [[0, 1, 2], [0, 1, 3], [0, 2, 3], [1, 2, 3]]].reshape(-1, 3), axis=1)
    _, counts = np.unique(faces, axis=0, return_counts=True)
    assert set(counts.tolist()) <= {1, 2}
    assert (counts == 1).sum() == 2 * 2 * (3 * 4 + 3 * 2 + 4 * 2)  # 2 triangles per boundary quad


def test_jitter_moves_only_interior_nodes() -> None:
    reg = box_mesh((10.0, 8.0, 6.0), (3, 3, 3))
    irr = box_mesh((10.0, 8.0, 6.0), (3, 3, 3), jitter=0.3, seed=2)
    bnd = reg.point_data["boundary"].astype(bool)
    assert np.array_equal(reg.points_lps[bnd], irr.points_lps[bnd])
    moved = np.linalg.norm(reg.points_lps[~bnd] - irr.points_lps[~bnd], axis=1)
    assert moved.min() > 0 and moved.max() < 0.3 * math.sqrt(3) * 10.0 / 3
    assert int(bnd.sum()) == 4**3 - 2**3
    for name, axis, value in [("xmin", 0, 0.0), ("xmax", 0, 10.0), ("zmax", 2, 6.0)]:
        sel = irr.point_data[name].astype(bool)
        assert np.allclose(irr.points_lps[sel, axis], value) and sel.sum() == 16


def test_promote_p2_midpoints() -> None:
    pts = np.array([[0.0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 1]])
    cells = np.array([[0, 1, 2, 3], [1, 2, 3, 4]])
    p2, c2 = promote_p2(pts, cells)
    assert c2.shape == (2, 10) and len(p2) == 5 + 9  # 6 + 6 edges, 3 shared
    assert np.allclose(p2[c2[0, 4]], [0.5, 0, 0]) and np.allclose(p2[c2[0, 9]], [0, 0.5, 0.5])
    assert c2[0, 5] == c2[1, 4]  # edge 1-2 shared


def test_quarter_cylinder_isoparametric_volume() -> None:
    a, b, h = 5.0, 10.0, 1.0
    exact = 0.25 * math.pi * (b * b - a * a) * h
    p1 = quarter_cylinder_mesh(a, b, h, 4, 8, 1, order=1)
    p2 = quarter_cylinder_mesh(a, b, h, 4, 8, 1, order=2)
    r2 = np.hypot(p2.points_lps[:, 0], p2.points_lps[:, 1])
    inner = p2.point_data["inner"].astype(bool)
    assert np.allclose(r2[inner], a) and np.allclose(r2[p2.point_data["outer"].astype(bool)], b)
    assert p2.cell_volumes_mm3().min() > 0
    # straight-sided corner volume underestimates; the curved quadrature volume is ~exact
    assert p1.volume_mm3() < exact
    assert l2_displacement_error(p2, np.zeros((p2.n_points, 3)), lambda x: np.ones_like(x)).volume_mm3 == \
        pytest.approx(exact, rel=1e-4)
    assert np.all(p2.points_lps[p2.point_data["theta90"].astype(bool), 0] == 0.0)


def test_graded_axis() -> None:
    xs = graded_axis(40.0, 0.2, 1.6, 1.3)
    assert xs[0] == 0.0 and xs[-1] == 40.0 and np.all(np.diff(xs) > 0)
    assert np.allclose(np.diff(xs)[:8], 0.2)
    assert np.diff(xs).max() < 40.0 / 3


# --------------------------------------------------------------------------- closed forms
def _num_grad(f, r: float, h: float = 1e-5) -> float:  # noqa: ANN001
    return (f(r + h) - f(r - h)) / (2 * h)


def test_lame_cylinder_satisfies_boundary_tractions() -> None:
    a, b, p, e, nu = 5.0, 10.0, 2.0, 1000.0, 0.3
    mu, lam = analytic.lame_parameters(e, nu)

    def ur(r: float) -> float:
        return float(analytic.lame_cylinder_radial_displacement(r, a, b, p, e, nu))

    def srr(r: float) -> float:  # plane strain: eps_zz = 0
        err, ett = _num_grad(ur, r), ur(r) / r
        return lam * (err + ett) + 2 * mu * err

    assert srr(a) == pytest.approx(-p, rel=1e-6)
    assert abs(srr(b)) < 1e-6 * p
    u = analytic.lame_cylinder_displacement(np.array([[3.0, 4.0, 1.0]]), a, b, p, e, nu)
    assert np.allclose(np.hypot(u[0, 0], u[0, 1]), ur(5.0)) and u[0, 2] == 0.0


def test_lame_sphere_satisfies_boundary_tractions() -> None:
    a, b, p, e, nu = 5.0, 10.0, 2.0, 1000.0, 0.3
    mu, lam = analytic.lame_parameters(e, nu)

    def ur(r: float) -> float:
        return float(analytic.lame_sphere_radial_displacement(r, a, b, p, e, nu))

    def srr(r: float) -> float:
        err, ett = _num_grad(ur, r), ur(r) / r
        return lam * (err + 2 * ett) + 2 * mu * err

    assert srr(a) == pytest.approx(-p, rel=1e-6)
    assert abs(srr(b)) < 1e-6 * p


def test_neo_hookean_uniaxial_closed_form() -> None:
    e, nu = 1.0, 0.3
    p0, t0 = analytic.neo_hookean_uniaxial(1.0, e, nu)
    assert abs(p0) < 1e-14 and t0 == pytest.approx(1.0, abs=1e-14)
    # small-strain limit: P = E eps, lateral contraction nu eps
    p, t = analytic.neo_hookean_uniaxial(1.0 + 1e-6, e, nu)
    assert p == pytest.approx(e * 1e-6, rel=1e-4) and (1 - t) == pytest.approx(nu * 1e-6, rel=1e-4)
    # at 1.5: lateral stress zero, and P11 equals dW/dlambda of the energy along the uniaxial path
    mu, lam = analytic.lame_parameters(e, nu)
    p15, t15 = analytic.neo_hookean_uniaxial(1.5, e, nu)
    assert mu * (t15 - 1 / t15) + lam * math.log(1.5 * t15**2) / t15 == pytest.approx(0.0, abs=1e-12)

    def energy(lx: float, lt: float) -> float:
        j = lx * lt * lt
        return 0.5 * mu * (lx * lx + 2 * lt * lt - 3) - mu * math.log(j) + 0.5 * lam * math.log(j) ** 2

    h = 1e-6
    assert p15 == pytest.approx((energy(1.5 + h, t15) - energy(1.5 - h, t15)) / (2 * h), rel=1e-7)
    assert 0.8 < t15 < 0.9 and 0.3 < p15 < 0.5  # softer than linear (0.5)


def test_mooney_rivlin_uniaxial_closed_form() -> None:
    c1, c2, k = 0.1, 0.05, 10.0

    def energy(l1: float, l2: float, l3: float) -> float:
        j = l1 * l2 * l3
        i1 = j ** (-2 / 3) * (l1**2 + l2**2 + l3**2)
        i2 = j ** (-4 / 3) * ((l1 * l2) ** 2 + (l2 * l3) ** 2 + (l1 * l3) ** 2)
        return c1 * (i1 - 3) + c2 * (i2 - 3) + 0.5 * k * math.log(j) ** 2

    p, t = analytic.mooney_rivlin_uniaxial(1.5, c1, c2, k)
    h = 1e-6
    assert p == pytest.approx((energy(1.5 + h, t, t) - energy(1.5 - h, t, t)) / (2 * h), rel=1e-7)
    assert abs(energy(1.5, t + h, t) - energy(1.5, t - h, t)) / (2 * h) < 1e-8  # free lateral faces
    # small strain: E = 9 k mu / (3 k + mu) with mu = 2 (c1 + c2)
    mu = 2 * (c1 + c2)
    p0, _ = analytic.mooney_rivlin_uniaxial(1.0 + 1e-6, c1, c2, k)
    assert p0 == pytest.approx(9 * k * mu / (3 * k + mu) * 1e-6, rel=1e-4)


@pytest.mark.data
def test_febio_reference_target() -> None:
    """The sh13 analytic target in ../shared/data/febio_testsuite_refs equals our Euler-Bernoulli closed form."""
    import csv
    from pathlib import Path

    from biomech.verification import cases

    csv_path = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "febio_testsuite_refs" / \
        "gold_standards_selected.csv"
    if not csv_path.exists():
        pytest.skip("../shared/data not present")
    rows = {r["problem"]: r for r in csv.DictReader(csv_path.open(newline="", encoding="utf-8"))}
    ref = rows["sh13"]["analytic_reference"]
    assert "0.004" in ref and "E=1e6" in ref
    assert analytic.euler_bernoulli_tip_deflection(0.001, 10.0, 1.0, 0.1, 1.0e6) == pytest.approx(0.004)
    assert cases.febio_sh13.__doc__ is not None and "0.004" in cases.febio_sh13.__doc__
    # dy01: the gold solution norm is the L2 norm of a rigid translation u_z = 0.5 at 8 nodes
    assert float(rows["dy01"]["linux_solution_norm"]) == pytest.approx(math.sqrt(8 * 0.5**2), rel=1e-10)


def test_neo_hookean_sphere_inflation_reference() -> None:
    a, b, e, nu = 5.0, 10.0, 1.0, 0.3
    r, u = analytic.neo_hookean_sphere_inflation(a, b, 1e-6, e, nu)  # small pressure: linear Lame
    assert np.allclose(u, analytic.lame_sphere_radial_displacement(r, a, b, 1e-6, e, nu), rtol=1e-4)
    r, u = analytic.neo_hookean_sphere_inflation(a, b, 0.1, e, nu)
    mu, lam = analytic.lame_parameters(e, nu)
    # outer wall traction-free and inner Cauchy traction = -p, from finite differences of the solution
    lr = np.gradient(r + u, r, edge_order=2)
    lt = (r + u) / r
    pr = mu * (lr - 1 / lr) + lam * np.log(lr * lt * lt) / lr
    assert abs(pr[-1]) < 1e-4 and pr[0] / lt[0] ** 2 == pytest.approx(-0.1, rel=1e-3)
    assert u[0] > 1.2 * analytic.lame_sphere_radial_displacement(a, a, b, 0.1, e, nu)


def test_beam_and_hertz_formulas() -> None:
    eb = analytic.euler_bernoulli_tip_deflection(0.001, 10.0, 1.0, 0.1, 1.0e6)
    assert eb == pytest.approx(0.004, rel=1e-12)  # FEBio sh13 target
    ti = analytic.timoshenko_tip_deflection(0.001, 10.0, 1.0, 0.1, 1.0e6, 0.0)
    assert ti / eb - 1 == pytest.approx(6e-5, rel=0.05)
    assert analytic.rectangular_shear_coefficient(0.0) == pytest.approx(10 / 12)
    f1 = analytic.hertz_sphere_force(0.1, 10.0, 1.0, 0.3)
    assert f1 == pytest.approx(4 / 3 / 0.91 * math.sqrt(10) * 0.1**1.5)
    assert analytic.hertz_sphere_force(0.4, 10.0, 1.0, 0.3) / f1 == pytest.approx(8.0)
    u = analytic.hanging_bar_displacement(np.array([0.0, 20.0]), 20.0, 1e-6, 9810.0, 1.0)
    assert u[0] == 0.0 and u[1] == pytest.approx(1e-6 * 9810 * 200)


# --------------------------------------------------------------------------- error norms and orders
def _lame(p: np.ndarray) -> np.ndarray:
    return analytic.lame_cylinder_displacement(p, 5.0, 10.0, 1.0, 1000.0, 0.3)


@pytest.mark.parametrize("order", [1, 2])
def test_interpolation_error_has_optimal_order(order: int) -> None:
    """The nodal interpolant of the Lame field converges at O(h^2) (P1) and O(h^3) (P2, curved) in L2."""
    ns = [4, 8, 16]
    errs = []
    for n in ns:
        m = quarter_cylinder_mesh(5.0, 10.0, 5.0 / n, n, 2 * n, 1, order=order)
        errs.append(l2_displacement_error(m, _lame(m.points_lps), _lame).relative)
    orders = observed_orders([1 / n for n in ns], errs)
    assert orders[-1] == pytest.approx(order + 1, abs=0.1)


def test_l2_error_exact_for_affine_and_constant_offsets() -> None:
    m = box_mesh((2.0, 3.0, 4.0), (2, 2, 2), order=2, jitter=0.2, seed=5)
    g = np.array([[1e-3, 0, 2e-3], [0, -1e-3, 0], [5e-4, 0, 0]])

    def field(x: np.ndarray) -> np.ndarray:
        return analytic.affine_displacement(x, g)

    assert l2_displacement_error(m, field(m.points_lps), field).absolute < 1e-15
    off = l2_displacement_error(m, field(m.points_lps) + [0.0, 0.0, 0.01], field)
    assert off.absolute == pytest.approx(0.01 * math.sqrt(24.0), rel=1e-12)
    assert off.volume_mm3 == pytest.approx(24.0, rel=1e-12)


# --------------------------------------------------------------------------- GCI
def test_gci_recovers_order_and_limit() -> None:
    f0, c, p = 2.5, 0.3, 2.0
    res = mesh_convergence_study(lambda lvl: f0 + c * (0.5**lvl) ** p, refinements=3)
    assert res.observed_order == pytest.approx(p, rel=1e-10)
    assert res.extrapolated == pytest.approx(f0, rel=1e-12)
    assert res.asymptotic_ratio == pytest.approx(res.values[-1] / res.values[-2], rel=1e-10)  # ~1
    # GCI bounds the true error of the fine grid (Fs = 1.25 > 1)
    f1 = res.values[-1]
    assert abs(f1 - f0) / f1 < res.gci_fine == pytest.approx(1.25 * abs(f1 - f0) / f1, rel=1e-10)
    assert not res.oscillatory and "p = 2.00" in res.summary()


def test_gci_more_grids_and_edge_cases() -> None:
    vals = [1.0 + 0.1 * 0.5 ** (3 * k) for k in range(5)]
    res = gci_from_values(vals)
    assert res.observed_order == pytest.approx(3.0) and len(res.values) == 5
    osc = gci_from_values([1.0, 1.2, 1.1])
    assert osc.oscillatory
    same = gci_from_values([1.0, 1.0, 1.0])
    assert same.gci_fine == 0.0 and same.extrapolated == 1.0
    div = gci_from_values([1.0, 1.0, 1.5])
    assert math.isnan(div.gci_fine)
    with pytest.raises(ValueError):
        mesh_convergence_study(lambda lvl: 1.0, refinements=2)


def test_format_table_marks_pass_and_fail() -> None:
    rows = [CaseResult("a", "q", 1.0, 1.001, 1e-3, 1e-2, True),
            CaseResult("bb", "q", 1.0, math.nan, math.inf, 1e-2, False, {"error": "SolverError: boom"})]
    text = format_table(rows)
    assert "PASS" in text and "FAIL" in text and "boom" in text and "1/2 cases passed" in text
    assert text.splitlines()[0].split()[:3] == ["case", "quantity", "expected"]
