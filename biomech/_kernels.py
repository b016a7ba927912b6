"""Optional numba kernels for the hot loops of :mod:`biomech.assembly` (pure-numpy fallbacks exist).

Each kernel scatters element blocks straight into the block-sparse data array through the
precomputed ``block_map`` (no element-matrix temporaries). Compiled on first use and cached on disk.
Node coordinates are LPS mm; DOFs are node-major (x, y, z).
"""

from __future__ import annotations

import numpy as np

try:  # numba is optional
    import numba
except ImportError:  # pragma: no cover - exercised only without numba
    numba = None

AVAILABLE = numba is not None


def _p1_linear_fill(points, cells, lam, mu, block_map, data):  # pragma: no cover - compiled
    """Small-strain tet4 stiffness of every cell added into ``data (n_blocks, 3, 3)``."""
    m = cells.shape[0]
    G = np.empty((4, 3))
    for c in range(m):
        p0 = points[cells[c, 0]]
        # Jacobian columns: x1 - x0, x2 - x0, x3 - x0
        J = np.empty((3, 3))
        for k in range(3):
            pk = points[cells[c, k + 1]]
            for i in range(3):
                J[i, k] = pk[i] - p0[i]
        det = (J[0, 0] * (J[1, 1] * J[2, 2] - J[1, 2] * J[2, 1]) - J[0, 1] * (J[1, 0] * J[2, 2] - J[1, 2] * J[2, 0])
               + J[0, 2] * (J[1, 0] * J[2, 1] - J[1, 1] * J[2, 0]))
        # rows of inv(J) are the gradients of the barycentrics 1, 2, 3
        inv = np.empty((3, 3))
        inv[0, 0] = (J[1, 1] * J[2, 2] - J[1, 2] * J[2, 1]) / det
        inv[0, 1] = (J[0, 2] * J[2, 1] - J[0, 1] * J[2, 2]) / det
        inv[0, 2] = (J[0, 1] * J[1, 2] - J[0, 2] * J[1, 1]) / det
        inv[1, 0] = (J[1, 2] * J[2, 0] - J[1, 0] * J[2, 2]) / det
        inv[1, 1] = (J[0, 0] * J[2, 2] - J[0, 2] * J[2, 0]) / det
        inv[1, 2] = (J[0, 2] * J[1, 0] - J[0, 0] * J[1, 2]) / det
        inv[2, 0] = (J[1, 0] * J[2, 1] - J[1, 1] * J[2, 0]) / det
        inv[2, 1] = (J[0, 1] * J[2, 0] - J[0, 0] * J[2, 1]) / det
        inv[2, 2] = (J[0, 0] * J[1, 1] - J[0, 1] * J[1, 0]) / det
        for i in range(3):
            G[1 + 0, i] = inv[0, i]
            G[1 + 1, i] = inv[1, i]
            G[1 + 2, i] = inv[2, i]
            G[0, i] = -(inv[0, i] + inv[1, i] + inv[2, i])
        vol = abs(det) / 6.0
        wl = vol * lam[c]
        wm = vol * mu[c]
        for a in range(4):
            for b in range(4):
                blk = block_map[c, a * 4 + b]
                dot = G[a, 0] * G[b, 0] + G[a, 1] * G[b, 1] + G[a, 2] * G[b, 2]
                for i in range(3):
                    for k in range(3):
                        v = wl * G[a, i] * G[b, k] + wm * G[a, k] * G[b, i]
                        if i == k:
                            v += wm * dot
                        data[blk, i, k] += v


def _linear_fill(G, dV, lam, mu, block_map, data):  # pragma: no cover - compiled
    """Small-strain stiffness from precomputed gradients ``G (m, nq, nn, 3)`` added into ``data``."""
    m, nq, nn, _ = G.shape
    for c in range(m):
        for q in range(nq):
            wl = dV[c, q] * lam[c]
            wm = dV[c, q] * mu[c]
            for a in range(nn):
                for b in range(nn):
                    blk = block_map[c, a * nn + b]
                    dot = G[c, q, a, 0] * G[c, q, b, 0] + G[c, q, a, 1] * G[c, q, b, 1] + G[c, q, a, 2] * G[c, q, b, 2]
                    for i in range(3):
                        for k in range(3):
                            v = wl * G[c, q, a, i] * G[c, q, b, k] + wm * G[c, q, a, k] * G[c, q, b, i]
                            if i == k:
                                v += wm * dot
                            data[blk, i, k] += v


