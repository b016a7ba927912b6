"""Sparse symmetric positive-definite linear solvers, chosen by size with clean fallbacks.

``pardiso`` (MKL PARDISO through pypardiso, real symmetric positive definite: mtype 2 on the upper
triangle), ``cholmod`` (scikit-sparse, if installed), ``amg`` (pyamg smoothed aggregation on 3x3
blocks with the six rigid-body modes as near-null space, preconditioning conjugate gradients) and
``scipy`` (SuperLU). ``auto`` prefers PARDISO up to 200k DOF, AMG-CG above: on compact 3D meshes
PARDISO's fill-in grows superlinearly (bench_fe: 34 s / 2.1 GB at 192k DOF) while AMG-CG stays
about linear (41 s / 1.6 GB at 375k DOF).
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from numpy.typing import NDArray

from twin.errors import InputError, SolverError

FloatArray = NDArray[np.float64]
METHODS = ("auto", "pardiso", "cholmod", "amg", "scipy")
DIRECT_LIMIT_DOFS = 200_000


@dataclass
class LinearSolveInfo:
    """How a linear system was solved: ``method``, CG ``iterations`` (0 for direct), relative residual."""

    method: str
    iterations: int
    relative_residual: float


def available(method: str) -> bool:
    """Whether the backend of ``method`` can be imported."""
    mod = {"pardiso": "pypardiso", "cholmod": "sksparse", "amg": "pyamg", "scipy": "scipy"}.get(method)
    return mod is not None and importlib.util.find_spec(mod) is not None


def choose_method(n_dofs: int, requested: str = "auto") -> list[str]:
    """Ordered list of methods to try for a system of ``n_dofs`` unknowns."""
    if requested not in METHODS:
        raise InputError(f"unknown linear solver {requested!r} (expected one of {', '.join(METHODS)})")
    if n_dofs <= DIRECT_LIMIT_DOFS:
        order = ["pardiso", "cholmod", "amg", "scipy"] if n_dofs > 20_000 else ["pardiso", "cholmod", "scipy"]
    else:
        order = ["amg", "pardiso", "cholmod", "scipy"]
    if requested != "auto":  # the requested one first, then the automatic chain as fallback
        order = [requested] + [m for m in order if m != requested]
    return [m for m in order if available(m)] or ["scipy"]


def _pardiso_class() -> type:
    import os
    import sys
    from pathlib import Path

    # PyPardisoSolver() globs the whole environment for libmkl_rt (~0.3-3 s, at import and at every
    # construction) unless told where it is; pip wheels put it in <prefix>/lib
    if "PYPARDISO_MKL_RT" not in os.environ:
        found = sorted(Path(sys.prefix, "lib").glob("libmkl_rt.so*")) + sorted(Path(sys.prefix, "Library", "bin")
                                                                               .glob("mkl_rt*.dll"))
        if found:
            os.environ["PYPARDISO_MKL_RT"] = str(found[0])
    from pypardiso import PyPardisoSolver
    from pypardiso.scipy_aliases import pypardiso_solver

    os.environ.setdefault("PYPARDISO_MKL_RT", pypardiso_solver.libmkl._name)
    return PyPardisoSolver


class PardisoSession:
    """One PARDISO handle reused by successive solves that share a sparsity pattern (Newton iterations).

    The symbolic analysis (fill-reducing ordering, phase 11) runs only when the pattern or the matrix
    type changes; every solve then refactorizes numerically (phase 22) and substitutes (phase 33).
    Measured on the demo liver retraction tangent (21.7k free DOF, 448k upper-triangle entries):
    analysis 0.06 s, factorization 0.19 s, substitution 0.015 s; a fresh phase-13 call 0.29 s.
    The factors stay in memory until :meth:`close` (call it when the Newton loop ends).
    """

    def __init__(self) -> None:
        self._solver = None
        self.mtype: int | None = None
        self._pattern: tuple[NDArray[np.int32], NDArray[np.int32]] | None = None
        self.analyses = 0

    def _same_pattern(self, A: sp.csr_matrix, mtype: int) -> bool:
        if self._solver is None or self._pattern is None or mtype != self.mtype:
            return False
        indptr, indices = self._pattern
        return (A.shape[0] + 1 == len(indptr) and A.nnz == len(indices) and np.array_equal(A.indptr, indptr)
                and np.array_equal(A.indices, indices))

    def solve(self, A: sp.csr_matrix, b: FloatArray, mtype: int) -> FloatArray:
        """Solve with the upper triangle (symmetric ``mtype``) or full ``A`` (mtype 11); raises PyPardisoError."""
        b = np.ascontiguousarray(b, dtype=np.float64)
        if not self._same_pattern(A, mtype):
            self.close()
            self._solver = _pardiso_class()(mtype=mtype)
            self._solver._check_A(A)  # CSR flags (iparm 12), sorted indices
            self.mtype = mtype
            self._solver.set_phase(11)
            self._solver._call_pardiso(A, b)
            self._pattern = (A.indptr.copy(), A.indices.copy())
            self.analyses += 1
        try:
            self._solver.set_phase(22)
            self._solver._call_pardiso(A, b)
            self._solver.set_phase(33)
            x = self._solver._call_pardiso(A, b)
        except Exception:
            self.close()
            raise
        self._factored = A
        return x

    @property
    def factored(self) -> bool:
        """Whether factors of the last matrix are in memory (:meth:`substitute` can be called)."""
        return self._solver is not None and getattr(self, "_factored", None) is not None

    def substitute(self, b: FloatArray) -> FloatArray:
        """Forward/back substitution with the factors of the last :meth:`solve` (phase 33 only): a
        quasi-Newton iteration costs this instead of a factorization (~1/20 of it on the liver tet10)."""
        if not self.factored:
            raise SolverError("PARDISO: no factorization to reuse")
        self._solver.set_phase(33)
        return np.asarray(self._solver._call_pardiso(self._factored, np.ascontiguousarray(b, dtype=np.float64)))

    def close(self) -> None:
        """Free PARDISO's memory (factors and analysis)."""
        if self._solver is not None:
            self._solver.free_memory(everything=True)
        self._solver, self._pattern, self.mtype, self._factored = None, None, None, None


