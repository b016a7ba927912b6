"""Morphology on boolean masks with radii in millimetres (frame LPS, arrays ``[i, j, k]``).

Every radius is a physical distance: balls are exact Euclidean balls in mm on
anisotropic grids, computed with SimpleITK's signed Maurer distance map
(spacing-aware, releases the GIL) on the mask's bounding box only.
Connectivity tools (islands, largest component) use 26-connectivity unless
``fully_connected=False``.

Memory: these tools run on full CTs (512x512x400 int16 = 210 MB), so they avoid full-size
integer temporaries: component labels are uint16 when they fit, the largest component comes
from ITK's run-length label map, small balls dilate by shifted ORs, slice-wise hole filling
runs slab by slab, and boolean masks cross to ITK without a conversion copy
(``benchmarks/bench_segmentation.py`` measures the peaks).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from segmentation._common import (
    Mask,
    check_mask,
    mask_to_sitk,
    points_to_indices,
    sitk_to_labels,
    sitk_to_mask,
)
from twin.errors import InputError
from twin.geometry import ImageGeometry
from twin.labelmap import mask_bbox
from twin.progress import Progress, ensure_progress


def _sub_geometry(geometry: ImageGeometry, box: tuple[slice, slice, slice]) -> ImageGeometry:
    start = np.array([s.start for s in box], dtype=float)
    shape = tuple(s.stop - s.start for s in box)
    return ImageGeometry(shape, geometry.spacing, geometry.index_to_lps(start[None])[0], geometry.direction)  # type: ignore[arg-type]


def distance_mm(mask: Mask, geometry: ImageGeometry, inside_positive: bool = False) -> NDArray[np.float32]:
    """Signed Euclidean distance (mm) to the mask boundary, ``(ni, nj, nk)`` float32.

    Outside the object: centre-to-centre distance to the nearest object voxel (positive);
    inside: minus the distance to the nearest boundary voxel of the object (0 on it).
    Sign flipped with ``inside_positive``. An empty mask gives ``+inf`` everywhere.
    """
    import SimpleITK as sitk

    m = check_mask(mask, geometry)
    if not m.any():
        return np.full(m.shape, np.inf, np.float32)
    img = mask_to_sitk(m, geometry)
    d = sitk.SignedMaurerDistanceMap(img, insideIsPositive=inside_positive, squaredDistance=False,
                                     useImageSpacing=True)
    return sitk_to_labels(sitk.Cast(d, sitk.sitkFloat32))


def _cropped(mask: Mask, margin_vox: NDArray[np.int64]) -> tuple[slice, slice, slice] | None:
    box = mask_bbox(mask)
    if box is None:
        return None
    return tuple(  # type: ignore[return-value]
        slice(max(s.start - int(m), 0), min(s.stop + int(m), n)) for s, m, n in zip(box, margin_vox, mask.shape)
    )


def dilate(mask: Mask, geometry: ImageGeometry, radius_mm: float) -> Mask:
    """Grow ``mask`` by a Euclidean ball of ``radius_mm`` (exact in mm, anisotropic grids)."""
    m = check_mask(mask, geometry)
    if radius_mm <= 0 or not m.any():
        return m.copy(order="K")
    offsets = _ball_offsets(radius_mm, geometry.spacing)
    if len(offsets) <= SHIFT_DILATE_MAX_OFFSETS:
        return _dilate_shifts(m, offsets)
    margin = np.ceil(radius_mm / geometry.spacing).astype(np.int64) + 1
    box = _cropped(m, margin)
    assert box is not None
    sub = m[box]
    sub_geom = _sub_geometry(geometry, box)
    out = np.zeros_like(m)
    target = out[box]
    # slabs along k, each with the ``margin`` slices around it that can hold its nearest object
    # voxel: the float32 distance map never covers more than a slab (exact, same result)
    nk, mk = sub.shape[2], int(margin[2])
    step = max(_slab_slices(sub.shape, 2), 4 * mk)  # margins add at most half the work
    for lo in range(0, nk, step):
        hi = min(lo + step, nk)
        a, b = max(lo - mk, 0), min(hi + mk, nk)
        block = sub[:, :, a:b]
        if not block.any():
            continue
        d = distance_mm(block, _sub_geometry(sub_geom, (slice(0, sub.shape[0]), slice(0, sub.shape[1]), slice(a, b))))
        # outside the object the Maurer map is the centre-to-centre distance to the nearest object voxel
        np.less_equal(d[:, :, lo - a : hi - a], radius_mm + 1e-6, out=target[:, :, lo:hi])
    out |= m
    return out


SHIFT_DILATE_MAX_OFFSETS = 33
"""Balls with at most this many voxels (radius about one voxel) dilate by shifted ORs: no float32
distance map (4 bytes a voxel) and no temporary beyond the output."""


def _ball_offsets(radius_mm: float, spacing: NDArray[np.float64]) -> NDArray[np.int64]:
    """Voxel offsets ``(n, 3)`` whose centre-to-centre distance is ``<= radius_mm`` (the Maurer criterion)."""
    sp = np.asarray(spacing, dtype=float)
    n = np.floor(radius_mm / sp + 1e-9).astype(np.int64)
    if np.prod(2 * n + 1) > 8 * SHIFT_DILATE_MAX_OFFSETS:
        return np.zeros((8 * SHIFT_DILATE_MAX_OFFSETS + 1, 3), np.int64)  # too many: the caller takes the map
    grids = np.meshgrid(*[np.arange(-k, k + 1) for k in n], indexing="ij")
    d2 = sum((g * s) ** 2 for g, s in zip(grids, sp))
    return np.argwhere(d2 <= (radius_mm + 1e-6) ** 2) - n


def _dilate_shifts(m: Mask, offsets: NDArray[np.int64]) -> Mask:
    """OR of ``m`` shifted by every ``(di, dj, dk)`` in ``offsets`` (dilation by that element)."""
    out = m.copy(order="K")
    for off in offsets:
        if not off.any():
            continue
        dst = tuple(slice(max(int(d), 0), n + min(int(d), 0)) for d, n in zip(off, m.shape))
        src = tuple(slice(max(-int(d), 0), n - max(int(d), 0)) for d, n in zip(off, m.shape))
        np.logical_or(out[dst], m[src], out=out[dst])
    return out


def erode(mask: Mask, geometry: ImageGeometry, radius_mm: float, border_is_outside: bool = False) -> Mask:
    """Shrink ``mask`` by a Euclidean ball of ``radius_mm`` (complement of the dilated complement).

    With ``border_is_outside`` the region beyond the image counts as background, so objects
    touching the image border also shrink away from it.
    """
    m = check_mask(mask, geometry)
    if radius_mm <= 0 or not m.any():
        return m.copy(order="K")
    if border_is_outside:
        padded = np.pad(m, 1)
        pg = ImageGeometry(padded.shape, geometry.spacing, geometry.index_to_lps(-np.ones((1, 3)))[0],  # type: ignore[arg-type]
                           geometry.direction)
        return ~dilate(~padded, pg, radius_mm)[1:-1, 1:-1, 1:-1]
    if m.all():
        return m.copy(order="K")
    out = dilate(~m, geometry, radius_mm)
    return np.logical_not(out, out=out)  # in place: no third full-size mask


def closing(mask: Mask, geometry: ImageGeometry, radius_mm: float) -> Mask:
    """Morphological closing (dilate then erode) by a ball of ``radius_mm``: fills gaps and dents."""
    m = check_mask(mask, geometry)
    if radius_mm <= 0 or not m.any():
        return m.copy(order="K")
    return erode(dilate(m, geometry, radius_mm), geometry, radius_mm) | m


def opening(mask: Mask, geometry: ImageGeometry, radius_mm: float) -> Mask:
    """Morphological opening (erode then dilate) by a ball of ``radius_mm``: cuts bridges, removes spurs."""
    m = check_mask(mask, geometry)
    if radius_mm <= 0 or not m.any():
        return m.copy(order="K")
    return dilate(erode(m, geometry, radius_mm), geometry, radius_mm) & m


def margin(mask: Mask, geometry: ImageGeometry, distance: float) -> Mask:
    """Grow (``distance > 0``) or shrink (``distance < 0``) a mask by ``|distance|`` mm."""
    return dilate(mask, geometry, distance) if distance >= 0 else erode(mask, geometry, -distance)


def hollow(mask: Mask, geometry: ImageGeometry, thickness_mm: float, inside: bool = True) -> Mask:
    """A shell of ``thickness_mm`` along the boundary (inside the object, or outside it)."""
    m = check_mask(mask, geometry)
    if inside:
        return m & ~erode(m, geometry, thickness_mm, border_is_outside=True)
    return dilate(m, geometry, thickness_mm) & ~m


def _structure(fully_connected: bool) -> NDArray[np.bool_]:
    from scipy import ndimage as ndi

    return ndi.generate_binary_structure(3, 3 if fully_connected else 1)


def _label(mask: Mask, fully_connected: bool) -> tuple[NDArray[Any], int]:
    """Unsorted component labels, uint16 when they fit (int32 otherwise), in the mask's memory order."""
    from scipy import ndimage as ndi

    order = "F" if mask.flags.f_contiguous and not mask.flags.c_contiguous else "C"
    for dtype in (np.uint16, np.int32):
        labels = np.empty(mask.shape, dtype, order=order)
        try:
            count = int(ndi.label(mask, _structure(fully_connected), output=labels))
        except RuntimeError:  # more than 65535 components
            del labels
            continue
        return labels, count
    raise AssertionError("unreachable: int32 holds every component count")


