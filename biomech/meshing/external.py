"""Wrappers of third-party tetrahedral meshers (single region), LPS mm in and out.

* fTetWild via ``pytetwild`` (MPL-2.0; a project dependency): robust to
  self-intersections, holes and non-manifold input (Hu et al., "Fast
  Tetrahedral Meshing in the Wild", ACM TOG 39(4), 2020).
* TetGen via ``tetgen`` (AGPL-3.0; **optional**, not installed by default;
  Si, "TetGen, a Delaunay-based quality tetrahedral mesh generator", ACM TOMS
  41(2), 2015). Requires a clean, closed, non-self-intersecting surface.
  Pitfalls (see shared STACK notes): ``maxvolume`` is ignored unless
  ``fixedvolume=True``, and ``steinerleft`` caps refinement silently.
"""

from __future__ import annotations

import numpy as np

from twin.errors import InputError
from twin.meshes import SurfaceModel, TetMesh
from twin.progress import Progress


def _orient(points: np.ndarray, cells: np.ndarray) -> np.ndarray:
    p = points[cells]
    d = p[:, 1:] - p[:, :1]
    neg = np.einsum("ij,ij->i", d[:, 0], np.cross(d[:, 1], d[:, 2])) < 0
    cells = cells.copy()
    cells[neg] = cells[neg][:, [0, 2, 1, 3]]
    return cells


def ftetwild_mesh(
    surface: SurfaceModel, edge_mm: float, region: int, names: dict[int, str], progress: Progress,
    optimize: bool = True,
) -> TetMesh:
    """Mesh with fTetWild (``pytetwild.tetrahedralize_pv``, absolute ideal edge ``edge_mm``)."""
    import pytetwild

    progress.update(0.05, "fTetWild")
    # fTetWild drops a debug file "__tracked_surface.stl" into the working directory: remove it afterwards
    # (chdir is process-wide, so the GUI's other threads forbid meshing in a temporary working directory)
    from pathlib import Path

    debug_file = Path.cwd() / "__tracked_surface.stl"
    existed = debug_file.exists()
    try:
        grid = pytetwild.tetrahedralize_pv(surface.to_pyvista(), edge_length_abs=float(edge_mm), optimize=optimize,
                                           quiet=True)
    finally:
        if not existed:
            debug_file.unlink(missing_ok=True)
    if grid.n_cells == 0:
        raise InputError(f"fTetWild produced no cells for surface {surface.name!r}")
    mesh = TetMesh.from_pyvista(grid)
    cells = _orient(np.asarray(mesh.points_lps), np.asarray(mesh.cells))
    used = np.unique(cells)
    remap = np.full(mesh.n_points, -1, np.int64)
    remap[used] = np.arange(len(used))
    progress.update(1.0, f"{len(cells)} tetrahedra")
    return TetMesh(np.asarray(mesh.points_lps)[used], remap[cells], np.full(len(cells), region, np.int32), names)


def tetgen_mesh(
    surface: SurfaceModel, max_volume_mm3: float, region: int, names: dict[int, str], progress: Progress
) -> TetMesh:
    """Mesh with TetGen (optional AGPL extra): quality switch ``pq1.5/10`` and a fixed maximum volume."""
    try:
        import tetgen
    except ImportError as exc:
        raise InputError(
            "the TetGen mesher is an optional extra (AGPL-3.0): `pip install tetgen`, or use method='lattice'"
        ) from exc
    progress.update(0.05, "TetGen")
    tg = tetgen.TetGen(np.array(surface.points_lps), np.array(surface.triangles))
    try:
        nodes, elem = tg.tetrahedralize(
            plc=True, quality=True, minratio=1.5, mindihedral=10.0, fixedvolume=True,
            maxvolume=float(max_volume_mm3), steinerleft=-1, verbose=0,
        )[:2]
    except RuntimeError as exc:
        raise InputError(f"TetGen failed on surface {surface.name!r} ({exc}); try method='lattice'") from exc
    cells = _orient(np.asarray(nodes, float), np.asarray(elem, np.int64)[:, :4])
    progress.update(1.0, f"{len(cells)} tetrahedra")
    return TetMesh(np.asarray(nodes, float), cells, np.full(len(cells), region, np.int32), names)
