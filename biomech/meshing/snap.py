"""Quality-guarded node relocation for lattice meshes (LPS mm).

* :func:`snap_interfaces` moves every node on a region interface (including the
  outer boundary, i.e. the interface with background) onto the zero set of the
  field differences of the regions around it: one constraint per extra region,
  minimum-norm Gauss-Newton steps, so triple lines and corners are handled too.
* :func:`restore_volumes` shifts region boundaries along their normals so that
  each region's volume matches its target (the voxel count volume).
* :func:`smooth_interior` is a guarded Laplacian smoothing of interior nodes.

Every move goes through :func:`guarded_move`: cells whose quality (mean ratio and scaled Jacobian,
:func:`biomech.quality.mean_ratio`) would drop below ``min(old, floor)`` make
their nodes halve the step, then give it up; inverted cells are impossible.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy import sparse

from biomech.meshing.fields import RegionFields
from biomech.topology import TET_FACES, cell_faces, unique_edges
from twin.progress import Progress, ensure_progress

SJ_PER_MR = 0.75
"""Scaled-Jacobian floor per unit of the mean-ratio floor (floor 0.35 -> scaled Jacobian >= 0.26)."""


def _shape_measures(p: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Guard quality and signed volume of corner arrays ``(m, 4, 3)``.

    The quality is ``min(mean ratio, scaled Jacobian / SJ_PER_MR)``: the mean ratio
    ``6 sqrt2 V / l_rms^3`` catches slivers, the (Verdict) scaled Jacobian catches
    needle/wedge cells with one bad corner, so one floor controls both.
    """
    a, b, c = p[:, 1] - p[:, 0], p[:, 2] - p[:, 0], p[:, 3] - p[:, 0]
    d, e, f = p[:, 2] - p[:, 1], p[:, 3] - p[:, 1], p[:, 3] - p[:, 2]
    sq = [(v * v).sum(axis=1) for v in (a, b, c, d, e, f)]
    l2 = sum(sq) / 6.0
    la, lb, lc, ld, le, lf = (np.sqrt(x) for x in sq)
    corner = np.maximum.reduce([la * lb * lc, la * ld * le, lb * ld * lf, lc * le * lf])
    vol = (a[:, 0] * (b[:, 1] * c[:, 2] - b[:, 2] * c[:, 1]) - a[:, 1] * (b[:, 0] * c[:, 2] - b[:, 2] * c[:, 0])
           + a[:, 2] * (b[:, 0] * c[:, 1] - b[:, 1] * c[:, 0])) / 6.0
    with np.errstate(divide="ignore", invalid="ignore"):
        q = np.nan_to_num(6.0 * np.sqrt(2.0) * vol / l2**1.5)
        sj = np.nan_to_num(6.0 * np.sqrt(2.0) * vol / corner)
    return np.minimum(q, sj / SJ_PER_MR), vol


