"""Structured and irregular tetrahedral meshes for verification (patient LPS frame, mm).

Every mesh is built from a structured hexahedral grid in a parametric cube, each hexahedron
split into six tetrahedra sharing its main diagonal (Kuhn / Freudenthal split, conforming
across the whole grid), then mapped to physical space. Quadratic (tet10) meshes take their
mid-edge nodes at the *parametric* edge midpoints before mapping, so curved boundaries
(cylinder arcs) are represented isoparametrically; affine maps (boxes) give straight tet10.

Node sets (nonzero ``point_data`` arrays, usable by the case-file ``node_set`` selector) are
attached to every mesh: ``xmin``/``xmax``/... for boxes, ``inner``/``outer``/``theta0``/``theta90``/
``zmin``/``zmax`` for the cylinder, and ``boundary`` for every boundary node.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from itertools import permutations

import numpy as np
from numpy.typing import NDArray

from twin.meshes import TetMesh

#: VTK quadratic-tetra edge order (pairs of corner indices).
TET10_EDGES = ((0, 1), (1, 2), (0, 2), (0, 3), (1, 3), (2, 3))

Mapping = Callable[[NDArray[np.float64]], NDArray[np.float64]]


def _kuhn_cells(nx: int, ny: int, nz: int) -> NDArray[np.int64]:
    """Six tetrahedra per hexahedron of an ``nx*ny*nz`` grid; grid node id = i*(ny+1)*(nz+1) + j*(nz+1) + k."""
    i, j, k = np.meshgrid(np.arange(nx), np.arange(ny), np.arange(nz), indexing="ij")
    base = np.stack([i.ravel(), j.ravel(), k.ravel()], axis=1)  # (n_hex, 3)

    def nid(ijk: NDArray[np.int64]) -> NDArray[np.int64]:
        return (ijk[:, 0] * (ny + 1) + ijk[:, 1]) * (nz + 1) + ijk[:, 2]

    eye = np.eye(3, dtype=np.int64)
    cells = []
    for perm in permutations(range(3)):
        v0 = base
        v1 = v0 + eye[perm[0]]
        v2 = v1 + eye[perm[1]]
        v3 = v2 + eye[perm[2]]
        cells.append(np.stack([nid(v0), nid(v1), nid(v2), nid(v3)], axis=1))
    return np.concatenate(cells, axis=0)


def _orient(points: NDArray[np.float64], cells: NDArray[np.int64]) -> NDArray[np.int64]:
    """Swap corners 1 and 2 (and the matching mid-edge nodes) of tetrahedra with negative volume."""
    p = points[cells[:, :4]]
    d = p[:, 1:] - p[:, :1]
    vol = np.einsum("ij,ij->i", d[:, 0], np.cross(d[:, 1], d[:, 2]))
    cells = cells.copy()
    neg = vol < 0
    swap = [0, 2, 1, 3] if cells.shape[1] == 4 else [0, 2, 1, 3, 6, 5, 4, 7, 9, 8]
    cells[neg] = cells[neg][:, swap]
    return cells


def promote_p2(points: NDArray[np.float64], cells: NDArray[np.int64]) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """Add mid-edge nodes (straight edges) to a 4-node mesh.

    Parameters
    ----------
    points : (n, 3) float
    cells : (m, 4) int

    Returns
    -------
    points : (n + n_edges, 3) float
        Original points followed by the edge midpoints.
    cells : (m, 10) int
        VTK quadratic-tetra order (corners, then edges 01, 12, 02, 03, 13, 23).
    """
    edges = np.stack([np.sort(cells[:, list(e)], axis=1) for e in TET10_EDGES], axis=1)  # (m, 6, 2)
    uniq, inv = np.unique(edges.reshape(-1, 2), axis=0, return_inverse=True)
    mid = 0.5 * (points[uniq[:, 0]] + points[uniq[:, 1]])
    new_cells = np.hstack([cells, len(points) + inv.reshape(-1, 6)])
    return np.vstack([points, mid]), new_cells.astype(np.int64)


def mapped_grid_mesh(
    axes: Sequence[NDArray[np.float64]],
    mapping: Mapping | None = None,
    order: int = 1,
    jitter: float = 0.0,
    seed: int = 0,
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.int64]]:
    """Tetrahedralize the tensor grid ``axes`` and map it.

    Parameters
    ----------
    axes : three 1-D arrays
        Increasing parametric coordinates of the grid lines along each axis.
    mapping : callable, optional
        ``(n, 3) parametric -> (n, 3) LPS mm``; identity when omitted.
    order : {1, 2}
        Linear (4-node) or quadratic (10-node) tetrahedra.
    jitter : float
        Random displacement of interior grid nodes, as a fraction of the local spacing along
        each axis (0.3 keeps every element valid); applied before the mid-edge nodes are made.
    seed : int
        Random seed of the jitter (deterministic meshes).

    Returns
    -------
    param : (n, 3) float
        Parametric coordinates of every node.
    points : (n, 3) float
        Mapped coordinates (LPS mm).
    cells : (m, 4 | 10) int
        Positively oriented cells.
    """
    ax = [np.asarray(a, dtype=np.float64) for a in axes]
    nx, ny, nz = (len(a) - 1 for a in ax)
    g = np.stack(np.meshgrid(*ax, indexing="ij"), axis=-1)  # (nx+1, ny+1, nz+1, 3)
    if jitter > 0.0:
        rng = np.random.default_rng(seed)
        for d, a in enumerate(ax):
            h = np.diff(a)
            hloc = np.minimum(np.r_[h[0], h], np.r_[h, h[-1]])  # smallest adjacent spacing per grid line
            shape = [1, 1, 1]
            shape[d] = len(a)
            delta = jitter * hloc.reshape(shape) * rng.uniform(-1.0, 1.0, g.shape[:3])
            interior = np.zeros(g.shape[:3], bool)
            interior[1:-1, 1:-1, 1:-1] = True
            g[..., d] += np.where(interior, delta, 0.0)
    param = g.reshape(-1, 3)
    cells = _kuhn_cells(nx, ny, nz)
    if order == 2:
        param, cells = promote_p2(param, cells)
    elif order != 1:
        raise ValueError(f"order must be 1 or 2, got {order}")
    points = param.copy() if mapping is None else np.asarray(mapping(param), dtype=np.float64)
    cells = _orient(points, cells)
    return param, points, cells


def _node_sets(param: NDArray[np.float64], axes: Sequence[NDArray[np.float64]], names: Sequence[str],
               tol: float = 1e-9) -> dict[str, NDArray[np.int8]]:
    sets: dict[str, NDArray[np.int8]] = {}
    boundary = np.zeros(len(param), bool)
    for d, a in enumerate(axes):
        scale = tol * max(1.0, float(abs(a[-1] - a[0])))
        lo = np.abs(param[:, d] - a[0]) <= scale
        hi = np.abs(param[:, d] - a[-1]) <= scale
        sets[names[2 * d]] = lo.astype(np.int8)
        sets[names[2 * d + 1]] = hi.astype(np.int8)
        boundary |= lo | hi
    sets["boundary"] = boundary.astype(np.int8)
    return sets


def box_mesh(
    lengths_mm: Sequence[float],
    divisions: Sequence[int],
    origin_mm: Sequence[float] = (0.0, 0.0, 0.0),
    order: int = 1,
    jitter: float = 0.0,
    seed: int = 0,
    axes: Sequence[NDArray[np.float64]] | None = None,
) -> TetMesh:
    """A box ``origin + [0, Lx] x [0, Ly] x [0, Lz]`` (LPS mm) of tetrahedra.

    Parameters
    ----------
    lengths_mm : (3,) float
        Edge lengths.
    divisions : (3,) int
        Hexahedra per axis (each split into 6 tetrahedra).
    origin_mm : (3,) float
        Minimum corner.
    order, jitter, seed
        See :func:`mapped_grid_mesh`; ``jitter > 0`` gives an irregular mesh (interior nodes moved).
    axes : three 1-D arrays, optional
        Explicit (e.g. graded) grid-line coordinates relative to ``origin_mm``; overrides ``divisions``.

    Returns
    -------
    TetMesh
        With node sets ``xmin, xmax, ymin, ymax, zmin, zmax, boundary``.
    """
    if axes is None:
        axes = [np.linspace(0.0, float(length), int(n) + 1) for length, n in zip(lengths_mm, divisions, strict=True)]
    o = np.asarray(origin_mm, dtype=np.float64)
    param, points, cells = mapped_grid_mesh(axes, None, order=order, jitter=jitter, seed=seed)
    sets = _node_sets(param, axes, ("xmin", "xmax", "ymin", "ymax", "zmin", "zmax"))
    return TetMesh(points + o, cells, point_data=sets)


def graded_axis(length_mm: float, h_fine_mm: float, fine_length_mm: float, growth: float) -> NDArray[np.float64]:
    """Grid lines on ``[0, length]``: uniform ``h_fine`` up to ``fine_length``, then growing geometrically.

    The last interval is merged so that the axis ends exactly at ``length_mm``.
    """
    xs = list(np.arange(0.0, fine_length_mm + 0.5 * h_fine_mm, h_fine_mm))
    h = h_fine_mm
    while xs[-1] < length_mm:
        h *= growth
        xs.append(xs[-1] + h)
    if len(xs) > 2 and (length_mm - xs[-2]) < 0.5 * h:
        xs.pop(-2)
    xs[-1] = length_mm
    return np.asarray(xs)


def quarter_cylinder_mesh(
    inner_radius_mm: float,
    outer_radius_mm: float,
    height_mm: float,
    n_radial: int,
    n_theta: int,
    n_axial: int = 1,
    order: int = 1,
) -> TetMesh:
    """A quarter (x >= 0, y >= 0) of a thick-walled cylinder along +z (LPS mm).

    Mid-edge nodes of quadratic meshes lie on the true arcs (isoparametric).

    Returns
    -------
    TetMesh
        With node sets ``inner, outer, theta0`` (plane y = 0), ``theta90`` (plane x = 0),
        ``zmin, zmax, boundary``.
    """
    axes = [np.linspace(inner_radius_mm, outer_radius_mm, n_radial + 1),
            np.linspace(0.0, 0.5 * np.pi, n_theta + 1),
            np.linspace(0.0, height_mm, n_axial + 1)]

    def to_xyz(p: NDArray[np.float64]) -> NDArray[np.float64]:
        r, t, z = p[:, 0], p[:, 1], p[:, 2]
        out = np.stack([r * np.cos(t), r * np.sin(t), z], axis=1)
        out[np.abs(t - 0.5 * np.pi) < 1e-12, 0] = 0.0  # exact zeros on the symmetry plane x = 0
        return out

    param, points, cells = mapped_grid_mesh(axes, to_xyz, order=order)
    sets = _node_sets(param, axes, ("inner", "outer", "theta0", "theta90", "zmin", "zmax"))
    return TetMesh(points, cells, point_data=sets)


def _merge_nodes(points: NDArray[np.float64], cells: NDArray[np.int64],
                 decimals: int = 9) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """Merge coincident nodes (after rounding to ``decimals`` relative digits)."""
    scale = float(np.abs(points).max()) or 1.0
    key = np.round(points / scale, decimals)
    _, first, inv = np.unique(key, axis=0, return_index=True, return_inverse=True)
    return points[first], inv.reshape(-1)[cells]


def octant_shell_mesh(inner_radius_mm: float, outer_radius_mm: float, n_surface: int, n_radial: int,
                      order: int = 1) -> TetMesh:
    """The octant x, y, z >= 0 of a thick-walled sphere centred at the origin (LPS mm).

    Three structured blocks (an equi-angular "cube sphere": each block is one face of the cube corner
    projected radially) share faces with the same parametric orientation, so the Kuhn split is
    conforming across blocks; coincident nodes are merged. Quadratic mid-edge nodes lie on the spheres.

    Parameters
    ----------
    n_surface : int
        Divisions of each block along both surface directions (3 n^2 quads per sphere octant).
    n_radial : int
        Divisions through the wall.

    Returns
    -------
    TetMesh
        With node sets ``inner, outer, boundary``; symmetry planes are exactly x = 0, y = 0, z = 0.
    """
    a, b = inner_radius_mm, outer_radius_mm
    sigma = np.linspace(0.0, 1.0, n_surface + 1)
    rho = np.linspace(0.0, 1.0, n_radial + 1)
    blocks_pts, blocks_cells, offset = [], [], 0
    for face in range(3):

        def to_xyz(p: NDArray[np.float64], face: int = face) -> NDArray[np.float64]:
            s, t = np.tan(0.25 * np.pi * p[:, 0]), np.tan(0.25 * np.pi * p[:, 1])
            one = np.ones_like(s)
            cube = [np.stack([one, s, t], 1), np.stack([s, one, t], 1), np.stack([s, t, one], 1)][face]
            r = a + (b - a) * p[:, 2]
            return cube / np.linalg.norm(cube, axis=1, keepdims=True) * r[:, None]

        _, pts, cells = mapped_grid_mesh([sigma, sigma, rho], to_xyz, order=order)
        blocks_pts.append(pts)
        blocks_cells.append(cells + offset)
        offset += len(pts)
    points, cells = _merge_nodes(np.vstack(blocks_pts), np.vstack(blocks_cells))
    points[np.abs(points) < 1e-12 * b] = 0.0
    r = np.linalg.norm(points, axis=1)
    tol = 1e-9 * b
    inner, outer = np.abs(r - a) <= tol, np.abs(r - b) <= tol
    boundary = inner | outer | np.any(points == 0.0, axis=1)
    sets = {"inner": inner.astype(np.int8), "outer": outer.astype(np.int8), "boundary": boundary.astype(np.int8)}
    return TetMesh(points, _orient(points, cells), point_data=sets)


def octant_ball_mesh(core_mm: float, core_divisions: int, outer_radius_mm: float, growth: float = 1.15,
                     order: int = 1) -> TetMesh:
    """The octant x, y, z >= 0 of a ball, finely meshed near the origin and graded outwards (LPS mm).

    A uniform cube core ``[0, core]^3`` (``core_divisions`` per side) is wrapped by three shell blocks
    that blend each core face into the sphere of radius ``outer_radius_mm``; layer thickness grows by
    ``growth`` from the core spacing. Used as a quarter half-space (after flipping z) for indentation.

    Returns
    -------
    TetMesh
        With node sets ``outer`` (the sphere), ``boundary``; symmetry planes are exactly x, y, z = 0.
    """
    n = int(core_divisions)
    h0 = core_mm / n
    n_rad = int(math.ceil(math.log(1.0 + (outer_radius_mm - core_mm) * (growth - 1.0) / h0) / math.log(growth)))
    w = (growth ** np.arange(n_rad + 1) - 1.0) / (growth**n_rad - 1.0)
    sigma = np.linspace(0.0, 1.0, n + 1)
    pts_all, cells_all, offset = [], [], 0
    _, pts, cells = mapped_grid_mesh([sigma * core_mm] * 3, None, order=order)
    pts_all.append(pts)
    cells_all.append(cells)
    offset += len(pts)
    for face in range(3):

        def to_xyz(p: NDArray[np.float64], face: int = face) -> NDArray[np.float64]:
            s, t, wr = p[:, 0], p[:, 1], p[:, 2]
            one = np.ones_like(s)
            cube = [np.stack([one, s, t], 1), np.stack([s, one, t], 1), np.stack([s, t, one], 1)][face]
            sphere = cube / np.linalg.norm(cube, axis=1, keepdims=True) * outer_radius_mm
            return (1.0 - wr)[:, None] * cube * core_mm + wr[:, None] * sphere

        _, pts, cells = mapped_grid_mesh([sigma, sigma, w], to_xyz, order=order)
        pts_all.append(pts)
        cells_all.append(cells + offset)
        offset += len(pts)
    points, cells = _merge_nodes(np.vstack(pts_all), np.vstack(cells_all))
    points[np.abs(points) < 1e-12 * outer_radius_mm] = 0.0
    outer = np.abs(np.linalg.norm(points, axis=1) - outer_radius_mm) <= 1e-9 * outer_radius_mm
    boundary = outer | np.any(points == 0.0, axis=1)
    sets = {"outer": outer.astype(np.int8), "boundary": boundary.astype(np.int8)}
    return TetMesh(points, _orient(points, cells), point_data=sets)
