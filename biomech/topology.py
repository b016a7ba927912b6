"""Topology of tetrahedral meshes: faces, edges, boundaries, quadratic promotion.

All geometry is in the patient LPS frame, millimetres (the frame of
:class:`twin.meshes.TetMesh`). Functions are pure and vectorised with numpy.

Local numbering follows VTK: a linear tetrahedron ``(0, 1, 2, 3)`` is
positively oriented when ``(p1 - p0) . ((p2 - p0) x (p3 - p0)) > 0``; a
quadratic tetrahedron appends the midside nodes of edges 01, 12, 02, 03, 13, 23.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from twin.errors import InputError
from twin.meshes import SurfaceModel, TetMesh

TET_EDGES = np.array([[0, 1], [1, 2], [0, 2], [0, 3], [1, 3], [2, 3]], dtype=np.int64)
"""Corner pairs of the six edges, in VTK quadratic-tetra midside order (nodes 4..9)."""

TET_FACES = np.array([[1, 2, 3], [0, 3, 2], [0, 1, 3], [0, 2, 1]], dtype=np.int64)
"""Corner triples of the four faces (face ``i`` is opposite corner ``i``), outward for a positive tet."""

TET10_FACES = np.array(
    [[1, 2, 3, 5, 9, 8], [0, 3, 2, 7, 9, 6], [0, 1, 3, 4, 8, 7], [0, 2, 1, 6, 5, 4]], dtype=np.int64
)
"""Six-node faces (corners, then midsides of edges ab, bc, ca: VTK quadratic-triangle order)."""


def _row_keys(rows: NDArray[np.int64]) -> NDArray[np.int64]:
    """Integer id per row of a ``(n, k)`` int array; equal rows get equal ids (``np.unique`` inverse)."""
    if len(rows) == 0:
        return np.zeros(0, np.int64)
    rows = np.asarray(rows, np.int64)
    base = int(rows.max()) + 1
    if base ** rows.shape[1] < 2**62:  # pack each row into one int64 (fast 1-D unique)
        key = rows[:, 0].copy()
        for c in range(1, rows.shape[1]):
            key = key * base + rows[:, c]
        _, inverse = np.unique(key, return_inverse=True)
    else:
        _, inverse = np.unique(rows, axis=0, return_inverse=True)
    return inverse.reshape(-1).astype(np.int64)


def signed_volumes(points: NDArray[np.float64], cells: NDArray[np.int64]) -> NDArray[np.float64]:
    """Signed volume (mm^3) of tetrahedra given by their first four nodes, ``(n_cells,)``."""
    p = points[cells[:, :4]]
    d = p[:, 1:] - p[:, :1]
    return np.einsum("ij,ij->i", d[:, 0], np.cross(d[:, 1], d[:, 2])) / 6.0


def cell_faces(cells: NDArray[np.int64]) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
    """All cell faces and their identity.

    Parameters
    ----------
    cells : ndarray (n_cells, 4|10)

    Returns
    -------
    faces : ndarray (4 * n_cells, 3)
        Corner triples, cell-major (``faces[4 * c + i]`` is opposite corner ``i`` of cell ``c``).
    face_id : ndarray (4 * n_cells,)
        Same id for the two sides of an interior face.
    counts : ndarray (n_unique,)
        How many cells use each face id (1 = boundary, 2 = interior).
    """
    faces = cells[:, :4][:, TET_FACES].reshape(-1, 3)
    fid = _row_keys(np.sort(faces, axis=1))
    counts = np.bincount(fid) if len(fid) else np.zeros(0, np.int64)
    return faces, fid, counts


def boundary_faces(mesh: TetMesh) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Faces used by exactly one cell, oriented outward.

    Parameters
    ----------
    mesh : TetMesh
        Linear or quadratic mesh (LPS mm).

    Returns
    -------
    faces : ndarray (n_faces, 3) for tet4, (n_faces, 6) for tet10
        Node ids; tet10 faces list corners then the midsides of edges ab, bc, ca
        (VTK quadratic triangle). Counter-clockwise seen from outside.
    cell_ids : ndarray (n_faces,)
        The cell each face belongs to.
    """
    cells = np.asarray(mesh.cells)
    faces, fid, counts = cell_faces(cells)
    on_boundary = counts[fid] == 1
    idx = np.nonzero(on_boundary)[0]
    cell_ids = idx // 4
    local = idx % 4
    table = TET_FACES if mesh.order == 1 else TET10_FACES
    out = cells[cell_ids[:, None], table[local]]
    vol = signed_volumes(np.asarray(mesh.points_lps), cells[cell_ids])
    neg = vol < 0
    if np.any(neg):  # flip orientation of faces of inverted cells so that they still point away from the cell
        out[neg] = out[neg][:, [0, 2, 1, 5, 4, 3]] if out.shape[1] == 6 else out[neg][:, [0, 2, 1]]
    return out, cell_ids


