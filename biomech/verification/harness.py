"""Harness shared by the verification cases: result record, case-dict builders, engine adapter.

Case dictionaries follow the ``vht simulate`` schema; geometry in LPS mm, units mm, N, MPa.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from twin.meshes import TetMesh

Mutator = Callable[[dict[str, Any]], None]


@dataclass
class CaseResult:
    """Outcome of one verification case.

    ``rel_error`` is the relative (or, where stated in ``details``, absolute) error compared to
    ``tolerance``; ``details`` holds JSON-serialisable extra numbers (mesh size, timings, ...).
    """

    name: str
    quantity: str
    expected: float
    computed: float
    rel_error: float
    tolerance: float
    passed: bool
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable dictionary."""
        return {"name": self.name, "quantity": self.quantity, "expected": self.expected, "computed": self.computed,
                "rel_error": self.rel_error, "tolerance": self.tolerance, "passed": self.passed,
                "details": self.details}

    def to_json_dict(self) -> dict[str, Any]:
        """:meth:`to_dict` with strict-JSON values (see :func:`json_safe`)."""
        return json_safe(self.to_dict())


def json_safe(x: Any) -> Any:
    """Recursively map what strict JSON lacks: NaN -> None, +-inf -> ``"inf"``/``"-inf"``, tuples -> lists."""
    if isinstance(x, float):
        if math.isnan(x):
            return None
        if math.isinf(x):
            return "inf" if x > 0 else "-inf"
    if isinstance(x, dict):
        return {k: json_safe(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [json_safe(v) for v in x]
    return x


# --------------------------------------------------------------------------- case-dict helpers
def material_entry(model: str, e: float, nu: float, **extra: Any) -> dict[str, Any]:
    """A ``[[materials]]`` entry with E (MPa) and nu."""
    return {"model": model, "youngs_modulus": e, "poisson_ratio": nu, **extra}


def plane_select(point: Any, normal: Any, tol: float = 1e-6) -> dict[str, Any]:
    """Plane selector (LPS mm)."""
    return {"plane": {"point": list(map(float, point)), "normal": list(map(float, normal))}, "tolerance": tol}


def node_set_select(name: str) -> dict[str, Any]:
    """Selector of a nonzero ``point_data`` array of the mesh."""
    return {"node_set": name}


def fixed_bc(name: str, select: dict[str, Any], components: tuple[str, ...] = ("x", "y", "z")) -> dict[str, Any]:
    """A ``fixed`` boundary condition on the listed components."""
    return {"name": name, "kind": "fixed", "components": list(components), "select": select}


def case_dict(element: str, materials: list[dict[str, Any]], bcs: list[dict[str, Any]],
              loads: list[dict[str, Any]] = (), contacts: list[dict[str, Any]] = (), nonlinear: bool = False,
              steps: int = 1, tolerance: float = 1e-10) -> dict[str, Any]:
    """A complete case dictionary (``mesh.element``, materials, BCs, loads, contacts, solver)."""
    return {"mesh": {"element": element}, "materials": materials, "boundary_conditions": list(bcs),
            "loads": list(loads), "contacts": list(contacts),
            "solver": {"nonlinear": nonlinear, "steps": steps, "tolerance": tolerance}}


# --------------------------------------------------------------------------- engine adapter
@dataclass
class Solved:
    """A converged engine result with the mesh it was solved on (tet10 when promoted)."""

    result: Any
    mesh: TetMesh
    displacement: NDArray[np.float64]
    seconds: float

    def reaction(self, name: str) -> NDArray[np.float64]:
        """Reaction force (3,) N of the boundary condition ``name``."""
        return np.asarray(self.result.reaction_forces[name], dtype=np.float64)

    def contact_force(self, name: str) -> NDArray[np.float64]:
        """Total contact force (3,) N of the indenter ``name`` on the tissue."""
        return np.asarray(self.result.contact_forces[name], dtype=np.float64)

    def stress(self) -> NDArray[np.float64]:
        """Cell Cauchy stress (n_cells, 3, 3) MPa."""
        return np.asarray(self.result.cell_stress_mpa, dtype=np.float64)


class EngineFailure(RuntimeError):
    """The engine did not return a converged result."""


def solve_case(case: dict[str, Any], mesh: TetMesh, mutate: Mutator | None) -> Solved:
    """Apply ``mutate`` to ``case``, run :func:`biomech.solver.run_case`, check it converged.

    Raises :class:`EngineFailure` on a failed status, a linear mesh when tet10 was asked, or a
    displacement array that does not match the solved mesh.
    """
    from biomech.solver import run_case  # the engine; imported lazily so meshes/analytics work without it

    if mutate is not None:
        mutate(case)
    t0 = time.perf_counter()
    res = run_case(case, mesh)
    seconds = time.perf_counter() - t0
    if not getattr(res, "converged", False):
        raise EngineFailure(f"engine status: {getattr(res, 'status', 'not converged')}")
    solved_mesh = getattr(res, "mesh", None)
    if not isinstance(solved_mesh, TetMesh):
        solved_mesh = mesh
    if case.get("mesh", {}).get("element") == "tet10" and solved_mesh.order != 2:
        raise EngineFailure("element = tet10 requested but the engine solved a linear mesh")
    u = np.asarray(res.displacement_mm, dtype=np.float64)
    if u.shape != (solved_mesh.n_points, 3):
        raise EngineFailure(f"displacement shape {u.shape} does not match the mesh ({solved_mesh.n_points}, 3)")
    return Solved(res, solved_mesh, u, seconds)


def make_result(name: str, quantity: str, expected: float, computed: float, tolerance: float,
                details: dict[str, Any], error: float | None = None) -> CaseResult:
    """A :class:`CaseResult`; ``error`` defaults to ``|computed - expected| / |expected|``."""
    if error is None:
        error = abs(computed - expected) / abs(expected) if expected != 0 else abs(computed)
    passed = bool(np.isfinite(error) and error <= tolerance)
    return CaseResult(name, quantity, float(expected), float(computed), float(error), float(tolerance), passed,
                      details)


def failed_result(name: str, quantity: str, expected: float, tolerance: float, exc: Exception) -> CaseResult:
    """A failed row carrying the exception text in ``details["error"]``."""
    return CaseResult(name, quantity, float(expected), math.nan, math.inf, float(tolerance), False,
                      {"error": f"{type(exc).__name__}: {exc}"})


def guarded(name: str, quantity: str, expected: float, tolerance: float,
            body: Callable[[], CaseResult]) -> CaseResult:
    """Run ``body``; any exception becomes a failed row instead of aborting the suite."""
    try:
        return body()
    except Exception as exc:  # noqa: BLE001 - a crashing engine is a failed case, reported in the table
        return failed_result(name, quantity, expected, tolerance, exc)
