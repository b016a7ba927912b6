"""Linear static and Newton-Raphson (total Lagrangian) solvers with status reporting.

``solve(problem)`` never returns a non-converged field as if it were a result: non-convergence,
inverted elements (J <= 0) and singular systems (unconstrained rigid-body motion) give
``Result.converged = False`` with the reason in ``Result.status``. Bad problem definitions raise
:class:`twin.errors.InputError`. Geometry in LPS mm; forces N; stresses MPa.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from biomech import bcs as bcmod
from biomech.assembly import (
    Assembler,
    ReducedPattern,
    internal_force,
    linear_element_stiffness,
    rigid_body_modes,
    tangent_element_stiffness,
)
from biomech.contact import RigidIndenter, build_indenter
from biomech.elements import ElementGeometry, element_geometry, reorient_cells
from biomech.linsolve import PardisoSession, solve_spd
from biomech.materials import Material, first_piola, first_piola_and_tangent, make_material
from biomech.newton_control import (  # noqa: F401 - re-exported (tests, callers)
    _STAGNATION,
    BFGS_MAX_CONDITION,
    BFGS_MAX_UPDATES,
    OPTIMAL_ITERATIONS,
    STALL_CHECK_ITERATIONS,
    _bfgs_solve,
    _bfgs_update,
    _check_progress,
    _Failure,
    _Monitor,
    _next_increment,
    _Stats,
)
from biomech.problem import Problem, material_of_cells
from biomech.results import Result
from twin.errors import Cancelled, InputError, SolverError
from twin.meshes import TetMesh
from twin.progress import Progress, ensure_progress

FloatArray = NDArray[np.float64]


# --------------------------------------------------------------------------- preparation
def promote_mesh(mesh: TetMesh) -> TetMesh:
    """Quadratic (tet10) version of a linear mesh (:func:`biomech.topology.promote_to_tet10`)."""
    from biomech.topology import promote_to_tet10

    return promote_to_tet10(mesh)


@dataclass
class _Model:
    """Everything the solvers need, precomputed once."""

    problem: Problem
    mesh: TetMesh
    cells: NDArray[np.int64]
    geo: ElementGeometry
    asm: Assembler
    groups: list[tuple[Material, NDArray[np.int64]]]
    lam: FloatArray
    mu: FloatArray
    density: FloatArray
    dirichlet: bcmod.Dirichlet
    dead_load: FloatArray
    pressures: list[tuple[NDArray[np.int64], float]]
    indenters: list[RigidIndenter]
    nonlinear: bool
    materials_used: list[dict[str, Any]] = field(default_factory=list)

    @property
    def n_dofs(self) -> int:
        return 3 * self.mesh.n_points


def _resolve_material(problem: Problem, index: int) -> Material:
    a = problem.materials[index]
    if not a.model and a.tissue:
        from biomech.case import resolve_tissue

        a = resolve_tissue(a)
    return make_material(a)


def prepare(problem: Problem) -> _Model:
    """Validate the problem and precompute geometry, pattern, BC sets and load vectors."""
    mesh = problem.mesh
    if problem.options.element == "tet10":
        mesh = promote_mesh(mesh)
    elif problem.options.element != "tet4":
        raise InputError(f"mesh.element: expected tet4 or tet10, got {problem.options.element!r}")
    elif mesh.order == 2:
        raise InputError("mesh.element is tet4 but the mesh is quadratic; use element = \"tet10\"")
    if mesh.n_cells == 0:
        raise InputError("the mesh has no cells")
    cells, _ = reorient_cells(mesh.points_lps, np.asarray(mesh.cells))
    if not np.array_equal(cells, mesh.cells):
        mesh = TetMesh(mesh.points_lps, cells, mesh.region, dict(mesh.region_names), dict(mesh.point_data),
                       dict(mesh.cell_data))
    geo = element_geometry(mesh.points_lps, cells)
    which = material_of_cells(problem.materials, mesh.region)
    groups, lam, mu, rho = [], np.empty(mesh.n_cells), np.empty(mesh.n_cells), np.empty(mesh.n_cells)
    used = []
    for i in np.unique(which):
        mat = _resolve_material(problem, int(i))
        idx = np.flatnonzero(which == i)
        groups.append((mat, idx))
        lam[idx], mu[idx], rho[idx] = mat.lam, mat.mu, mat.density
        a = problem.materials[int(i)]
        used.append({"region": a.region, "model": mat.model, "tissue": a.tissue, "youngs_modulus_mpa":
                     mat.youngs_modulus, "poisson_ratio": mat.poisson_ratio, "c10": mat.c10, "c01": mat.c01,
                     "bulk_modulus_mpa": mat.bulk_modulus, "density_tonne_per_mm3": mat.density, "cells": len(idx)})
    bad = geo.detJ <= 0
    if bad.any():
        c = int(np.flatnonzero(bad.any(axis=1))[0])
        raise _Failure(f"invalid mesh: {int(bad.any(axis=1).sum())} element(s) with J <= 0 in the reference "
                       f"configuration (first: cell {c})")
    dirichlet = bcmod.dirichlet(problem.boundary_conditions, mesh)
    used_nodes = np.zeros(mesh.n_points, bool)
    used_nodes[cells.ravel()] = True
    orphan = np.repeat(~used_nodes, 3)
    dirichlet.fixed |= orphan  # nodes outside every cell carry no stiffness: pin them
    faces = bcmod.boundary_faces(cells)
    n = mesh.n_points
    dead = np.zeros(3 * n)
    pressures: list[tuple[NDArray[np.int64], float]] = []
    for i, ld in enumerate(problem.loads):
        what = f"loads[{i}] ({ld.name})"
        if ld.kind == "gravity":
            g = bcmod._vec(ld.value, 3, f"{what}.value")
            if not (rho > 0).any():
                raise InputError(f"{what}: gravity needs a material density > 0 (tonne/mm^3)")
            dead += bcmod.gravity_load(geo.dN_dX, geo.N, geo.dV, cells, rho, g, n)
            continue
        if ld.kind not in ("force", "pressure"):
            raise InputError(f"{what}.kind: unknown kind {ld.kind!r} (expected force, pressure, gravity)")
        if ld.selector is None:
            raise InputError(f"{what}.select is required for a {ld.kind} load")
        sel = bcmod.select_faces(ld.selector, mesh, faces, f"{what}.select")
        if len(sel) == 0:
            raise InputError(f"{what}.select contains no boundary face (all nodes of a face must be selected)")
        if ld.kind == "force":
            dead += bcmod.force_load(mesh.points_lps, sel, bcmod._vec(ld.value, 3, f"{what}.value"))
        else:
            try:
                p = float(ld.value)
            except (TypeError, ValueError):
                raise InputError(f"{what}.value: pressure must be one number (MPa)") from None
            pressures.append((sel, p))
    modulus = max(m.youngs_modulus for m, _ in groups)
    indenters = [build_indenter(c, mesh, faces, modulus, i) for i, c in enumerate(problem.contacts)]
    return _Model(problem, mesh, cells, geo, Assembler(cells, n), groups, lam, mu, rho, dirichlet, dead, pressures,
                  indenters, problem.is_nonlinear, used)


# --------------------------------------------------------------------------- checks
_MODE_NAMES = ("translation x", "translation y", "translation z", "rotation about x", "rotation about y",
               "rotation about z")


def check_constraints(model: _Model) -> None:
    """Raise :class:`_Failure` if a connected part of the mesh can move as a rigid body.

    Contacts are not counted as supports: every part must be held by boundary conditions.
    """
    from scipy.sparse.csgraph import connected_components

    cells = model.cells
    n = model.mesh.n_points
    rows = np.repeat(cells[:, :1], cells.shape[1] - 1, axis=1).ravel()
    graph = sp.coo_matrix((np.ones(len(rows)), (rows, cells[:, 1:].ravel())), shape=(n, n))
    n_comp, labels = connected_components(graph, directed=False)
    used = np.zeros(n, bool)
    used[cells.ravel()] = True
    fixed = model.dirichlet.fixed.reshape(n, 3)
    for c in range(n_comp):
        nodes = np.flatnonzero((labels == c) & used)
        if len(nodes) == 0:
            continue
        pts = model.mesh.points_lps[nodes]
        B = rigid_body_modes(pts).reshape(len(nodes), 3, 6)
        size = float(np.ptp(pts, axis=0).max()) or 1.0
        B[:, :, 3:] /= size
        Bc = B[fixed[nodes]]  # rows of constrained DOFs
        G = Bc.T @ Bc if len(Bc) else np.zeros((6, 6))
        w, v = np.linalg.eigh(G)
        null = w <= 1e-9 * max(1.0, float(len(nodes)))
        if null.any():
            vec = v[:, np.argmin(w)]
            mode = _MODE_NAMES[int(np.argmax(np.abs(vec)))]
            part = f" (part {c + 1} of {n_comp}, {len(nodes)} nodes)" if n_comp > 1 else ""
            raise _Failure(f"singular system: the boundary conditions leave {int(null.sum())} rigid-body "
                           f"motion(s) free{part}, e.g. {mode}; add constraints")


# --------------------------------------------------------------------------- internal forces
def _deformation_gradients(model: _Model, u: FloatArray, idx: NDArray[np.int64]) -> FloatArray:
    ue = u.reshape(-1, 3)[model.cells[idx]]
    return np.eye(3) + np.einsum("mai,mqaJ->mqiJ", ue, model.geo.dN_dX[idx])


def _group_chunks(model: _Model) -> Iterator[tuple[Material, NDArray[np.int64]]]:
    nn = model.cells.shape[1]
    nq = model.geo.dN_dX.shape[1]
    step = max(1, 6_000_000 // (nq * (81 + 9 * nn * nn)))
    for mat, idx in model.groups:
        for s in range(0, len(idx), step):
            yield mat, idx[s:s + step]


def nonlinear_internal(model: _Model, u: FloatArray, tangent: bool) -> tuple[FloatArray, sp.csr_matrix | None]:
    """Internal force ``(3n,)`` and tangent (CSR) of the total-Lagrangian formulation; raises on J <= 0."""
    f, data = internal_blocks(model, u, tangent)
    return f, (model.asm.from_block_data(data) if data is not None else None)


def internal_blocks(model: _Model, u: FloatArray, tangent: bool) -> tuple[FloatArray, FloatArray | None]:
    """Internal force ``(3n,)`` and tangent block values ``(n_blocks, 3, 3)`` (None if not asked)."""
    from biomech import _kernels

    fe_list = []
    data = np.zeros((model.asm.n_blocks, 3, 3)) if tangent else None
    for mat, idx in _group_chunks(model):
        F = _deformation_gradients(model, u, idx)
        J = np.linalg.det(F)
        if (J <= 0).any():
            c = int(idx[np.flatnonzero((J <= 0).any(axis=1))[0]])
            raise _Failure(f"inverted element (J <= 0) in cell {c}")
        m, nq = F.shape[:2]
        G, dV = model.geo.dN_dX[idx], model.geo.dV[idx]
        if data is not None:
            P, A = first_piola_and_tangent(mat, F.reshape(-1, 3, 3))
            A = A.reshape(m, nq, 3, 3, 3, 3)
            if _kernels.AVAILABLE:
                _kernels.tangent_fill(G, dV, A, model.asm.block_map[idx], data)
            else:
                model.asm.block_data([(idx, tangent_element_stiffness(G, dV, A))], data)
        else:
            P = _first_piola_only(mat, F.reshape(-1, 3, 3))
        fe_list.append((idx, internal_force(G, dV, P.reshape(m, nq, 3, 3))))
    return model.asm.vector(fe_list), data


def _first_piola_only(mat: Material, F: FloatArray) -> FloatArray:
    return first_piola(mat, F)


def linear_stiffness(model: _Model) -> sp.csr_matrix:
    """Small-strain stiffness with per-cell Lame parameters (CSR, N/mm)."""
    return model.asm.from_block_data(linear_blocks(model))


def linear_blocks(model: _Model) -> FloatArray:
    """Small-strain stiffness as block values ``(n_blocks, 3, 3)``."""
    from biomech import _kernels

    g = model.geo
    data = np.zeros((model.asm.n_blocks, 3, 3))
    if _kernels.AVAILABLE:
        if model.cells.shape[1] == 4:
            _kernels.p1_linear_fill(np.ascontiguousarray(model.mesh.points_lps), model.cells, model.lam, model.mu,
                                    model.asm.block_map, data)
        else:
            _kernels.linear_fill(g.dN_dX, g.dV, model.lam, model.mu, model.asm.block_map, data)
        return data

    def blocks() -> Iterator[tuple[slice, FloatArray]]:
        for sl in model.asm.chunks():
            yield sl, linear_element_stiffness(g.dN_dX[sl], g.dV[sl], model.lam[sl], model.mu[sl])

    return model.asm.block_data(blocks(), data)


# --------------------------------------------------------------------------- Newton machinery
class _System:
    """Residual ``R(u, t) = f_int(u) - f_ext(u, t) - f_contact(u, t)`` and its tangent as block values."""

    def __init__(self, model: _Model, progress: Progress | None = None) -> None:
        self.model = model
        self.progress = ensure_progress(progress)
        asm = model.asm
        self.K0data = None if model.nonlinear else linear_blocks(model)
        self.K0 = None if self.K0data is None else asm.from_block_data(self.K0data)
        self.pressure_blocks = []
        for faces, _ in model.pressures:
            nf = faces.shape[1]
            self.pressure_blocks.append(asm.block_index(np.repeat(faces, nf, axis=1).ravel(),
                                                        np.tile(faces, (1, nf)).ravel()))
        self.contact_blocks = [asm.block_index(ind.nodes, ind.nodes) for ind in model.indenters]
        self.pardiso = PardisoSession()  # symbolic analysis kept across Newton iterations (same pattern)
        self.monitor = _Monitor(self.progress, model.problem.options.tolerance)

    def reduced(self, symmetric: bool) -> tuple[ReducedPattern, ReducedPattern | None]:
        """Free-DOF CSR gather maps (full, and upper triangle when symmetric), built once."""
        if getattr(self, "_reduced", None) is None:
            free = ~self.model.dirichlet.fixed
            self._reduced = (self.model.asm.reduced(free), self.model.asm.reduced(free, upper=True)
                             if symmetric else None)
        return self._reduced

    def current(self, u: FloatArray) -> FloatArray:
        return self.model.mesh.points_lps + u.reshape(-1, 3)

    def external(self, u: FloatArray, t: float, data: FloatArray | None = None) -> FloatArray:
        """External nodal forces; adds the follower-pressure stiffness into ``data`` if given."""
        m = self.model
        f = t * m.dead_load
        x = self.current(u) if m.nonlinear else m.mesh.points_lps
        for (faces, p), blk in zip(m.pressures, self.pressure_blocks):
            fp, Kp = bcmod.pressure_load(x, faces, t * p, with_tangent=data is not None and m.nonlinear)
            f = f + fp
            if Kp is not None:
                m.asm.add_blocks(data, blk, Kp.reshape(-1, 3, 3))
        return f

    def contact(self, u: FloatArray, t: float, data: FloatArray | None = None) -> FloatArray:
        """Contact forces on the tissue; adds their stiffness into ``data`` if given."""
        f = np.zeros(self.model.n_dofs)
        x = self.current(u)
        for ind, blk in zip(self.model.indenters, self.contact_blocks):
            fc, kc = ind.force_and_tangent(x, t, self.model.mesh.n_points)
            f += fc
            if data is not None:
                data[blk] += kc
        return f

    def internal(self, u: FloatArray, tangent: bool) -> tuple[FloatArray, FloatArray | None]:
        if self.K0 is not None:
            return self.K0 @ u, (self.K0data.copy() if tangent else None)
        return internal_blocks(self.model, u, tangent)

    def residual(self, u: FloatArray, t: float, tangent: bool) -> tuple[FloatArray, FloatArray | None, FloatArray]:
        """``(R, tangent block values or None, external force)``."""
        fi, data = self.internal(u, tangent)
        fe = self.external(u, t, data)
        fc = self.contact(u, t, data)
        return fi - fe - fc, data, fe


QUASI_NEWTON_DOFS: int | None = None
"""Free DOFs from which Newton reuses the PARDISO factors with BFGS updates (FEBio's default, Matthies &
Strang 1979); None: off. A factorization of the 185k-DOF tet10 liver takes 14-30 s, a BFGS iteration ~1 s,
but under 1 g gravity the early residual growth forces reforms: BFGS took 13 iterations with 5
factorizations (144 s) against full Newton's 8 (118 s) on the shared 2-core machine, and stopped at a
relative residual of 7e-7 (round-off acceptance) instead of 7e-10. Not a measured win yet, hence off."""
def _newton(system: _System, u: FloatArray, t: float, stats: _Stats,
            ref: float | None = None) -> tuple[FloatArray, float]:
    """Equilibrium at load fraction ``t`` starting from the converged state ``u``; raises :class:`_Failure`.

    Prescribed displacements are not imposed by overwriting ``u`` (which would squeeze their whole
    increment into the first layer of elements): each iteration solves for the free DOFs with the
    remaining prescribed increment ``dg`` on the right-hand side, ``K_ff du = -R_f - K_fp dg``, and
    updates both (a consistent linear predictor, as FEBio does).

    Convergence (see :class:`~biomech.problem.SolverOptions`): all of the residual test
    ``|R_f| <= tolerance * ref`` (``ref`` = the larger of the first effective right-hand side and the
    external force norm), the displacement test ``|s du| <= displacement_tolerance * |U|`` and the energy
    test ``|s du . R| <= energy_tolerance * |du_0 . R_0|``; or round-off stagnation (displacement test
    holds and the energy ratio is below ``1e3 * eps``). Returns the displacement and ``ref``.

    From :data:`QUASI_NEWTON_DOFS` free DOFs (if set; symmetric tangent, PARDISO) the factors are reused with BFGS
    updates between reformations, as FEBio's default solver does (reformed after 10 updates, on a growing
    residual, an ill-conditioned update or a non-descent direction); the iteration cap is then doubled.
    Every iteration reports progress and checks cancellation; a stagnating step fails early
    (:func:`_check_progress`) so that the load stepping cuts it back.
    """
    m = system.model
    opts = m.problem.options
    fixed = m.dirichlet.fixed
    free = ~fixed
    u = u.copy()
    u_start = u.copy()
    target = t * m.dirichlet.values[fixed]
    near_null = None
    symmetric = not (m.pressures and m.nonlinear)
    full, upper = system.reduced(symmetric)
    ref = None
    e0 = None
    history: list[float] = []  # relative residuals of this call
    # quasi-Newton (BFGS, as FEBio's default solver) when a factorization costs far more than a substitution
    quasi = (QUASI_NEWTON_DOFS is not None and symmetric and int(free.sum()) >= QUASI_NEWTON_DOFS
             and opts.linear_solver in ("auto", "pardiso"))
    updates: list[tuple[FloatArray, FloatArray]] | None = None  # None: reform the tangent next iteration
    max_it = opts.max_iterations * (2 if quasi else 1)
    R, K, fe = system.residual(u, t, tangent=True)
    for it in range(max_it + 1):
        system.progress.raise_if_cancelled()
        rn = float(np.linalg.norm(R[free]))
        if not np.isfinite(rn):
            raise _Failure("residual is not finite")
        dg = np.zeros(m.n_dofs)
        dg[fixed] = target - u[fixed]
        pending = bool(np.any(dg))
        bfgs = quasi and updates is not None and not pending and system.pardiso.factored
        if K is None and not bfgs:
            R, K, fe = system.residual(u, t, tangent=True)
        rhs = -R[free]
        if pending:
            rhs = rhs - (m.asm.from_block_data(K) @ dg)[free]
        if ref is None:
            ref = max(float(np.linalg.norm(rhs)), float(np.linalg.norm(fe[free])), 1e-300)
            stats.residuals.append(rn / ref)
            history.append(rn / ref)
            system.monitor.iteration(0, rn / ref)
            if not pending and (rn <= opts.tolerance * ref or rn == 0.0):
                return u, ref
        if it == max_it:
            break
        if rn > 1e8 * ref:
            raise _Failure(f"Newton diverged (relative residual {rn / ref:.1e})")
        _check_progress(history, it, opts.tolerance)
        if near_null is None:
            near_null = rigid_body_modes(m.mesh.points_lps)[free]
        du = _bfgs_solve(system.pardiso, updates, rhs) if bfgs and updates is not None else None
        if du is not None and not float(du @ rhs) > 0:  # not a descent direction: reform the tangent
            du, updates = None, None
            R, K, fe = system.residual(u, t, tangent=True)
        if du is None:
            try:
                du, info = solve_spd(full.matrix(K), rhs, opts.linear_solver, near_null, symmetric=symmetric,
                                     upper=upper.matrix(K) if upper is not None else None, allow_indefinite=True,
                                     session=system.pardiso)
            except SolverError as exc:
                raise _Failure(f"singular tangent: {exc}") from None
            stats.solver = info.method
            updates = [] if quasi and info.method == "pardiso" else None
        stats.iterations += 1
        d = dg
        d[free] = du
        g0 = float(du @ -rhs)
        if e0 is None:
            e0 = abs(g0)
        s = 1.0
        for ls in range(8):
            system.progress.raise_if_cancelled()
            trial = u + s * d
            if s == 1.0:
                trial[fixed] = target  # exactly, not u + (target - u)
            try:
                R1, _, _ = system.residual(trial, t, tangent=False)
            except _Failure:
                s *= 0.5
                continue
            g1 = float(du @ R1[free])
            if not opts.line_search or g0 == 0 or g1 * g0 > 0 or abs(g1) <= 0.9 * abs(g0) or ls == 7:
                u, R, K = trial, R1, None
                break
            s = min(max(s * g0 / (g0 - g1), 0.1 * s), 0.9 * s)
        else:
            raise _Failure("inverted element (J <= 0) during the Newton update")
        rn_old, rn = rn, float(np.linalg.norm(R[free]))
        stats.residuals.append(rn / ref)
        history.append(rn / ref)
        system.monitor.iteration(it + 1, rn / ref)
        if updates is not None and not pending:  # (a prescribed-increment iteration keeps the factors as they are)
            # a growing residual asks for a fresh tangent, as FEBio's divergence reform
            updates = None if rn > rn_old else _bfgs_update(updates, s * du, rhs, -R[free], s)
        if np.any(u[fixed] != target):
            continue  # the prescribed increment is not fully applied yet (line search cut it)
        energy = abs(s * float(du @ R[free]))
        step_norm = s * float(np.linalg.norm(du))
        d_ok = opts.displacement_tolerance <= 0 or \
            step_norm <= opts.displacement_tolerance * float(np.linalg.norm((u - u_start)[free]))
        e_ok = opts.energy_tolerance <= 0 or energy <= opts.energy_tolerance * e0
        r_ok = rn <= opts.tolerance * ref or rn == 0.0
        if d_ok and e_ok and r_ok:
            return u, ref
        if d_ok and energy <= _STAGNATION * e0:
            stats.warnings.append(f"load fraction {t:.4g}: residual stagnated at {rn / ref:.1e} (round-off floor, "
                                  f"energy norm {energy / e0:.1e} of the first iteration); accepted")
            return u, ref
    raise _Failure(f"no convergence in {max_it} Newton iterations "
                   f"(relative residual {rn / ref:.1e} > {opts.tolerance:.0e})")


def _step_with_contact(system: _System, u: FloatArray, t: float, stats: _Stats) -> FloatArray:
    m = system.model
    u, ref = _newton(system, u, t, stats)
    active = [ind for ind in m.indenters if ind.contact.augmented]
    for _ in range(max([ind.contact.max_augmentations for ind in active], default=0)):
        x = system.current(u)
        pen = [ind.max_penetration(x, t) > ind.gap_tolerance_mm for ind in active]
        if not any(pen):
            return u
        for ind in active:
            ind.augment(x, t)
        u, _ = _newton(system, u, t, stats, ref)
    if active:
        x = system.current(u)
        worst = max(ind.max_penetration(x, t) for ind in active)
        if any(ind.max_penetration(x, t) > ind.gap_tolerance_mm for ind in active):
            stats.warnings.append(f"contact penetration {worst:.2e} mm above tolerance after augmentations")
    return u


def _incremental(model: _Model, stats: _Stats, progress: Progress) -> tuple[FloatArray, float, str | None]:
    """Automatic load stepping (FEBio-like): the nominal increment is ``1 / steps``; a step that fails
    (no convergence, stagnation, inverted elements) is retried from the last converged state with half the
    increment (at most ``max_cutbacks`` times in a row); after a converged step the increment follows the
    iteration count (:func:`_next_increment`), never above the nominal one.

    Returns (u, reached load fraction, failure reason or None).
    """
    system = _System(model, progress)
    monitor = system.monitor
    opts = model.problem.options
    steps = max(1, int(opts.steps))
    dt_max = 1.0 / steps
    dt = dt_max
    t = 0.0
    u = np.zeros(model.n_dofs)
    cutbacks = total_cutbacks = 0
    try:
        while t < 1.0 - 1e-12:
            progress.raise_if_cancelled()
            t_new = min(1.0, t + dt)
            if 1.0 - t_new < 1e-9:
                t_new = 1.0
            n_est = stats.steps + 1 + int(np.ceil((1.0 - t_new) / dt - 1e-9))
            monitor.begin_step(stats.steps + 1, n_est, t, t_new)
            saved = [ind.multipliers_mpa.copy() for ind in model.indenters]
            before = stats.iterations
            try:
                u_new = _step_with_contact(system, u, t_new, stats)
            except _Failure as exc:
                for ind, lam in zip(model.indenters, saved):
                    ind.multipliers_mpa = lam
                cutbacks += 1
                total_cutbacks += 1
                if cutbacks > opts.max_cutbacks:
                    return u, t, f"{exc} at load fraction {t_new:.4g} after {opts.max_cutbacks} cutbacks"
                dt *= 0.5
                monitor.report(0.1 + 0.8 * t, f"step {stats.steps + 1}: {exc}; retrying with load increment "
                               f"{dt:.3g} (cutback {cutbacks}/{opts.max_cutbacks})")
                continue
            u, t = u_new, t_new
            stats.steps += 1
            cutbacks = 0
            dt = _next_increment(dt, stats.iterations - before, dt_max)
            monitor.report(0.1 + 0.8 * t, f"step {stats.steps} converged, load {t:.0%} "
                           f"({stats.iterations - before} Newton iterations)")
        if total_cutbacks:
            stats.warnings.append(f"automatic load stepping: {total_cutbacks} cutback(s), {stats.steps} steps "
                                  f"instead of {steps}")
        return u, t, None
    finally:
        system.pardiso.close()


def _linear(model: _Model, stats: _Stats) -> FloatArray:
    data = linear_blocks(model)
    fixed = model.dirichlet.fixed
    free = ~fixed
    u = np.zeros(model.n_dofs)
    u[fixed] = model.dirichlet.values[fixed]
    f = model.dead_load.copy()
    for faces, p in model.pressures:
        f += bcmod.pressure_load(model.mesh.points_lps, faces, p)[0]
    rhs = (f - model.asm.from_block_data(data) @ u)[free] if u.any() else f[free]
    near_null = rigid_body_modes(model.mesh.points_lps)[free]
    full, upper = model.asm.reduced(free), model.asm.reduced(free, upper=True)
    try:
        uf, info = solve_spd(full.matrix(data), rhs, model.problem.options.linear_solver, near_null,
                             upper=upper.matrix(data))
    except SolverError as exc:
        raise _Failure(f"singular system: {exc}") from None
    u[free] = uf
    stats.solver, stats.steps, stats.iterations = info.method, 1, 0
    return u


# --------------------------------------------------------------------------- public API
def solve(problem: Problem, progress: Progress | None = None) -> Result:
    """Solve a :class:`~biomech.problem.Problem`.

    Returns
    -------
    Result
        ``converged`` False with the reason in ``status`` on non-convergence, inverted elements or a
        singular system (the fields then hold the last converged state, ``load_fraction`` < 1).

    Raises
    ------
    InputError
        The problem is ill-defined (unknown model, empty selection, missing material...).
    """
    progress = ensure_progress(progress)
    t0 = time.perf_counter()
    progress.update(0.0, "preparing")
    stats = _Stats()
    try:
        model = prepare(problem)
    except _Failure as exc:
        return Result.failed(problem.mesh, f"failed: {exc}", time.perf_counter() - t0)
    u = np.zeros(model.n_dofs)
    reached, reason = 0.0, None
    try:
        check_constraints(model)
        progress.update(0.05, "assembling")
        if model.nonlinear or model.indenters:
            u, reached, reason = _incremental(model, stats, progress)
        else:
            u, reached = _linear(model, stats), 1.0
    except _Failure as exc:
        reason = str(exc)
    except Cancelled:
        raise
    progress.update(0.92, "stresses")
    if model.cells.shape[1] == 4 and max(m.poisson_ratio for m, _ in model.groups) >= 0.45:
        stats.warnings.append("tet4 elements lock (are too stiff) for nearly incompressible materials "
                              "(Poisson ratio >= 0.45); use element = \"tet10\" for accurate displacements")
    from biomech.results import build_result

    result = build_result(model, u, stats, reached, reason, time.perf_counter() - t0)
    progress.update(1.0, result.status)
    return result


def run_case(case: dict[str, Any], mesh: TetMesh, progress: Progress | None = None,
             base_dir: str | None = None) -> Result:
    """Build a problem from a case dictionary (``vht simulate`` schema) and an in-memory mesh, and solve it."""
    from biomech.case import problem_from_dict

    return solve(problem_from_dict(case, mesh, base_dir=base_dir), progress=progress)


__all__ = ["Result", "check_constraints", "prepare", "promote_mesh", "run_case", "solve"]
