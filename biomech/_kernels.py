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


if AVAILABLE:
    p1_linear_fill = numba.njit(cache=True, nogil=True, error_model="numpy")(_p1_linear_fill)
    linear_fill = numba.njit(cache=True, nogil=True, error_model="numpy")(_linear_fill)
    tangent_fill = numba.njit(cache=True, nogil=True, error_model="numpy")(_tangent_fill)
else:  # pragma: no cover
    p1_linear_fill = None
    linear_fill = None
    tangent_fill = None
