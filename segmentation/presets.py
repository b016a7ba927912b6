"""Automatic CT presets that need no clicks: body, bone, lungs, fat, muscle (frame LPS, ``[i, j, k]``).

Each preset is a pure function ``preset(volume, progress=None) -> mask``.
Intensities are Hounsfield units; every length is in mm so the presets behave
the same on 0.7 mm and 3 mm scans.

Bone (verified against TotalSegmentator on ``totalseg_example``, see tests):
hysteresis thresholding (voxels >= 110 HU connected to voxels >= 200 HU, inside
the body) followed by slice-wise hole filling (which also fills 3-D cavities) along the
three axes, repeated twice. Marrow of elderly patients is fatty (-50..100 HU)
and partial-volume cortex at 3 mm is often below 200 HU; plain thresholding
scores Dice ~0.70 against the reference, this pipeline ~0.90.

Memory (issue 3: peak <= 3x the CT's size): the presets work in place on boolean masks,
free what they no longer need, crop to the body's bounding box and hand masks to ITK
one at a time; the contrast path of the bone preset smooths the CT slab by slab with a halo
(bit-identical to smoothing it whole); ``benchmarks/bench_segmentation.py`` measures each preset's peak.

On a contrast-enhanced CT (detected by :func:`contrast_enhanced`: a thick blob of 130-260 HU
tissue away from dense bone, i.e. enhanced blood pool / kidneys) the 110 HU hysteresis would take
in enhanced organs touching the skeleton, so bone is instead the smoothed >= 230 HU tissue
connected to >= 400 HU cortex, without hole filling (the generated phantom: Dice 0.52 -> 0.96).
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
from numpy.typing import NDArray

from segmentation import morphology as morph
from segmentation._common import Mask, mask_to_sitk, sitk_to_mask
from twin.errors import InputError
from twin.geometry import ImageGeometry
from twin.labelmap import mask_bbox
from twin.progress import Progress, SubProgress, ensure_progress
from twin.volume import Volume

PRESETS = ("body", "bone", "lungs", "fat", "muscle")

BONE_LOW_HU = 110.0
"""Lower hysteresis bound of the bone preset (partial-volume cortex, dense marrow)."""
BONE_HIGH_HU = 200.0
"""Every bone component must contain a voxel at least this dense."""
CONTRAST_BONE_HU = 230.0
"""Bone threshold (smoothed HU) on contrast-enhanced CT: above enhanced blood (~150-220 HU)."""
CORTEX_HU = 400.0
"""Every bone component of a contrast-enhanced CT must contain a voxel at least this dense."""
BODY_HU = -300.0
"""Tissue denser than this is body (air and lung are below)."""


def _check_ct(volume: Volume, preset: str) -> None:
    if volume.array.size == 0:
        raise InputError("the image is empty")
    if volume.modality not in ("CT", "OT", "") and volume.units != "HU":
        raise InputError(f"the {preset} preset needs a CT in Hounsfield units (this image is {volume.modality})")


def body(volume: Volume, progress: Progress | None = None, table_gap_mm: float = 3.0, fill: bool = True) -> Mask:
    """The patient's body: tissue denser than -300 HU, without the table, air around and cables.

    The table touches the body only through thin contacts; an opening by ``table_gap_mm``
    cuts them, the largest component (the core) is kept, restored to its unopened extent, and
    internal air (lungs, bowel gas) is filled slice by slice.
    """
    import SimpleITK as sitk

    _check_ct(volume, "body")
    p = ensure_progress(progress)
    g = volume.geometry
    p.update(0.0, "body: threshold")
    dense = np.greater(volume.array, BODY_HU)
    if not dense.any():
        return dense
    p.raise_if_cancelled()
    p.update(0.2, "body: cut the table")
    # the opening that cuts the table runs on a grid subsampled to about table_gap_mm:
    # a thin contact is cut just the same, at a fraction of the cost on fine CTs
    step = np.maximum(np.floor(table_gap_mm / g.spacing), 1).astype(int)
    coarse = dense[::step[0], ::step[1], ::step[2]]
    cg = ImageGeometry(coarse.shape, g.spacing * step, g.origin, g.direction)  # type: ignore[arg-type]
    core = morph.erode(coarse, cg, table_gap_mm)
    core = morph.keep_largest(core) if core.any() else morph.keep_largest(coarse)
    p.raise_if_cancelled()
    p.update(0.5, "body: restore")
    near = morph.dilate(core, cg, table_gap_mm + float(cg.spacing.max()))
    # a voxel of the core (in its fullest k slice), a sample of ``dense`` inside the body
    k_seed = int(np.argmax(core.sum(axis=(0, 1))))
    ij = np.argwhere(core[:, :, k_seed])
    seed_ijk = np.array([*ij[len(ij) // 2], k_seed]) * step
    del core
    restored = dense  # in place: no second full-size mask
    ni, nj, nk = g.shape
    for kc in range(near.shape[2]):  # upsample one coarse slice at a time (no full-size temporary)
        plane = np.repeat(np.repeat(near[:, :, kc], step[0], 0), step[1], 1)[:ni, :nj, None]
        block = restored[:, :, kc * step[2] : min((kc + 1) * step[2], nk)]
        np.logical_and(block, plane, out=block)
    del near, dense
    if not fill:  # callers that only need the table removed (bone) stop here
        p.update(1.0, "body")
        return restored
    # the body is the component of the core (= the largest one, found without labelling the CT)
    marker = sitk.Image([int(n) for n in g.shape], sitk.sitkUInt8)
    marker.SetPixel([int(v) for v in seed_ijk], 1)
    rec = morph.reconstruct(marker, mask_to_sitk(restored, ImageGeometry(g.shape)))  # type: ignore[arg-type]
    del marker
    sitk_to_mask(rec, out=restored)
    del rec
    p.update(0.7, "body: fill")
    filled = morph.fill_holes(restored, "slice", axes=(2,))  # also fills every 3-D cavity
    p.update(1.0, "body")
    return filled


def contrast_enhanced(volume: Volume, body_mask: Mask | None = None, min_volume_ml: float = 5.0) -> bool:
    """Whether a CT shows iodinated contrast in blood or organs.

    Enhanced blood and parenchyma (aorta, kidneys) form thick regions of 130-260 HU; on a
    non-contrast CT only bone reaches that range. Tissue of 130-260 HU (Gaussian 1.5 mm) farther
    than 5 mm from any >= 400 HU voxel is eroded by 6 mm (on a ~3 mm grid); more than ``min_volume_ml`` left means
    contrast (measured: 1-2 mL on the non-contrast TotalSegmentator example, 20-40 mL on the
    contrast-enhanced phantom).
    """
    from scipy import ndimage as ndi

    g = volume.geometry
    if body_mask is None:
        body_mask = body(volume, fill=False)
    # on a grid of about 3 mm (cheap on fine CTs); a 3-voxel mean stands in for the smoothing
    step = np.maximum(np.floor(3.0 / g.spacing), 1).astype(int)
    sub = tuple(slice(None, None, int(s)) for s in step)
    inside = body_mask[sub]
    # the body's box, grown by more than the 5 mm cortex margin: the same result on fewer voxels
    box = mask_bbox(inside, margin=int(np.ceil(5.0 / (g.spacing * step).min())) + 2)
    if box is None:
        return False
    a = volume.array[sub][box]  # a view: on coarse CTs (>= 1.5 mm) the grid is the CT's own
    inside = inside[box]
    cg = ImageGeometry(a.shape, g.spacing * step, g.origin, g.direction)  # type: ignore[arg-type]
    sm = ndi.uniform_filter(a, 3, output=np.int16 if a.dtype == np.int16 else np.float32, mode="nearest")
    blob = np.greater_equal(sm, 130)
    blob &= sm <= 260
    del sm
    blob &= inside
    del inside
    if not blob.any():
        return False
    near_cortex = morph.dilate(np.greater_equal(a, CORTEX_HU), cg, 5.0)
    np.logical_not(near_cortex, out=near_cortex)
    blob &= near_cortex
    del near_cortex
    blob = morph.erode(blob, cg, 6.0)
    return bool(blob.sum() * cg.voxel_volume_mm3 >= min_volume_ml * 1000.0)


def bone(volume: Volume, progress: Progress | None = None, low_hu: float = BONE_LOW_HU,
         high_hu: float = BONE_HIGH_HU, body_mask: Mask | None = None, passes: int = 2,
         contrast: bool | None = None) -> Mask:
    """Bone (cortex and marrow) by hysteresis thresholding and hole filling.

    Parameters
    ----------
    low_hu, high_hu : float
        Components of ``>= low_hu`` voxels are kept if they contain a ``>= high_hu`` voxel.
    body_mask : ndarray of bool, optional
        Restrict to the body (computed with :func:`body` when omitted) so that the table is excluded.
    passes : int
        Rounds of slice-wise hole filling along the three axes (2 closes marrow that one round
        leaves open where cortex is thin; 1 is faster).
    contrast : bool, optional
        Contrast-enhanced CT (auto-detected by :func:`contrast_enhanced` when None): bone is then
        tissue >= 230 HU (Gaussian 1 mm) connected to >= 400 HU cortex, plus the >= 230 HU rim
        within 2 mm; ``low_hu``, ``high_hu`` and ``passes`` are not used.
    """
    _check_ct(volume, "bone")
    p = ensure_progress(progress)
    if body_mask is None:
        body_mask = body(volume, SubProgress(p, 0.0, 0.4, "bone: "), fill=False)
    if contrast is None:
        p.update(0.4, "bone: contrast?")
        contrast = contrast_enhanced(volume, body_mask)
    if contrast:
        p.update(0.5, "bone: dense tissue (contrast CT)")
        dense = np.greater_equal(volume.array, CONTRAST_BONE_HU)
        dense &= body_mask
        del body_mask  # freed here when computed above: the contrast path never needs it again
        box = mask_bbox(dense, margin=1)  # + 1 voxel: every neighbour the edge test reads
        if box is None:
            return dense
        sub = np.asfortranarray(dense[box])  # ITK memory order: masks go to ITK without a conversion copy
        del dense
        return _bone_contrast(volume, sub, box, p)
    p.update(0.4, "bone: hysteresis")
    box = mask_bbox(body_mask)
    if box is None:
        return np.zeros(volume.shape, bool, order="F")
    # hysteresis on the body's box, built for memory: the seed and candidate masks share one
    # numpy buffer and go to ITK one at a time (the body mask is freed before ITK works)
    a = volume.array[box]
    inside = np.asarray(body_mask)[box]
    del body_mask
    geom = ImageGeometry(a.shape)  # type: ignore[arg-type]
    mask = np.greater_equal(a, high_hu)
    mask &= inside
    if not mask.any():
        return np.zeros(volume.shape, bool, order="F")
    marker = mask_to_sitk(mask, geom)
    np.greater_equal(a, low_hu, out=mask)
    mask &= inside
    del inside
    candidates = mask_to_sitk(mask, geom)
    rec = morph.reconstruct(marker, candidates)
    del marker, candidates
    mask = sitk_to_mask(rec, out=mask)
    del rec
    p.raise_if_cancelled()
    p.update(0.6, "bone: fill marrow")
    # (a 3-D cavity is a hole in every slice through it, so slice-wise filling covers 3-D filling)
    for _ in range(passes):
        p.raise_if_cancelled()
        mask = morph.fill_holes(mask, "slice", axes=(0, 1, 2))
    out = np.zeros(volume.shape, bool, order="F")
    out[box] = mask
    p.update(1.0, "bone")
    return out


def _bone_contrast(volume: Volume, dense: Mask, box: tuple[slice, slice, slice], p: Progress) -> Mask:
    """Bone on a contrast-enhanced CT: dense tissue above enhanced blood, tied to cortex.

    ``dense`` is the mask of body voxels >= :data:`CONTRAST_BONE_HU` on ``box`` (their bounding
    box grown by one voxel, so that every neighbour the edge test reads is inside). Bone is

    1. core: components of ``dense & (Gaussian 1 mm >= 230 HU)`` holding a >= 400 HU voxel;
    2. rim: components of ``dense & (core dilated by 2 mm)`` touching the core;
    3. minus the partial-volume edge (:func:`_trim_partial_volume_edge`), then only the components
       still holding a >= 400 HU voxel.

    Memory (issue 3): everything runs on the box, the smoothing is thresholded slab by slab
    (:func:`_smoothed_at_least`, no full-size float image) and the masks go to ITK one at a time.
    """
    g = volume.geometry
    geom = morph._sub_geometry(g, box)
    a = volume.array[box]  # a view
    work = np.zeros(dense.shape, bool, order="F")
    _smoothed_at_least(volume, 1.0, CONTRAST_BONE_HU, box, out=work)
    work &= dense  # candidates of the core
    cand_img = mask_to_sitk(work, geom)
    for lo in range(0, a.shape[2], 16):  # the cortex inside the candidates (the marker), no full temporary
        work[:, :, lo:lo + 16] &= a[:, :, lo:lo + 16] >= CORTEX_HU
    rec = morph.reconstruct(mask_to_sitk(work, geom), cand_img)
    del cand_img
    core = sitk_to_mask(rec, out=work)
    del rec, work
    p.raise_if_cancelled()
    p.update(0.8, "bone: rim")
    rim = morph.dilate(core, geom, 2.0)
    rim &= dense
    del dense
    rec = morph.reconstruct(mask_to_sitk(core, geom), mask_to_sitk(rim, geom))
    del core
    mask = sitk_to_mask(rec, out=rim)
    del rec, rim
    p.raise_if_cancelled()
    p.update(0.9, "bone: partial-volume edge")
    _trim_partial_volume_edge(a, mask)
    cortex = np.greater_equal(a, CORTEX_HU, out=np.empty(mask.shape, bool, order="F"))
    cortex &= mask  # = the cortex of ``dense`` inside the mask
    out = np.zeros(volume.shape, bool, order="F")
    if cortex.any():
        rec = morph.reconstruct(mask_to_sitk(cortex, geom), mask_to_sitk(mask, geom))
        del cortex, mask
        sitk_to_mask(rec, out=out[box])
    p.update(1.0, "bone")
    return out


SMOOTH_HALO_SIGMAS = 16.0
"""Halo (in Gaussian sigmas, per side, plus 4 voxels) of the slabs :func:`_smoothed_slabs` smooths.
ITK's recursive (Deriche) Gaussian reaches every voxel of a line with exponentially decaying
weights; measured against smoothing the whole CT: 10 sigmas still leave 1-ulp float32 differences
(TotalSegmentator example at 0.7 mm, synthetic CT), 12 a few, 16 and more none (bit for bit on the
phantom, the real CT at 3 and 0.7 mm and the synthetic CT; tests/segmentation/test_presets_memory.py)."""

SMOOTH_SLAB_VOXELS = 1 << 23
"""At most this many voxels in a slab :func:`_smoothed_slabs` smooths at once, halo excluded (and at
most 1/16 of the CT, at least 256k voxels): 8M is 32 MB of float32, each of ITK's float images of a
slab with its halo about 0.2x a 512x512x400 int16 CT. Measured peak RSS of the bone preset's
contrast path on a 256x256x200 CT: 4.4x the CT with 8M-voxel slabs, 2.1x with 1/16 of the CT."""


def _smoothed_at_least(volume: Volume, sigma_mm: float, level: float, box: tuple[slice, slice, slice],
                       out: Mask, slab_voxels: int | None = None) -> None:
    """``out = (Gaussian(volume, sigma_mm) >= level)[box]``, the Gaussian of the whole CT (ITK recursive).

    The same values as smoothing the whole volume in float32 (``segmentation.grow._smooth``),
    computed by :func:`_smoothed_slabs`: a float32 image of about ``slab_voxels`` voxels at a time
    instead of the whole CT (4 bytes a voxel, 2x an int16 CT).
    """
    k0 = box[2].start
    for lo, hi, values in _smoothed_slabs(volume, sigma_mm, box, slab_voxels):
        np.greater_equal(values, level, out=out[:, :, lo - k0:hi - k0])


def _smoothed_slabs(volume: Volume, sigma_mm: float, box: tuple[slice, slice, slice],
                    slab_voxels: int | None = None) -> Iterator[tuple[int, int, NDArray[np.float32]]]:
    """Yield ``(k_lo, k_hi, values)``: the CT smoothed by ITK's recursive Gaussian on ``box[:2] x [k_lo, k_hi)``.

    Each slab along ``k`` is smoothed with :data:`SMOOTH_HALO_SIGMAS` sigmas of the CT around it
    (clipped at the volume's faces, where the filter's own boundary condition applies as on the
    whole volume), so ``values`` (float32 ``[i, j, k]``, a view valid until the next step) equal
    ``segmentation.grow._smooth(volume, sigma_mm)[box]`` on that range.
    """
    import SimpleITK as sitk

    a = volume.array
    sp = volume.geometry.spacing
    shape = a.shape
    if slab_voxels is None:  # 1/16 of the CT: the float images stay small next to it on small CTs too
        slab_voxels = min(SMOOTH_SLAB_VOXELS, max(a.size // 16, 1 << 18))
    k0, k1 = box[2].start, box[2].stop
    if not (sigma_mm > 0 and min(shape) >= 4):  # as ``_smooth``: no smoothing of tiny images
        yield k0, k1, a[box].astype(np.float32)  # (a small image: one slab)
        return
    halo = np.ceil(SMOOTH_HALO_SIGMAS * sigma_mm / sp).astype(int) + 4  # >= 4: ITK needs 4 voxels a line
    ij = tuple(slice(max(s.start - int(h), 0), min(s.stop + int(h), n)) for s, h, n in zip(box[:2], halo, shape))
    inner = tuple(slice(s.start - t.start, s.stop - t.start) for s, t in zip(box[:2], ij))
    plane = (ij[0].stop - ij[0].start) * (ij[1].stop - ij[1].start)
    hk = int(halo[2])
    step = max(slab_voxels // max(plane, 1), 2 * hk, 1)  # the halo adds at most the slab's own size
    for lo in range(k0, k1, step):
        hi = min(lo + step, k1)
        ka, kb = max(lo - hk, 0), min(hi + hk, shape[2])
        img = sitk.GetImageFromArray(np.ascontiguousarray(a[ij[0], ij[1], ka:kb].transpose(2, 1, 0)))
        img.SetSpacing([float(s) for s in sp])
        img = sitk.SmoothingRecursiveGaussian(sitk.Cast(img, sitk.sitkFloat32), float(sigma_mm))
        yield lo, hi, sitk.GetArrayViewFromImage(img)[lo - ka:hi - ka, inner[1], inner[0]].T
        del img


def _trim_partial_volume_edge(a: np.ndarray, mask: Mask) -> None:
    """Remove (in place) bone voxels outside the half-maximum edge of the cortex they are blurred from.

    A soft-tissue voxel next to cortex (disc against an endplate, liver against a rib) is brightened
    by the scanner's point-spread function above the bone threshold. It is told from bone by the
    half-maximum criterion of CT bone segmentation: it touches (6-neighbourhood) a voxel below
    :data:`CONTRAST_BONE_HU` (soft tissue) and is darker than half-way between that soft level and
    the brightest voxel of its 26-neighbourhood (the cortex it is blurred from). Cancellous bone
    next to its cortex is kept: its 6-neighbours are all bone-dense. Only voxels below
    :data:`CORTEX_HU` are examined; ``a`` is the CT (HU), ``mask`` its bone mask (same shape).
    """
    soft = np.less(a, CORTEX_HU)
    soft &= mask
    cand = np.nonzero(soft)
    del soft
    hi = np.asarray(a.shape)[:, None] - 1
    offsets = [np.asarray(off)[:, None] - 1 for off in np.ndindex(3, 3, 3) if off != (1, 1, 1)]
    chunk = 1 << 20  # candidates per pass: bounded temporaries (~60 MB) on large CTs
    for start in range(0, len(cand[0]), chunk):
        part = tuple(c[start:start + chunk] for c in cand)
        ijk = np.stack(part)
        centre = a[part].astype(np.float32)
        low = np.full(centre.shape, np.inf, np.float32)
        peak = centre.copy()
        for d in offsets:
            v = a[tuple(np.clip(ijk + d, 0, hi))].astype(np.float32)
            np.maximum(peak, v, out=peak)
            if np.abs(d).sum() == 1:
                np.minimum(low, v, out=low)
        pv = (low < CONTRAST_BONE_HU) & (centre < 0.5 * (peak + low))
        mask[tuple(c[pv] for c in part)] = False


def lungs(volume: Volume, progress: Progress | None = None, body_mask: Mask | None = None,
          min_volume_ml: float = 20.0, max_gas_fraction: float = 0.5, max_hole_mm2: float = 700.0) -> Mask:
    """Aerated lungs (and airways inside the body), vessels inside the lungs included.

    Air (< -400 HU) enclosed by the body, split into components. Lung parenchyma is never
    pure air (it holds vessels and septa: typically -850 HU), whereas bowel and stomach gas is
    (-1000 HU): components with more than ``max_gas_fraction`` of their voxels below -950 HU,
    or smaller than ``min_volume_ml``, are dropped. Holes of each axial slice up to
    ``max_hole_mm2`` (vessels, up to ~30 mm across) are filled; larger ones are not lung: the
    mediastinum and the liver dome when the lungs wrap around them (the phantom: Dice 0.83 -> 0.99).
    """
    _check_ct(volume, "lungs")
    p = ensure_progress(progress)
    g = volume.geometry
    if body_mask is None:
        body_mask = body(volume, SubProgress(p, 0.0, 0.5, "lungs: "))
    p.update(0.5, "lungs: air inside the body")
    a = volume.array
    air = np.less(a, -400)
    air &= body_mask
    del body_mask
    gas = np.less(a, -950)
    gas &= air
    min_voxels = min_volume_ml * 1000.0 / g.voxel_volume_mm3
    mask = morph.select_components(
        air, lambda sizes, gas_voxels: (sizes >= min_voxels) & (gas_voxels <= max_gas_fraction * sizes), extra=gas)
    del air, gas
    p.update(0.8, "lungs: vessels")
    filled = morph.fill_holes(mask, "slice", axes=(2,))
    _fill_small_holes(mask, filled, g, max_hole_mm2)
    p.update(1.0, "lungs")
    return mask


def _fill_small_holes(mask: Mask, filled: Mask, geometry: ImageGeometry, max_area_mm2: float) -> None:
    """OR into ``mask`` (in place) the in-slice holes (``filled & ~mask``, axial slices) of at most ``max_area_mm2``."""
    from scipy import ndimage as ndi

    box = mask_bbox(filled)
    if box is None:
        return
    max_pixels = max_area_mm2 / float(geometry.spacing[0] * geometry.spacing[1])
    for k in range(box[2].start, box[2].stop):
        sl = (box[0], box[1], k)
        holes = filled[sl] & ~mask[sl]
        if not holes.any():
            continue
        lab, n = ndi.label(holes)
        small = np.bincount(lab.ravel(), minlength=n + 1) <= max_pixels
        small[0] = False
        mask[sl] |= small[lab]


def fat(volume: Volume, progress: Progress | None = None, body_mask: Mask | None = None) -> Mask:
    """Adipose tissue (-190..-30 HU) inside the body, lungs excluded, specks below 0.1 mL removed."""
    _check_ct(volume, "fat")
    p = ensure_progress(progress)
    g = volume.geometry
    if body_mask is None:
        body_mask = body(volume, SubProgress(p, 0.0, 0.5, "fat: "))
    p.update(0.5, "fat: threshold")
    a = volume.array
    mask = np.greater_equal(a, -190)
    tmp = np.less_equal(a, -30)
    mask &= tmp
    mask &= body_mask
    # the partial-volume rim of lungs and gas falls in the fat range: drop voxels touching air
    np.less(a, -400, out=tmp)
    tmp &= body_mask
    del body_mask
    air = morph.dilate(tmp, g, float(g.spacing.max()))
    del tmp
    np.logical_not(air, out=air)
    mask &= air
    del air
    p.update(0.8, "fat: islands")
    mask = morph.remove_small_islands(mask, g, 100.0)
    p.update(1.0, "fat")
    return mask


def muscle(volume: Volume, progress: Progress | None = None, body_mask: Mask | None = None) -> Mask:
    """Muscle-density tissue (-29..150 HU, Alberta protocol) in the body, bone excluded, 1 mm median.

    Abdominal organs share muscle's HU range and are *not* separated here: use grow-from-seeds
    or an imported segmentation to tell organs from muscle.
    """
    _check_ct(volume, "muscle")
    p = ensure_progress(progress)
    g = volume.geometry
    if body_mask is None:
        body_mask = body(volume, SubProgress(p, 0.0, 0.4, "muscle: "))
    p.update(0.4, "muscle: bone")
    bone_mask = bone(volume, SubProgress(p, 0.4, 0.7, "muscle: "), body_mask=body_mask)
    a = volume.array
    mask = np.greater_equal(a, -29)
    mask &= body_mask
    del body_mask
    near_bone = morph.dilate(bone_mask, g, 1.0)
    del bone_mask
    np.logical_not(near_bone, out=near_bone)
    mask &= near_bone
    np.less_equal(a, 150, out=near_bone)
    mask &= near_bone
    del near_bone
    p.update(0.8, "muscle: smooth")
    mask = morph.smooth(mask, g, "median", 1.0)
    mask = morph.remove_small_islands(mask, g, 500.0)
    p.update(1.0, "muscle")
    return mask


def soft_tissue_region(volume: Volume, progress: Progress | None = None) -> Mask:
    """Where soft-tissue organs can be: the body (:func:`body`) without bone (:func:`bone`, on the body
    before hole filling) and without the aerated lungs (:func:`lungs`). The editable region of grow from
    seeds for abdominal organs ("grow only in soft tissue": GUI checkbox, ``vht segment --seeds ...
    --soft-tissue``), so no label can leak through a rib or into a lung."""
    _check_ct(volume, "soft-tissue region")
    p = ensure_progress(progress)
    body_mask = body(volume, SubProgress(p, 0.0, 0.3, "soft tissue: "))
    out = ~lungs(volume, SubProgress(p, 0.3, 0.45, "soft tissue: "), body_mask=body_mask)
    out &= body_mask
    del body_mask
    unfilled = body(volume, SubProgress(p, 0.45, 0.55, "soft tissue: "), fill=False)
    out &= ~bone(volume, SubProgress(p, 0.55, 1.0, "soft tissue: "), body_mask=unfilled)
    p.update(1.0, "soft tissue")
    return out


def run_preset(volume: Volume, name: str, progress: Progress | None = None) -> Mask:
    """Run a preset by name (``body``, ``bone``, ``lungs``, ``fat``, ``muscle``)."""
    funcs = {"body": body, "bone": bone, "lungs": lungs, "fat": fat, "muscle": muscle}
    if name not in funcs:
        raise InputError(f"unknown preset {name!r}; use one of {', '.join(PRESETS)}")
    return funcs[name](volume, progress)