def _component_sizes(labels: NDArray[Any], count: int) -> NDArray[np.int64]:
    return np.bincount(labels.ravel(order="K"), minlength=count + 1)


def label_components(mask: Mask, fully_connected: bool = True) -> tuple[NDArray[Any], int]:
    """Connected components sorted by size (1 = largest); returns ``(labels, count)``.

    ``labels`` is uint16 when there are fewer than 65536 components (int32 otherwise).
    """
    m = np.asarray(mask, bool)
    if not m.any():
        return np.zeros(m.shape, np.uint16), 0
    labels, count = _label(m, fully_connected)
    sizes = _component_sizes(labels, count)
    rank = np.zeros(count + 1, labels.dtype)
    rank[1 + np.argsort(-sizes[1:], kind="stable")] = np.arange(1, count + 1)
    np.take(rank, labels, out=labels, mode="clip")  # in place: element i reads and writes only i
    return labels, count


def select_components(mask: Mask, keep: Callable[[NDArray[np.int64], NDArray[np.int64] | None], NDArray[np.bool_]],
                      extra: Mask | None = None, fully_connected: bool = True) -> Mask:
    """Keep the connected components chosen by ``keep`` from their sizes, without a full-size label image.

    Parameters
    ----------
    keep : callable
        ``keep(sizes, extra_counts) -> bool (n,)`` for the ``n`` components: their voxel counts
        and (with ``extra``) how many of their voxels are set in ``extra``, both ``(n,)`` int64.
    extra : ndarray of bool, optional
        A second mask counted per component (e.g. pure-gas voxels of air components).

    Notes
    -----
    Slabs along ``k`` are labelled one at a time (each with the last slice of the previous slab,
    whose two labellings tie the slabs' components together through a union-find), then
    labelled again to write the result: twice the labelling time, labels of at most 1/16 of
    the volume (and 16 MB) at a time.
    """
    from scipy import ndimage as ndi
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    m = np.asarray(mask, bool)
    out = np.zeros(m.shape, bool, order="F" if m.flags.f_contiguous else "C")
    box = mask_bbox(m)
    if box is None:
        return out
    sub = m[box]
    ex = None if extra is None else np.asarray(extra, bool)[box]
    structure = _structure(fully_connected)
    nk = sub.shape[2]
    # a small mask (e.g. on a coarse grid) is labelled in one go: one slab, labelled once
    step = nk if sub.size <= SINGLE_PASS_VOXELS else _slab_slices(sub.shape, 2)
    starts = list(range(0, nk, step))

    def slab(lo: int) -> tuple[NDArray[np.int32], int, int]:
        s0 = max(lo - 1, 0)
        labels, n = ndi.label(sub[:, :, s0 : min(lo + step, nk)], structure)
        return labels, int(n), lo - s0

    offsets, sizes, extras, edges = [], [], [], []
    offset = 0
    prev_last: NDArray[Any] | None = None
    for lo in starts:
        labels, n, skip = slab(lo)
        own = labels[:, :, skip:]
        sizes.append(np.bincount(own.ravel(), minlength=n + 1)[1:])
        if ex is not None:
            extras.append(np.bincount(own[ex[:, :, lo : lo + own.shape[2]]], minlength=n + 1)[1:])
        if prev_last is not None and skip:
            first = labels[:, :, 0]
            fg = first > 0
            edges.append(np.unique(np.stack([prev_last[fg], first[fg] + offset - 1]), axis=1))
        last = labels[:, :, -1]
        prev_last = np.where(last > 0, last + offset - 1, -1)
        offsets.append(offset)
        offset += n
    if offset == 0:
        return out
    pairs = np.concatenate(edges, axis=1) if edges else np.zeros((2, 0), np.int64)
    graph = coo_matrix((np.ones(pairs.shape[1], np.int8), (pairs[0], pairs[1])), shape=(offset, offset))
    count, comp = connected_components(graph, directed=False)
    comp_sizes = np.bincount(comp, weights=np.concatenate(sizes), minlength=count).astype(np.int64)
    comp_extra = (np.bincount(comp, weights=np.concatenate(extras), minlength=count).astype(np.int64)
                  if ex is not None else None)
    keep_provisional = np.asarray(keep(comp_sizes, comp_extra), bool)[comp]
    target = out[box]
    for lo, off in zip(starts, offsets):
        if len(starts) > 1:
            labels, n, skip = slab(lo)
        else:
            n, skip = offset, 0  # ``labels`` of the single slab is still at hand
        lut = np.concatenate([[False], keep_provisional[off : off + n]])
        target[:, :, lo : lo + labels.shape[2] - skip] = lut[labels[:, :, skip:]]
    return out


