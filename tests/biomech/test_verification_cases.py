"""The FE engine against closed-form solutions (the cases behind ``vht verify``).

Each passing case is paired with a deliberately wrong input (material, density, ...) that must make
the same case fail, so the comparisons cannot pass vacuously.
"""

from __future__ import annotations

import json
from functools import partial
from typing import Any

import pytest

from biomech.verification import cases, suite


def _scale_material(key: str, factor: float) -> Any:
    def mutate(case: dict[str, Any]) -> None:
        for m in case["materials"]:
            m[key] = m[key] * factor

    return mutate


def _assert_pass(res: cases.CaseResult) -> None:
    assert res.passed, f"{res.name}: expected {res.expected}, computed {res.computed}, error {res.rel_error} " \
                       f"(tolerance {res.tolerance}); {res.details}"


def _halve_pressure(case: dict[str, Any]) -> None:
    for load in case["loads"]:
        if load["kind"] == "pressure":
            load["value"] = 0.5 * load["value"]


@pytest.mark.parametrize("order", [1, 2])
def test_patch_test(order: int) -> None:
    res = cases.patch_test(order, quick=True)
    _assert_pass(res)
    assert res.details["interior_nodes"] > 0
    assert res.rel_error < 1e-8


def test_patch_test_fails_with_wrong_material() -> None:
    res = cases.patch_test(1, quick=True, mutate=_scale_material("poisson_ratio", 1.05))
    assert not res.passed and res.details["stress_error"] > 1e-3
    assert res.details["displacement_error"] < 1e-8  # Dirichlet patch: displacements still exact


@pytest.mark.parametrize("order", [1, 2])
def test_traction_patch_test(order: int) -> None:
    res = cases.traction_patch_test(order, quick=True)
    _assert_pass(res)
    assert res.details["max_support_reaction_n"] < 1e-9


def test_traction_patch_test_detects_unbalanced_face_load() -> None:
    def heavier_face(case: dict[str, Any]) -> None:
        load = next(ld for ld in case["loads"] if ld["name"] == "xmax")
        load["value"] = [1.01 * v for v in load["value"]]

    res = cases.traction_patch_test(2, quick=True, mutate=heavier_face)
    assert not res.passed


def test_cantilever_timoshenko() -> None:
    res = cases.cantilever(quick=True)
    _assert_pass(res)
    wrong = cases.cantilever(quick=True, mutate=_scale_material("youngs_modulus", 1.05))
    assert not wrong.passed and wrong.computed < res.computed


def test_lame_cylinder() -> None:
    _assert_pass(cases.lame_cylinder(quick=True))
    assert not cases.lame_cylinder(quick=True, mutate=_scale_material("poisson_ratio", 0.9)).passed


def test_lame_sphere() -> None:
    res = cases.lame_sphere(quick=True)
    _assert_pass(res)
    assert res.details["l2_relative_error"] < 0.01
    assert not cases.lame_sphere(quick=True, mutate=_halve_pressure).passed


@pytest.mark.parametrize("order", [1, 2])
def test_observed_l2_order(order: int) -> None:
    res = cases.lame_convergence(order, quick=True)
    _assert_pass(res)
    errs = res.details["l2_relative_errors"]
    assert errs[0] > errs[1] > errs[2]


def test_convergence_case_detects_an_inconsistent_load() -> None:
    """Half the pressure: the discrete solutions converge to the wrong field, so the order collapses."""
    assert not cases.lame_convergence(2, quick=True, mutate=_halve_pressure).passed


def test_gci_brackets_the_exact_value() -> None:
    res = cases.lame_gci(1, quick=True)
    _assert_pass(res)
    assert res.details["observed_order"] == pytest.approx(2.0, abs=0.5)
    assert res.details["extrapolated_rel_error"] < res.rel_error