def interface_faces(mesh: TetMesh) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Interior faces whose two cells belong to different regions.

    Returns
    -------
    faces : ndarray (n, 3)
        Corner node ids, oriented outward from ``cell_pairs[:, 0]``.
    cell_pairs : ndarray (n, 2)
        The two cells sharing each face (first has the smaller region id).
    """
    cells = np.asarray(mesh.cells)
    faces, fid, counts = cell_faces(cells)
    inner = np.nonzero(counts[fid] == 2)[0]
    order = np.argsort(fid[inner], kind="stable")
    pairs = inner[order].reshape(-1, 2)
    c = pairs // 4
    reg = np.asarray(mesh.region)
    differ = reg[c[:, 0]] != reg[c[:, 1]]
    pairs, c = pairs[differ], c[differ]
    swap = reg[c[:, 0]] > reg[c[:, 1]]
    pairs[swap] = pairs[swap][:, ::-1]
    c[swap] = c[swap][:, ::-1]
    return faces[pairs[:, 0]], c


def unique_edges(cells: NDArray[np.int64]) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Unique undirected edges of the corner tetrahedra.

    Returns
    -------
    edges : ndarray (n_edges, 2)
        Sorted node pairs.
    cell_edge : ndarray (n_cells, 6)
        Edge id of each local edge (VTK order 01, 12, 02, 03, 13, 23).
    """
    e = np.sort(cells[:, :4][:, TET_EDGES].reshape(-1, 2), axis=1)
    inverse = _row_keys(e)
    edges = np.zeros((int(inverse.max()) + 1 if len(inverse) else 0, 2), np.int64)
    edges[inverse] = e
    return edges, inverse.reshape(len(cells), 6)


def promote_to_tet10(mesh: TetMesh) -> TetMesh:
    """Quadratic (10-node) version of a linear mesh with straight edges.

    Midside nodes are created once per edge and shared between the cells around
    it. Node order is VTK's: 4 corners, then edges 01, 12, 02, 03, 13, 23.
    Corner nodes keep their ids and ``point_data`` (midside values are the mean
    of the two corner values for float arrays, the minimum for others, so node
    sets stay closed under edges).

    Parameters
    ----------
    mesh : TetMesh
        Linear mesh (LPS mm). A quadratic mesh is returned unchanged.
    """
    if mesh.order == 2:
        return mesh
    cells = np.asarray(mesh.cells)
    pts = np.asarray(mesh.points_lps)
    edges, cell_edge = unique_edges(cells)
    mids = 0.5 * (pts[edges[:, 0]] + pts[edges[:, 1]])
    new_cells = np.hstack([cells, cell_edge + len(pts)])
    pdata = {}
    for k, v in mesh.point_data.items():
        v = np.asarray(v)
        a, b = v[edges[:, 0]], v[edges[:, 1]]
        mid = 0.5 * (a + b) if v.dtype.kind == "f" else np.minimum(a, b)
        pdata[k] = np.concatenate([v, mid.astype(v.dtype)])
    return TetMesh(
        np.vstack([pts, mids]),
        new_cells,
        np.asarray(mesh.region),
        dict(mesh.region_names),
        pdata,
        {k: np.asarray(v) for k, v in mesh.cell_data.items()},
    )


