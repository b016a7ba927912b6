"""Label map -> closed triangle surfaces in patient LPS millimetres.

All requested labels are contoured in one VTK pass (``vtkDiscreteFlyingEdges3D``, i.e.
marching cubes on each label's indicator, vertices half-way between voxel centres; or
``vtkSurfaceNets3D``), on a copy of the grid padded by one voxel so that segments
touching the image border still give closed surfaces. Meshing happens on a
``vtkImageData`` with the voxel spacing but *no* direction (vtkImageData cannot carry
one in every VTK pipeline); the full ``ijk_to_lps`` rotation and origin are applied to
the points afterwards with numpy, and triangle winding is fixed so normals point outwards.

Then, per segment: volume-preserving windowed-sinc smoothing, decimation with
fast-simplification (quadric error, keeps closed manifolds closed), normals, and a
watertight / closed-manifold check that is reported, never assumed.

This module is the one place that contours label maps. :func:`display_surfaces` is the
fast parameter set for 3-D views (each segment on its bounding box, a coarser grid for
very large surfaces, light smoothing, decimation to a triangle budget, no checks); the
GUI and the reports compute surfaces here and hand the ``SurfaceModel`` objects to
:mod:`rendering`, which draws but never contours.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from twin.errors import InputError
from twin.labelmap import LabelMap, Segment, mask_bbox
from twin.meshes import SurfaceModel
from twin.progress import Progress, ensure_progress


@dataclass(frozen=True)
class SurfaceResult:
    """One segment's surface and its checks (LPS, mm)."""

    segment: Segment
    surface: SurfaceModel
    watertight: bool
    volume_mm3: float
    area_mm2: float


def _padded(array: NDArray[np.integer]) -> NDArray[np.integer]:
    """``array`` with one voxel of zeros around it, in VTK's memory order (i fastest: Fortran)."""
    out = np.zeros(tuple(n + 2 for n in array.shape), array.dtype, order="F")
    out[1:-1, 1:-1, 1:-1] = array
    return out


def _image_data(array: NDArray[np.integer], spacing: NDArray[np.float64]):  # type: ignore[no-untyped-def]
    """``vtkImageData`` of ``array`` (no copy when it is in Fortran order; VTK keeps a reference)."""
    import vtk
    from vtk.util import numpy_support

    img = vtk.vtkImageData()
    img.SetDimensions(*array.shape)
    img.SetSpacing(*[float(s) for s in spacing])
    img.SetOrigin(0.0, 0.0, 0.0)
    flat = np.ascontiguousarray(array.transpose(2, 1, 0)).ravel()  # VTK: x fastest
    vtk_arr = numpy_support.numpy_to_vtk(flat, deep=False)
    vtk_arr.SetName("labels")
    img.GetPointData().SetScalars(vtk_arr)
    return img


def _poly_to_arrays(poly) -> tuple[NDArray[np.float64], NDArray[np.int64]]:  # type: ignore[no-untyped-def]
    from vtk.util import numpy_support

    if poly.GetNumberOfPoints() == 0 or poly.GetNumberOfPolys() == 0:
        return np.zeros((0, 3)), np.zeros((0, 3), np.int64)
    pts = numpy_support.vtk_to_numpy(poly.GetPoints().GetData()).astype(np.float64)
    polys = poly.GetPolys()
    offsets = numpy_support.vtk_to_numpy(polys.GetOffsetsArray())
    conn = numpy_support.vtk_to_numpy(polys.GetConnectivityArray()).astype(np.int64)
    if not np.all(np.diff(offsets) == 3):
        raise RuntimeError("contouring produced non-triangle cells")
    return pts, conn.reshape(-1, 3)


