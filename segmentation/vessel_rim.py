"""Partial-volume rim of thin enhanced vessels by fitting a blurred vessel mask to the CT; frame LPS, mm.

Arrays are ``[i, j, k]`` on the volume's grid. On 2 mm voxels a 2-4 mm vessel is one or two voxels wide, the
scanner's point-spread function (PSF) spreads its contrast into the parenchyma around it, and the centre of
a thin vessel never reaches the full vessel level: no single threshold (half-way or otherwise) separates
its rim voxels from the parenchyma next to it. This tool instead chooses, near an initial vessel mask,
the vessel/parenchyma labelling that best explains the image under the scanner's forward model
(model-based, maximum a posteriori segmentation):

* image = PSF * (parenchyma level + contrast x vessel mask) + noise, the PSF a Gaussian with the given
  full width at half maximum per axis (in-plane resolution, slice thickness), the noise Gaussian with the
  parenchyma's SD (robust, :func:`segmentation.vessels.parenchyma_statistics`), the contrast the excess of
  the vessel's deep voxels (those >= ``deep_mm`` inside the mask) over the parenchyma, measured within about
  a centimetre of each place (Gaussian-weighted mean; portal and hepatic veins differ);
* prior: a Potts model on the 6 face neighbours (Geman & Geman 1984), each disagreeing pair costing
  ``smoothness`` x 2 SD^2 (a voxel is not taken for one noise spike);
* optimiser: iterated conditional modes (Besag 1986), all voxels at once: the change of the energy when one
  voxel flips is ``-/+ 2 c (PSF * residual)(x) + c^2 |PSF|^2`` plus the prior's change; a voxel flips when
  that lowers the energy and it gains most in its 3x3x3 neighbourhood (neighbours never flip together);
  after convergence, block moves (a one-voxel layer of one label along another changes as a whole, piece by
  piece, where that lowers the energy; cf. the larger moves of Boykov, Veksler & Zabih 2001) leave local
  minima single flips cannot (a thin sliver whose voxels each have more neighbours of the other label), then
  ICM runs again.

:func:`fit_enhanced_labels` does the same for several enhanced structures at once (e.g. the hepatic vessels
and the IVC they drain into: each voxel near them is parenchyma, vessel or IVC, each with its own
contrast), which also re-decides where a vessel running along the IVC ends.

Only voxels of ``region_mask`` whose 6 face neighbours are all in it may change (the model holds there; the
face neighbours carry nearly all of a voxel-wide PSF's reach); voxels outside the region keep their label
and their observed value stands for their true value.
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
        The organ the vessels run in (parenchyma + vessels; other structures such as a tumour excluded).
    psf_fwhm_mm, smoothness, deep_mm, band_mm, progress
        As :func:`fit_enhanced_labels`.
    contrast_hu : float, optional
        Vessel minus parenchyma (HU); default from the vessel's deep voxels.

    Returns
    -------
    ndarray of bool, (ni, nj, nk)
        The vessels; unchanged outside ``region_mask``.
    """
    vessels = check_mask(vessel_mask, volume.geometry, "vessel mask")
    labels = fit_enhanced_labels(volume, vessels.astype(np.uint8), region_mask, psf_fwhm_mm, smoothness=smoothness,
                                 contrasts_hu=None if contrast_hu is None else [contrast_hu], deep_mm=deep_mm,
                                 band_mm=band_mm, progress=progress)
    return labels == 1


def _contrasts(arr: NDArray[np.float32], labels: NDArray[np.uint8], reg: NDArray[np.bool_], n: int, level: float,
               spacing: NDArray[np.float64], deep_mm: float) -> list[float]:
    """Median excess (HU) over the parenchyma of each label's voxels >= ``deep_mm`` inside it (in the region)."""
    out = []
    for v in range(1, n + 1):
        m = labels == v
        deep = m & reg & (ndi.distance_transform_edt(m, sampling=spacing) >= deep_mm)
        if not deep.any():
            raise InputError(f"label {v}: no voxel lies {deep_mm:g} mm deep: give its contrast (HU)")
        out.append(float(np.median(arr[deep])) - level)
    return out


