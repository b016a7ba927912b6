"""Slice-stack geometry of a DICOM series: sorting, regularity checks, regularisation.

Frame: patient LPS, millimetres (DICOM's patient coordinate system is LPS).

A DICOM series is a stack of 2-D planes, each with its own ``ImagePositionPatient``
(LPS mm of the centre of its first pixel) and ``ImageOrientationPatient`` (row and
column unit vectors). A :class:`twin.volume.Volume` needs one regular, orthogonal
grid. :func:`plan_stack` sorts the planes along the slice normal and measures how far
they are from such a grid:

* **regular** -- every plane lies within ``tol_mm`` of ``origin + k * spacing * normal``:
  the planes are used as they are;
* **irregular spacing** -- different gaps between planes (or missing slices);
* **tilted / sheared** -- planes shifted within their own plane from one slice to the
  next (CT gantry tilt): the stack is a parallelepiped, not a box.

Irregular or tilted stacks are resampled by :func:`regularise_stack` onto a regular
box grid (linear interpolation between the two neighbouring planes, bilinear within a
plane), and the reader stores a warning saying so. Nothing is silently distorted.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from twin.progress import Progress, ensure_progress

DEFAULT_TOL_MM = 0.01
"""Largest deviation (mm) of a plane from the regular grid that is always treated as rounding noise."""

REL_TOL = 0.02
"""... and as a fraction of the slice (or pixel) spacing, when that is larger."""


@dataclass
class StackPlan:
    """How the planes of a series map onto a regular grid (all positions LPS mm).

    Attributes
    ----------
    order : ndarray of int, (n,)
        Plane indices sorted along the normal (ascending).
    row, col, normal : ndarray, (3,)
        Unit vectors of the i axis (along a row), j axis (down a column) and k axis.
    pixel_spacing : ndarray, (2,)
        Spacing along i and j (mm).
    positions_mm : ndarray, (n, 3)
        ``ImagePositionPatient`` of the sorted planes.
    normal_mm : ndarray, (n,)
        Position of each sorted plane along the normal.
    inplane_mm : ndarray, (n, 2)
        In-plane (row, col) offset of each sorted plane from the first one.
    regular : bool
        True when the planes already form a regular box grid.
    slice_spacing : float
        Spacing along k of the output grid (mm).
    n_out : int
        Number of output slices.
    origin : ndarray, (3,)
        LPS mm of output voxel (0, 0, 0).
    pad_ij : tuple of int
        Extra voxels before (i, j) added to cover tilted planes (0 when regular).
    out_shape_ij : tuple of int
        Output in-plane size (ni, nj).
    warnings : list of str
        What was detected and done, for ``Volume.metadata["warnings"]``.
    """

    order: NDArray[np.int64]
    row: NDArray[np.float64]
    col: NDArray[np.float64]
    normal: NDArray[np.float64]
    pixel_spacing: NDArray[np.float64]
    positions_mm: NDArray[np.float64]
    normal_mm: NDArray[np.float64]
    inplane_mm: NDArray[np.float64]
    regular: bool
    slice_spacing: float
    n_out: int
    origin: NDArray[np.float64]
    pad_ij: tuple[int, int] = (0, 0)
    out_shape_ij: tuple[int, int] = (0, 0)
    warnings: list[str] = field(default_factory=list)
    tilt_deg: float = 0.0
    irregular: bool = False

    @property
    def direction(self) -> NDArray[np.float64]:
        """3x3 direction matrix, columns = i, j, k unit vectors in LPS."""
        return np.column_stack([self.row, self.col, self.normal])

    @property
    def spacing(self) -> NDArray[np.float64]:
        """Output spacing (i, j, k) in mm."""
        return np.array([self.pixel_spacing[0], self.pixel_spacing[1], self.slice_spacing])


def orientation_axes(iop: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Row, column and normal unit vectors from a 6-value ``ImageOrientationPatient``.

    The two vectors are re-orthonormalised (scanners round them to ~6 digits).

    Raises
    ------
    ValueError
        If the vectors are degenerate or far from perpendicular.
    """
    v = np.asarray(iop, dtype=np.float64).reshape(2, 3)
    n0, n1 = np.linalg.norm(v, axis=1)
    if n0 < 0.5 or n1 < 0.5 or not np.isfinite([n0, n1]).all():
        raise ValueError(f"ImageOrientationPatient {v.reshape(-1).tolist()} is not two unit vectors")
    row = v[0] / n0
    col = v[1] / n1
    if abs(float(row @ col)) > 1e-3:
        raise ValueError(f"ImageOrientationPatient row and column are not perpendicular ({v.reshape(-1).tolist()})")
    col = col - (row @ col) * row
    col /= np.linalg.norm(col)
    normal = np.cross(row, col)
    return row, col, normal


