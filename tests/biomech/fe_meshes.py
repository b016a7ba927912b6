"""Small structured and irregular tetrahedral meshes for the FE engine tests (LPS mm)."""

from __future__ import annotations

import numpy as np

from twin.meshes import TetMesh

# Kuhn subdivision of the unit cube into 6 tets sharing the diagonal 0-7 (conforming across cubes)
_KUHN = np.array([[0, 1, 3, 7], [0, 1, 5, 7], [0, 2, 3, 7], [0, 2, 6, 7], [0, 4, 5, 7], [0, 4, 6, 7]])


def box_mesh(size=(1.0, 1.0, 1.0), n=(2, 2, 2), origin=(0.0, 0.0, 0.0), jitter: float = 0.0,
             seed: int = 0) -> TetMesh:
    """Box ``size`` (mm) split in ``n`` cubes per axis, 6 tets each; ``jitter`` moves interior nodes
    randomly by up to that fraction of the cell size (an irregular mesh)."""
    nx, ny, nz = n
    xs = [np.linspace(o, o + s, k + 1) for o, s, k in zip(origin, size, n)]
    X, Y, Z = np.meshgrid(*xs, indexing="ij")
    pts = np.column_stack([X.ravel(), Y.ravel(), Z.ravel()])

    def nid(i, j, k):
        return (i * (ny + 1) + j) * (nz + 1) + k

    cells = []
    for i in range(nx):
        for j in range(ny):
            for k in range(nz):
                corner = [nid(i + a, j + b, k + c) for a in (0, 1) for b in (0, 1) for c in (0, 1)]
                # corner index bits: a*4 + b*2 + c -> remap to x=bit0, y=bit1, z=bit2 ordering of _KUHN
                lut = [corner[(bit & 1) * 4 + ((bit >> 1) & 1) * 2 + ((bit >> 2) & 1)] for bit in range(8)]
                cells.extend([[lut[v] for v in t] for t in _KUHN])
    cells = np.array(cells)
    if jitter:
        rng = np.random.default_rng(seed)
        h = np.array(size) / np.array(n)
        lo, hi = np.array(origin), np.array(origin) + np.array(size)
        interior = np.all((pts > lo + 1e-9) & (pts < hi - 1e-9), axis=1)
        pts[interior] += jitter * h * rng.uniform(-1, 1, (int(interior.sum()), 3))
    p = pts[cells]
    d = p[:, 1:] - p[:, :1]
    vol = np.einsum("ij,ij->i", d[:, 0], np.cross(d[:, 1], d[:, 2]))
    cells[vol < 0] = cells[vol < 0][:, [0, 2, 1, 3]]
    return TetMesh(pts, cells)