def _local_contrast(arr: NDArray[np.float32], m: NDArray[np.bool_], reg: NDArray[np.bool_],
                    spacing: NDArray[np.float64], deep_mm: float, sigma_mm: float, level: float,
                    global_c: float) -> NDArray[np.float32]:
    """A structure's contrast where it is near: Gaussian-weighted mean (``sigma_mm``) of its deep voxels' values
    minus the parenchyma level, carried to every voxel from the nearest place it is defined; clipped to
    0.5-2x the global contrast."""
    deep = (m & reg & (ndi.distance_transform_edt(m, sampling=spacing) >= deep_mm)).astype(np.float32)
    s = sigma_mm / spacing
    den = ndi.gaussian_filter(deep, s)
    num = ndi.gaussian_filter(arr * deep, s)
    ok = den > 1e-3
    if not ok.any():
        return np.full(arr.shape, global_c, np.float32)
    local = np.where(ok, num / np.maximum(den, 1e-6), 0.0)
    idx = ndi.distance_transform_edt(~ok, return_distances=False, return_indices=True)
    local = local[tuple(idx)] - level
    return np.clip(local, 0.5 * global_c, 2.0 * global_c).astype(np.float32)


def fit_enhanced_labels(
    volume: Volume,
    labels: ArrayLike,
    region_mask: ArrayLike,
    psf_fwhm_mm: Sequence[float] | None = None,
    *,
    smoothness: float = 1.0,
    contrasts_hu: Sequence[float] | None = None,
    deep_mm: float = 2.5,
    band_mm: float = 3.0,
    bone_hu: float = 300.0,
    bone_margin_mm: float = 4.0,
    max_iterations: int = 8,
    local_contrast_mm: float | None = 10.0,
    block_rounds: int = 4,
    block_vox: int = 4,
    model_neighbours: int = 6,
    progress: Progress | None = None,
) -> NDArray[np.uint8]:
    """Re-decide the voxels near enhanced structures in an organ by the best fit of the blurred labels to the CT.

    Parameters
    ----------
    volume : Volume
        Contrast-enhanced CT (HU).
    labels : array of int, (ni, nj, nk)
        0 = parenchyma (or anything else), 1..n = the enhanced structures (e.g. 1 vessels, 2 IVC).
    region_mask : array of bool, (ni, nj, nk)
        The organ and the structures (other structures such as a tumour excluded). Its voxels that are not
        labelled are modelled at the parenchyma level (robust median of them, :func:`parenchyma_statistics`).
    psf_fwhm_mm : 3 floats, optional
        Scanner resolution along i, j, k (mm): in-plane FWHM and slice thickness (the FWHM of the slice
        sensitivity profile). Default: the voxel spacing (reconstructed at about its resolution).
    smoothness : float
        Potts weight, in units of 2 noise variances per disagreeing neighbour pair.
    contrasts_hu : n floats, optional
        Each structure's level minus the parenchyma's (HU); default measured on its deep voxels, within
        ``local_contrast_mm`` of each place (two vessel systems of one label, e.g. portal and hepatic veins,
        may differ by 15 HU), or over the whole structure if ``local_contrast_mm`` is None.
    deep_mm : float
        Depth (mm; centre to the nearest voxel outside) of the voxels a contrast is measured on.
    band_mm : float
        Only voxels within ``band_mm`` of a structure's boundary may change.
    bone_hu, bone_margin_mm : float
        Voxels within ``bone_margin_mm`` of a voxel ``>= bone_hu`` never change (as in
        :func:`segmentation.vessels.segment_vessels`).
    max_iterations : int
        ICM sweeps (stops early when nothing changes).
    local_contrast_mm : float or None
        Gaussian radius (mm) of the local contrast measurement (see ``contrasts_hu``).
    block_rounds : int
        Rounds of layer block moves after ICM has converged (0: ICM only, the fit before 2026-11-28): a
        one-voxel layer of one label touching another changes as a whole, piece by piece (pieces cut by cubes
        of ``block_vox`` voxels), where that lowers the energy, then ICM runs again. Single-voxel flips cannot
        move a sliver whose voxels each have more neighbours of their own label (a vessel grazing the IVC).
    block_vox : int
        Edge (voxels) of the cubes that cut a layer into pieces.
    model_neighbours : {6, 26}
        A voxel may change only when these neighbours (faces / all) are all in the region.
    progress : Progress, optional

    Returns
    -------
    ndarray of uint8, (ni, nj, nk)
        The labels; unchanged outside ``region_mask``.

    Raises
    ------
    InputError
        For a bad PSF or contrast, or a structure without deep voxels (give ``contrasts_hu``).
    """
    p = ensure_progress(progress)
    geom = volume.geometry
    lab_in = np.asarray(labels)
    if lab_in.shape != tuple(geom.shape) or lab_in.dtype.kind not in "biu":
        raise InputError(f"labels must be an integer array of shape {tuple(geom.shape)}")
    lab_full = lab_in.astype(np.uint8)
    region = check_mask(region_mask, geom, "region mask")
    spacing = np.asarray(geom.spacing, float)
    fwhm = spacing if psf_fwhm_mm is None else np.asarray(psf_fwhm_mm, float)
    if model_neighbours not in (6, 26):
        raise InputError(f"model_neighbours must be 6 or 26, not {model_neighbours!r}")
    if block_rounds < 0 or block_vox < 1:
        raise InputError("block_rounds must be >= 0 and block_vox >= 1")
    if fwhm.shape != (3,) or not np.all(np.isfinite(fwhm)) or np.any(fwhm < 0):
        raise InputError(f"psf_fwhm_mm must be three non-negative numbers (mm), not {psf_fwhm_mm!r}")
    n = int(lab_full.max())
    if n == 0 or not (region & (lab_full > 0)).any():
        return lab_full.copy()
    level, sd = parenchyma_statistics(volume, region & (lab_full == 0))
    # work on the region's box with a margin for the PSF
    sigma_vox = fwhm / FWHM_PER_SIGMA / spacing
    margin = np.ceil(3.0 * sigma_vox + band_mm / spacing).astype(int) + 2
    box0 = mask_bbox(region & morph.dilate(lab_full > 0, geom, band_mm), 1)
    box = tuple(slice(max(b.start - m, 0), min(b.stop + m, s_)) for b, m, s_ in zip(box0, margin, lab_full.shape))
    sub = _box_geometry(geom, box)
    arr = np.asarray(volume.array)[box].astype(np.float32)
    reg = region[box]
    lab0 = lab_full[box]
    measured = contrasts_hu is None
    if contrasts_hu is None:
        contrasts_hu = _contrasts(arr, lab0, reg, n, level, spacing, deep_mm)
    if len(contrasts_hu) != n or min(contrasts_hu) <= 0:
        raise InputError(f"need {n} contrasts above the parenchyma (HU), not {list(contrasts_hu)}")
    cmaps = np.zeros((n + 1, *lab0.shape), np.float32)
    for v in range(1, n + 1):
        cmaps[v] = contrasts_hu[v - 1]
        if measured and local_contrast_mm is not None:
            cmaps[v] = _local_contrast(arr, lab0 == v, reg, spacing, deep_mm, local_contrast_mm, level,
                                       float(contrasts_hu[v - 1]))
    cand = np.zeros(reg.shape, bool)
    for v in range(1, n + 1):  # the boundary band of every structure
        m = lab0 == v
        cand |= morph.dilate(m, sub, band_mm) & ~morph.erode(m, sub, band_mm)
    # the model holds where the voxel's neighbours are in the region too (outside it the observed, already
    # blurred value stands for the true one): its 6 face neighbours carry nearly all the PSF's reach for a
    # PSF about a voxel wide; 26 is the stricter choice
    hood = ndi.generate_binary_structure(3, 1) if model_neighbours == 6 else np.ones((3, 3, 3), bool)
    cand &= ndi.binary_erosion(reg, hood)
    bright = arr >= bone_hu  # bone next to the organ (ribs) and its blur: neither vessel nor parenchyma
    if bright.any():
        cand &= ~morph.dilate(bright, sub, bone_margin_mm)
    base = np.where(reg, np.float32(level), arr)  # true image without the structures (observed outside)
    energy = _psf_energy(sigma_vox)
    prior = float(smoothness) * 2.0 * sd * sd
    lab = lab0.copy()
    for rnd in range(block_rounds + 1):
        for it in range(max_iterations):
            p.update(min(0.99, (rnd * max_iterations + it) / ((block_rounds + 1) * max_iterations)),
                     f"enhanced structures: model fit, sweep {it + 1}")
            p.raise_if_cancelled()
            c_now = np.take_along_axis(cmaps, lab[None].astype(np.intp), 0)[0]
            model = ndi.gaussian_filter(base + np.where(reg, c_now, 0), sigma_vox, mode="nearest", truncate=3.0)
            corr = ndi.gaussian_filter(arr - model, sigma_vox, mode="nearest", truncate=3.0)
            same = np.stack([ndi.convolve((lab == v).astype(np.float32), _FACES, mode="constant")
                             for v in range(n + 1)])
            same_now = np.take_along_axis(same, lab[None].astype(np.intp), 0)[0]
            best = np.full(lab.shape, -np.inf, np.float32)
            best_v = lab.copy()
            for v in range(n + 1):  # gain of switching each voxel to label v
                d = cmaps[v] - c_now
                gain = 2.0 * d * corr - d * d * energy + prior * (same[v] - same_now)
                gain = np.where(cand & (lab != v), gain, -np.inf)
                better = gain > best
                best[better] = gain[better]
                best_v[better] = v
            flip = (best > 0) & (best >= ndi.maximum_filter(best, size=3))
            if not flip.any():
                break
            lab[flip] = best_v[flip]
        if rnd == block_rounds or not _layer_moves(lab, arr, base, reg, cmaps, cand, sigma_vox, prior, block_vox):
            break
    out = lab_full.copy()
    out[box] = np.where(reg, lab, lab0)
    p.update(1.0, "enhanced structures: done")
    return out


