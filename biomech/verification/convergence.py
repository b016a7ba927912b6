"""Error norms, observed convergence orders and the Grid Convergence Index.

The L2 displacement error is integrated element by element with a high-order quadrature
(scikit-fem's degree-``intorder`` tetrahedron rule) on the isoparametric geometry of the mesh,
so curved quadratic elements are integrated on their true (mapped) shape. Points in LPS mm.

References
----------
Roache P.J., "Perspective: a method for uniform reporting of grid refinement studies",
J. Fluids Eng. 116 (1994) 405-413; Celik I.B. et al., "Procedure for estimation and reporting of
uncertainty due to discretization in CFD applications", J. Fluids Eng. 130 (2008) 078001.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from twin.meshes import TetMesh

Field = Callable[[NDArray[np.float64]], NDArray[np.float64]]


def _shape_functions(xi: NDArray[np.float64], n_nodes: int) -> tuple[NDArray, NDArray]:
    """Values (q, n) and reference gradients (q, n, 3) of P1/P2 tetra shape functions (VTK order)."""
    x, y, z = xi[:, 0], xi[:, 1], xi[:, 2]
    lam = np.stack([1.0 - x - y - z, x, y, z], axis=1)  # (q, 4)
    dlam = np.array([[-1.0, -1.0, -1.0], [1.0, 0, 0], [0, 1.0, 0], [0, 0, 1.0]])  # (4, 3)
    if n_nodes == 4:
        return lam, np.broadcast_to(dlam, (len(xi), 4, 3)).copy()
    edges = ((0, 1), (1, 2), (0, 2), (0, 3), (1, 3), (2, 3))
    n = np.empty((len(xi), 10))
    dn = np.empty((len(xi), 10, 3))
    for i in range(4):
        n[:, i] = lam[:, i] * (2.0 * lam[:, i] - 1.0)
        dn[:, i] = (4.0 * lam[:, i] - 1.0)[:, None] * dlam[i]
    for k, (a, b) in enumerate(edges):
        n[:, 4 + k] = 4.0 * lam[:, a] * lam[:, b]
        dn[:, 4 + k] = 4.0 * (lam[:, a, None] * dlam[b] + lam[:, b, None] * dlam[a])
    return n, dn


def tet_quadrature(intorder: int) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Points (q, 3) on the reference tetrahedron and weights (q,) summing to 1/6."""
    from skfem.quadrature import get_quadrature
    from skfem.refdom import RefTet

    x, w = get_quadrature(RefTet, intorder)
    return np.asarray(x).T, np.asarray(w)


@dataclass(frozen=True)
class L2Error:
    """``absolute`` = ||u_h - u||_L2 (mm * mm^1.5), ``relative`` = absolute / ||u||_L2, ``volume_mm3``."""

    absolute: float
    relative: float
    volume_mm3: float


def l2_displacement_error(mesh: TetMesh, displacement_mm: NDArray[np.float64], exact: Field,
                          intorder: int = 6, chunk: int = 20000) -> L2Error:
    """L2 norm of ``u_h - u_exact`` over the mesh.

    Parameters
    ----------
    mesh : TetMesh
        4- or 10-node mesh the displacement lives on (10-node: isoparametric geometry).
    displacement_mm : (n_points, 3) float
        Nodal displacement of the FE solution.
    exact : callable
        ``(m, 3) points LPS mm -> (m, 3) displacement mm``.
    intorder : int
        Polynomial degree integrated exactly by the quadrature rule.
    chunk : int
        Cells per vectorised block (bounds memory).
    """
    u_nodes = np.asarray(displacement_mm, dtype=np.float64)
    xi, w = tet_quadrature(intorder)
    n_nodes = mesh.cells.shape[1]
    nvals, dn = _shape_functions(xi, n_nodes)
    err2 = ref2 = vol = 0.0
    for start in range(0, mesh.n_cells, chunk):
        cells = mesh.cells[start:start + chunk]
        xe = mesh.points_lps[cells]  # (c, n, 3)
        ue = u_nodes[cells]
        xq = np.einsum("qn,cnd->cqd", nvals, xe)
        jac = np.einsum("qnj,cnd->cqdj", dn, xe)
        detj = np.abs(np.linalg.det(jac))  # (c, q)
        uh = np.einsum("qn,cnd->cqd", nvals, ue)
        ux = np.asarray(exact(xq.reshape(-1, 3)), dtype=np.float64).reshape(uh.shape)
        wq = detj * w[None, :]
        err2 += float(np.sum(wq * np.sum((uh - ux) ** 2, axis=-1)))
        ref2 += float(np.sum(wq * np.sum(ux**2, axis=-1)))
        vol += float(np.sum(wq))
    absolute = math.sqrt(err2)
    return L2Error(absolute, absolute / math.sqrt(ref2) if ref2 > 0 else math.inf, vol)


