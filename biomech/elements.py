"""Tetrahedral and triangular Lagrange elements: shape functions, quadrature, geometry.

Reference coordinates (r, s, t) with barycentrics L0 = 1 - r - s - t, L1 = r, L2 = s, L3 = t.
Node order is VTK's: tet4 corners 0-3; tet10 adds the edges 01, 12, 02, 03, 13, 23.
Triangles: tri3 corners; tri6 adds edges 01, 12, 20. Physical coordinates are LPS mm.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from twin.errors import InputError

FloatArray = NDArray[np.float64]

# tet10 edge -> corner pairs (VTK order) and the tet faces, outward for a positively oriented tet
TET10_EDGES = np.array([[0, 1], [1, 2], [0, 2], [0, 3], [1, 3], [2, 3]])
TET_FACES_TRI3 = np.array([[0, 2, 1], [0, 1, 3], [1, 2, 3], [0, 3, 2]])
TET_FACES_TRI6 = np.array([[0, 2, 1, 6, 5, 4], [0, 1, 3, 4, 8, 7], [1, 2, 3, 5, 9, 8], [0, 3, 2, 7, 9, 6]])


def tet_quadrature(degree: int) -> tuple[FloatArray, FloatArray]:
    """Points ``(nq, 3)`` and weights ``(nq,)`` on the reference tet (volume 1/6), exact to ``degree``."""
    if degree <= 1:
        return np.full((1, 3), 0.25), np.array([1.0 / 6.0])
    if degree == 2:
        a, b = 0.5854101966249685, 0.1381966011250105
        pts = np.array([[a, b, b], [b, a, b], [b, b, a], [b, b, b]])
        return pts, np.full(4, 1.0 / 24.0)
    # degree 3 (and used for 4 as well): 11-point Keast rule (one negative weight), exact to degree 4
    a, b = 0.0714285714285714285, 0.785714285714285714
    c, d = 0.399403576166799219, 0.100596423833200785
    pts = [[0.25, 0.25, 0.25], [a, a, a], [b, a, a], [a, b, a], [a, a, b],
           [c, c, d], [c, d, c], [d, c, c], [c, d, d], [d, c, d], [d, d, c]]
    w = [-0.01315555555555556, *([0.007622222222222222] * 4), *([0.02488888888888889] * 6)]
    return np.array(pts), np.array(w)


def tri_quadrature(degree: int) -> tuple[FloatArray, FloatArray]:
    """Points ``(nq, 2)`` and weights ``(nq,)`` on the reference triangle (area 1/2)."""
    if degree <= 1:
        return np.full((1, 2), 1.0 / 3.0), np.array([0.5])
    if degree == 2:
        return np.array([[1 / 6, 1 / 6], [2 / 3, 1 / 6], [1 / 6, 2 / 3]]), np.full(3, 1.0 / 6.0)
    a, wa = 0.445948490915965, 0.223381589678011 / 2
    b, wb = 0.091576213509771, 0.109951743655322 / 2
    pts = np.array([[a, a], [1 - 2 * a, a], [a, 1 - 2 * a], [b, b], [1 - 2 * b, b], [b, 1 - 2 * b]])
    return pts, np.array([wa, wa, wa, wb, wb, wb])


def tet_shape(n_nodes: int, pts: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Shape functions ``(nq, n_nodes)`` and reference gradients ``(nq, n_nodes, 3)`` of tet4/tet10."""
    pts = np.atleast_2d(pts)
    nq = len(pts)
    L = np.column_stack([1.0 - pts.sum(axis=1), pts])  # (nq, 4)
    dL = np.array([[-1.0, -1.0, -1.0], [1.0, 0, 0], [0, 1.0, 0], [0, 0, 1.0]])  # dL_i/d(r,s,t)
    if n_nodes == 4:
        return L, np.broadcast_to(dL, (nq, 4, 3)).copy()
    if n_nodes != 10:
        raise InputError(f"unsupported tetrahedron with {n_nodes} nodes")
    N = np.empty((nq, 10))
    dN = np.empty((nq, 10, 3))
    N[:, :4] = L * (2.0 * L - 1.0)
    dN[:, :4] = (4.0 * L - 1.0)[:, :, None] * dL[None]
    for k, (i, j) in enumerate(TET10_EDGES):
        N[:, 4 + k] = 4.0 * L[:, i] * L[:, j]
        dN[:, 4 + k] = 4.0 * (L[:, i, None] * dL[j] + L[:, j, None] * dL[i])
    return N, dN


