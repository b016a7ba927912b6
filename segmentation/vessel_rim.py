"""Partial-volume rim of thin enhanced vessels by fitting a blurred vessel mask to the CT; frame LPS, mm.

Arrays are ``[i, j, k]`` on the volume's grid. On 2 mm voxels a 2-4 mm vessel is one or two voxels wide, the
scanner's point-spread function (PSF) spreads its contrast into the parenchyma around it, and the centre of
a thin vessel never reaches the full vessel level: no single threshold (half-way or otherwise) separates
its rim voxels from the parenchyma next to it. This tool instead chooses, near an initial vessel mask,
the vessel/parenchyma labelling that best explains the image under the scanner's forward model
(model-based, maximum a posteriori segmentation):

* image = PSF * (parenchyma level + contrast x vessel mask) + noise, the PSF a Gaussian with the given
  full width at half maximum per axis (in-plane resolution, slice thickness), the noise Gaussian with the
  parenchyma's SD (robust, :func:`segmentation.vessels.parenchyma_statistics`), the contrast the median
  excess of the vessel's deep voxels (those >= ``deep_mm`` inside the mask) over the parenchyma;
* prior: a Potts model on the 6 face neighbours (Geman & Geman 1984), each disagreeing pair costing
  ``smoothness`` x 2 SD^2 (a voxel is not taken for one noise spike);
* optimiser: iterated conditional modes (Besag 1986), all voxels at once: the change of the energy when one
  voxel flips is ``-/+ 2 c (PSF * residual)(x) + c^2 |PSF|^2`` plus the prior's change; a voxel flips when
  that lowers the energy and it gains most in its 3x3x3 neighbourhood (neighbours never flip together).

Voxels outside ``region_mask`` keep their label and their observed value stands for their true value.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import ndimage as ndi

from segmentation import morphology as morph
from segmentation._common import Mask, check_mask
from segmentation.vessels import parenchyma_statistics
from twin.errors import InputError
from twin.geometry import ImageGeometry
from twin.labelmap import mask_bbox
from twin.progress import Progress, ensure_progress
from twin.volume import Volume

FWHM_PER_SIGMA = 2.0 * np.sqrt(2.0 * np.log(2.0))
_FACES = ndi.generate_binary_structure(3, 1).astype(np.float32)
_FACES[1, 1, 1] = 0.0


def _psf_energy(sigma_vox: NDArray[np.float64]) -> float:
    """Sum of squares of the sampled Gaussian PSF (the energy one voxel's contrast puts into the image)."""
    half = np.maximum(np.ceil(3.0 * sigma_vox).astype(int), 1)
    delta = np.zeros(tuple(2 * half + 1), np.float32)
    delta[tuple(half)] = 1.0
    return float((ndi.gaussian_filter(delta, sigma_vox, truncate=3.0) ** 2).sum())


def _box_geometry(geometry: ImageGeometry, box: tuple[slice, ...]) -> ImageGeometry:
    """Geometry of a sub-box (only its shape and spacing matter to the morphology used here)."""
    return ImageGeometry(tuple(b.stop - b.start for b in box), geometry.spacing)  # type: ignore[arg-type]


def refine_vessel_rim(
    volume: Volume,
    vessel_mask: ArrayLike,
    region_mask: ArrayLike,
    psf_fwhm_mm: Sequence[float] | None = None,
    *,
    smoothness: float = 1.0,
    contrast_hu: float | None = None,
    deep_mm: float = 2.5,
    band_mm: float = 3.0,
    bone_hu: float = 300.0,
    bone_margin_mm: float = 4.0,
    max_iterations: int = 8,
    progress: Progress | None = None,
) -> Mask:
    """Re-decide the voxels near a vessel mask by the best fit of its blurred image to the CT.

    Parameters
    ----------
    volume : Volume
        Contrast-enhanced CT (HU).
    vessel_mask : array of bool, (ni, nj, nk)
        Initial vessels (e.g. grown and/or :func:`segmentation.vessels.segment_vessels`).
    region_mask : array of bool, (ni, nj, nk)
        The organ the vessels run in (parenchyma + vessels, other structures such as a tumour or the
        IVC excluded): the only voxels that may change.
    psf_fwhm_mm : 3 floats, optional
        Scanner resolution along i, j, k (mm): in-plane FWHM and slice thickness (the FWHM of the slice
        sensitivity profile). Default: the voxel spacing (reconstructed at about its resolution).
    smoothness : float
        Potts weight, in units of 2 noise variances per disagreeing neighbour pair.
    contrast_hu : float, optional
        Vessel minus parenchyma (HU); default from the vessel's deep voxels.
    deep_mm, band_mm : float
        Depth (mm) of the voxels the contrast is measured on; only voxels within ``band_mm`` of the initial
        mask may change.
    bone_hu, bone_margin_mm : float
        Voxels within ``bone_margin_mm`` of a voxel ``>= bone_hu`` never change (as in
        :func:`segmentation.vessels.segment_vessels`).
    max_iterations : int
        ICM sweeps (each stops early when nothing flips).
    progress : Progress, optional

    Returns
    -------
    ndarray of bool, (ni, nj, nk)
        The vessels; unchanged outside ``region_mask``.

    Raises
    ------
    InputError
        For a bad PSF, an empty region or a vessel mask without deep voxels (give ``contrast_hu``).
    """
    p = ensure_progress(progress)
    geom = volume.geometry
    vessels = check_mask(vessel_mask, geom, "vessel mask")
    region = check_mask(region_mask, geom, "region mask")
    spacing = np.asarray(geom.spacing, float)
    fwhm = spacing if psf_fwhm_mm is None else np.asarray(psf_fwhm_mm, float)
    if fwhm.shape != (3,) or not np.all(np.isfinite(fwhm)) or np.any(fwhm < 0):
        raise InputError(f"psf_fwhm_mm must be three non-negative numbers (mm), not {psf_fwhm_mm!r}")
    if not (region & vessels).any():
        return vessels.copy()
    level, sd = parenchyma_statistics(volume, region & ~vessels)
    # work on the region's box with a margin for the PSF
    sigma_vox = fwhm / FWHM_PER_SIGMA / spacing
    margin = np.ceil(3.0 * sigma_vox + band_mm / spacing).astype(int) + 2
    box0 = mask_bbox(region & morph.dilate(vessels, geom, band_mm), 1)
    box = tuple(slice(max(b.start - m, 0), min(b.stop + m, n)) for b, m, n in zip(box0, margin, vessels.shape))
    arr = np.asarray(volume.array)[box].astype(np.float32)
    reg = region[box]
    v0 = vessels[box]
    if contrast_hu is None:  # depth: distance (mm) from a voxel centre to the nearest non-vessel voxel centre
        deep = ndi.distance_transform_edt(v0, sampling=spacing) >= deep_mm
        if not (deep & reg).any():
            raise InputError(f"no vessel voxel lies {deep_mm:g} mm deep: give the vessel contrast (HU)")
        contrast_hu = float(np.median(arr[deep & reg])) - level
    c = float(contrast_hu)
    if c <= 0:
        raise InputError(f"vessel contrast {c:.0f} HU is not above the parenchyma")
    cand = reg & morph.dilate(vessels, geom, band_mm)[box]
    bright = arr >= bone_hu  # bone next to the organ (ribs) and its blur: neither vessel nor parenchyma
    if bright.any():
        cand &= ~morph.dilate(bright, _box_geometry(geom, box), bone_margin_mm)
    base = np.where(reg, np.float32(level), arr)  # true image without the region's vessels (observed outside)
    energy = _psf_energy(sigma_vox)
    prior = float(smoothness) * 2.0 * sd * sd
    v = v0 & reg
    outside_vessel = v0 & ~reg
    for it in range(max_iterations):
        p.update(it / max_iterations, f"vessel rim: model fit, sweep {it + 1}")
        p.raise_if_cancelled()
        model = ndi.gaussian_filter(base + np.float32(c) * v, sigma_vox, mode="nearest", truncate=3.0)
        corr = ndi.gaussian_filter(arr - model, sigma_vox, mode="nearest", truncate=3.0)
        sign = np.where(v, np.float32(-1.0), np.float32(1.0))
        gain = sign * 2.0 * c * corr - c * c * energy
        same = ndi.convolve((v | outside_vessel).astype(np.float32), _FACES, mode="constant")
        gain += sign * prior * (2.0 * same - 6.0)
        gain = np.where(cand, gain, -np.inf)
        flip = (gain > 0) & (gain >= ndi.maximum_filter(gain, size=3))
        if not flip.any():
            break
        v ^= flip
    out = vessels.copy()
    out[box] = (v0 & ~reg) | v
    p.update(1.0, "vessel rim: done")
    return out