def _arrays_to_poly(points: NDArray[np.float64], tris: NDArray[np.int64]):  # type: ignore[no-untyped-def]
    import vtk
    from vtk.util import numpy_support

    poly = vtk.vtkPolyData()
    vpts = vtk.vtkPoints()
    vpts.SetData(numpy_support.numpy_to_vtk(np.ascontiguousarray(points, np.float64), deep=True))
    poly.SetPoints(vpts)
    cells = vtk.vtkCellArray()
    offsets = np.arange(0, 3 * len(tris) + 1, 3, dtype=np.int64)
    cells.SetData(numpy_support.numpy_to_vtkIdTypeArray(offsets, deep=True),
                  numpy_support.numpy_to_vtkIdTypeArray(np.ascontiguousarray(tris, np.int64).ravel(), deep=True))
    poly.SetPolys(cells)
    return poly


def smooth_surface(points: NDArray[np.float64], tris: NDArray[np.int64], smoothing: float,
                   iterations: int = 20) -> NDArray[np.float64]:
    """Windowed-sinc smoothing (volume preserving); ``smoothing`` in [0, 1] maps to a pass band
    ``10^(-4 smoothing)`` as in 3D Slicer. Returns new point coordinates ``(n, 3)``."""
    import vtk
    from vtk.util import numpy_support

    if smoothing <= 0 or len(tris) == 0:
        return points
    f = vtk.vtkWindowedSincPolyDataFilter()
    f.SetInputData(_arrays_to_poly(points, tris))
    f.SetNumberOfIterations(int(iterations))
    f.SetPassBand(float(10.0 ** (-4.0 * min(max(smoothing, 0.0), 1.0))))
    f.BoundarySmoothingOff()
    f.FeatureEdgeSmoothingOff()
    f.NonManifoldSmoothingOn()
    f.NormalizeCoordinatesOn()
    f.Update()
    out = numpy_support.vtk_to_numpy(f.GetOutput().GetPoints().GetData()).astype(np.float64)
    return np.asarray(out)


def decimate_surface(points: NDArray[np.float64], tris: NDArray[np.int64],
                     reduction: float) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """Remove a fraction ``reduction`` (0-1) of the triangles (quadric decimation, fast-simplification)."""
    if reduction <= 0 or len(tris) < 8:
        return points, tris
    if reduction >= 1:
        raise InputError("decimation must remove less than 100% of the triangles")
    import fast_simplification

    p, t = fast_simplification.simplify(np.asarray(points, np.float32), np.asarray(tris, np.int32),
                                        target_reduction=float(reduction))
    return np.asarray(p, np.float64), np.asarray(t, np.int64)


def point_normals(points: NDArray[np.float64], tris: NDArray[np.int64]) -> NDArray[np.float64]:
    """Area-weighted vertex normals ``(n, 3)`` (unit; zero for isolated points)."""
    p = points[tris]
    fn = np.cross(p[:, 1] - p[:, 0], p[:, 2] - p[:, 0])
    n = np.zeros_like(points)
    for c in range(3):
        np.add.at(n, tris[:, c], fn)
    norm = np.linalg.norm(n, axis=1, keepdims=True)
    return np.divide(n, norm, out=np.zeros_like(n), where=norm > 0)


def is_closed_manifold(tris: NDArray[np.int64], n_points: int) -> bool:
    """Every undirected edge used by exactly two triangles, in opposite directions (closed, oriented).

    Same test as :meth:`twin.meshes.SurfaceModel.is_watertight`, with 1-D integer edge keys (fast).
    """
    if len(tris) == 0:
        return False
    a = tris[:, [0, 1, 2]].ravel().astype(np.int64)
    b = tris[:, [1, 2, 0]].ravel().astype(np.int64)
    n = np.int64(max(n_points, 1))
    directed = np.sort(a * n + b)
    if np.any(directed[1:] == directed[:-1]):
        return False  # an edge used twice in the same direction: inconsistent orientation or non-manifold
    undirected = np.minimum(a, b) * n + np.maximum(a, b)
    _, counts = np.unique(undirected, return_counts=True)
    return bool(np.all(counts == 2))