def _layer_moves(lab: NDArray[np.uint8], arr: NDArray[np.float32], base: NDArray[np.float32], reg: NDArray[np.bool_],
                 cmaps: NDArray[np.float32], cand: NDArray[np.bool_], sigma_vox: NDArray[np.float64], prior: float,
                 block_vox: int) -> bool:
    """Block moves of the fit (in place): a one-voxel layer of label ``a`` touching label ``b`` changes to ``b``
    as a whole, piece by piece (connected pieces cut by cubes of ``block_vox`` voxels, two staggered grids),
    where that lowers the energy. Single-voxel flips (ICM) cannot move a one-voxel-thick sliver whose voxels each
    have more neighbours of their own label; the whole piece pays the prior only on its outline. The energy change
    of a piece is ``sum -2 d (PSF * r) + d (PSF * PSF * d)`` plus the prior's change on its faces to voxels
    outside it; the blur term counts the whole layer's ``d``, so that for a contrast change of one sign the
    estimate of any set of pieces is at least its true change (exact when all change): the moves accepted
    together lower the energy. Returns whether anything changed."""
    n = cmaps.shape[0] - 1
    changed = False
    idx = np.indices(lab.shape)
    for off in (0, block_vox // 2):
        cube = np.zeros(lab.shape, np.int64)
        for ax in range(3):
            cube = cube * (lab.shape[ax] // block_vox + 2) + (idx[ax] + off) // block_vox
        for a in range(n + 1):
            for b in range(n + 1):
                if a == b:
                    continue
                c_now = np.take_along_axis(cmaps, lab[None].astype(np.intp), 0)[0]
                near_b = ndi.convolve((lab == b).astype(np.float32), _FACES, mode="constant") > 0
                layer = cand & (lab == a) & near_b
                if not layer.any():
                    continue
                comp, k = ndi.label(layer, np.ones((3, 3, 3), bool))
                key = np.where(layer, comp.astype(np.int64) * (cube.max() + 1) + cube, 0)
                uniq, pieces = np.unique(key, return_inverse=True)
                pieces = pieces.reshape(lab.shape)
                npieces = len(uniq) - 1  # key 0 = outside the layer
                model = ndi.gaussian_filter(base + np.where(reg, c_now, 0), sigma_vox, mode="nearest", truncate=3.0)
                corr = ndi.gaussian_filter(arr - model, sigma_vox, mode="nearest", truncate=3.0)
                d = np.where(layer, cmaps[b] - cmaps[a], 0).astype(np.float32)
                dd = ndi.gaussian_filter(ndi.gaussian_filter(d, sigma_vox, mode="constant", truncate=3.0), sigma_vox,
                                         mode="constant", truncate=3.0)
                # the prior against every face neighbour outside the piece (its other voxels change with it)
                out_a = ndi.convolve((lab == a).astype(np.float32), _FACES, mode="constant") - _same_piece(pieces)
                out_b = ndi.convolve((lab == b).astype(np.float32), _FACES, mode="constant")
                delta = -2.0 * d * corr + d * dd + prior * (out_a - out_b)
                de = ndi.sum_labels(delta, pieces, index=np.arange(1, npieces + 1))
                good = np.zeros(npieces + 1, bool)
                good[1:] = de < 0
                move = layer & good[pieces]
                if move.any():
                    lab[move] = b
                    changed = True
    return changed


def _same_piece(pieces: NDArray[np.intp]) -> NDArray[np.float32]:
    """Number of face neighbours in the same (non-zero) piece, per voxel."""
    out = np.zeros(pieces.shape, np.float32)
    for ax in range(3):
        lo = [slice(None)] * 3
        hi = [slice(None)] * 3
        lo[ax], hi[ax] = slice(None, -1), slice(1, None)
        same = (pieces[tuple(lo)] == pieces[tuple(hi)]) & (pieces[tuple(lo)] > 0)
        out[tuple(lo)] += same
        out[tuple(hi)] += same
    return out