def plan_stack(
    positions_mm: NDArray[np.float64],
    iop: NDArray[np.float64],
    pixel_spacing: NDArray[np.float64],
    shape_ij: tuple[int, int],
    nominal_spacing: float | None = None,
    tol_mm: float = DEFAULT_TOL_MM,
) -> StackPlan:
    """Sort planes along their normal and decide how to build a regular grid.

    Parameters
    ----------
    positions_mm : ndarray, (n, 3)
        ``ImagePositionPatient`` of every plane (LPS mm), any order.
    iop : ndarray, (6,)
        Common ``ImageOrientationPatient``.
    pixel_spacing : ndarray, (2,)
        Spacing along i (between columns) and j (between rows), mm.
    shape_ij : tuple of int
        Plane size (columns, rows).
    nominal_spacing : float, optional
        Slice spacing for a single plane (``SpacingBetweenSlices`` or ``SliceThickness``).
    tol_mm : float
        Deviation treated as rounding noise.

    Raises
    ------
    ValueError
        Two planes at the same position (the caller turns it into an InputError).
    """
    pos = np.asarray(positions_mm, dtype=np.float64).reshape(-1, 3)
    row, col, normal = orientation_axes(iop)
    sp = np.asarray(pixel_spacing, dtype=np.float64)
    t = pos @ normal
    order = np.argsort(t, kind="stable")
    pos = pos[order]
    t = t[order]
    rel = pos - pos[0]
    inplane = np.column_stack([rel @ row, rel @ col])
    n = len(t)
    warnings: list[str] = []
    if n == 1:
        dz = float(nominal_spacing) if nominal_spacing and nominal_spacing > 0 else 1.0
        return StackPlan(order, row, col, normal, sp, pos, t, inplane, True, dz, 1, pos[0].copy(),
                         (0, 0), (int(shape_ij[0]), int(shape_ij[1])), warnings)
    gaps = np.diff(t)
    if np.any(gaps < max(tol_mm, 1e-6)):
        k = int(np.argmin(gaps))
        raise ValueError(
            f"two images lie at the same slice position ({t[k]:.3f} mm along the normal); "
            "the series may hold several volumes (echoes, time points) or duplicate files"
        )
    # regular spacing: planes within tol of a straight, evenly spaced line along the normal
    extent = float(t[-1] - t[0])
    even = t[0] + np.arange(n) * extent / (n - 1)
    # positions written with few decimals jitter a little: tolerate 2% of the spacing (>= tol_mm)
    deviation = float(np.max(np.abs(t - even)))
    irregular = deviation > max(tol_mm, REL_TOL * extent / (n - 1))
    shift = np.linalg.norm(inplane, axis=1)
    tilted = bool(np.max(shift) > max(tol_mm, REL_TOL * float(np.min(sp))))
    tilt_deg = float(np.degrees(np.arctan2(float(np.max(shift)), extent))) if tilted else 0.0
    if not irregular and not tilted:
        dz = extent / (n - 1)
        return StackPlan(order, row, col, normal, sp, pos, t, inplane, True, dz, n, pos[0].copy(),
                         (0, 0), (int(shape_ij[0]), int(shape_ij[1])), warnings)
    # regular target grid: median gap along the normal, in-plane box covering every plane
    step = float(np.median(gaps))
    n_out = int(round(extent / step)) + 1
    dz = extent / (n_out - 1)
    u_lo = np.floor(np.min(inplane[:, 0]) / sp[0] + 1e-6)
    v_lo = np.floor(np.min(inplane[:, 1]) / sp[1] + 1e-6)
    u_hi = np.ceil(np.max(inplane[:, 0]) / sp[0] - 1e-6) + shape_ij[0] - 1
    v_hi = np.ceil(np.max(inplane[:, 1]) / sp[1] - 1e-6) + shape_ij[1] - 1
    out_ij = (int(u_hi - u_lo) + 1, int(v_hi - v_lo) + 1)
    origin = pos[0] + u_lo * sp[0] * row + v_lo * sp[1] * col
    if irregular:
        big = float(np.max(gaps))
        warnings.append(
            f"irregular slice spacing (gaps {float(np.min(gaps)):.4g} to {big:.4g} mm"
            + (f", missing slices: largest gap {big:.4g} mm" if big > 1.5 * step else "")
            + f", positions up to {deviation:.3g} mm off an even grid"
            + f"); resampled by linear interpolation onto {n_out} slices {dz:.4g} mm apart"
        )
    if tilted:
        warnings.append(
            f"gantry tilt / sheared stack ({tilt_deg:.2f} deg, planes shifted up to {float(np.max(shift)):.3g} mm "
            f"in-plane); resampled onto an orthogonal grid of {out_ij[0]}x{out_ij[1]}x{n_out} voxels"
        )
    return StackPlan(order, row, col, normal, sp, pos, t, inplane, False, dz, n_out, origin,
                     (int(-u_lo), int(-v_lo)), out_ij, warnings, tilt_deg, irregular)