def _orient_outwards(points: NDArray[np.float64], tris: NDArray[np.int64]) -> NDArray[np.int64]:
    p = points[tris]
    signed = float(np.einsum("ij,ij->i", p[:, 0], np.cross(p[:, 1], p[:, 2])).sum())
    return tris[:, ::-1].copy() if signed < 0 else tris


def labelmap_to_surfaces(
    labelmap: LabelMap,
    segments: Sequence[str | int] | None = None,
    smoothing: float = 0.5,
    decimate: float = 0.0,
    method: str = "flying_edges",
    normals: bool = True,
    progress: Progress | None = None,
) -> list[SurfaceResult]:
    """Closed surfaces of several segments, contoured together.

    Parameters
    ----------
    labelmap : LabelMap
        Source; segments of every layer are supported (one contouring pass per layer).
    segments : sequence of name or value, optional
        Which segments (default: all).
    smoothing : float
        0 = none (raw marching cubes), 1 = strong; windowed sinc, volume preserving.
    decimate : float
        Fraction of triangles to remove (0 = keep all).
    method : {"flying_edges", "surface_nets"}
        Contouring algorithm.
    normals : bool
        Store unit vertex normals as ``point_data["normals"]``.

    Returns
    -------
    list of SurfaceResult
        One per requested segment, in the requested order; empty segments give an empty
        surface with ``watertight=False``.
    """
    import vtk

    p = ensure_progress(progress)
    if not 0 <= decimate < 1:
        raise InputError("decimate must be in [0, 1)")
    if smoothing < 0:
        raise InputError("smoothing must be >= 0")
    segs = labelmap.segments if segments is None else [labelmap.segment(s) for s in segments]
    g = labelmap.geometry
    rot = g.direction
    origin = g.origin
    results: dict[str, SurfaceResult] = {}
    layers = sorted({s.layer for s in segs})
    for n_layer, layer in enumerate(layers):
        p.raise_if_cancelled()
        p.update(0.05 + 0.5 * n_layer / len(layers), "contouring")
        layer_segs = [s for s in segs if s.layer == layer]
        arr = labelmap.layers[layer]
        img = _image_data(_padded(arr), g.spacing)
        if method == "flying_edges":
            f = vtk.vtkDiscreteFlyingEdges3D()
            f.ComputeNormalsOff()
            f.ComputeGradientsOff()
            f.ComputeScalarsOn()
            for i, s in enumerate(layer_segs):
                f.SetValue(i, float(s.value))
        elif method == "surface_nets":
            f = vtk.vtkSurfaceNets3D()
            f.SmoothingOff()
            f.SetOutputMeshTypeToTriangles()
            f.SetOutputStyleToSelected()
            for i, s in enumerate(layer_segs):
                f.SetValue(i, float(s.value))
                f.AddSelectedLabel(float(s.value))
        else:
            raise InputError(f"unknown surface method {method!r} (flying_edges or surface_nets)")
        f.SetInputData(img)
        f.Update()
        poly = f.GetOutput()
        pts_sp, tris_all = _poly_to_arrays(poly)
        # padded index space -> LPS: p_lps = R @ (p_sp - spacing) + origin (one voxel of padding)
        pts_lps = (pts_sp - g.spacing[None, :]) @ rot.T + origin
        tri_labels = _triangle_labels(poly, tris_all, method, layer_segs)
        for s in layer_segs:
            p.raise_if_cancelled()
            first = tri_labels[:, 0] == s.value
            second = tri_labels[:, 1] == s.value
            # a face shared by two labels (surface nets) faces the first one: flip it for the second
            sel = np.vstack([tris_all[first], tris_all[second & ~first][:, ::-1]])
            results[s.name] = _finish(s, pts_lps, sel, smoothing, decimate, normals)
    p.update(1.0, "surfaces")
    return [results[s.name] for s in segs]


