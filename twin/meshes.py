"""Immutable surface and tetrahedral meshes in the patient LPS frame (mm).

``SurfaceModel`` is a triangle surface (one segment's boundary); ``TetMesh`` a
linear (4-node) or quadratic (10-node, VTK node order) tetrahedral mesh with
an integer ``region`` id per cell. Both carry ``frame = "LPS"``. Conversion to
pyvista / VTK is lazy so that importing :mod:`twin` loads no VTK.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from twin.errors import InputError
from twin.geometry import FRAME

if TYPE_CHECKING:
    import pyvista as pv


def _readonly(a: NDArray[Any]) -> NDArray[Any]:
    a = np.asarray(a)
    if a.flags.writeable:
        a = a.view()
        a.setflags(write=False)
    return a


@dataclass(frozen=True, eq=False)
class SurfaceModel:
    """A triangle surface.

    Parameters
    ----------
    points_lps : ndarray, (n_points, 3), float64
        Vertex positions in LPS mm.
    triangles : ndarray, (n_triangles, 3), int64
        Vertex indices of each triangle, counter-clockwise seen from outside.
    name : str
        Segment name this surface represents.
    color : tuple of float
        Default RGB in [0, 1] (display hint only).
    point_data : dict of str -> ndarray (n_points, ...)
        Per-vertex arrays (e.g. ``"normals"``, ``"distance_mm"``).
    """

    points_lps: NDArray[np.float64]
    triangles: NDArray[np.int64]
    name: str = "surface"
    color: tuple[float, float, float] = (0.8, 0.8, 0.8)
    point_data: dict[str, NDArray[Any]] = field(default_factory=dict)
    frame: str = FRAME

    def __post_init__(self) -> None:
        pts = np.asarray(self.points_lps, dtype=np.float64).reshape(-1, 3)
        tri = np.asarray(self.triangles, dtype=np.int64).reshape(-1, 3)
        if tri.size and (tri.min() < 0 or tri.max() >= len(pts)):
            raise InputError("surface triangles reference missing points")
        if self.frame != FRAME:
            raise InputError(f"surface frame must be {FRAME}, got {self.frame}")
        object.__setattr__(self, "points_lps", _readonly(pts))
        object.__setattr__(self, "triangles", _readonly(tri))

    @property
    def n_points(self) -> int:
        """Number of vertices."""
        return len(self.points_lps)

    @property
    def n_triangles(self) -> int:
        """Number of triangles."""
        return len(self.triangles)

    def area_mm2(self) -> float:
        """Total surface area in mm^2."""
        p = self.points_lps[self.triangles]
        return float(0.5 * np.linalg.norm(np.cross(p[:, 1] - p[:, 0], p[:, 2] - p[:, 0]), axis=1).sum())

    def volume_mm3(self) -> float:
        """Enclosed volume in mm^3 (divergence theorem; meaningful for closed, outward-oriented surfaces)."""
        p = self.points_lps[self.triangles]
        return float(np.einsum("ij,ij->i", p[:, 0], np.cross(p[:, 1], p[:, 2])).sum() / 6.0)

    def edge_use_counts(self) -> NDArray[np.int64]:
        """How many triangles use each undirected edge, ``(n_edges,)``."""
        e = np.sort(self.triangles[:, [0, 1, 1, 2, 2, 0]].reshape(-1, 2), axis=1)
        _, counts = np.unique(e, axis=0, return_counts=True)
        return counts

    def is_watertight(self) -> bool:
        """Closed 2-manifold: every edge is shared by exactly two triangles, consistently oriented."""
        if self.n_triangles == 0:
            return False
        if not np.all(self.edge_use_counts() == 2):
            return False
        directed = self.triangles[:, [0, 1, 1, 2, 2, 0]].reshape(-1, 2)
        _, counts = np.unique(directed, axis=0, return_counts=True)
        return bool(np.all(counts == 1))

    def to_pyvista(self) -> pv.PolyData:
        """Convert to ``pyvista.PolyData`` (copies)."""
        import pyvista as pv

        faces = np.hstack([np.full((self.n_triangles, 1), 3, dtype=np.int64), self.triangles]).ravel()
        poly = pv.PolyData(np.array(self.points_lps), faces)
        for k, v in self.point_data.items():
            poly.point_data[k] = np.asarray(v)
        poly.field_data["frame"] = np.array([FRAME])
        return poly

    @classmethod
    def from_pyvista(cls, poly: Any, name: str = "surface", **kw: Any) -> SurfaceModel:
        """Build from a pyvista/VTK polydata (triangulated first). Points must be LPS mm."""
        import pyvista as pv

        poly = pv.wrap(poly)
        if not poly.is_all_triangles:
            poly = poly.triangulate()
        tri = poly.faces.reshape(-1, 4)[:, 1:] if poly.n_cells else np.zeros((0, 3), np.int64)
        pdata = {k: np.asarray(poly.point_data[k]) for k in poly.point_data.keys() if k in kw.pop("keep_arrays", ())}
        return cls(np.asarray(poly.points, dtype=np.float64), tri, name=name, point_data=pdata, **kw)


TET4 = 4
TET10 = 10


@dataclass(frozen=True, eq=False)
class TetMesh:
    """A tetrahedral volume mesh.

    Parameters
    ----------
    points_lps : ndarray, (n_points, 3), float64
        Node positions in LPS mm.
    cells : ndarray, (n_cells, 4) or (n_cells, 10), int64
        Node indices; 10-node cells use VTK's quadratic-tetra order
        (4 corners, then edges 01, 12, 02, 03, 13, 23).
    region : ndarray, (n_cells,), int32
        Region id of every cell (e.g. 1 = liver, 2 = tumour).
    region_names : dict of int -> str
        Optional names of the regions.
    point_data, cell_data : dict
        Extra arrays (node sets as nonzero point arrays, results).
    """

    points_lps: NDArray[np.float64]
    cells: NDArray[np.int64]
    region: NDArray[np.int32] | None = None
    region_names: dict[int, str] = field(default_factory=dict)
    point_data: dict[str, NDArray[Any]] = field(default_factory=dict)
    cell_data: dict[str, NDArray[Any]] = field(default_factory=dict)
    frame: str = FRAME

    def __post_init__(self) -> None:
        pts = np.asarray(self.points_lps, dtype=np.float64).reshape(-1, 3)
        cells = np.asarray(self.cells, dtype=np.int64)
        if cells.ndim != 2 or cells.shape[1] not in (TET4, TET10):
            raise InputError(f"tetrahedra must have 4 or 10 nodes, got cells of shape {cells.shape}")
        if cells.size and (cells.min() < 0 or cells.max() >= len(pts)):
            raise InputError("tetrahedra reference missing nodes")
        region = np.ones(len(cells), np.int32) if self.region is None else np.asarray(self.region, np.int32)
        if region.shape != (len(cells),):
            raise InputError(f"region must have one id per cell ({len(cells)}), got {region.shape}")
        if self.frame != FRAME:
            raise InputError(f"mesh frame must be {FRAME}, got {self.frame}")
        object.__setattr__(self, "points_lps", _readonly(pts))
        object.__setattr__(self, "cells", _readonly(cells))
        object.__setattr__(self, "region", _readonly(region))

    @property
    def n_points(self) -> int:
        """Number of nodes."""
        return len(self.points_lps)

    @property
    def n_cells(self) -> int:
        """Number of tetrahedra."""
        return len(self.cells)

    @property
    def order(self) -> int:
        """1 for 4-node, 2 for 10-node tetrahedra."""
        return 1 if self.cells.shape[1] == TET4 else 2

    def cell_volumes_mm3(self) -> NDArray[np.float64]:
        """Signed volume of every tetrahedron (corners only), mm^3, ``(n_cells,)``."""
        p = self.points_lps[self.cells[:, :4]]
        d = p[:, 1:] - p[:, :1]
        return np.einsum("ij,ij->i", d[:, 0], np.cross(d[:, 1], d[:, 2])) / 6.0

    def volume_mm3(self) -> float:
        """Total volume in mm^3."""
        return float(np.abs(self.cell_volumes_mm3()).sum())

    def to_pyvista(self) -> pv.UnstructuredGrid:
        """Convert to ``pyvista.UnstructuredGrid`` with cell_data ``region``."""
        import pyvista as pv

        celltype = pv.CellType.TETRA if self.order == 1 else pv.CellType.QUADRATIC_TETRA
        n = self.cells.shape[1]
        conn = np.hstack([np.full((self.n_cells, 1), n, np.int64), self.cells]).ravel()
        grid = pv.UnstructuredGrid(conn, np.full(self.n_cells, celltype, np.uint8), np.array(self.points_lps))
        grid.cell_data["region"] = np.asarray(self.region)
        for k, v in self.point_data.items():
            grid.point_data[k] = np.asarray(v)
        for k, v in self.cell_data.items():
            grid.cell_data[k] = np.asarray(v)
        grid.field_data["frame"] = np.array([FRAME])
        return grid

    @classmethod
    def from_pyvista(cls, grid: Any) -> TetMesh:
        """Build from an unstructured grid holding only (quadratic) tetrahedra."""
        import pyvista as pv

        grid = pv.wrap(grid)
        types = np.unique(np.asarray(grid.celltypes))
        if set(types.tolist()) <= {int(pv.CellType.TETRA)}:
            cells = grid.cells_dict[int(pv.CellType.TETRA)]
        elif set(types.tolist()) <= {int(pv.CellType.QUADRATIC_TETRA)}:
            cells = grid.cells_dict[int(pv.CellType.QUADRATIC_TETRA)]
        else:
            raise InputError(f"mesh must hold only tetrahedra; found VTK cell types {types.tolist()}")
        region = grid.cell_data["region"] if "region" in grid.cell_data else None
        pdata = {k: np.asarray(grid.point_data[k]) for k in grid.point_data.keys()}
        cdata = {k: np.asarray(grid.cell_data[k]) for k in grid.cell_data.keys() if k != "region"}
        return cls(np.asarray(grid.points, np.float64), cells, region, point_data=pdata, cell_data=cdata)