def _pardiso(K: sp.csr_matrix, b: FloatArray, symmetric: bool = True, upper: sp.csr_matrix | None = None,
             allow_indefinite: bool = False, session: PardisoSession | None = None) -> FloatArray:
    from pypardiso.pardiso_wrapper import PyPardisoError

    if not symmetric:
        upper = K.tocsr()
    elif upper is None:
        upper = sp.triu(K, format="csr")
    upper.sort_indices()
    # symmetric positive definite first; a Newton tangent may be indefinite (compressive geometric stiffness,
    # contact curvature): then symmetric indefinite (Bunch-Kaufman pivoting). A session that already needed
    # the indefinite type keeps it (no re-analysis at every iteration)
    mtypes = ((2, -2) if allow_indefinite else (2,)) if symmetric else (11,)
    if session is not None and session.mtype in mtypes:
        mtypes = (session.mtype,) + tuple(m for m in mtypes if m != session.mtype)
    own = session is None
    for mtype in mtypes:
        sess = PardisoSession() if own else session
        try:
            x = sess.solve(upper, b, mtype)
            break
        except PyPardisoError as exc:
            if mtype == 2 and exc.value == -4 and allow_indefinite:
                continue
            raise SolverError(f"PARDISO failed (error {exc.value}): matrix singular") from exc
        finally:
            if own:
                sess.close()
    return np.asarray(x).reshape(b.shape)


def _cholmod(K: sp.csr_matrix, b: FloatArray) -> FloatArray:
    from sksparse.cholmod import CholmodNotPositiveDefiniteError, cholesky

    try:
        factor = cholesky(K.tocsc())
    except CholmodNotPositiveDefiniteError as exc:
        raise SolverError("CHOLMOD: matrix is not positive definite (singular system?)") from exc
    return factor(b)