def tri_shape(n_nodes: int, pts: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Shape functions ``(nq, n_nodes)`` and reference gradients ``(nq, n_nodes, 2)`` of tri3/tri6."""
    pts = np.atleast_2d(pts)
    nq = len(pts)
    L = np.column_stack([1.0 - pts.sum(axis=1), pts])
    dL = np.array([[-1.0, -1.0], [1.0, 0.0], [0.0, 1.0]])
    if n_nodes == 3:
        return L, np.broadcast_to(dL, (nq, 3, 2)).copy()
    N = np.empty((nq, 6))
    dN = np.empty((nq, 6, 2))
    N[:, :3] = L * (2.0 * L - 1.0)
    dN[:, :3] = (4.0 * L - 1.0)[:, :, None] * dL[None]
    for k, (i, j) in enumerate([(0, 1), (1, 2), (2, 0)]):
        N[:, 3 + k] = 4.0 * L[:, i] * L[:, j]
        dN[:, 3 + k] = 4.0 * (L[:, i, None] * dL[j] + L[:, j, None] * dL[i])
    return N, dN


def default_degree(n_nodes: int) -> int:
    """Quadrature degree for stiffness: 1 for tet4 (exact), 2 for tet10 (exact on straight edges)."""
    return 1 if n_nodes == 4 else 2


@dataclass(frozen=True)
class ElementGeometry:
    """Reference-configuration data at the quadrature points of every cell.

    Attributes
    ----------
    N : (nq, nn)
        Shape functions at the quadrature points.
    dN_dX : (n_cells, nq, nn, 3)
        Shape-function gradients w.r.t. reference coordinates (1/mm).
    dV : (n_cells, nq)
        Jacobian determinant times weight (mm^3); sums to the cell volume.
    detJ : (n_cells, nq)
        Jacobian determinants (6 x volume for tet4).
    """

    N: FloatArray
    dN_dX: FloatArray
    dV: FloatArray
    detJ: FloatArray

    @property
    def n_cells(self) -> int:
        """Number of cells."""
        return self.dN_dX.shape[0]


def element_geometry(points: FloatArray, cells: NDArray[np.int64], degree: int | None = None) -> ElementGeometry:
    """Gradients and integration weights of every cell at the quadrature points.

    Parameters
    ----------
    points : (n_points, 3) float
        Node coordinates (LPS mm), reference configuration.
    cells : (n_cells, 4|10) int
        Connectivity (VTK order).
    degree : int, optional
        Quadrature degree; default :func:`default_degree`.

    Returns
    -------
    ElementGeometry
        ``detJ`` may be <= 0 for inverted/degenerate cells; callers check it.
    """
    nn = cells.shape[1]
    qp, qw = tet_quadrature(default_degree(nn) if degree is None else degree)
    N, dN = tet_shape(nn, qp)
    X = points[cells]  # (m, nn, 3)
    J = np.einsum("mai,qaj->mqij", X, dN)  # dX_i/dxi_j
    detJ = np.linalg.det(J)
    safe = np.where(np.abs(detJ) > 0, detJ, 1.0)
    # inverse via adjugate to keep it vectorized and cheap
    Jinv = np.empty_like(J)
    Jinv[..., 0, 0] = J[..., 1, 1] * J[..., 2, 2] - J[..., 1, 2] * J[..., 2, 1]
    Jinv[..., 0, 1] = J[..., 0, 2] * J[..., 2, 1] - J[..., 0, 1] * J[..., 2, 2]
    Jinv[..., 0, 2] = J[..., 0, 1] * J[..., 1, 2] - J[..., 0, 2] * J[..., 1, 1]
    Jinv[..., 1, 0] = J[..., 1, 2] * J[..., 2, 0] - J[..., 1, 0] * J[..., 2, 2]
    Jinv[..., 1, 1] = J[..., 0, 0] * J[..., 2, 2] - J[..., 0, 2] * J[..., 2, 0]
    Jinv[..., 1, 2] = J[..., 0, 2] * J[..., 1, 0] - J[..., 0, 0] * J[..., 1, 2]
    Jinv[..., 2, 0] = J[..., 1, 0] * J[..., 2, 1] - J[..., 1, 1] * J[..., 2, 0]
    Jinv[..., 2, 1] = J[..., 0, 1] * J[..., 2, 0] - J[..., 0, 0] * J[..., 2, 1]
    Jinv[..., 2, 2] = J[..., 0, 0] * J[..., 1, 1] - J[..., 0, 1] * J[..., 1, 0]
    Jinv /= safe[..., None, None]
    dN_dX = np.einsum("qaj,mqji->mqai", dN, Jinv)
    return ElementGeometry(N=N, dN_dX=dN_dX, dV=detJ * qw[None, :], detJ=detJ)


def reorient_cells(points: FloatArray, cells: NDArray[np.int64]) -> tuple[NDArray[np.int64], int]:
    """Swap nodes 1 and 2 (and the matching edge nodes) of negatively oriented cells.

    Returns the corrected connectivity and how many cells were flipped.
    """
    p = points[cells[:, :4]]
    d = p[:, 1:] - p[:, :1]
    vol = np.einsum("ij,ij->i", d[:, 0], np.cross(d[:, 1], d[:, 2]))
    neg = vol < 0
    if not neg.any():
        return cells, 0
    out = np.array(cells, copy=True)
    perm = [0, 2, 1, 3] if cells.shape[1] == 4 else [0, 2, 1, 3, 6, 5, 4, 7, 9, 8]
    out[neg] = out[neg][:, perm]
    return out, int(neg.sum())
