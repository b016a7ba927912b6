"""Morphology on boolean masks with radii in millimetres (frame LPS, arrays ``[i, j, k]``).

Every radius is a physical distance: balls are exact Euclidean balls in mm on
anisotropic grids, computed with SimpleITK's signed Maurer distance map
(spacing-aware, releases the GIL) on the mask's bounding box only.
Connectivity tools (islands, largest component) use SimpleITK's connected
components (26-connectivity unless ``fully_connected=False``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from segmentation._common import Mask, bbox, check_mask, mask_to_sitk, points_to_indices, sitk_to_labels
from twin.errors import InputError
from twin.geometry import ImageGeometry
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
    box = bbox(mask)
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
    margin = np.ceil(radius_mm / geometry.spacing).astype(np.int64) + 1
    box = _cropped(m, margin)
    assert box is not None
    sub = m[box]
    d = distance_mm(sub, _sub_geometry(geometry, box))
    out = np.zeros_like(m)
    # outside the object the Maurer map is the centre-to-centre distance to the nearest object voxel
    out[box] = d <= radius_mm + 1e-6
    out |= m
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
    return ~dilate(~m, geometry, radius_mm)


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


def label_components(mask: Mask, fully_connected: bool = True) -> tuple[NDArray[Any], int]:
    """Connected components sorted by size (1 = largest); returns ``(labels, count)``."""
    import SimpleITK as sitk

    m = np.asarray(mask, bool)
    if not m.any():
        return np.zeros(m.shape, np.uint32), 0
    geom = ImageGeometry(m.shape)  # type: ignore[arg-type]
    cc = sitk.ConnectedComponent(mask_to_sitk(m, geom), fully_connected)
    cc = sitk.RelabelComponent(cc, sortByObjectSize=True)
    labels = sitk_to_labels(cc)
    return labels, int(labels.max())


def keep_largest(mask: Mask, n: int = 1, fully_connected: bool = True) -> Mask:
    """Keep the ``n`` largest connected components."""
    labels, count = label_components(mask, fully_connected)
    if count == 0:
        return np.zeros(np.shape(mask), bool)
    lut = np.zeros(count + 1, bool)
    lut[1 : n + 1] = True
    return lut[labels]


def remove_small_islands(mask: Mask, geometry: ImageGeometry, min_volume_mm3: float,
                         fully_connected: bool = True) -> Mask:
    """Remove connected components smaller than ``min_volume_mm3``."""
    import SimpleITK as sitk

    m = check_mask(mask, geometry)
    if not m.any():
        return m.copy(order="K")
    min_voxels = int(np.ceil(min_volume_mm3 / geometry.voxel_volume_mm3))
    cc = sitk.ConnectedComponent(mask_to_sitk(m, geometry), fully_connected)
    cc = sitk.RelabelComponent(cc, minimumObjectSize=max(min_voxels, 0))
    return sitk_to_labels(cc) > 0


def keep_island_at(mask: Mask, geometry: ImageGeometry, point_lps: ArrayLike, fully_connected: bool = True) -> Mask:
    """Keep the connected component containing ``point_lps`` (mm); empty if the point is outside the mask."""
    m = check_mask(mask, geometry)
    ijk = points_to_indices(point_lps, geometry)[0]
    if not m[tuple(ijk)]:
        return np.zeros_like(m)
    labels, _ = label_components(m, fully_connected)
    return labels == labels[tuple(ijk)]


def keep_islands_touching(mask: Mask, seeds: Mask, fully_connected: bool = True) -> Mask:
    """Keep the connected components of ``mask`` that contain at least one ``seeds`` voxel.

    Morphological reconstruction by dilation (ITK), i.e. hysteresis when ``seeds`` is a
    stricter threshold of the same image.
    """
    import SimpleITK as sitk

    m = np.asarray(mask, bool)
    marker = np.asarray(seeds, bool) & m
    if not marker.any():
        return np.zeros(m.shape, bool)
    geom = ImageGeometry(m.shape)  # type: ignore[arg-type]
    rec = sitk.BinaryReconstructionByDilation(mask_to_sitk(marker, geom), mask_to_sitk(m, geom),
                                              foregroundValue=1, fullyConnected=fully_connected)
    return sitk_to_labels(rec) > 0


def fill_holes(mask: Mask, mode: str = "3d", axes: tuple[int, ...] = (2,)) -> Mask:
    """Fill enclosed holes.

    Parameters
    ----------
    mode : {"3d", "slice"}
        ``3d``: cavities not connected to the image border in 3-D (6-connected background).
        ``slice``: holes enclosed within each 2-D slice across every axis in ``axes``
        (0 = i, 1 = j, 2 = k; k is axial for axial scans).
    """
    import SimpleITK as sitk

    m = np.asarray(mask, bool)
    if not m.any():
        return m.copy(order="K")
    if mode == "3d":
        geom = ImageGeometry(m.shape)  # type: ignore[arg-type]
        filled = sitk.BinaryFillhole(mask_to_sitk(m, geom), fullyConnected=False, foregroundValue=1)
        return sitk_to_labels(filled) > 0
    if mode != "slice":
        raise InputError(f"unknown hole-filling mode {mode!r} (use '3d' or 'slice')")
    out = m.copy(order="K")
    for axis in axes:
        out |= _fill_slices(m, axis)
    return out


def _fill_slices(mask: Mask, axis: int) -> Mask:
    """Holes of every 2-D slice normal to ``axis``, in one labelling pass over the bounding box."""
    from scipy import ndimage as ndi

    box = bbox(mask)
    if box is None:
        return mask.copy(order="K")
    sub = mask[box]
    structure = np.zeros((3, 3, 3), bool)
    idx: list[Any] = [slice(None)] * 3
    idx[axis] = 1
    structure[tuple(idx)] = ndi.generate_binary_structure(2, 1)
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
    holes = lut[labels]
    out = mask.copy(order="K")
    out[box] |= holes
    return out


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
        sub = sitk_to_labels(res) > 0
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