def _amg(K: sp.csr_matrix, b: FloatArray, near_null: FloatArray | None, rtol: float,
         symmetric: bool = True) -> tuple[FloatArray, int]:
    import pyamg

    A = K.tobsr(blocksize=(3, 3)) if K.shape[0] % 3 == 0 else K
    ml = pyamg.smoothed_aggregation_solver(A, B=near_null, symmetry="hermitian" if symmetric else "nonsymmetric",
                                           strength="symmetric", max_coarse=500)
    M = ml.aspreconditioner(cycle="V")
    it = [0]

    def count(_: FloatArray) -> None:
        it[0] += 1

    maxiter = max(200, min(5000, K.shape[0] // 10))
    if symmetric:
        x, info = spla.cg(K, b, rtol=rtol, maxiter=maxiter, M=M, callback=count)
    else:
        x, info = spla.gmres(K, b, rtol=rtol, maxiter=maxiter, M=M, restart=50, callback=count,
                             callback_type="pr_norm")
    if info != 0:
        raise SolverError(f"AMG-preconditioned Krylov solver did not converge in {maxiter} iterations "
                          "(singular system?)")
    return x, it[0]


def solve_spd(K: sp.csr_matrix, b: FloatArray, method: str = "auto", near_null: FloatArray | None = None,
              rtol: float = 1e-10, symmetric: bool = True, upper: sp.csr_matrix | None = None,
              allow_indefinite: bool = False, session: PardisoSession | None = None
              ) -> tuple[FloatArray, LinearSolveInfo]:
    """Solve ``K x = b`` for a symmetric positive-definite ``K`` (or a general one if ``symmetric=False``).

    Parameters
    ----------
    K : (n, n) CSR, full (both triangles)
    b : (n,) right-hand side
    method : str
        One of :data:`METHODS`; ``auto`` picks by size and falls back if a backend is missing or fails.
    near_null : (n, k), optional
        Near-null-space vectors for AMG (rigid-body modes restricted to the free DOFs).
    symmetric : bool
        False for non-symmetric tangents (follower pressure): PARDISO mtype 11, AMG-GMRES, SuperLU;
        CHOLMOD is skipped.
    upper : CSR, optional
        The upper triangle of ``K`` if already at hand (saves PARDISO a ``triu``).
    allow_indefinite : bool
        Symmetric but possibly indefinite (Newton tangents): PARDISO retries with mtype -2 (Bunch-Kaufman)
        when the positive-definite factorization meets a non-positive pivot.
    session : PardisoSession, optional
        Reuse PARDISO's symbolic analysis across calls with the same sparsity pattern (the caller closes it).
    rtol : float
        Relative residual target for the iterative solver; direct results are checked against
        ``sqrt(rtol)`` to catch singular factorizations.

    Raises
    ------
    SolverError
        Every applicable method failed, or the result is not finite / does not solve the system.
    """
    if K.shape[0] == 0:
        return np.zeros(0), LinearSolveInfo("none", 0, 0.0)
    errors: list[str] = []
    bnorm = float(np.linalg.norm(b)) or 1.0
    for m in choose_method(K.shape[0], method):
        iterations = 0
        if m == "cholmod" and not symmetric:
            continue
        try:
            if m == "pardiso":
                x = _pardiso(K, b, symmetric, upper, allow_indefinite, session)
            elif m == "cholmod":
                x = _cholmod(K, b)
            elif m == "amg":
                x, iterations = _amg(K, b, near_null, rtol, symmetric)
            else:
                x = spla.spsolve(K.tocsc(), b)
        except SolverError as exc:
            errors.append(f"{m}: {exc}")
            continue
        except (MemoryError, RuntimeError, ValueError) as exc:  # backend crashed: try the next one
            errors.append(f"{m}: {type(exc).__name__}: {exc}")
            continue
        if not np.all(np.isfinite(x)):
            errors.append(f"{m}: non-finite solution (singular system)")
            continue
        res = float(np.linalg.norm(K @ x - b)) / bnorm
        if res > max(np.sqrt(rtol), 1e-6):
            errors.append(f"{m}: residual {res:.2e} too large (singular or ill-conditioned system)")
            continue
        return x, LinearSolveInfo(m, iterations, res)
    raise SolverError("linear solve failed: " + "; ".join(errors))
