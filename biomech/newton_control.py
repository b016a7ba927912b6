"""Newton load-step control of :mod:`biomech.solver`: statistics, progress monitor, stagnation rule,
FEBio-like automatic increments and BFGS quasi-Newton updates (free DOFs, units of the solver).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from twin.progress import Progress

if TYPE_CHECKING:
    from biomech.linsolve import PardisoSession

FloatArray = NDArray[np.float64]


class _Failure(Exception):
    """A numerical failure with a user-facing reason (becomes a failed Result)."""



@dataclass
class _Stats:
    iterations: int = 0
    steps: int = 0
    solver: str = ""
    warnings: list[str] = field(default_factory=list)
    residuals: list[float] = field(default_factory=list)


class _Monitor:
    """Progress of the load stepping: one update per Newton iteration (fraction across the load steps,
    message ``step 3/10, Newton it 4, |R| 1.2e-03 (tol 1e-08)``) and a cancellation check each time.

    The fraction is monotone: 0.1 + 0.8 x (converged load fraction + the current increment times the
    share of the residual's way down to its tolerance, on a log scale, at most 95 %).
    """

    def __init__(self, progress: Progress, tolerance: float) -> None:
        self.progress = progress
        self.tolerance = tolerance
        self.t_prev, self.t_new = 0.0, 1.0
        self.step, self.n_steps = 1, 1
        self.high = 0.1

    def begin_step(self, step: int, n_steps: int, t_prev: float, t_new: float) -> None:
        self.step, self.n_steps, self.t_prev, self.t_new = step, n_steps, t_prev, t_new

    def report(self, fraction: float, message: str) -> None:
        self.high = max(self.high, min(0.9, fraction))
        self.progress.update(self.high, message)
        self.progress.raise_if_cancelled()

    def iteration(self, it: int, relative_residual: float) -> None:
        """After Newton iteration ``it`` (0: the residual before the first solve)."""
        r, tol = relative_residual, self.tolerance
        share = 0.0
        if 0.0 < r < 1.0 and 0.0 < tol < 1.0:
            share = min(0.95, np.log(r) / np.log(tol))
        elif r == 0.0:
            share = 0.95
        load = f" (load {self.t_new:.3g})" if self.n_steps > 1 or self.t_new < 1.0 else ""
        self.report(0.1 + 0.8 * (self.t_prev + (self.t_new - self.t_prev) * share),
                    f"step {self.step}/{self.n_steps}{load}, Newton it {it}, |R| {r:.1e} (tol {tol:.0e})")


_STAGNATION = 1e3 * float(np.finfo(float).eps)
"""Energy-norm ratio at which Newton has reached round-off (FEBio-like stagnation acceptance)."""


STALL_CHECK_ITERATIONS = 15
"""Newton iterations after which a load step that cannot reach the tolerance is abandoned (and cut back)
early instead of running to ``max_iterations`` (FEBio gives up after ``max_refs`` = 15 reformations)."""


def _check_progress(history: list[float], it: int, tolerance: float) -> None:
    """Raise :class:`_Failure` when, after :data:`STALL_CHECK_ITERATIONS` iterations, the last four did not
    halve the best relative residual seen before them (stagnation: the step will be cut back).

    Slow but steady pre-asymptotic progress (large rotations, line searches) is left alone; only a residual
    that wanders without improving is abandoned before ``max_iterations``.
    """
    if it < STALL_CHECK_ITERATIONS or len(history) < 6 or history[-1] <= tolerance:
        return
    recent, best_before = min(history[-4:]), min(history[:-4])
    if recent > 0.5 * best_before:
        raise _Failure(f"Newton is not converging (relative residual {history[-1]:.1e} after {it} iterations, "
                       f"best {min(history):.1e}; no progress in the last four)")


BFGS_MAX_UPDATES = 10  # FEBio max_ups
BFGS_MAX_CONDITION = 1e5  # FEBio cmax


def _bfgs_solve(session: PardisoSession, updates: list[tuple[FloatArray, FloatArray]],
                rhs: FloatArray) -> FloatArray:
    """``K_n^-1 rhs`` with ``K_n^-1 = (I + w_n v_n^T) ... K_0^-1 ... (I + v_n w_n^T)`` (K_0 factored)."""
    tmp = rhs.copy()
    for v, w in reversed(updates):
        tmp += float(w @ tmp) * v
    x = np.asarray(session.substitute(tmp)).reshape(rhs.shape)
    for v, w in updates:
        x += float(v @ x) * w
    return x


def _bfgs_update(updates: list[tuple[FloatArray, FloatArray]], step: FloatArray, rhs0: FloatArray,
                 rhs1: FloatArray, s: float) -> list[tuple[FloatArray, FloatArray]] | None:
    """Append the BFGS pair of ``step`` (free DOFs) between right-hand sides ``rhs0 = -R_0``, ``rhs1 = -R_1``
    (secant: K_new^-1 (R_1 - R_0) = step); None (reform) when the update would be ill-conditioned or the
    list is full. FEBio's BFGSSolver::Update."""
    G = rhs0 - rhs1
    H = s * rhs0
    dg, dh = float(step @ G), float(step @ H)
    if dg <= 0 or dh <= 0 or np.sqrt(dg / dh) > BFGS_MAX_CONDITION or len(updates) >= BFGS_MAX_UPDATES:
        return None
    c = np.sqrt(dg / dh)
    return updates + [(-H * c - G, step / dg)]


OPTIMAL_ITERATIONS = 11
"""Newton iterations per load step that the automatic stepping aims at (FEBio's ``opt_iter``)."""


def _next_increment(dt: float, iterations: int, dt_max: float) -> float:
    """FEBio-like automatic increment after a converged step: grow by ``sqrt(opt / n)`` (at most 2x, at most
    ``dt_max``) when it took fewer than :data:`OPTIMAL_ITERATIONS` iterations, shrink (at most 2x) otherwise."""
    scale = float(np.sqrt(OPTIMAL_ITERATIONS / max(iterations, 1)))
    return min(dt_max, dt * min(2.0, max(0.5, scale)))