def _triangle_labels(poly, tris: NDArray[np.int64], method: str,  # type: ignore[no-untyped-def]
                     segs: Sequence[Segment]) -> NDArray[np.int64]:
    from vtk.util import numpy_support

    """Labels on both sides of each triangle ``(m, 2)`` (-1 = none)."""
    if len(tris) == 0:
        return np.zeros((0, 2), np.int64)
    if method == "flying_edges":
        scal = numpy_support.vtk_to_numpy(poly.GetPointData().GetScalars())
        out = np.full((len(tris), 2), -1, np.int64)
        out[:, 0] = np.rint(scal[tris[:, 0]])
        return out
    # surface nets: cell data "BoundaryLabels" (2 components, 0 = background)
    bl = numpy_support.vtk_to_numpy(poly.GetCellData().GetArray("BoundaryLabels"))
    return np.asarray(np.rint(bl), np.int64).reshape(-1, 2)


def _finish(seg: Segment, pts_lps: NDArray[np.float64], tris: NDArray[np.int64], smoothing: float,
            decimate: float, normals: bool) -> SurfaceResult:
    if len(tris) == 0:
        empty = SurfaceModel(np.zeros((0, 3)), np.zeros((0, 3), np.int64), name=seg.name, color=seg.color)
        return SurfaceResult(seg, empty, False, 0.0, 0.0)
    used = np.zeros(len(pts_lps), bool)
    used[tris.ravel()] = True
    new_index = np.cumsum(used) - 1  # compact the shared point array without sorting
    pts = pts_lps[used]
    t = new_index[tris].astype(np.int64)
    pts = smooth_surface(pts, t, smoothing)
    pts, t = decimate_surface(pts, t, decimate)
    t = _orient_outwards(pts, t)
    pdata = {"normals": point_normals(pts, t)} if normals else {}
    model = SurfaceModel(pts, t, name=seg.name, color=seg.color, point_data=pdata)
    return SurfaceResult(seg, model, is_closed_manifold(t, len(pts)), model.volume_mm3(), model.area_mm2())


def segment_surface(labelmap: LabelMap, segment: str | int, smoothing: float = 0.5, decimate: float = 0.0,
                    progress: Progress | None = None) -> SurfaceResult:
    """Surface of one segment (see :func:`labelmap_to_surfaces`)."""
    return labelmap_to_surfaces(labelmap, [segment], smoothing, decimate, progress=progress)[0]


def labelmap_surfaces(labelmap: LabelMap, segments: Sequence[str | int] | None = None, smoothing: float = 0.5,
                      decimate: float = 0.0, progress: Progress | None = None) -> dict[str, SurfaceModel]:
    """``{segment name: SurfaceModel}`` for several segments (see :func:`labelmap_to_surfaces`)."""
    return {r.segment.name: r.surface
            for r in labelmap_to_surfaces(labelmap, segments, smoothing, decimate, progress=progress)}


DISPLAY_PASS_BAND = 0.02
"""Windowed-sinc pass band of display surfaces (light smoothing; 25 iterations)."""


def display_surface(mask: NDArray[np.bool_], ijk_to_lps: NDArray[np.float64], name: str = "surface",
                    color: tuple[float, float, float] = (0.8, 0.8, 0.8), smoothing_iterations: int = 25,
                    max_triangles: int = 40_000) -> SurfaceModel | None:
    """Fast display surface of a boolean mask ``(ni, nj, nk)``, vertices in LPS mm via ``ijk_to_lps`` (4x4).

    Discrete flying edges on the mask's bounding box (padded: closed at the image border); a
    surface of more than three times ``max_triangles`` is contoured again on a grid subsampled
    by an integer step instead of being decimated (seconds saved on the whole body); windowed-sinc
    smoothing; quadric decimation to ``max_triangles``; outward winding. No watertightness check:
    for analysis use :func:`labelmap_to_surfaces`. Returns None for an empty mask.
    """
    box = mask_bbox(mask, margin=1)
    if box is None:
        return None
    sub = np.asarray(mask[box], bool)
    offset = np.array([b.start for b in box], float)
    pts, tris = _block_contour(sub, offset, 1)
    if len(tris) > 3 * max_triangles:
        step = int(np.ceil(np.sqrt(len(tris) / (1.5 * max_triangles))))
        pts, tris = _block_contour(sub[::step, ::step, ::step], offset, step)
    if len(tris) == 0:
        return None
    if smoothing_iterations > 0:
        # smooth_surface maps ``smoothing`` to the pass band 10^(-4 smoothing)
        pts = smooth_surface(pts, tris, -np.log10(DISPLAY_PASS_BAND) / 4.0, iterations=smoothing_iterations)
    if len(tris) > max_triangles:
        pts, tris = decimate_surface(pts, tris, 1.0 - max_triangles / len(tris))
    pts_lps = pts @ ijk_to_lps[:3, :3].T + ijk_to_lps[:3, 3]
    return SurfaceModel(pts_lps, _orient_outwards(pts_lps, tris), name=name, color=color)


