"""Neo-Hookean solves under gravity (a dead body load): convergence, equilibrium, progress and cancellation.

Frame LPS, mm; loads N; density tonne/mm^3; gravity mm/s^2 (9810 = 1 g).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from biomech import solver as S
from biomech.solver import run_case
from biomech.verification.structured_meshes import box_mesh
from twin.errors import Cancelled
from twin.progress import CallbackProgress

LIVER_DENSITY = 1.06e-9  # tonne/mm^3 (tissue library "liver": neo-Hookean, E 6.6 kPa, nu 0.45)
G_MM_S2 = 9810.0


def _cantilever_case(length_mm: float, steps: int = 1) -> dict:
    """A liver-tissue beam (length x 20 x 20 mm) clamped at x <= 0, sagging under its own weight along -z."""
    return {
        "mesh": {"element": "tet4"},
        "materials": [{"tissue": "liver"}],
        "boundary_conditions": [{"name": "wall", "kind": "fixed",
                                 "select": {"half_space": {"point": [0.0, 0.0, 0.0], "normal": [-1.0, 0.0, 0.0]}}}],
        "loads": [{"name": "g", "kind": "gravity", "value": [0.0, 0.0, -G_MM_S2]}],
        "solver": {"steps": steps},
    }


def _weight_n(volume_mm3: float) -> float:
    return LIVER_DENSITY * G_MM_S2 * volume_mm3


def test_soft_tissue_cantilever_under_gravity_converges_and_reaction_is_the_weight() -> None:
    # 60 mm of liver tissue sags ~47 mm under 1 g (linear theory: ~260 mm): large rotations, the hard case.
    # One load step: bounded Newton iterations, quadratic end game, support reaction = weight exactly
    length = 60.0
    mesh = box_mesh((length, 20.0, 20.0), (12, 4, 4))
    r = run_case(_cantilever_case(length), mesh)
    assert r.converged, r.status
    assert r.load_fraction == 1.0 and r.steps == 1
    assert r.newton_iterations <= 18
    h = r.residual_history
    assert h[-1] <= 1e-8
    assert h[-2] <= 1e-3 and h[-1] <= 10.0 * h[-2] ** 2  # quadratic convergence at the end (exact tangent)
    weight = _weight_n(length * 20.0 * 20.0)
    np.testing.assert_allclose(r.reaction_forces["wall"], [0.0, 0.0, weight], rtol=0, atol=1e-7 * weight)
    tip = mesh.points_lps[:, 0] > length - 1e-9
    sag = -r.displacement_mm[tip, 2].mean()
    assert 35.0 < sag < 60.0  # large deflection, far below the linear 260 mm, beam does not pass vertical


def test_gravity_support_reaction_matches_weight_in_several_steps_and_directions() -> None:
    # compressed onto the support (gravity towards it) and hanging from it: path independence over steps
    mesh = box_mesh((30.0, 30.0, 30.0), (5, 5, 5), jitter=0.2, seed=3)
    weight = _weight_n(30.0 ** 3)
    for sign in (1.0, -1.0):
        case = {"materials": [{"tissue": "liver"}],
                "boundary_conditions": [{"name": "posterior", "kind": "fixed", "select": {
                    "half_space": {"point": [0.0, 20.0, 0.0], "normal": [0.0, 1.0, 0.0]}}}],
                "loads": [{"name": "g", "kind": "gravity", "value": [0.0, sign * G_MM_S2, 0.0]}]}
        r1 = run_case(case, mesh)
        case["solver"] = {"steps": 3}
        r3 = run_case(case, mesh)
        for r in (r1, r3):
            assert r.converged, r.status
            np.testing.assert_allclose(r.reaction_forces["posterior"], [0.0, -sign * weight, 0.0], atol=1e-7 * weight)
        assert r1.newton_iterations <= 10 and r3.newton_iterations <= 18
        np.testing.assert_allclose(r3.displacement_mm, r1.displacement_mm, atol=1e-6)


def test_progress_is_reported_every_newton_iteration() -> None:
    mesh = box_mesh((40.0, 20.0, 20.0), (8, 4, 4))
    seen: list[tuple[float, str]] = []
    r = run_case(_cantilever_case(40.0, steps=2), mesh, progress=CallbackProgress(lambda f, m: seen.append((f, m))))
    assert r.converged, r.status
    newton = [m for _, m in seen if ", Newton it " in m]
    # one message per iteration plus the initial residual of each step
    assert len(newton) == r.newton_iterations + r.steps
    assert newton[0].startswith("step 1/2") and "Newton it 0" in newton[0] and "(tol 1e-08)" in newton[0]
    assert any(m.startswith("step 2/2") for m in newton)
    fractions = [f for f, _ in seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    step2 = [f for f, m in seen if m.startswith("step 2/2")]
    assert min(step2) >= 0.5 - 1e-12  # the second half of the load fills the second half of the bar (0.1 + 0.8 t)


def test_cancel_during_newton_raises_promptly() -> None:
    mesh = box_mesh((60.0, 20.0, 20.0), (12, 4, 4))
    calls: list[str] = []

    class CancelAtThirdIteration(CallbackProgress):
        def update(self, fraction: float, message: str = "") -> None:
            calls.append(message)
            if "Newton it 3" in message:
                self.token.cancel()
            super().update(fraction, message)

    with pytest.raises(Cancelled):
        run_case(_cantilever_case(60.0), mesh, progress=CancelAtThirdIteration())
    assert "Newton it 3" in calls[-1]  # nothing ran after the cancel request


def test_failed_step_is_cut_back_with_a_status_message(monkeypatch: pytest.MonkeyPatch) -> None:
    # a 12-iteration cap makes the full 60 mm beam in one step fail: the load is halved, the message says so,
    # and the solve still reaches the full load with the same equilibrium (weight at the support)
    mesh = box_mesh((60.0, 20.0, 20.0), (12, 4, 4))
    case = _cantilever_case(60.0)
    case["solver"]["max_iterations"] = 12
    seen: list[str] = []
    r = run_case(case, mesh, progress=CallbackProgress(lambda f, m: seen.append(m)))
    assert r.converged, r.status
    assert any("retrying with load increment 0.5 (cutback 1/6)" in m for m in seen)
    assert any("cutback(s)" in w for w in r.warnings)
    weight = _weight_n(60.0 * 400.0)
    np.testing.assert_allclose(r.reaction_forces["wall"], [0.0, 0.0, weight], atol=1e-7 * weight)


def test_stagnation_check_only_fires_without_progress() -> None:
    S._check_progress([1.0, 2.0, 0.5, 0.4, 0.3, 0.2], 5, 1e-8)  # too early: never
    slow = [1.0] + [0.8 ** k for k in range(1, 17)]
    S._check_progress(slow, 16, 1e-8)  # slow but steady (best halves every 4 iterations or better): continue
    wandering = [1.0, 5.0, 0.3, 2.0] + [0.4, 0.9, 0.35, 0.6] * 3 + [0.2, 0.5]
    with pytest.raises(S._Failure, match="not converging"):
        S._check_progress(wandering, len(wandering) - 1, 1e-8)


def test_next_increment_follows_the_iteration_count() -> None:
    assert S._next_increment(0.25, 3, 1.0) == pytest.approx(0.25 * np.sqrt(11 / 3))
    assert S._next_increment(0.25, 1, 1.0) == 0.5  # at most doubled
    assert S._next_increment(0.25, 2, 0.3) == 0.3  # never above the nominal increment
    assert S._next_increment(0.25, 44, 1.0) == pytest.approx(0.125)  # slow step: halved


def test_gui_job_process_forwards_newton_progress(tmp_path: Path) -> None:
    # the simulation panel's child process prints one PROGRESS line per update; Newton iterations included
    job = Path(__file__).resolve().parents[2] / "app" / "gui" / "panels" / "simulation" / "job.py"
    if not job.is_file():
        pytest.skip("GUI job module not present")
    mesh = box_mesh((30.0, 20.0, 20.0), (6, 4, 4))
    mesh.to_pyvista().save(str(tmp_path / "mesh.vtu"))
    case = _cantilever_case(30.0)
    case["mesh"]["file"] = "mesh.vtu"
    (tmp_path / "case.json").write_text(json.dumps(case), encoding="utf-8")
    out = subprocess.run([sys.executable, str(job), str(tmp_path / "case.json"), str(tmp_path / "r.vtu"),
                          str(tmp_path / "s.json")], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    lines = [ln for ln in out.stdout.splitlines() if ln.startswith("PROGRESS ")]
    summary = json.loads((tmp_path / "s.json").read_text(encoding="utf-8"))
    assert sum(", Newton it " in ln for ln in lines) == summary["newton_iterations"] + summary["steps"]
    assert "Qt" not in out.stderr


def test_bfgs_update_satisfies_the_secant_condition() -> None:
    rng = np.random.default_rng(0)
    n = 8
    M = rng.normal(size=(n, n))
    K0 = M @ M.T + n * np.eye(n)
    M = rng.normal(size=(n, n))
    K1 = M @ M.T + n * np.eye(n)

    class Dense:  # stands in for a factored PARDISO session
        def substitute(self, b: np.ndarray) -> np.ndarray:
            return np.linalg.solve(K0, b)

    r0 = rng.normal(size=n)
    du = S._bfgs_solve(Dense(), [], -r0)
    s = 0.7
    r1 = r0 + K1 @ (s * du)
    updates = S._bfgs_update([], s * du, -r0, -r1, s)
    assert updates is not None and len(updates) == 1
    np.testing.assert_allclose(S._bfgs_solve(Dense(), updates, r1 - r0), s * du, rtol=1e-12)
    assert S._bfgs_update([], s * du, -r0, -r0 + K1 @ (s * du), s) is None  # negative curvature: reform


def test_quasi_newton_reaches_the_full_newton_equilibrium(monkeypatch: pytest.MonkeyPatch) -> None:
    # BFGS (factors reused, FEBio's default; off unless QUASI_NEWTON_DOFS is set): forced on a small case it must
    # reach the same equilibrium with fewer factorizations (reaction = weight, same displacements)
    from biomech.linsolve import available

    if not available("pardiso"):
        pytest.skip("pypardiso not installed")
    mesh = box_mesh((30.0, 30.0, 30.0), (5, 5, 5), jitter=0.2, seed=3)
    case = {"materials": [{"tissue": "liver"}],
            "boundary_conditions": [{"name": "posterior", "kind": "fixed", "select": {
                "half_space": {"point": [0.0, 20.0, 0.0], "normal": [0.0, 1.0, 0.0]}}}],
            "loads": [{"name": "g", "kind": "gravity", "value": [0.0, G_MM_S2, 0.0]}],
            "solver": {"linear_solver": "pardiso"}}
    full = run_case(case, mesh)
    factorizations = []
    orig = S.solve_spd

    def counting(*args, **kwargs):  # type: ignore[no-untyped-def]
        factorizations.append(1)
        return orig(*args, **kwargs)

    monkeypatch.setattr(S, "QUASI_NEWTON_DOFS", 0)
    monkeypatch.setattr(S, "solve_spd", counting)
    quasi = run_case(case, mesh)
    assert quasi.converged, quasi.status
    assert len(factorizations) < quasi.newton_iterations
    weight = _weight_n(30.0 ** 3)
    np.testing.assert_allclose(quasi.reaction_forces["posterior"], [0.0, -weight, 0.0], atol=1e-7 * weight)
    np.testing.assert_allclose(quasi.displacement_mm, full.displacement_mm, atol=1e-5)