def keep_largest(mask: Mask, n: int = 1, fully_connected: bool = True) -> Mask:
    """Keep the ``n`` largest connected components."""
    def largest(sizes: NDArray[np.int64], _: Any) -> NDArray[np.bool_]:
        chosen = np.zeros(len(sizes), bool)
        chosen[np.argsort(-sizes, kind="stable")[:n]] = True
        return chosen

    return select_components(mask, largest, fully_connected=fully_connected)


def remove_small_islands(mask: Mask, geometry: ImageGeometry, min_volume_mm3: float,
                         fully_connected: bool = True) -> Mask:
    """Remove connected components smaller than ``min_volume_mm3``."""
    m = check_mask(mask, geometry)
    min_voxels = int(np.ceil(min_volume_mm3 / geometry.voxel_volume_mm3))
    return select_components(m, lambda sizes, _: sizes >= min_voxels, fully_connected=fully_connected)


def keep_island_at(mask: Mask, geometry: ImageGeometry, point_lps: ArrayLike, fully_connected: bool = True) -> Mask:
    """Keep the connected component containing ``point_lps`` (mm); empty if the point is outside the mask."""
    m = check_mask(mask, geometry)
    ijk = points_to_indices(point_lps, geometry)[0]
    if not m[tuple(ijk)]:
        return np.zeros_like(m)
    labels, _ = _label(m, fully_connected)
    return labels == labels[tuple(ijk)]