def linear_part(mesh: TetMesh) -> TetMesh:
    """The 4-node mesh of the corners of a quadratic mesh (unused nodes dropped)."""
    if mesh.order == 1:
        return mesh
    corners = np.asarray(mesh.cells)[:, :4]
    used = np.unique(corners)
    remap = np.full(mesh.n_points, -1, np.int64)
    remap[used] = np.arange(len(used))
    pdata = {k: np.asarray(v)[used] for k, v in mesh.point_data.items()}
    return TetMesh(
        np.asarray(mesh.points_lps)[used], remap[corners], np.asarray(mesh.region), dict(mesh.region_names), pdata,
        {k: np.asarray(v) for k, v in mesh.cell_data.items()},
    )


def extract_surface(mesh: TetMesh, region: int | None = None, name: str | None = None) -> SurfaceModel:
    """Closed outward triangle surface of the mesh, or of one region.

    Parameters
    ----------
    mesh : TetMesh
        Linear or quadratic mesh (LPS mm); quadratic cells contribute their corner triangles.
    region : int, optional
        Region id; its surface includes faces it shares with other regions.
    name : str, optional
        Surface name (default: the region name, or ``"mesh surface"``).

    Raises
    ------
    InputError
        If the region has no cells.
    """
    sub = linear_part(mesh)
    reg = np.asarray(sub.region)
    cells = np.asarray(sub.cells)
    if region is not None:
        keep = reg == int(region)
        if not np.any(keep):
            raise InputError(f"mesh has no cells in region {region} (regions: {sorted(set(reg.tolist()))})")
        cells = cells[keep]
        reg = reg[keep]
    part = TetMesh(np.asarray(sub.points_lps), cells, reg)
    faces, _ = boundary_faces(part)
    used = np.unique(faces)
    remap = np.full(sub.n_points, -1, np.int64)
    remap[used] = np.arange(len(used))
    if name is None:
        name = mesh.region_names.get(int(region), f"region {region}") if region is not None else "mesh surface"
    return SurfaceModel(np.asarray(sub.points_lps)[used], remap[faces], name=name)


def node_cell_incidence(cells: NDArray[np.int64], n_points: int) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """CSR incidence ``node -> cells`` (``indptr (n_points + 1,)``, ``cell_ids``)."""
    flat = cells[:, :4].reshape(-1)
    order = np.argsort(flat, kind="stable")
    indptr = np.zeros(n_points + 1, np.int64)
    np.cumsum(np.bincount(flat, minlength=n_points), out=indptr[1:])
    return indptr, order // 4


def face_neighbors(cells: NDArray[np.int64]) -> NDArray[np.int64]:
    """Neighbouring cell across each face, ``(n_cells, 4)``; -1 on the boundary (face i opposite corner i)."""
    _, fid, counts = cell_faces(cells)
    nb = np.full(len(fid), -1, np.int64)
    inner = np.nonzero(counts[fid] == 2)[0]
    order = np.argsort(fid[inner], kind="stable")
    pairs = inner[order].reshape(-1, 2)
    nb[pairs[:, 0]] = pairs[:, 1] // 4
    nb[pairs[:, 1]] = pairs[:, 0] // 4
    return nb.reshape(-1, 4)


def cell_components(mesh: TetMesh) -> tuple[int, NDArray[np.int64]]:
    """Face-connected components of the cells (pieces that can move independently).

    Returns
    -------
    n_components : int
    component : ndarray (n_cells,)
        Component index of each cell, 0 = largest.
    """
    from scipy import sparse
    from scipy.sparse import csgraph

    cells = np.asarray(mesh.cells)
    if len(cells) == 0:
        return 0, np.zeros(0, np.int64)
    nb = face_neighbors(cells)
    i = np.repeat(np.arange(len(cells)), 4)
    j = nb.reshape(-1)
    ok = j >= 0
    adj = sparse.coo_matrix((np.ones(int(ok.sum())), (i[ok], j[ok])), shape=(len(cells),) * 2)
    n, comp = csgraph.connected_components(adj, directed=False)
    order = np.argsort(-np.bincount(comp, minlength=n), kind="stable")
    rank = np.empty(n, np.int64)
    rank[order] = np.arange(n)
    return int(n), rank[comp]