def _snap(offset: float) -> float:
    """Round pixel offsets that are integers up to floating-point noise (edge pixels stay inside)."""
    return float(round(offset)) if abs(offset - round(offset)) < 1e-6 else float(offset)


def regularise_stack(
    slices_kji: NDArray[np.generic],
    plan: StackPlan,
    fill: float,
    progress: Progress | None = None,
) -> NDArray[np.generic]:
    """Resample sorted planes onto the plan's regular grid.

    Parameters
    ----------
    slices_kji : ndarray, (n, rows, cols)
        Planes in sorted order (``plan.order`` already applied), indexed ``[k, j, i]``.
    plan : StackPlan
        From :func:`plan_stack`, with ``regular == False``.
    fill : float
        Value for output voxels no plane covers (e.g. the volume minimum).

    Returns
    -------
    ndarray, (n_out, nj, ni)
        Same dtype as the input (integers rounded).
    """
    from scipy import ndimage

    prog = ensure_progress(progress)
    n_src = slices_kji.shape[0]
    ni, nj = plan.out_shape_ij
    out = np.empty((plan.n_out, nj, ni), dtype=slices_kji.dtype)
    t_out = plan.normal_mm[0] + np.arange(plan.n_out) * plan.slice_spacing
    sp = plan.pixel_spacing
    origin_uv = np.array([-plan.pad_ij[0] * sp[0], -plan.pad_ij[1] * sp[1]])
    cache: dict[int, NDArray[np.float32]] = {}

    def aligned(k: int) -> NDArray[np.float32]:
        """Source plane k resampled onto the output in-plane grid."""
        if k not in cache:
            if len(cache) > 2:
                cache.pop(min(cache))
            src = slices_kji[k].astype(np.float32)
            offset_j = _snap((origin_uv[1] - plan.inplane_mm[k, 1]) / sp[1])
            offset_i = _snap((origin_uv[0] - plan.inplane_mm[k, 0]) / sp[0])
            if (abs(offset_i - round(offset_i)) < 1e-6 and abs(offset_j - round(offset_j)) < 1e-6
                    and round(offset_i) == 0 and round(offset_j) == 0 and src.shape == (nj, ni)):
                cache[k] = src
            else:
                cache[k] = ndimage.affine_transform(
                    src, np.ones(2), offset=(offset_j, offset_i), output_shape=(nj, ni),
                    order=1, mode="constant", cval=float(fill),
                )
        return cache[k]

    for c, t in enumerate(t_out):
        k = int(np.clip(np.searchsorted(plan.normal_mm, t, side="right") - 1, 0, n_src - 2))
        t0, t1 = plan.normal_mm[k], plan.normal_mm[k + 1]
        w = float(np.clip((t - t0) / (t1 - t0), 0.0, 1.0))
        if w < 1e-6:
            plane = aligned(k)
        elif w > 1 - 1e-6:
            plane = aligned(k + 1)
        else:
            plane = (1.0 - w) * aligned(k) + w * aligned(k + 1)
        if out.dtype.kind in "iu":
            info = np.iinfo(out.dtype)
            out[c] = np.clip(np.rint(plane), info.min, info.max)
        else:
            out[c] = plane
        if c % 16 == 0:
            prog.update(c / plan.n_out, "resampling onto a regular grid")
    return out