def keep_islands_touching(mask: Mask, seeds: Mask, fully_connected: bool = True) -> Mask:
    """Keep the connected components of ``mask`` that contain at least one ``seeds`` voxel.

    Morphological reconstruction by dilation (ITK), i.e. hysteresis when ``seeds`` is a
    stricter threshold of the same image. Runs on the bounding box of ``mask``.
    """

    m = np.asarray(mask, bool)
    box = mask_bbox(m)
    if box is None:
        return np.zeros(m.shape, bool)
    marker = np.logical_and(np.asarray(seeds, bool)[box], m[box])
    if not marker.any():
        return np.zeros(m.shape, bool)
    geom = ImageGeometry(marker.shape)  # type: ignore[arg-type]
    marker_img = mask_to_sitk(marker, geom)
    del marker  # ITK holds its own copy
    rec = reconstruct(marker_img, mask_to_sitk(m[box], geom), fully_connected)
    del marker_img
    out = np.zeros(m.shape, bool, order="F" if m.flags.f_contiguous else "C")
    sitk_to_mask(rec, out=out[box])
    return out


def reconstruct(marker: Any, mask: Any, fully_connected: bool = True) -> Any:
    """Binary reconstruction by dilation of ITK uint8 images: the components of ``mask`` touching ``marker``.

    For pipelines that build the two ITK images one after the other to bound memory
    (see :func:`keep_islands_touching` for the numpy version).
    """
    import SimpleITK as sitk

    return sitk.BinaryReconstructionByDilation(marker, mask, foregroundValue=1, fullyConnected=fully_connected)


