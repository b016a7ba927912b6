"""Small helpers shared by the segmentation tools (frame LPS, mm; arrays ``[i, j, k]``).

Masks are boolean arrays on an :class:`twin.geometry.ImageGeometry` grid.
Conversions to SimpleITK go through :func:`twin.volume.array_to_sitk`, the
only place axes are swapped.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from twin.errors import InputError
from twin.geometry import ImageGeometry
from twin.volume import array_to_sitk, sitk_to_array

if TYPE_CHECKING:
    import SimpleITK as sitk

Mask = NDArray[np.bool_]


def check_mask(mask: ArrayLike, geometry: ImageGeometry, what: str = "mask") -> Mask:
    """Return ``mask`` as a boolean array, checking that it matches ``geometry``.

    Raises
    ------
    InputError
        If the shape differs from the grid.
    """
    m = np.asarray(mask)
    if tuple(m.shape) != tuple(geometry.shape):
        raise InputError(f"{what} shape {m.shape} does not match the image grid {geometry.shape}")
    return m if m.dtype == np.bool_ else m != 0


def mask_to_sitk(mask: Mask, geometry: ImageGeometry) -> sitk.Image:
    """Boolean mask -> SimpleITK uint8 image (0/1) with the grid's geometry.

    The boolean buffer is reinterpreted as uint8 (no conversion copy): on a mask in SimpleITK
    memory order (``i`` fastest, e.g. derived from a volume read from disk) the only copy is ITK's.
    """
    m = np.asarray(mask)
    m = m.view(np.uint8) if m.dtype == np.bool_ else np.asarray(m != 0).view(np.uint8)
    return array_to_sitk(m, geometry)


def sitk_to_mask(image: sitk.Image, out: Mask | None = None) -> Mask:
    """SimpleITK image -> boolean ``[i, j, k]`` mask (nonzero voxels), one 1-byte allocation.

    The result is in SimpleITK memory order (Fortran order of ``[i, j, k]``), like
    :func:`twin.volume.sitk_to_array`. With ``out`` (a boolean ``(ni, nj, nk)`` array or view,
    e.g. a bounding box of a larger mask), the mask is written there and nothing is allocated.
    """
    import SimpleITK as sitk

    if image.GetDimension() != 3 or image.GetNumberOfComponentsPerPixel() != 1:
        arr, _ = sitk_to_array(image)
        if out is None:
            return arr != 0
        np.not_equal(arr, 0, out=out)
        return out
    view = sitk.GetArrayViewFromImage(image)  # [k, j, i], valid while ``image`` lives
    if out is None:
        out = np.empty(view.shape[::-1], dtype=bool, order="F")
    np.not_equal(view, 0, out=out.T)
    return out


def sitk_to_labels(image: sitk.Image) -> NDArray[Any]:
    """SimpleITK label image -> ``[i, j, k]`` integer array."""
    arr, _ = sitk_to_array(image)
    return arr


def radius_voxels(radius_mm: float | ArrayLike, spacing: ArrayLike) -> NDArray[np.int64]:
    """Per-axis radius in voxels ``(3,)`` of a ball of ``radius_mm`` on an anisotropic grid (at least 0)."""
    r = np.broadcast_to(np.asarray(radius_mm, dtype=float), (3,))
    return np.maximum(np.rint(r / np.asarray(spacing, dtype=float)), 0).astype(np.int64)


def ball(radius_mm: float, spacing: ArrayLike) -> Mask:
    """Ellipsoidal structuring element (boolean, odd shape) for a ball of ``radius_mm`` in mm."""
    sp = np.asarray(spacing, dtype=float)
    r = radius_voxels(radius_mm, sp)
    grids = np.meshgrid(*[np.arange(-n, n + 1) * s for n, s in zip(r, sp)], indexing="ij")
    dist2 = sum(g * g for g in grids)
    return np.asarray(dist2 <= radius_mm * radius_mm + 1e-9)


def dice(a: Mask, b: Mask) -> float:
    """Dice overlap ``2|A∩B| / (|A|+|B|)`` (1.0 when both are empty)."""
    a = np.asarray(a, bool)
    b = np.asarray(b, bool)
    total = int(np.count_nonzero(a)) + int(np.count_nonzero(b))
    if total == 0:
        return 1.0
    return 2.0 * int(np.count_nonzero(a & b)) / total


def points_to_indices(points_lps: ArrayLike, geometry: ImageGeometry, what: str = "point") -> NDArray[np.int64]:
    """Round LPS points ``(n, 3)`` mm to voxel indices ``(n, 3)``, refusing points outside the grid.

    Raises
    ------
    InputError
        If a point lies outside the image.
    """
    pts = np.asarray(points_lps, dtype=float).reshape(-1, 3)
    ijk = np.rint(geometry.lps_to_index(pts)).astype(np.int64)
    inside = geometry.contains_index(ijk)
    if not np.all(inside):
        bad = pts[~inside][0]
        raise InputError(f"{what} {np.round(bad, 2).tolist()} mm (LPS) lies outside the image")
    return ijk
