"""Body-centred-cubic (BCC) lattice tetrahedra labelled from region fields.

Frame: patient LPS, millimetres. The lattice is regular in the field grid's own
axes (so oblique image grids are meshed along their axes), with cube size
``h``. Its nodes are the cube corners and the cube centres; every pair of
face-adjacent centres and one edge of their shared face span a tetrahedron
(Labelle & Shewchuk, "Isosurface stuffing", SIGGRAPH 2007, Sec. 3): edges of
length ``h`` and ``sqrt(3)/2 h``, dihedral angles 60 and 90 deg, all cells
congruent, so the mesh is conforming for any number of regions by construction.
Each cell takes the region owning its centroid; thin spikes are then cleaned.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy import sparse
from scipy.sparse import csgraph

from biomech.meshing.fields import RegionFields
from biomech.topology import face_neighbors

BCC_MEAN_EDGE = (2.0 + 4.0 * np.sqrt(3.0) / 2.0) / 6.0
"""Mean edge length of a BCC tetrahedron in units of the cube size ``h``."""


def bcc_lattice(
    n_cubes: tuple[int, int, int], h: float
) -> tuple[NDArray[np.float64], NDArray[np.int64], NDArray[np.int64]]:
    """BCC nodes and tetrahedra on a block of ``n_cubes`` cubes of size ``h`` (local coordinates, mm).

    Returns
    -------
    points : ndarray (n_points, 3)
        Corners first (``(nx+1)(ny+1)(nz+1)``, C order), then cube centres.
    tets : ndarray (n_tets, 4)
        Positively oriented.
    pair_axis : ndarray (n_tets,)
        Axis (0, 1, 2) of the centre-centre edge of each tet (for tests).
    """
    nx, ny, nz = (int(n) for n in n_cubes)
    cg = np.stack(np.meshgrid(np.arange(nx + 1), np.arange(ny + 1), np.arange(nz + 1), indexing="ij"), -1)
    corners = cg.reshape(-1, 3).astype(float) * h
    mg = np.stack(np.meshgrid(np.arange(nx), np.arange(ny), np.arange(nz), indexing="ij"), -1)
    centres = (mg.reshape(-1, 3) + 0.5) * h
    n_corner = len(corners)

    def cid(i: NDArray, j: NDArray, k: NDArray) -> NDArray:
        return (i * (ny + 1) + j) * (nz + 1) + k

    def mid(i: NDArray, j: NDArray, k: NDArray) -> NDArray:
        return n_corner + (i * ny + j) * nz + k

    tets = []
    axes = []
    for axis in range(3):
        lim = np.array([nx, ny, nz])
        lim[axis] -= 1
        if np.any(lim <= 0):
            continue
        g = np.stack(np.meshgrid(*(np.arange(n) for n in lim), indexing="ij"), -1).reshape(-1, 3)
        a = mid(g[:, 0], g[:, 1], g[:, 2])
        gb = g.copy()
        gb[:, axis] += 1
        b = mid(gb[:, 0], gb[:, 1], gb[:, 2])
        u, w = [d for d in range(3) if d != axis]
        quad = []
        for du, dw in ((0, 0), (1, 0), (1, 1), (0, 1)):
            c = g.copy()
            c[:, axis] += 1
            c[:, u] += du
            c[:, w] += dw
            quad.append(cid(c[:, 0], c[:, 1], c[:, 2]))
        for e in range(4):
            tets.append(np.stack([a, b, quad[e], quad[(e + 1) % 4]], axis=1))
            axes.append(np.full(len(a), axis))
    pts = np.vstack([corners, centres])
    t = np.vstack(tets) if tets else np.zeros((0, 4), np.int64)
    d = pts[t[:, 1:]] - pts[t[:, :1]]
    neg = np.einsum("ij,ij->i", d[:, 0], np.cross(d[:, 1], d[:, 2])) < 0
    t[neg] = t[neg][:, [0, 1, 3, 2]]
    return pts, t.astype(np.int64), np.concatenate(axes) if axes else np.zeros(0, np.int64)


def clean_labels(
    cells: NDArray[np.int64], label: NDArray[np.int64], max_iter: int = 20, nb: NDArray[np.int64] | None = None
) -> NDArray[np.int64]:
    """Relabel spikes: a cell with >= 3 faces against other labels takes its neighbours' majority label.

    Missing neighbours count as background (label index 0). Iterates to a fixed point.
    ``nb`` (from :func:`biomech.topology.face_neighbors`) may be passed to save time.
    """
    nb = face_neighbors(cells) if nb is None else nb
    lab = label.copy()
    for _ in range(max_iter):
        nlab = np.where(nb >= 0, lab[np.maximum(nb, 0)], 0)
        differ = nlab != lab[:, None]
        spike = differ.sum(axis=1) >= 3
        if not spike.any():
            break
        cand = nlab[spike]  # (m, 4)
        # majority among the differing neighbours (ties: smallest label), vectorised over the 4 slots
        votes = (cand[:, :, None] == cand[:, None, :]).sum(axis=2).astype(np.int64)
        votes[cand == lab[spike][:, None]] = -1
        score = votes * (int(cand.max()) + 1) - cand
        lab[np.nonzero(spike)[0]] = cand[np.arange(len(cand)), np.argmax(score, axis=1)]
    return lab


def drop_small_components(
    cells: NDArray[np.int64], label: NDArray[np.int64], min_cells: int, nb: NDArray[np.int64] | None = None
) -> NDArray[np.int64]:
    """Relabel face-connected same-label islands with fewer than ``min_cells`` cells to their surroundings.

    Background islands enclosed by a region (tiny voids) are filled the same way.
    """
    nb = face_neighbors(cells) if nb is None else nb
    lab = label.copy()
    i = np.repeat(np.arange(len(cells)), 4)
    j = nb.reshape(-1)
    same = (j >= 0) & (lab[i] == lab[np.maximum(j, 0)])
    adj = sparse.coo_matrix((np.ones(int(same.sum())), (i[same], j[same])), shape=(len(cells),) * 2)
    ncomp, comp = csgraph.connected_components(adj, directed=False)
    size = np.bincount(comp, minlength=ncomp)
    small = size[comp] < min_cells
    if not small.any():
        return lab
    members = np.nonzero(small)[0]
    around = nb[members]  # (m, 4)
    own = comp[members][:, None]
    outside = (around < 0) | (comp[np.maximum(around, 0)] != own)
    around_lab = np.where(around >= 0, lab[np.maximum(around, 0)], 0)
    c_id = np.broadcast_to(own, around.shape)[outside]
    n_lab = int(lab.max()) + 1
    key, cnt = np.unique(c_id * n_lab + around_lab[outside], return_counts=True)
    kc, kl = key // n_lab, key % n_lab
    order = np.lexsort((kl, -cnt, kc))  # per component: most votes first, then smallest label
    kc, kl = kc[order], kl[order]
    first = np.r_[True, kc[1:] != kc[:-1]]
    new_label = np.full(ncomp, -1, np.int64)
    new_label[kc[first]] = kl[first]
    target = new_label[comp[members]]
    ok = target >= 0
    lab[members[ok]] = target[ok]
    return lab


def labelled_lattice(
    fields: RegionFields, h: float, min_component_cells: int = 24
) -> tuple[NDArray[np.float64], NDArray[np.int64], NDArray[np.int64]]:
    """BCC tetrahedra covering the regions of ``fields``, each labelled with its region.

    Parameters
    ----------
    fields : RegionFields
    h : float
        Cube size (mm); mean edge length is ``0.911 h``.
    min_component_cells : int
        Islands (of any region, or enclosed background) smaller than this are merged into their surroundings.

    Returns
    -------
    points_lps : ndarray (n_points, 3)
        Compacted lattice nodes (only those used), LPS mm.
    cells : ndarray (n_cells, 4)
        Positively oriented tetrahedra (non-background only).
    label_index : ndarray (n_cells,)
        Index into ``fields.labels`` (>= 1) of each cell.
    """
    geom = fields.geometry
    fg = np.argmax(fields.fields, axis=0) > 0
    idx = np.argwhere(fg)
    lo_u = (idx.min(axis=0) - 1.0) * geom.spacing - h
    hi_u = (idx.max(axis=0) + 1.0) * geom.spacing + h
    n = np.maximum(1, np.ceil((hi_u - lo_u) / h).astype(int))
    local, tets, _ = bcc_lattice(tuple(n), h)
    u = local + lo_u  # along the grid axes, mm from voxel (0,0,0)
    pts_lps = geom.origin + u @ geom.direction.T
    if np.linalg.det(geom.direction) < 0:  # left-handed image axes (e.g. flipped y): keep cells positive in LPS
        tets = tets[:, [0, 1, 3, 2]]
    node_lab = fields.argmax_label(pts_lps)
    keep = (node_lab[tets] > 0).any(axis=1)
    tets = tets[keep]
    lab = fields.argmax_label(pts_lps[tets].mean(axis=1))
    nb = face_neighbors(tets)
    lab = clean_labels(tets, lab, nb=nb)
    lab = drop_small_components(tets, lab, min_component_cells, nb=nb)
    lab = clean_labels(tets, lab, nb=nb)
    fgc = lab > 0
    tets, lab = tets[fgc], lab[fgc]
    used = np.unique(tets)
    remap = np.full(len(pts_lps), -1, np.int64)
    remap[used] = np.arange(len(used))
    return pts_lps[used], remap[tets], lab
