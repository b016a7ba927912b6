"""Vectorized assembly of element matrices and vectors into global sparse systems.

The sparsity pattern is computed once per mesh at the *node* level (one 3x3 block per node pair),
so the index map is 9x smaller than a DOF-level COO triplet list; each assembly only fills the data
array with ``np.bincount`` and converts the block matrix to CSR. DOFs are node-major:
``dof = 3 * node + component`` (x, y, z of LPS). Element matrices are ``(m, nn, nn, 3, 3)`` indexed
``[cell, a, b, i, k]`` (row node a component i, column node b component k).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
_CHUNK_ENTRIES = 12_000_000  # element-matrix floats per chunk (~100 MB)


class Assembler:
    """Sparsity pattern and scatter maps of one connectivity.

    Parameters
    ----------
    cells : (n_cells, nn) int
        Connectivity.
    n_points : int
        Number of nodes (DOFs = 3 n_points).
    use_numba : bool
        Build the pattern with the compiled kernel when numba is installed (else ``np.unique``).
    """

    def __init__(self, cells: NDArray[np.int64], n_points: int, use_numba: bool = True) -> None:
        cells = np.asarray(cells, dtype=np.int64)
        self.cells = cells
        self.n_points = int(n_points)
        self.nn = cells.shape[1]
        nn = self.nn
        from biomech import _kernels

        if _kernels.AVAILABLE and use_numba:
            indptr, cols, block_map = _kernels.build_pattern(cells, self.n_points)
            rows = np.repeat(np.arange(self.n_points, dtype=np.int64), np.diff(indptr))
            uniq = rows * self.n_points + cols
        else:
            keys = (np.repeat(cells, nn, axis=1) * self.n_points + np.tile(cells, (1, nn))).ravel()
            uniq, block_map = np.unique(keys, return_inverse=True)
            del keys
            rows = uniq // self.n_points
            cols = uniq - rows * self.n_points
        self.block_map = block_map.reshape(len(cells), nn * nn).astype(np.int64 if len(uniq) >= 2**31 else np.int32)
        self.block_keys = uniq  # row_node * n_points + col_node, sorted
        self.block_cols = cols.astype(np.int32)
        self.block_indptr = np.zeros(self.n_points + 1, dtype=np.int64)
        np.cumsum(np.bincount(rows, minlength=self.n_points), out=self.block_indptr[1:])
        self.n_blocks = len(uniq)

    @property
    def n_dofs(self) -> int:
        """Number of degrees of freedom."""
        return 3 * self.n_points

    def chunks(self, chunk_cells: int | None = None) -> Iterator[slice]:
        """Cell slices small enough that their element matrices stay ~100 MB."""
        m = len(self.cells)
        step = chunk_cells or max(1, _CHUNK_ENTRIES // (9 * self.nn * self.nn))
        for s in range(0, m, step):
            yield slice(s, min(m, s + step))

    def matrix(self, element_blocks: Iterable[tuple[slice, FloatArray]]) -> sp.csr_matrix:
        """Sum element matrices into a CSR matrix.

        Parameters
        ----------
        element_blocks : iterable of (slice, (mc, nn, nn, 3, 3) array)
            Element matrices of the cells in each slice (as produced per :meth:`chunks`).
        """
        return self.from_block_data(self.block_data(element_blocks))

    def block_data(self, element_blocks: Iterable[tuple[slice, FloatArray]],
                   data: FloatArray | None = None) -> FloatArray:
        """Sum element matrices into block values ``(n_blocks, 3, 3)`` (added to ``data`` if given)."""
        data = np.zeros((self.n_blocks, 3, 3)) if data is None else data
        for sl, Ke in element_blocks:
            self.add_blocks(data, self.block_map[sl].ravel(), Ke.reshape(-1, 3, 3))
        return data

    def add_blocks(self, data: FloatArray, block_idx: NDArray[np.integer], blocks: FloatArray) -> None:
        """``data[block_idx] += blocks`` with repeated indices summed; ``blocks (k, 3, 3)``."""
        for i in range(3):
            for k in range(3):
                data[:, i, k] += np.bincount(block_idx, weights=blocks[:, i, k], minlength=self.n_blocks)

    def block_index(self, row_nodes: NDArray[np.integer], col_nodes: NDArray[np.integer]) -> NDArray[np.int64]:
        """Pattern positions of node pairs (raises ``KeyError`` if a pair is outside the pattern)."""
        key = np.asarray(row_nodes, np.int64) * self.n_points + np.asarray(col_nodes, np.int64)
        pos = np.minimum(np.searchsorted(self.block_keys, key), self.n_blocks - 1)
        if not np.array_equal(self.block_keys[pos], key):
            raise KeyError("node pair outside the sparsity pattern")
        return pos

    def reduced(self, keep: NDArray[np.bool_], upper: bool = False) -> ReducedPattern:
        """Gather map from block values to the CSR matrix of the kept DOFs (optionally upper triangle)."""
        return ReducedPattern(self, keep, upper)

    def from_block_data(self, data: FloatArray) -> sp.csr_matrix:
        """CSR matrix (sorted indices) from block values ``(n_blocks, 3, 3)`` in pattern order."""
        from biomech import _kernels

        if getattr(self, "_csr_pos", None) is None and _kernels.AVAILABLE:
            self._csr_pos, self._csr_indices, self._csr_indptr = _kernels.csr_structure(self.block_indptr,
                                                                                        self.block_cols)
        if getattr(self, "_csr_pos", None) is None:
            # row 3i+a of node row i (degree d) holds blocks k = 0..d-1, columns 3 j_k + c: already sorted
            deg = np.diff(self.block_indptr)
            brow = np.repeat(np.arange(self.n_points), deg)
            k = np.arange(self.n_blocks) - self.block_indptr[brow]
            a = np.arange(3)
            pos = (9 * self.block_indptr[brow][:, None, None] + a[None, :, None] * 3 * deg[brow][:, None, None]
                   + 3 * k[:, None, None] + a[None, None, :])
            indices = np.empty(9 * self.n_blocks, np.int32)
            indices[pos.ravel()] = np.broadcast_to(3 * self.block_cols[:, None, None] + a[None, None, :],
                                                   pos.shape).ravel()
            indptr = np.empty(self.n_dofs + 1, np.int64)
            indptr[:-1] = (9 * self.block_indptr[:-1, None] + 3 * a[None, :] * deg[:, None]).ravel()
            indptr[-1] = 9 * self.n_blocks
            self._csr_pos, self._csr_indices, self._csr_indptr = pos.ravel(), indices, indptr
        values = np.empty(9 * self.n_blocks)
        values[self._csr_pos] = data.reshape(-1)
        csr = sp.csr_matrix((values, self._csr_indices, self._csr_indptr), shape=(self.n_dofs, self.n_dofs))
        csr.has_sorted_indices = True
        return csr

    def vector(self, element_vectors: Iterable[tuple[slice, FloatArray]]) -> FloatArray:
        """Sum element vectors ``(mc, nn, 3)`` into a global ``(3 n_points,)`` vector."""
        out = np.zeros(self.n_dofs)
        for sl, fe in element_vectors:
            dofs = (3 * self.cells[sl][:, :, None] + np.arange(3)).ravel()
            out += np.bincount(dofs, weights=fe.reshape(-1), minlength=self.n_dofs)
        return out


class ReducedPattern:
    """CSR structure of ``K[keep][:, keep]`` (or its upper triangle) and the gather indices that fill it
    straight from block values, so each Newton iteration skips sparse slicing.

    Parameters
    ----------
    asm : Assembler
    keep : (n_dofs,) bool
        DOFs kept (the free ones).
    upper : bool
        Only entries with column >= row (PARDISO's symmetric storage).
    """

    def __init__(self, asm: Assembler, keep: NDArray[np.bool_], upper: bool = False) -> None:
        nb = asm.n_blocks
        brow = np.repeat(np.arange(asm.n_points), np.diff(asm.block_indptr))
        a = np.arange(3)
        rows = (3 * brow[:, None, None] + a[None, :, None]).repeat(3, axis=2).ravel()
        cols = np.broadcast_to(3 * asm.block_cols.astype(np.int64)[:, None, None] + a[None, None, :],
                               (nb, 3, 3)).ravel()
        sel = keep[rows] & keep[cols]
        if upper:
            sel &= cols >= rows
        flat = np.flatnonzero(sel)
        new = np.cumsum(keep) - 1
        r, c = new[rows[flat]], new[cols[flat]]
        n = int(keep.sum())
        order = np.argsort(r * n + c, kind="stable")
        self.gather = flat[order]
        self.indices = c[order].astype(np.int32)
        self.indptr = np.zeros(n + 1, np.int64)
        np.cumsum(np.bincount(r, minlength=n), out=self.indptr[1:])
        self.shape = (n, n)

    def matrix(self, data: FloatArray) -> sp.csr_matrix:
        """The reduced CSR matrix of block values ``data (n_blocks, 3, 3)``."""
        m = sp.csr_matrix((data.reshape(-1)[self.gather], self.indices, self.indptr), shape=self.shape)
        m.has_sorted_indices = True
        return m


def linear_element_stiffness(G: FloatArray, dV: FloatArray, lam: FloatArray, mu: FloatArray) -> FloatArray:
    """Isotropic small-strain element stiffness.

    Parameters
    ----------
    G : (m, nq, nn, 3)
        Shape-function gradients (1/mm).
    dV : (m, nq)
        Integration weights (mm^3).
    lam, mu : (m,)
        Lame parameters per cell (MPa).

    Returns
    -------
    (m, nn, nn, 3, 3) element matrices (N/mm):
    K_abik = sum_q dV (lam G_ai G_bk + mu G_ak G_bi + mu delta_ik G_a . G_b).
    """
    wl = (dV * lam[:, None])[:, :, None, None] * G
    wm = (dV * mu[:, None])[:, :, None, None] * G
    Ke = np.einsum("mqai,mqbk->mabik", wl, G)
    Ke += np.einsum("mqak,mqbi->mabik", wm, G)
    dot = np.einsum("mqaj,mqbj->mab", wm, G)
    idx = np.arange(3)
    Ke[:, :, :, idx, idx] += dot[..., None]
    return Ke


def tangent_element_stiffness(G: FloatArray, dV: FloatArray, A: FloatArray) -> FloatArray:
    """Element tangent ``K_abik = sum_q dV G_aJ A_iJkL G_bL`` for ``A (m, nq, 3, 3, 3, 3)``."""
    GA = np.einsum("mqaJ,mqiJkL->mqaikL", G * dV[:, :, None, None], A, optimize=True)
    return np.einsum("mqaikL,mqbL->mabik", GA, G, optimize=True)


def internal_force(G: FloatArray, dV: FloatArray, P: FloatArray) -> FloatArray:
    """Element internal forces ``f_ai = sum_q dV P_iJ G_aJ`` for ``P (m, nq, 3, 3)``; returns ``(m, nn, 3)``."""
    return np.einsum("mq,mqiJ,mqaJ->mai", dV, P, G, optimize=True)


def assemble_linear_stiffness(points: FloatArray, cells: NDArray[np.int64], lam: float | FloatArray,
                              mu: float | FloatArray, assembler: Assembler | None = None,
                              use_numba: bool = True) -> sp.csr_matrix:
    """Global small-strain stiffness of a tet4/tet10 mesh (N/mm), ``(3 n_points, 3 n_points)`` CSR.

    ``lam``/``mu`` are scalars or per-cell arrays (MPa). Pass ``assembler`` to reuse a pattern.
    Compiled kernels are used when numba is installed (``use_numba=False``: numpy only).
    """
    from biomech.elements import element_geometry

    cells = np.asarray(cells, dtype=np.int64)
    asm = assembler or Assembler(cells, len(points))
    m = len(cells)
    lam_c = np.broadcast_to(np.asarray(lam, float), (m,))
    mu_c = np.broadcast_to(np.asarray(mu, float), (m,))
    if cells.shape[1] == 4 and use_numba:
        from biomech import _kernels

        if _kernels.AVAILABLE:
            data = np.zeros((asm.n_blocks, 3, 3))
            _kernels.p1_linear_fill(np.ascontiguousarray(points, dtype=float), cells, np.ascontiguousarray(lam_c),
                                    np.ascontiguousarray(mu_c), asm.block_map, data)
            return asm.from_block_data(data)
    if cells.shape[1] == 10 and use_numba:
        from biomech import _kernels

        if _kernels.AVAILABLE:
            data = np.zeros((asm.n_blocks, 3, 3))
            for sl in asm.chunks():
                geo = element_geometry(points, cells[sl])
                _kernels.linear_fill(geo.dN_dX, np.abs(geo.dV), np.ascontiguousarray(lam_c[sl]),
                                     np.ascontiguousarray(mu_c[sl]), asm.block_map[sl], data)
            return asm.from_block_data(data)

    def blocks() -> Iterator[tuple[slice, FloatArray]]:
        for sl in asm.chunks():
            geo = element_geometry(points, cells[sl])
            yield sl, linear_element_stiffness(geo.dN_dX, np.abs(geo.dV), lam_c[sl], mu_c[sl])

    return asm.matrix(blocks())


def rigid_body_modes(points: FloatArray) -> FloatArray:
    """The six rigid-body modes (3 translations, 3 rotations about the centroid), ``(3 n_points, 6)``."""
    n = len(points)
    x = points - points.mean(axis=0)
    B = np.zeros((n, 3, 6))
    for i in range(3):
        B[:, i, i] = 1.0
    # rotations: omega x r
    B[:, 1, 3], B[:, 2, 3] = -x[:, 2], x[:, 1]
    B[:, 0, 4], B[:, 2, 4] = x[:, 2], -x[:, 0]
    B[:, 0, 5], B[:, 1, 5] = -x[:, 1], x[:, 0]
    return B.reshape(3 * n, 6)