def _block_contour(sub: NDArray[np.bool_], offset_ijk: NDArray[np.float64],
                   step: int) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """Flying edges of a binary block padded by one voxel; points in the full grid's ijk units."""
    import vtk

    img = _image_data(_padded(sub.view(np.uint8)), np.full(3, float(step)))
    img.SetOrigin(*(offset_ijk - step))
    f = vtk.vtkDiscreteFlyingEdges3D()
    f.SetInputData(img)
    f.SetValue(0, 1.0)
    f.ComputeNormalsOff()
    f.ComputeGradientsOff()
    f.ComputeScalarsOff()
    f.Update()
    return _poly_to_arrays(f.GetOutput())


def mask_fingerprint(mask: NDArray[np.bool_]) -> str:
    """Content hash of a boolean mask ``(ni, nj, nk)`` (shape + bits; BLAKE2b, ~1 ms per 10^7 voxels)."""
    import hashlib

    h = hashlib.blake2b(digest_size=16)
    h.update(np.asarray(mask.shape, np.int64).tobytes())
    h.update(np.packbits(np.ascontiguousarray(mask, dtype=bool)).tobytes())
    return h.hexdigest()


DisplayCache = dict[str, tuple[str, "SurfaceModel | None"]]
"""``{segment name: (mask fingerprint, display surface or None)}`` kept between updates."""


def display_surfaces(labelmap: LabelMap, names: Sequence[str] | None = None, max_triangles: int = 40_000,
                     progress: Progress | None = None, cache: DisplayCache | None = None,
                     ) -> dict[str, SurfaceModel]:
    """Display surfaces (see :func:`display_surface`) of segments (default: all non-empty), by name.

    With ``cache`` (a dict, updated in place), a segment whose mask is unchanged since the last
    call (same :func:`mask_fingerprint`) reuses its surface: after an edit of one segment only that
    segment is contoured again. Entries of segments no longer present are dropped.
    """
    prog = ensure_progress(progress)
    segs = [s for s in labelmap.segments if names is None or s.name in names]
    out: dict[str, SurfaceModel] = {}
    affine = labelmap.geometry.ijk_to_lps
    geometry_key = np.round(np.asarray(affine, float), 9).tobytes().hex()[:32]
    for n, s in enumerate(segs):
        prog.raise_if_cancelled()
        prog.update(n / max(len(segs), 1), f"surface of {s.name}")
        mask = labelmap.mask(s)
        surf: SurfaceModel | None
        if cache is not None:
            key = f"{mask_fingerprint(mask)}:{geometry_key}:{max_triangles}"
            hit = cache.get(s.name)
            if hit is not None and hit[0] == key:
                surf = hit[1]
            else:
                surf = display_surface(mask, affine, s.name, s.color, max_triangles=max_triangles)
                cache[s.name] = (key, surf)
        else:
            surf = display_surface(mask, affine, s.name, s.color, max_triangles=max_triangles)
        if surf is not None:
            out[s.name] = surf
    if cache is not None and names is None:
        for stale in set(cache) - {s.name for s in segs}:
            del cache[stale]
    prog.update(1.0, "surfaces ready")
    return out
