"""Contrast-enhanced vessels inside an organ (e.g. hepatic vessels in the liver); frame LPS, mm.

Arrays are ``[i, j, k]`` on the volume's grid. The tool is a pure function:

1. the organ's parenchyma level and noise are estimated robustly (median and MAD) from the
   voxels of the region mask (the vessels are a minority of the organ);
2. bone next to the organ (ribs, spine, >= ``bone_hu``) and its partial-volume rim are excluded;
3. hysteresis threshold: candidate voxels ``>= low_hu`` (default ``median + 2.5 MAD-sd``),
   kept only when connected to a voxel ``>= high_hu`` (default ``median + 3.5 sd``) or to a
   seed point;
4. islands smaller than ``min_volume_mm3`` are removed.

:func:`refine_vessels_at_large_vein` then re-divides the vessels and the large vein they drain into and fits
both partial-volume rims to the CT (:mod:`segmentation.tube_split`, :mod:`segmentation.vessel_rim`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike

from segmentation import morphology as morph
from segmentation._common import Mask, check_mask, points_to_indices
from twin.errors import InputError
from twin.progress import Progress, ensure_progress
from twin.volume import Volume


def parenchyma_statistics(volume: Volume, region_mask: ArrayLike) -> tuple[float, float]:
    """Robust level and noise of an organ: ``(median, 1.4826 * MAD)`` of its voxels (HU).

    Raises
    ------
    InputError
        If the region is empty.
    """
    m = check_mask(region_mask, volume.geometry, "region mask")
    vals = np.asarray(volume.array)[m].astype(np.float64)
    if vals.size == 0:
        raise InputError("the region mask is empty: segment the organ first")
    med = float(np.median(vals))
    sd = float(1.4826 * np.median(np.abs(vals - med)))
    return med, max(sd, 1.0)


def segment_vessels(
    volume: Volume,
    region_mask: ArrayLike,
    low_hu: float | None = None,
    high_hu: float | None = None,
    seed_points_lps: ArrayLike | None = None,
    *,
    region_dilation_mm: float = 0.0,
    exclude_mask: ArrayLike | None = None,
    low_sd: float = 2.5,
    high_sd: float = 3.5,
    bone_hu: float = 300.0,
    bone_margin_mm: float = 4.0,
    min_volume_mm3: float = 50.0,
    progress: Progress | None = None,
) -> Mask:
    """Enhanced vessels inside an organ by hysteresis thresholding.

    Parameters
    ----------
    volume : Volume
        Contrast-enhanced CT (HU).
    region_mask : array of bool, (ni, nj, nk)
        The organ (e.g. a grown liver, holes filled so its vessels are inside).
    low_hu, high_hu : float, optional
        Hysteresis thresholds (HU); default ``median + low_sd * sd`` and ``median + high_sd * sd``
        of the region (see :func:`parenchyma_statistics`).
    seed_points_lps : array (n, 3), optional
        Points (mm, LPS) on vessels; their connected candidate voxels are kept too.
    region_dilation_mm : float
        Grow the region by this much (mm) before thresholding (vessels on its border, the portal
        vein at the hilum); the parenchyma statistics still come from the undilated region.
    exclude_mask : array of bool, optional
        Voxels never taken (e.g. the already segmented IVC, aorta and kidneys next to the liver).
    bone_hu, bone_margin_mm : float
        Voxels within ``bone_margin_mm`` of a voxel ``>= bone_hu`` are excluded.
    min_volume_mm3 : float
        Islands smaller than this are removed.
    progress : Progress, optional

    Returns
    -------
    ndarray of bool, (ni, nj, nk)
        The vessel mask.
    """
    p = ensure_progress(progress)
    geom = volume.geometry
    region = check_mask(region_mask, geom, "region mask")
    med, sd = parenchyma_statistics(volume, region)
    low = med + low_sd * sd if low_hu is None else float(low_hu)
    high = med + high_sd * sd if high_hu is None else float(high_hu)
    if high < low:
        raise InputError(f"high threshold {high:.0f} HU is below the low threshold {low:.0f} HU")
    p.update(0.1, f"vessels: thresholds {low:.0f} / {high:.0f} HU (organ {med:.0f} ± {sd:.0f} HU)")
    p.raise_if_cancelled()
    if region_dilation_mm > 0:
        region = morph.dilate(region, geom, region_dilation_mm)
    if exclude_mask is not None:
        region = region & ~check_mask(exclude_mask, geom, "exclude mask")
    arr = np.asarray(volume.array)
    bright = arr >= bone_hu
    if bright.any():
        region = region & ~morph.dilate(bright, geom, bone_margin_mm)
    p.update(0.4, "vessels: hysteresis")
    p.raise_if_cancelled()
    candidate = region & (arr >= low)
    marker = candidate & (arr >= high)
    if seed_points_lps is not None:
        ijk = points_to_indices(seed_points_lps, geom, "vessel seed")
        marker[tuple(ijk.T)] = True
    out = morph.keep_islands_touching(candidate, marker)
    p.update(0.8, "vessels: removing small islands")
    p.raise_if_cancelled()
    out = morph.remove_small_islands(out, geom, min_volume_mm3)
    p.update(1.0, "vessels: done")
    return out


def refine_vessels_at_large_vein(
    volume: Volume,
    vessels: ArrayLike,
    large_vein: ArrayLike,
    organ_region: ArrayLike,
    psf_fwhm_mm: Sequence[float] | None = None,
    *,
    axis: int = 2,
    progress: Progress | None = None,
) -> tuple[Mask, Mask]:
    """Re-divide an organ's vessels and the large vein they join, then fit both rims to the CT.

    The two steps the phantom test runs after growing (what the GUI action / CLI flag should call):

    1. :func:`segmentation.tube_split.split_tube_junction`: where the vessels touch the large vein (e.g. the
       hepatic veins and the IVC), each slice across the vein is divided by the vein's elliptic cross-section
       (RANSAC ellipse fit to the CT's half-way outline);
    2. :func:`segmentation.vessel_rim.fit_enhanced_labels`: every voxel near the vessels and the vein (inside
       ``organ_region | large_vein``) is re-decided as parenchyma / vessel / vein by fitting the blurred labels
       to the CT (scanner PSF, Potts prior, ICM + layer block moves).

    Parameters
    ----------
    volume : Volume
        Contrast-enhanced CT (HU).
    vessels : array of bool, (ni, nj, nk)
        The organ's vessels (e.g. grown + :func:`segment_vessels`).
    large_vein : array of bool, (ni, nj, nk)
        The large vein (e.g. the IVC), roughly along array axis ``axis``.
    organ_region : array of bool, (ni, nj, nk)
        The organ the vessels run in, holes filled (parenchyma + vessels), other structures such as a tumour
        excluded.
    psf_fwhm_mm : 3 floats, optional
        Scanner resolution along i, j, k (mm; in-plane FWHM, slice thickness); default the voxel spacing.
    axis : int
        Array axis the large vein runs along (2: axial slices).
    progress : Progress, optional

    Returns
    -------
    vessels, large_vein : ndarray of bool, (ni, nj, nk)
        Disjoint. Voxels of the inputs in neither are given back to the organ (parenchyma); outside
        ``organ_region | large_vein`` nothing changes.

    Raises
    ------
    InputError
        Masks not on the volume's grid, a bad ``axis`` or PSF.
    """
    from segmentation.tube_split import split_tube_junction
    from segmentation.vessel_rim import fit_enhanced_labels
    from twin.progress import SubProgress

    p = ensure_progress(progress)
    geom = volume.geometry
    ves = check_mask(vessels, geom, "vessel mask")
    vein = check_mask(large_vein, geom, "large vein mask")
    organ = check_mask(organ_region, geom, "organ region")
    p.update(0.0, "vessels: splitting at the large vein")
    vein, ves = split_tube_junction(vein, ves & ~vein, geom, volume, axis=axis)
    p.raise_if_cancelled()
    labels = np.where(ves, 1, np.where(vein, 2, 0)).astype(np.uint8)
    fitted = fit_enhanced_labels(volume, labels, organ | vein, psf_fwhm_mm, progress=SubProgress(p, 0.1, 1.0))
    return fitted == 1, fitted == 2


def vessel_segment_name(organ: str) -> str:
    """Default name of the segment receiving an organ's vessels: ``hepatic_vessels`` for a liver, else
    ``<organ>_vessels``."""
    return "hepatic_vessels" if "liver" in organ.lower() else f"{organ}_vessels"


def vessels_at_large_vein(
    volume: Volume,
    organ: ArrayLike,
    vessels: ArrayLike,
    large_vein: ArrayLike,
    others: ArrayLike,
    psf_fwhm_mm: Sequence[float] | None = None,
    *,
    progress: Progress | None = None,
) -> tuple[Mask, Mask, Mask]:
    """The three segments after :func:`refine_vessels_at_large_vein` on an organ segment (GUI vessel tool,
    ``vht segment --vessels-in ... --large-vein``).

    Parameters
    ----------
    organ, vessels, large_vein : array of bool, (ni, nj, nk)
        The organ segment (parenchyma, e.g. a grown liver), its vessels (e.g. :func:`segment_vessels` in the
        closed organ) and the large vein segment (e.g. the IVC).
    others : array of bool, (ni, nj, nk)
        Every other segment (a tumour...): never part of the fitted region.
    psf_fwhm_mm : 3 floats, optional
        Scanner resolution (mm), see :func:`refine_vessels_at_large_vein`.

    Returns
    -------
    vessels, large_vein, organ : ndarray of bool, (ni, nj, nk)
        Disjoint; the organ gets back the voxels of the inputs that neither vessels nor vein keep.
    """
    geom = volume.geometry
    organ0 = check_mask(organ, geom, "organ mask")
    ves0 = check_mask(vessels, geom, "vessel mask")
    vein0 = check_mask(large_vein, geom, "large vein mask")
    region = morph.fill_holes(organ0 | ves0, "3d") & ~check_mask(others, geom, "other segments")
    ves, vein = refine_vessels_at_large_vein(volume, ves0, vein0, region, psf_fwhm_mm, progress=progress)
    back = (ves0 | vein0) & region & ~ves & ~vein
    return ves, vein, (organ0 | back) & ~ves & ~vein
