"""Display surfaces of segments (LPS mm), quick enough for interactive use.

These are for viewing: discrete flying edges on the segment's bounding box,
light windowed-sinc smoothing and decimation to a triangle budget (software GL
draws about a million triangles per second). The watertight, analysed meshes
used for simulation come from :mod:`segmentation`.
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np
from numpy.typing import NDArray

from twin.labelmap import LabelMap, mask_bbox
from twin.meshes import SurfaceModel
from twin.progress import Progress, ensure_progress

VTK_THREAD_LOCK = threading.RLock()
"""Held while VTK filters run off the GUI thread; the GUI takes it while it creates render windows.

Running VTK filters in a worker thread while the GUI thread initialises an OpenGL render window
was seen to hang once; serialising these two (short) sections removes that interleaving.
"""


def _flying_edges(sub: NDArray[np.bool_], offset_ijk: NDArray[np.float64], step: int) -> Any:
    """Discrete flying edges of a (padded) binary block; points in the full grid's ijk index units."""
    import pyvista as pv
    import vtk

    padded = np.pad(sub, 1).astype(np.uint8)  # closed surfaces at the volume border
    img = pv.ImageData(dimensions=padded.shape, origin=tuple(offset_ijk - step), spacing=(step, step, step))
    img.point_data["m"] = padded.ravel(order="F")
    fe = vtk.vtkDiscreteFlyingEdges3D()
    fe.SetInputData(img)
    fe.SetValue(0, 1)
    fe.ComputeNormalsOff()
    fe.ComputeGradientsOff()
    fe.ComputeScalarsOff()
    fe.Update()
    return pv.wrap(fe.GetOutput())


def mask_surface(
    mask: NDArray[np.bool_],
    ijk_to_lps: NDArray[np.float64],
    name: str = "surface",
    color: tuple[float, float, float] = (0.8, 0.8, 0.8),
    smoothing_iterations: int = 25,
    max_triangles: int = 40_000,
) -> SurfaceModel | None:
    """Surface of a boolean mask ``(ni, nj, nk)``; vertices mapped to LPS with ``ijk_to_lps`` (4x4).

    Returns None for an empty mask.
    """

    box = mask_bbox(mask, margin=1)
    if box is None:
        return None
    sub = mask[box]
    offset = np.array([b.start for b in box], float)
    with VTK_THREAD_LOCK:
        return _surface_locked(sub, offset, ijk_to_lps, name, color, smoothing_iterations, max_triangles)


def _surface_locked(
    sub: NDArray[np.bool_],
    offset: NDArray[np.float64],
    ijk_to_lps: NDArray[np.float64],
    name: str,
    color: tuple[float, float, float],
    smoothing_iterations: int,
    max_triangles: int,
) -> SurfaceModel | None:
    import pyvista as pv
    import vtk

    poly = _flying_edges(sub, offset, 1)
    if poly.n_cells > 3 * max_triangles:
        # large surface (e.g. the whole body): extract it from a coarser grid instead of decimating
        # hundreds of thousands of triangles, which costs seconds
        step = int(np.ceil(np.sqrt(poly.n_cells / (1.5 * max_triangles))))
        poly = _flying_edges(sub[::step, ::step, ::step], offset, step)
    if poly.n_cells == 0:
        return None
    if smoothing_iterations > 0:
        sm = vtk.vtkWindowedSincPolyDataFilter()
        sm.SetInputData(poly)
        sm.SetNumberOfIterations(smoothing_iterations)
        sm.SetPassBand(0.02)
        sm.NormalizeCoordinatesOn()
        sm.BoundarySmoothingOff()
        sm.FeatureEdgeSmoothingOff()
        sm.NonManifoldSmoothingOn()
        sm.Update()
        poly = pv.wrap(sm.GetOutput())
    poly = poly.triangulate()
    if poly.n_cells > max_triangles:
        try:
            import fast_simplification

            pts, tri = fast_simplification.simplify(
                np.asarray(poly.points, np.float32),
                poly.faces.reshape(-1, 4)[:, 1:],
                1.0 - max_triangles / poly.n_cells,
            )
            poly = pv.PolyData.from_regular_faces(pts, tri)
        except Exception:  # noqa: BLE001 - decimation is cosmetic; fall back to VTK's
            poly = poly.decimate_pro(1.0 - max_triangles / poly.n_cells, preserve_topology=True)
    pts_ijk = np.asarray(poly.points, float)
    pts_lps = pts_ijk @ ijk_to_lps[:3, :3].T + ijk_to_lps[:3, 3]
    tri = poly.faces.reshape(-1, 4)[:, 1:]
    if np.linalg.det(ijk_to_lps[:3, :3]) < 0:  # keep outward orientation under a mirroring affine
        tri = tri[:, ::-1]
    return SurfaceModel(pts_lps, tri, name=name, color=color)


def labelmap_surfaces(
    labelmap: LabelMap,
    names: list[str] | None = None,
    max_triangles: int = 40_000,
    progress: Progress | None = None,
) -> dict[str, SurfaceModel]:
    """Display surfaces of segments (default: all non-empty ones), keyed by segment name."""
    prog = ensure_progress(progress)
    segs = [s for s in labelmap.segments if names is None or s.name in names]
    out: dict[str, SurfaceModel] = {}
    affine = labelmap.geometry.ijk_to_lps
    for n, s in enumerate(segs):
        prog.update(n / max(len(segs), 1), f"surface of {s.name}")
        surf = mask_surface(labelmap.mask(s), affine, s.name, s.color, max_triangles=max_triangles)
        if surf is not None:
            out[s.name] = surf
    prog.update(1.0, "surfaces ready")
    return out
