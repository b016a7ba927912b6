"""Declarative, serializable description of a finite-element problem.

A :class:`Problem` holds a tetrahedral mesh (patient LPS frame, mm) and
everything needed to solve it: materials per region, boundary conditions,
loads, rigid indenters and solver options. It is pure data; solving lives in
:mod:`biomech.solver`, the case-file format in :mod:`biomech.case`.
Units: mm, N, MPa, tonne/mm^3, s.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from twin.errors import InputError
from twin.meshes import TetMesh

MATERIAL_MODELS = ("linear-elastic", "neo-hookean", "mooney-rivlin")
BC_KINDS = ("fixed", "displacement")
LOAD_KINDS = ("force", "pressure", "gravity")
COMPONENTS = ("x", "y", "z")


@dataclass(frozen=True)
class Selector:
    """Picks mesh nodes (LPS mm).

    Parameters
    ----------
    kind : str
        ``"plane"`` (|(p - point) . n| <= tolerance), ``"half_space"`` ((p - point) . n >= -tolerance),
        ``"box"`` (min/max corners, inclusive within tolerance), ``"sphere"`` (|p - center| <= radius +
        tolerance), ``"node_set"`` (nonzero point_data array of the mesh), ``"all"`` (every node),
        ``"surface_spheres"`` (painted boundary faces and their nodes, :mod:`biomech.surface_patch`).
    params : dict
        ``point``/``normal`` (plane, half_space), ``min``/``max`` (box), ``center``/``radius`` (sphere),
        ``name`` (node_set), ``centers``/``radius``/``normals``/``max_angle``/``erase``/``connected``
        (surface_spheres).
    tolerance : float
        Distance tolerance in mm.
    """

    kind: str
    params: dict[str, Any] = field(default_factory=dict)
    tolerance: float = 1e-6


@dataclass(frozen=True)
class MaterialAssignment:
    """A constitutive model on a region (``region=None``: every cell).

    ``youngs_modulus`` and ``poisson_ratio`` (MPa, -) define linear-elastic and neo-Hookean
    (mu = E / (2 (1 + nu)), lambda = E nu / ((1 + nu)(1 - 2 nu))). Mooney-Rivlin (uncoupled, FEBio form)
    uses ``c10``, ``c01`` (MPa) and ``bulk_modulus`` (MPa). ``density`` in tonne/mm^3.
    """

    model: str
    region: int | None = None
    youngs_modulus: float | None = None
    poisson_ratio: float | None = None
    c10: float | None = None
    c01: float | None = None
    bulk_modulus: float | None = None
    density: float = 0.0
    tissue: str | None = None
    name: str = ""


@dataclass(frozen=True)
class BoundaryCondition:
    """Dirichlet condition on selected nodes.

    ``kind="fixed"`` sets the listed ``components`` to zero; ``"displacement"`` prescribes ``value``
    (mm, 3 components; only the listed components are constrained), ramped over the load steps.
    """

    name: str
    kind: str
    selector: Selector
    components: tuple[str, ...] = COMPONENTS
    value: tuple[float, float, float] = (0.0, 0.0, 0.0)


@dataclass(frozen=True)
class Load:
    """External load, ramped over the load steps.

    ``kind="force"``: total force ``value`` (N, 3-vector) spread by area over the boundary faces whose
    nodes are all selected. ``"pressure"``: ``value`` (MPa, scalar, positive pushes inward), a follower
    load in large deformation. ``"gravity"``: acceleration ``value`` (mm/s^2, 3-vector) times density.
    """

    name: str
    kind: str
    value: Any
    selector: Selector | None = None


@dataclass(frozen=True)
class Contact:
    """A rigid frictionless indenter moved by ``displacement_mm`` over the load steps.

    ``shape="sphere"`` with ``center``/``radius`` (mm) or ``"plane"`` with ``point``/``normal`` (normal
    pointing from the rigid half-space towards the tissue). ``selector`` picks candidate boundary nodes.
    ``penalty`` scales the contact stiffness (multiple of E / h); the augmented-Lagrangian loop runs
    until the largest penetration is below ``gap_tolerance_mm``.
    """

    name: str
    shape: str
    params: dict[str, Any]
    displacement_mm: tuple[float, float, float] = (0.0, 0.0, 0.0)
    selector: Selector | None = None
    penalty: float = 10.0
    augmented: bool = True
    gap_tolerance_mm: float | None = None
    max_augmentations: int = 20


@dataclass(frozen=True)
class SolverOptions:
    """Solver settings.

    ``nonlinear=None`` means large deformation unless every material is linear-elastic. ``steps`` load
    steps; ``linear_solver`` one of ``"auto"``, ``"pardiso"``, ``"cholmod"``, ``"amg"``, ``"scipy"``.

    Newton convergence (FEBio's three norms, all of them must hold; a tolerance <= 0 disables its test):
    ``tolerance`` (residual, default 1e-8): ``|R_free| <= tolerance * max(|R_0|, |f_ext|)`` (unsquared
    norms; FEBio's ``rtol`` compares squared norms, i.e. ``rtol = tolerance**2``);
    ``displacement_tolerance`` (FEBio ``dtol``, default 1e-3): ``|s du| <= dtol * |U|`` with ``U`` the
    free-DOF displacement increment of the load step; ``energy_tolerance`` (FEBio ``etol``, default 1e-2):
    ``|s du . R(u + s du)| <= etol * |du_0 . R_0|``. Round-off stagnation: when the displacement and
    energy tests hold and the energy norm is below ``1e3 * eps`` (about 2e-13) times the first
    iteration's, the residual has reached its floor (about eps * cond(K)); the step is accepted with a
    warning instead of being cut back.
    """

    nonlinear: bool | None = None
    steps: int = 1
    tolerance: float = 1e-8
    displacement_tolerance: float = 1e-3
    energy_tolerance: float = 1e-2
    max_iterations: int = 25
    max_cutbacks: int = 6
    line_search: bool = True
    linear_solver: str = "auto"
    element: str = "tet4"


@dataclass(frozen=True, eq=False)
class Problem:
    """A complete finite-element problem on ``mesh`` (already tet10 if ``options.element == "tet10"``)."""

    mesh: TetMesh
    materials: tuple[MaterialAssignment, ...]
    boundary_conditions: tuple[BoundaryCondition, ...] = ()
    loads: tuple[Load, ...] = ()
    contacts: tuple[Contact, ...] = ()
    options: SolverOptions = field(default_factory=SolverOptions)
    name: str = "case"
    case: dict[str, Any] = field(default_factory=dict)

    @property
    def is_nonlinear(self) -> bool:
        """Large deformation (total Lagrangian Newton) or small strain."""
        if self.options.nonlinear is not None:
            return bool(self.options.nonlinear)
        return any(m.model != "linear-elastic" for m in self.materials)


def material_of_cells(materials: list[MaterialAssignment], region: NDArray[np.integer]) -> NDArray[np.int64]:
    """Index into ``materials`` of every cell; region-specific assignments override the catch-all one.

    Parameters
    ----------
    materials : list of MaterialAssignment
        ``region=None`` applies to every cell not claimed by a region-specific entry.
    region : ndarray (n_cells,)
        Region id of every cell.

    Raises
    ------
    InputError
        No material, a region that no cell has, or cells left without a material.
    """
    region = np.asarray(region)
    if not materials:
        raise InputError("materials: at least one material is needed")
    which = np.full(len(region), -1, np.int64)
    for i, a in enumerate(materials):
        if a.region is None:
            which[which < 0] = i
    for i, a in enumerate(materials):
        if a.region is not None:
            sel = region == int(a.region)
            if not sel.any():
                raise InputError(f"materials[{i}].region: no cell has region {a.region} "
                                 f"(regions present: {sorted(set(region.tolist()))})")
            which[sel] = i
    if (which < 0).any():
        missing = sorted(set(region[which < 0].tolist()))
        raise InputError(f"materials: cells of region(s) {missing} have no material")
    return which
