"""Surface painting benchmark (simulation panel brush): our time / raw-library time, in the same run.

    VTK_DEFAULT_OPENGL_WINDOW=vtkEGLRenderWindow python benchmarks/bench_surface_paint.py

Stages, on a 100 x 100 x 100 mm box split in 40^3 cubes (384k tets, 19k boundary triangles) and a
119k-triangle sphere for picking (LPS mm):

* boundary faces of the tet mesh: ``biomech.bcs.boundary_faces`` vs ``np.unique(axis=0)`` on sorted faces;
* one brush dab (5 mm, normal cone, surface connectivity): ``SurfacePainter.apply`` vs the bare
  ``cKDTree.query_ball_point`` it starts from;
* replaying a 200-dab ``surface_spheres`` selector (what ``vht simulate`` does) vs 200 bare queries;
* picking a pixel: ``MeshRayPicker.pick`` (static cell locator) vs VTK's ``vtkCellPicker`` on the
  rendered scene (what ``View3D.pick`` does).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _median(fn, repeat: int = 5) -> float:
    ts = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t)
    return float(np.median(ts))


def main() -> None:
    from biomech import bcs
    from biomech.elements import TET_FACES_TRI3, reorient_cells
    from biomech.surface_patch import Dab, SurfacePainter, painted_faces, params_from_dabs
    from tests.biomech.fe_meshes import box_mesh

    mesh = box_mesh((100, 100, 100), (40, 40, 40))
    cells, _ = reorient_cells(mesh.points_lps, mesh.cells)
    ours = _median(lambda: bcs.boundary_faces(cells), 3)

    def raw_unique() -> None:
        faces = cells[:, TET_FACES_TRI3].reshape(-1, 3)
        _, inv, counts = np.unique(np.sort(faces, axis=1), axis=0, return_inverse=True, return_counts=True)
        faces[counts[inv.ravel()] == 1]

    raw = _median(raw_unique, 3)
    print(f"boundary faces, {mesh.n_cells} tets: ours {ours * 1e3:.0f} ms, np.unique(axis=0) {raw * 1e3:.0f} ms, "
          f"ratio {ours / raw:.2f}")

    faces = bcs.boundary_faces(cells)
    rng = np.random.default_rng(0)
    centers = np.column_stack([rng.uniform(10, 90, 200), rng.uniform(10, 90, 200), np.full(200, 100.0)])
    dabs = [Dab(tuple(c), 5.0, (0.0, 0.0, 1.0)) for c in centers]
    painter = SurfacePainter(mesh.points_lps, faces)
    painter.apply(dabs[0])  # warm-up (imports)
    k = iter(range(10**9))
    ours = _median(lambda: painter.apply(dabs[next(k) % 200]), 50)
    raw = _median(lambda: painter._tree.query_ball_point(centers[next(k) % 200], 5.0), 50)
    print(f"one 5 mm dab on {len(faces)} boundary faces: ours {ours * 1e3:.2f} ms, bare KD-tree query "
          f"{raw * 1e3:.3f} ms, ratio {ours / raw:.1f}")
    params = params_from_dabs(dabs)
    ours = _median(lambda: painted_faces(mesh.points_lps, faces, params), 3)
    from scipy.spatial import cKDTree

    def raw_replay() -> None:
        tree = cKDTree(painter.centroids)
        for c in centers:
            tree.query_ball_point(c, 5.0)

    raw = _median(raw_replay, 3)
    print(f"replay 200 dabs (selector): ours {ours * 1e3:.1f} ms, KD-tree build + 200 queries {raw * 1e3:.1f} ms, "
          f"ratio {ours / raw:.1f}")

    import pyvista as pv
    from vtkmodules.vtkRenderingCore import vtkCellPicker

    from app.gui.tools.surface_paint import MeshRayPicker

    sphere = pv.Sphere(radius=50.0, theta_resolution=300, phi_resolution=200)
    tri = sphere.faces.reshape(-1, 4)[:, 1:]
    plotter = pv.Plotter(off_screen=True, window_size=(600, 600))
    plotter.add_mesh(sphere, opacity=0.45)
    plotter.render()
    picker = MeshRayPicker(np.asarray(sphere.points), tri)

    class _View:  # what MeshRayPicker needs from View3D: world -> widget pixels (y down)
        def world_to_display(self) -> np.ndarray:
            ren = plotter.renderer
            w, h = plotter.window_size
            m = ren.GetActiveCamera().GetCompositeProjectionTransformMatrix(w / h, -1.0, 1.0)
            proj = np.array([[m.GetElement(r, c) for c in range(4)] for r in range(4)])
            return np.array([[0.5 * w, 0, 0, 0.5 * w], [0, -0.5 * h, 0, 0.5 * h], [0, 0, 1, 0], [0, 0, 0, 1]]) @ proj

    view = _View()
    pts = rng.uniform(200, 400, (20, 2))
    it = iter(range(10**9))
    ours = _median(lambda: picker.pick(view, *pts[next(it) % 20]), 20)
    vtk_picker = vtkCellPicker()
    vtk_picker.SetTolerance(0.0005)
    raw = _median(lambda: vtk_picker.Pick(*pts[next(it) % 20], 0.0, plotter.renderer), 20)
    a = picker.pick(view, 300.0, 280.0)
    vtk_picker.Pick(300.0, 600 - 280.0, 0.0, plotter.renderer)
    diff = float(np.linalg.norm(a[0] - np.array(vtk_picker.GetPickPosition())))
    print(f"pick on {len(tri)} triangles: ours {ours * 1e3:.3f} ms (incl. world_to_display), vtkCellPicker "
          f"{raw * 1e3:.1f} ms, ratio {ours / raw:.3f}; same point within {diff:.3f} mm")
    plotter.close()


if __name__ == "__main__":
    main()