def test_neo_hookean_uniaxial() -> None:
    res = cases.neo_hookean_uniaxial(quick=True)
    _assert_pass(res)
    assert res.details["lateral_stretch_computed"] == pytest.approx(res.details["lateral_stretch_expected"],
                                                                    rel=5e-3)
    wrong = cases.neo_hookean_uniaxial(quick=True, mutate=_scale_material("youngs_modulus", 1.02))
    assert not wrong.passed


def test_mooney_rivlin_uniaxial() -> None:
    _assert_pass(cases.mooney_rivlin_uniaxial(quick=True))
    assert not cases.mooney_rivlin_uniaxial(quick=True, mutate=_scale_material("c01", 1.1)).passed


@pytest.mark.slow
def test_neo_hookean_sphere_inflation() -> None:
    res = cases.neo_hookean_sphere(quick=True)
    _assert_pass(res)
    assert res.expected > 1.15 * res.details["linear_lame_mm"]  # genuinely nonlinear regime
    assert not cases.neo_hookean_sphere(quick=True, mutate=_scale_material("youngs_modulus", 1.03)).passed


def test_gravity_bar() -> None:
    res = cases.hanging_bar(quick=True)
    _assert_pass(res)
    assert res.details["top_reaction_n"] == pytest.approx(res.details["weight_n"], rel=1e-6)

    def heavier(case: dict[str, Any]) -> None:
        case["materials"][0]["density"] *= 1.001

    assert not cases.hanging_bar(quick=True, mutate=heavier).passed


def test_febio_sh13_cantilever() -> None:
    _assert_pass(cases.febio_sh13(quick=True))


@pytest.mark.slow
def test_hertz_contact() -> None:
    res = cases.hertz(quick=True)
    _assert_pass(res)
    assert not cases.hertz(quick=True, mutate=_scale_material("youngs_modulus", 1.2)).passed


def test_engine_failure_is_a_failed_row_not_an_exception() -> None:
    def unconstrained(case: dict[str, Any]) -> None:
        case["boundary_conditions"] = []

    res = cases.cantilever(quick=True, mutate=unconstrained)
    assert not res.passed and "error" in res.details


def test_cli_exit_codes(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from app.cli import main

    good = [("patch", partial(cases.patch_test, 1, True))]
    bad = good + [("wrong", partial(cases.patch_test, 1, True, _scale_material("youngs_modulus", 2.0)))]
    monkeypatch.setattr(suite, "case_functions", lambda quick=False: good)
    assert main(["verify", "--quick", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "patch test tet4" in out and "PASS" in out and "1/1 cases passed" in out
    monkeypatch.setattr(suite, "case_functions", lambda quick=False: bad)
    assert main(["verify", "--quick", "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["passed"] is False and [c["passed"] for c in data["cases"]] == [True, False]


def test_suite_progress_and_cancel(monkeypatch: pytest.MonkeyPatch) -> None:
    from twin.errors import Cancelled
    from twin.progress import CallbackProgress

    calls: list[str] = []
    funcs = [(f"c{i}", partial(lambda i: calls.append(f"c{i}") or cases.CaseResult(f"c{i}", "q", 1.0, 1.0, 0.0,
                                                                                    1e-3, True), i))
             for i in range(3)]
    monkeypatch.setattr(suite, "case_functions", lambda quick=False: funcs)
    seen: list[tuple[float, str]] = []
    assert [r.name for r in suite.run_suite(progress=CallbackProgress(lambda f, m: seen.append((f, m))))] == \
        ["c0", "c1", "c2"]
    assert seen[0] == (0.0, "c0") and seen[-1][0] == 1.0
    prog = CallbackProgress()
    prog.token.cancel()
    calls.clear()
    with pytest.raises(Cancelled):
        suite.run_suite(progress=prog)
    assert calls == []


@pytest.mark.slow
def test_quick_suite_all_pass() -> None:
    results = suite.run_suite(quick=True)
    assert len(results) == len(suite.case_functions(True))
    failed = [(r.name, r.computed, r.expected, r.details) for r in results if not r.passed]
    assert not failed, failed
