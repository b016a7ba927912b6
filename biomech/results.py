"""Solution fields and derived quantities of a finite-element solve (LPS mm, N, MPa).

Cell values are quadrature-point values averaged with the integration weights. Stress is Cauchy;
strain is the small-strain tensor (linear solve) or Green-Lagrange (large deformation).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from twin.meshes import TetMesh

if TYPE_CHECKING:
    from biomech.solver import _Model, _Stats

FloatArray = NDArray[np.float64]


def cell_average(values: FloatArray, dV: FloatArray) -> FloatArray:
    """Weighted mean over quadrature points: ``values (m, nq, ...)``, ``dV (m, nq)`` -> ``(m, ...)``."""
    w = dV / dV.sum(axis=1, keepdims=True)
    return np.einsum("mq,mq...->m...", w, values)


def von_mises(sigma: FloatArray) -> FloatArray:
    """Von Mises equivalent stress of ``(..., 3, 3)`` tensors."""
    dev = sigma - np.trace(sigma, axis1=-2, axis2=-1)[..., None, None] * np.eye(3) / 3.0
    return np.sqrt(1.5 * np.einsum("...ij,...ij->...", dev, dev))


def principal(tensors: FloatArray) -> FloatArray:
    """Principal values, descending, ``(..., 3)``."""
    return np.linalg.eigvalsh(0.5 * (tensors + np.swapaxes(tensors, -1, -2)))[..., ::-1]


@dataclass(eq=False)
class Result:
    """Outcome of :func:`biomech.solver.solve`.

    Attributes
    ----------
    mesh : TetMesh
        Mesh the solution lives on (tet10 if the problem promoted it; cells reoriented if needed).
    displacement_mm : (n_points, 3)
    converged : bool
    status : str
        ``"converged"`` or ``"failed: <reason>"``.
    cell_stress_mpa : (n_cells, 3, 3)
        Cauchy stress, cell average.
    strain : (n_cells, 3, 3)
        Small strain (linear) or Green-Lagrange strain (large deformation), cell average.
    reaction_forces : dict name -> (3,)
        Support force on the body of every boundary condition (N).
    contact_forces : dict name -> (3,)
        Total force applied by each indenter to the tissue (N).
    """

    mesh: TetMesh
    displacement_mm: FloatArray
    converged: bool
    status: str
    steps: int = 0
    newton_iterations: int = 0
    reaction_forces: dict[str, FloatArray] = field(default_factory=dict)
    contact_forces: dict[str, FloatArray] = field(default_factory=dict)
    cell_stress_mpa: FloatArray = field(default_factory=lambda: np.zeros((0, 3, 3)))
    strain: FloatArray = field(default_factory=lambda: np.zeros((0, 3, 3)))
    strain_measure: str = "small"
    dofs: int = 0
    elements: int = 0
    wall_seconds: float = 0.0
    solver: str = ""
    load_fraction: float = 0.0
    nonlinear: bool = False
    element: str = "tet4"
    materials: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    residual_history: list[float] = field(default_factory=list)

    @property
    def von_mises_mpa(self) -> FloatArray:
        """Von Mises stress per cell (MPa)."""
        return von_mises(self.cell_stress_mpa)

    @property
    def principal_stress_mpa(self) -> FloatArray:
        """Principal Cauchy stresses per cell, descending, ``(n_cells, 3)`` MPa."""
        return principal(self.cell_stress_mpa)

    @property
    def max_displacement_mm(self) -> float:
        """Largest displacement magnitude (mm)."""
        u = self.displacement_mm
        return float(np.linalg.norm(u, axis=1).max()) if len(u) else 0.0

    @classmethod
    def failed(cls, mesh: TetMesh, status: str, seconds: float) -> Result:
        """A failed result with zero fields."""
        return cls(mesh, np.zeros((mesh.n_points, 3)), False, status, dofs=3 * mesh.n_points,
                   elements=mesh.n_cells, wall_seconds=seconds, cell_stress_mpa=np.zeros((mesh.n_cells, 3, 3)),
                   strain=np.zeros((mesh.n_cells, 3, 3)))

    def to_mesh(self) -> TetMesh:
        """The solution mesh with point_data ``displacement`` (mm) and cell_data ``von_mises`` (MPa),
        ``stress`` (Cauchy, 9 components row-major, MPa), ``strain`` (9 components), ``principal_stress``
        (3, MPa); ``region`` is kept."""
        m = self.mesh
        pdata = dict(m.point_data)
        pdata["displacement"] = np.asarray(self.displacement_mm, np.float64)
        cdata = dict(m.cell_data)
        cdata["von_mises"] = self.von_mises_mpa
        cdata["stress"] = self.cell_stress_mpa.reshape(-1, 9)
        cdata["strain"] = self.strain.reshape(-1, 9)
        cdata["principal_stress"] = self.principal_stress_mpa
        return TetMesh(m.points_lps, m.cells, m.region, dict(m.region_names), pdata, cdata)

    def summary(self) -> dict[str, Any]:
        """JSON-ready summary (keys of the ``vht simulate`` contract plus status details)."""
        vm = self.von_mises_mpa
        return {
            "converged": bool(self.converged),
            "status": self.status,
            "steps": int(self.steps),
            "newton_iterations": int(self.newton_iterations),
            "max_displacement_mm": self.max_displacement_mm,
            "max_von_mises_mpa": float(vm.max()) if len(vm) else 0.0,
            "reaction_forces": {k: [float(x) for x in v] for k, v in self.reaction_forces.items()},
            "contact_forces": {k: [float(x) for x in v] for k, v in self.contact_forces.items()},
            "dofs": int(self.dofs),
            "elements": int(self.elements),
            "element": self.element,
            "nonlinear": bool(self.nonlinear),
            "strain_measure": self.strain_measure,
            "load_fraction": float(self.load_fraction),
            "wall_seconds": float(self.wall_seconds),
            "solver": self.solver,
            "materials": self.materials,
            "warnings": list(self.warnings),
            "frame": "LPS",
            "units": {"length": "mm", "force": "N", "stress": "MPa"},
        }


def cell_fields(model: _Model, u: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Cell-averaged Cauchy stress and strain ``(n_cells, 3, 3)`` for displacement ``u (3n,)``."""
    from biomech.materials import cauchy_from_pk2
    from biomech.solver import _deformation_gradients, _group_chunks

    n = model.mesh.n_cells
    stress = np.zeros((n, 3, 3))
    strain = np.zeros((n, 3, 3))
    for mat, idx in _group_chunks(model):
        F = _deformation_gradients(model, u, idx)
        m, nq = F.shape[:2]
        Ff = F.reshape(-1, 3, 3)
        if model.nonlinear:
            E = 0.5 * (np.einsum("mki,mkj->mij", Ff, Ff) - np.eye(3))
            if (np.linalg.det(Ff) > 0).all():
                S, _ = mat.pk2_and_tangent(Ff)
                sig = cauchy_from_pk2(Ff, S)
            else:
                sig = np.full_like(Ff, np.nan)
        else:
            H = Ff - np.eye(3)
            E = 0.5 * (H + np.swapaxes(H, 1, 2))
            sig = mat.small_strain_stress(E)
        dV = model.geo.dV[idx]
        stress[idx] = cell_average(sig.reshape(m, nq, 3, 3), dV)
        strain[idx] = cell_average(E.reshape(m, nq, 3, 3), dV)
    return stress, strain