def guarded_move(
    points: NDArray[np.float64],
    cells: NDArray[np.int64],
    nodes: NDArray[np.int64],
    targets: NDArray[np.float64],
    quality_floor: float,
    halvings: int = 4,
    max_volume: float | None = None,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Move ``nodes`` towards ``targets`` without pushing any cell below ``min(old quality, floor)``.

    With ``max_volume`` (mm^3) a move may also not make a cell larger than ``max(old volume, max_volume)``.
    Cells are re-checked only where a step changed, so repeated calls stay cheap.

    Returns
    -------
    points : ndarray (n_points, 3)
        New positions (a copy).
    alpha : ndarray (len(nodes),)
        Accepted fraction of each step (0 = not moved).
    """
    pts = points.copy()
    alpha = np.ones(len(nodes))
    if len(nodes) == 0:
        return pts, alpha
    old = points[nodes]
    step = targets - old
    pos = np.full(len(points), -1, np.int64)
    pos[nodes] = np.arange(len(nodes))
    moving = np.zeros(len(points), bool)
    moving[nodes] = True
    ac = cells[moving[cells].any(axis=1)]
    q0, v0 = _shape_measures(points[ac])
    limit = np.minimum(q0, quality_floor) - 1e-12
    vlimit = None if max_volume is None else np.maximum(v0, max_volume) * (1 + 1e-9)
    check = np.arange(len(ac))
    it = 0
    while len(check):
        pts[nodes] = old + alpha[:, None] * step
        q, v = _shape_measures(pts[ac[check]])
        bad = q < limit[check]
        if vlimit is not None:
            bad |= v > vlimit[check]
        if not bad.any():
            break
        culprits = pos[np.unique(ac[check[bad]])]
        culprits = culprits[culprits >= 0]
        culprits = culprits[alpha[culprits] > 0]
        if it < halvings:
            alpha[culprits] *= 0.5
        else:
            alpha[culprits] = 0.0
        it += 1
        changed = np.zeros(len(points), bool)
        changed[nodes[culprits]] = True
        check = np.nonzero(changed[ac].any(axis=1))[0]
    pts[nodes] = old + alpha[:, None] * step
    return pts, alpha


def _volumes(points: NDArray[np.float64], cells: NDArray[np.int64]) -> NDArray[np.float64]:
    p = points[cells]
    d = p[:, 1:] - p[:, :1]
    return np.einsum("ij,ij->i", d[:, 0], np.cross(d[:, 1], d[:, 2])) / 6.0


def node_label_sets(
    cells: NDArray[np.int64], cell_label: NDArray[np.int64], n_points: int
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Distinct labels around each node (0 = background for nodes on the outer boundary).

    Returns
    -------
    pairs : ndarray (n_pairs, 2)
        ``(node, label)`` sorted by node then label.
    count : ndarray (n_points,)
        Number of distinct labels per node.
    """
    faces, fid, counts = cell_faces(cells)
    bnodes = np.unique(faces[counts[fid] == 1])
    node = np.concatenate([cells.reshape(-1), bnodes])
    lab = np.concatenate([np.repeat(cell_label, 4), np.zeros(len(bnodes), np.int64)])
    nl = int(lab.max()) + 1 if len(lab) else 1
    key = np.unique(node * nl + lab)
    pairs = np.stack([key // nl, key % nl], axis=1)
    return pairs, np.bincount(pairs[:, 0], minlength=n_points)


def snap_interfaces(
    points: NDArray[np.float64],
    cells: NDArray[np.int64],
    cell_label: NDArray[np.int64],
    fields: RegionFields,
    h: float,
    quality_floor: float = 0.25,
    iterations: int = 6,
    max_volume: float | None = None,
    progress: Progress | None = None,
) -> NDArray[np.float64]:
    """Move interface nodes onto the field interfaces (label indices into ``fields.labels``)."""
    prog = ensure_progress(progress)
    pairs, count = node_label_sets(cells, cell_label, len(points))
    start = np.searchsorted(pairs[:, 0], np.arange(len(points)))
    fd = 0.5 * fields.min_spacing_mm
    pts = points.copy()
    origin = points.copy()
    for it in range(iterations):
        prog.update(it / iterations, f"pass {it + 1}/{iterations}")
        prog.raise_if_cancelled()
        nodes_all, targets_all = [], []
        for m in (2, 3, 4):
            nodes = np.nonzero(count == m)[0]
            if len(nodes) == 0:
                continue
            labs = pairs[start[nodes][:, None] + np.arange(m)[None, :], 1]  # (n, m)
            v, g = fields.values_and_gradients(pts[nodes], fd)
            rows = np.arange(len(nodes))[:, None]
            fv = v[rows, labs]  # (n, m)
            fg = g[rows, labs]  # (n, m, 3)
            res = fv[:, :1] - fv[:, 1:]  # (n, m-1)
            jac = fg[:, :1] - fg[:, 1:]  # (n, m-1, 3)
            step = -np.einsum("nij,nj->ni", np.linalg.pinv(jac), res)
            ln = np.linalg.norm(step, axis=1, keepdims=True)
            step *= np.minimum(1.0, 0.5 * h / np.maximum(ln, 1e-12))
            target = pts[nodes] + step
            drift = target - origin[nodes]
            dl = np.linalg.norm(drift, axis=1, keepdims=True)
            target = origin[nodes] + drift * np.minimum(1.0, 0.9 * h / np.maximum(dl, 1e-12))
            nodes_all.append(nodes)
            targets_all.append(target)
        if not nodes_all:
            break
        pts, _ = guarded_move(
            pts, cells, np.concatenate(nodes_all), np.vstack(targets_all), quality_floor, max_volume=max_volume
        )
    return pts


def region_volumes(points: NDArray[np.float64], cells: NDArray[np.int64], cell_label: NDArray[np.int64],
                   n_labels: int) -> NDArray[np.float64]:
    """Volume (mm^3) per label index, ``(n_labels,)``."""
    p = points[cells]
    d = p[:, 1:] - p[:, :1]
    vol = np.einsum("ij,ij->i", d[:, 0], np.cross(d[:, 1], d[:, 2])) / 6.0
    return np.bincount(cell_label, weights=vol, minlength=n_labels)


def restore_volumes(
    points: NDArray[np.float64],
    cells: NDArray[np.int64],
    cell_label: NDArray[np.int64],
    target_mm3: dict[int, float],
    quality_floor: float = 0.25,
    iterations: int = 8,
    max_volume: float | None = None,
    progress: Progress | None = None,
) -> NDArray[np.float64]:
    """Offset each region's free boundary along its normal to match ``target_mm3`` (label index -> mm^3).

    Regions are processed from the smallest target up; a region moves only boundary
    nodes shared with exactly one other label and not with an already processed region.
    """
    pts = points.copy()
    pairs, count = node_label_sets(cells, cell_label, len(points))
    start = np.searchsorted(pairs[:, 0], np.arange(len(points)))
    done = np.zeros(len(points), bool)
    n_lab = int(cell_label.max()) + 1
    for lab in sorted(target_mm3, key=lambda k: target_mm3[k]):
        sel = cell_label == lab
        faces, fid, counts = cell_faces(cells[sel])
        bf = faces[counts[fid] == 1]
        if len(bf) == 0:
            continue
        nodes = np.unique(bf)
        cand = nodes[(count[nodes] == 2) & ~done[nodes]]
        free = cand[(pairs[start[cand], 1] == lab) | (pairs[start[cand] + 1, 1] == lab)]
        for _ in range(iterations):
            ensure_progress(progress).raise_if_cancelled()
            vol = region_volumes(pts, cells, cell_label, n_lab)[lab]
            a, b, c = pts[bf[:, 0]], pts[bf[:, 1]], pts[bf[:, 2]]
            fn = 0.5 * np.cross(b - a, c - a)
            area = float(np.linalg.norm(fn, axis=1).sum())
            nrm = np.zeros_like(pts)
            for k in range(3):
                np.add.at(nrm, bf[:, k], fn)
            nn = nrm[free] / np.maximum(np.linalg.norm(nrm[free], axis=1, keepdims=True), 1e-12)
            delta = (target_mm3[lab] - vol) / max(area, 1e-12)
            if abs(target_mm3[lab] - vol) <= 1e-4 * target_mm3[lab]:
                break
            pts, _ = guarded_move(pts, cells, free, pts[free] + delta * nn, quality_floor, max_volume=max_volume)
        done[nodes] = True
    return pts


def smooth_interior(
    points: NDArray[np.float64],
    cells: NDArray[np.int64],
    cell_label: NDArray[np.int64],
    iterations: int = 3,
    quality_floor: float = 0.5,
    rings: int = 2,
    max_volume: float | None = None,
) -> NDArray[np.float64]:
    """Guarded Laplacian smoothing of nodes inside a single region near interfaces (interfaces stay put)."""
    _, count = node_label_sets(cells, cell_label, len(points))
    edges, _ = unique_edges(cells)
    n = len(points)
    adj = sparse.coo_matrix((np.ones(2 * len(edges)), (edges.ravel(), edges[:, ::-1].ravel())), shape=(n, n)).tocsr()
    # only nodes within ``rings`` edges of an interface: deeper lattice nodes are already optimal
    near = (count > 1).astype(np.float64)
    for _ in range(rings):
        near = near + adj @ near
    inner = np.nonzero((count == 1) & (near > 0))[0]
    if len(inner) == 0:
        return points
    deg = np.asarray(adj.sum(axis=1)).ravel()
    pts = points.copy()
    for _ in range(iterations):
        avg = (adj @ pts) / deg[:, None]
        pts, _ = guarded_move(pts, cells, inner, 0.5 * (pts[inner] + avg[inner]), quality_floor, max_volume=max_volume)
    return pts


__all__ = ["TET_FACES", "guarded_move", "node_label_sets", "region_volumes", "restore_volumes", "smooth_interior",
           "snap_interfaces"]