def _tangent_fill(G, dV, A, block_map, data):  # pragma: no cover - compiled
    """Tangent blocks ``K_abik = sum_q dV G_aJ A_iJkL G_bL`` for ``A (m, nq, 3, 3, 3, 3)`` added into ``data``."""
    m, nq, nn, _ = G.shape
    GA = np.empty((nn, 3, 3, 3))
    for c in range(m):
        for q in range(nq):
            w = dV[c, q]
            for a in range(nn):
                for i in range(3):
                    for k in range(3):
                        for L in range(3):
                            s = 0.0
                            for J in range(3):
                                s += G[c, q, a, J] * A[c, q, i, J, k, L]
                            GA[a, i, k, L] = w * s
            for a in range(nn):
                for b in range(nn):
                    blk = block_map[c, a * nn + b]
                    for i in range(3):
                        for k in range(3):
                            data[blk, i, k] += (GA[a, i, k, 0] * G[c, q, b, 0] + GA[a, i, k, 1] * G[c, q, b, 1]
                                                + GA[a, i, k, 2] * G[c, q, b, 2])


def _build_pattern(cells, n_points):  # pragma: no cover - compiled
    """Node-level CSR pattern (sorted columns) and the block position of every (cell, a, b) pair."""
    m, nn = cells.shape
    start = np.zeros(n_points + 1, np.int64)
    for c in range(m):
        for a in range(nn):
            start[cells[c, a] + 1] += 1
    for i in range(n_points):
        start[i + 1] += start[i]
    node_cells = np.empty(start[n_points], np.int64)
    fill = start[:-1].copy()
    for c in range(m):
        for a in range(nn):
            v = cells[c, a]
            node_cells[fill[v]] = c
            fill[v] += 1
    marker = np.full(n_points, -1, np.int64)
    indptr = np.zeros(n_points + 1, np.int64)
    for i in range(n_points):
        k = 0
        for p in range(start[i], start[i + 1]):
            c = node_cells[p]
            for b in range(nn):
                j = cells[c, b]
                if marker[j] != i:
                    marker[j] = i
                    k += 1
        indptr[i + 1] = indptr[i] + k
    indices = np.empty(indptr[n_points], np.int64)
    marker[:] = -1
    for i in range(n_points):
        pos = indptr[i]
        for p in range(start[i], start[i + 1]):
            c = node_cells[p]
            for b in range(nn):
                j = cells[c, b]
                if marker[j] != i:
                    marker[j] = i
                    indices[pos] = j
                    pos += 1
        indices[indptr[i]:indptr[i + 1]] = np.sort(indices[indptr[i]:indptr[i + 1]])
    block_map = np.empty((m, nn * nn), np.int64)
    for c in range(m):
        for a in range(nn):
            i = cells[c, a]
            for b in range(nn):
                j = cells[c, b]
                lo = indptr[i]
                hi = indptr[i + 1] - 1
                while lo < hi:
                    mid = (lo + hi) // 2
                    if indices[mid] < j:
                        lo = mid + 1
                    else:
                        hi = mid
                block_map[c, a * nn + b] = lo
    return indptr, indices, block_map


def _csr_structure(block_indptr, block_cols):  # pragma: no cover - compiled
    """Scalar CSR ``(pos, indices, indptr)`` of a 3x3-block pattern: ``csr.data[pos[9 b + 3 a + c]]`` holds
    block ``b`` entry ``(a, c)``; columns come out sorted."""
    n = block_indptr.shape[0] - 1
    nb = block_cols.shape[0]
    pos = np.empty(9 * nb, np.int64)
    indices = np.empty(9 * nb, np.int32)
    indptr = np.empty(3 * n + 1, np.int64)
    for i in range(n):
        b0 = block_indptr[i]
        d = block_indptr[i + 1] - b0
        for a in range(3):
            start = 9 * b0 + 3 * a * d
            indptr[3 * i + a] = start
            for k in range(d):
                b = b0 + k
                for c in range(3):
                    q = start + 3 * k + c
                    pos[9 * b + 3 * a + c] = q
                    indices[q] = 3 * block_cols[b] + c
    indptr[3 * n] = 9 * nb
    return pos, indices, indptr


if AVAILABLE:
    csr_structure = numba.njit(cache=True, nogil=True)(_csr_structure)
    build_pattern = numba.njit(cache=True, nogil=True)(_build_pattern)
    p1_linear_fill = numba.njit(cache=True, nogil=True, error_model="numpy")(_p1_linear_fill)
    linear_fill = numba.njit(cache=True, nogil=True, error_model="numpy")(_linear_fill)
    tangent_fill = numba.njit(cache=True, nogil=True, error_model="numpy")(_tangent_fill)
else:  # pragma: no cover
    csr_structure = None
    build_pattern = None
    p1_linear_fill = None
    linear_fill = None
    tangent_fill = None