def build_result(model: _Model, u: FloatArray, stats: _Stats, reached: float, reason: str | None,
                 seconds: float) -> Result:
    """Assemble a :class:`Result` (reactions, contact forces, stresses) from a displacement vector."""
    from biomech.solver import _System, nonlinear_internal

    problem = model.problem
    converged = reason is None
    n = model.mesh.n_points
    reactions: dict[str, FloatArray] = {bc.name: np.zeros(3) for bc in problem.boundary_conditions}
    contact_forces: dict[str, FloatArray] = {c.name: np.zeros(3) for c in problem.contacts}
    try:
        system = _System(model)
        fi = system.K0 @ u if system.K0 is not None else nonlinear_internal(model, u, False)[0]
        fe = system.external(u, reached)
        x = system.current(u)
        fc = np.zeros(3 * n)
        for ind in model.indenters:
            f_ind, _ = ind.force_and_tangent(x, reached, n)
            fc += f_ind
            contact_forces[ind.contact.name] = f_ind.reshape(-1, 3).sum(axis=0)
        r = fi - fe - fc
        owner = model.dirichlet.owner
        for i, bc in enumerate(problem.boundary_conditions):
            mask = owner == i
            reactions[bc.name] = np.bincount(np.flatnonzero(mask) % 3, weights=r[mask], minlength=3)
        stress, strain = cell_fields(model, u)
    except Exception:  # noqa: BLE001 - post-processing of a failed state must not hide the failure
        if converged:
            raise
        stress = np.full((model.mesh.n_cells, 3, 3), np.nan)
        strain = stress.copy()
    status = "converged" if converged else f"failed: {reason}"
    opts = problem.options
    return Result(
        mesh=model.mesh, displacement_mm=u.reshape(-1, 3).copy(), converged=converged, status=status,
        steps=stats.steps, newton_iterations=stats.iterations, reaction_forces=reactions,
        contact_forces=contact_forces, cell_stress_mpa=stress, strain=strain,
        strain_measure="green-lagrange" if model.nonlinear else "small", dofs=3 * n, elements=model.mesh.n_cells,
        wall_seconds=seconds, solver=stats.solver, load_fraction=reached, nonlinear=model.nonlinear,
        element=opts.element, materials=model.materials_used, warnings=stats.warnings,
        residual_history=stats.residuals,
    )