def fill_holes(mask: Mask, mode: str = "3d", axes: tuple[int, ...] = (2,)) -> Mask:
    """Fill enclosed holes.

    Parameters
    ----------
    mode : {"3d", "slice"}
        ``3d``: cavities not connected to the image border in 3-D (6-connected background).
        ``slice``: holes enclosed within each 2-D slice across every axis in ``axes``
        (0 = i, 1 = j, 2 = k; k is axial for axial scans); the holes of every axis are
        those of the input mask (the axes do not see each other's filling).
    """
    import SimpleITK as sitk

    m = np.asarray(mask, bool)
    if not m.any():
        return m.copy(order="K")
    if mode == "3d":
        geom = ImageGeometry(m.shape)  # type: ignore[arg-type]
        filled = sitk.BinaryFillhole(mask_to_sitk(m, geom), fullyConnected=False, foregroundValue=1)
        return sitk_to_mask(filled)
    if mode != "slice":
        raise InputError(f"unknown hole-filling mode {mode!r} (use '3d' or 'slice')")
    out = m.copy(order="K")
    for axis in axes:
        _fill_slices_into(m, axis, out)
    return out


SLAB_MAX_VOXELS = 1 << 22
"""Voxels a slab-wise tool works on at once (int32 labels or float32 distances: 16 MB)."""


SLAB_FRACTION = 8
"""A slab holds at most 1/8 of the mask's voxels: its int32 labels or float32 distances take half the
mask's bytes (a quarter of an int16 CT's)."""
SINGLE_PASS_VOXELS = 1 << 18
"""Masks up to this many voxels (int32 labels: 1 MB) are labelled in one pass, not slab by slab."""