def observed_orders(h: Sequence[float], errors: Sequence[float]) -> list[float]:
    """Observed orders ``log(e_i / e_{i+1}) / log(h_i / h_{i+1})`` between successive meshes."""
    return [math.log(errors[i] / errors[i + 1]) / math.log(h[i] / h[i + 1]) for i in range(len(h) - 1)]


@dataclass(frozen=True)
class GCIResult:
    """Richardson extrapolation and Grid Convergence Index of a scalar over three or more grids.

    Attributes
    ----------
    values : list of float
        The scalar on each grid, coarsest first.
    refinement_ratio : float
        ``h_coarse / h_fine`` between successive grids.
    observed_order : float
        ``p = ln|(f3 - f2) / (f2 - f1)| / ln r`` from the three finest grids (f1 finest).
    extrapolated : float
        Richardson extrapolation ``f1 + (f1 - f2) / (r^p - 1)``.
    gci_fine, gci_coarse : float
        ``Fs |(f1 - f2) / f1| / (r^p - 1)`` and ``Fs |(f2 - f3) / f2| / (r^p - 1)`` (fractions).
    asymptotic_ratio : float
        ``gci_coarse / (r^p gci_fine)``; close to 1 in the asymptotic range.
    oscillatory : bool
        The differences change sign (order estimate unreliable).
    safety_factor : float
        ``Fs`` (1.25 for three grids, Roache).
    """

    values: list[float]
    refinement_ratio: float
    observed_order: float
    extrapolated: float
    gci_fine: float
    gci_coarse: float
    asymptotic_ratio: float
    oscillatory: bool
    safety_factor: float

    def summary(self) -> str:
        """One line for reports."""
        return (f"p = {self.observed_order:.2f}, extrapolated {self.extrapolated:.6g}, "
                f"GCI fine {100 * self.gci_fine:.3g}% (asymptotic ratio {self.asymptotic_ratio:.3f}"
                f"{', oscillatory' if self.oscillatory else ''})")

    def to_dict(self) -> dict[str, object]:
        """JSON-serialisable dictionary."""
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def gci_from_values(values: Sequence[float], refinement_ratio: float = 2.0, safety_factor: float = 1.25,
                    assumed_order: float | None = None) -> GCIResult:
    """GCI of a scalar computed on successively refined grids (coarsest first, constant ratio).

    ``assumed_order`` replaces the observed order when it is given or when the observed one is
    undefined (identical values on two grids).
    """
    if len(values) < 3:
        raise ValueError("a grid convergence study needs at least three grids")
    f3, f2, f1 = (float(v) for v in values[-3:])
    r = float(refinement_ratio)
    e21, e32 = f1 - f2, f2 - f3
    oscillatory = e21 * e32 < 0
    if assumed_order is not None:
        p = float(assumed_order)
    elif e21 == 0.0:
        p = math.inf  # already converged on the two finest grids
    elif e32 == 0.0:
        p = -math.inf  # the difference grew from zero: not converging
    else:
        p = math.log(abs(e32 / e21)) / math.log(r)
    if math.isfinite(p) and p > 0:
        denom = r**p - 1.0
        extrapolated = f1 + e21 / denom
        gci_fine = safety_factor * abs(e21 / f1) / denom if f1 != 0 else math.nan
        gci_coarse = safety_factor * abs(e32 / f2) / denom if f2 != 0 else math.nan
        ratio = gci_coarse / (r**p * gci_fine) if gci_fine > 0 else math.nan
    elif p == math.inf:
        extrapolated, gci_fine, gci_coarse, ratio = f1, 0.0, 0.0, math.nan
    else:  # no convergence: no meaningful extrapolation
        extrapolated, gci_fine, gci_coarse, ratio = f1, math.nan, math.nan, math.nan
    return GCIResult([float(v) for v in values], r, p, extrapolated, gci_fine, gci_coarse, ratio, oscillatory,
                     safety_factor)


def mesh_convergence_study(run: Callable[[int], float], refinements: int = 3, refinement_ratio: float = 2.0,
                           safety_factor: float = 1.25) -> GCIResult:
    """Run a per-case scalar on ``refinements`` grids and report order, extrapolation and GCI.

    Parameters
    ----------
    run : callable
        ``run(level) -> value``; level 0 is the coarsest grid, each level refines the mesh size by
        ``refinement_ratio``.
    refinements : int
        Number of grids (>= 3); the GCI uses the three finest.
    refinement_ratio : float
        ``h_level / h_{level+1}``.
    safety_factor : float
        1.25 (Roache, three grids).
    """
    if refinements < 3:
        raise ValueError("refinements must be >= 3")
    values = [float(run(level)) for level in range(refinements)]
    return gci_from_values(values, refinement_ratio, safety_factor)