def _slab_slices(shape: tuple[int, ...], axis: int) -> int:
    """Slices a slab along ``axis`` holds: 1/8 of the mask (at least 256 k, at most 4 M voxels), >= 2."""
    per_slice = int(np.prod([n for a, n in enumerate(shape) if a != axis]))
    budget = min(SLAB_MAX_VOXELS, max(int(np.prod(shape)) // SLAB_FRACTION, SINGLE_PASS_VOXELS))
    return max(budget // max(per_slice, 1), 2)


def _fill_slices_into(mask: Mask, axis: int, out: Mask) -> None:
    """OR the holes of every 2-D slice normal to ``axis`` into ``out``, slab by slab.

    Slices do not connect across ``axis``, so slabs of slices are labelled independently
    (same result as one pass, a fraction of the memory).
    """
    from scipy import ndimage as ndi

    box = mask_bbox(mask)
    if box is None:
        return
    structure = np.zeros((3, 3, 3), bool)
    idx: list[Any] = [slice(None)] * 3
    idx[axis] = 1
    structure[tuple(idx)] = ndi.generate_binary_structure(2, 1)
    start, stop = box[axis].start, box[axis].stop
    step = _slab_slices(tuple(b.stop - b.start for b in box), axis)
    for lo in range(start, stop, step):
        slab = list(box)
        slab[axis] = slice(lo, min(lo + step, stop))
        sub = mask[tuple(slab)]
        labels, _ = ndi.label(~sub, structure=structure)
        border: set[int] = set()
        for ax in range(3):
            if ax == axis:
                continue
            for end in (0, -1):
                sl: list[Any] = [slice(None)] * 3
                sl[ax] = end
                border.update(np.unique(labels[tuple(sl)]).tolist())
        lut = np.ones(int(labels.max()) + 1, bool)
        lut[0] = False
        lut[np.fromiter(border, dtype=np.int64)] = False
        target = out[tuple(slab)]
        np.logical_or(target, lut[labels], out=target)


def smooth(mask: Mask, geometry: ImageGeometry, method: str = "median", radius_mm: float = 1.0) -> Mask:
    """Smooth a mask: ``median`` (binary median, ellipsoid radius in mm), ``closing``, ``opening``,
    or ``gaussian`` (Gaussian of the mask with sigma = radius, thresholded at 0.5: volume-neutral)."""
    import SimpleITK as sitk

    from segmentation._common import radius_voxels

    m = check_mask(mask, geometry)
    if not m.any() or radius_mm <= 0:
        return m.copy(order="K")
    if method == "closing":
        return closing(m, geometry, radius_mm)
    if method == "opening":
        return opening(m, geometry, radius_mm)
    margin_vox = radius_voxels(2 * radius_mm, geometry.spacing) + 2
    box = _cropped(m, margin_vox)
    assert box is not None
    sub_geom = _sub_geometry(geometry, box)
    img = mask_to_sitk(m[box], sub_geom)
    if method == "median":
        r = [int(v) for v in np.maximum(radius_voxels(radius_mm, geometry.spacing), 1)]
        res = sitk.BinaryMedian(img, r, foregroundValue=1, backgroundValue=0)
        sub = sitk_to_mask(res)
    elif method == "gaussian":
        g = sitk.SmoothingRecursiveGaussian(sitk.Cast(img, sitk.sitkFloat32), float(radius_mm))
        sub = sitk_to_labels(g) >= 0.5
    else:
        raise InputError(f"unknown smoothing method {method!r} (median, closing, opening, gaussian)")
    out = np.zeros_like(m)
    out[box] = sub
    return out


def logical(op: str, a: Mask, b: Mask) -> Mask:
    """Boolean operation between two masks: ``union``, ``intersect``, ``subtract`` (a minus b), ``xor``."""
    a = np.asarray(a, bool)
    b = np.asarray(b, bool)
    if a.shape != b.shape:
        raise InputError(f"masks have different shapes {a.shape} and {b.shape}")
    if op == "union":
        return a | b
    if op in ("intersect", "intersection"):
        return a & b
    if op in ("subtract", "difference"):
        return a & ~b
    if op == "xor":
        return a ^ b
    raise InputError(f"unknown logical operation {op!r} (union, intersect, subtract, xor)")


def progress_wrap(progress: Progress | None, fraction: float, message: str) -> None:
    """Report and honour cancellation (small helper for pipelines)."""
    p = ensure_progress(progress)
    p.update(fraction, message)
    p.raise_if_cancelled()
