"""Voxelise the phantom anatomy into a label map and a CT image.

Frame: the image grid is axis-aligned LPS (i -> patient left, j -> posterior,
k -> superior), like an axial CT series; anatomy is evaluated at voxel centres
in LPS mm (local frame = LPS - ``CENTRE_LPS``), so the geometry is honoured
for any shape and spacing. The CT is piecewise-constant tissue HU, blurred by
an anisotropic Gaussian point-spread function given in mm (partial volume),
plus spatially correlated Gaussian noise, rounded to int16.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage

from twin.geometry import ImageGeometry
from twin.phantom import _anatomy as A
from twin.phantom import _trees
from twin.phantom._shapes import F32, AxisGrid, paint_tubes
from twin.phantom.segments import LABEL
from twin.progress import Progress, ensure_progress

DEFAULT_SHAPE = (192, 160, 96)
DEFAULT_SPACING_MM = (2.0, 2.0, 2.5)
GRID_CENTRE_OFFSET_MM = (0.0, 18.0, 0.0)
"""Grid centre relative to the torso centre (mm): shifted posteriorly to include the table."""
PSF_SIGMA_MM = (0.9, 0.9, 1.5)
"""Gaussian point-spread function (sigma, mm) along x, y, z: in-plane resolution and slice sensitivity
profile (FWHM 2.1 mm in-plane, 3.5 mm across slices), applied as a sampled Gaussian kernel."""
NOISE_SD_HU = 12.0
NOISE_CORRELATION_MM = 0.8

# tissue attenuation (HU), portal-venous phase
HU = {
    "air": -1000.0, "skin": 20.0, "subcutaneous_fat": -105.0, "visceral_fat": -95.0, "bowel": 30.0,
    "muscle": 50.0, "liver": 100.0, "tumour_core": 32.0, "tumour_rim": 48.0, "portal_vein": 180.0,
    "hepatic_vein": 165.0, "kidney_cortex": 165.0, "kidney_medulla": 115.0, "renal_sinus": -90.0,
    "spleen": 110.0, "aorta": 200.0, "ivc": 150.0, "mediastinum": 90.0, "lung": -860.0,
    "csf": 15.0, "stomach_wall": 45.0, "gastric_fluid": 12.0, "bile": 8.0,
    "disc": 85.0, "vertebra_cancellous": 280.0, "vertebra_cortex": 1000.0,
    "rib_cancellous": 260.0, "rib_cortex": 850.0, "table_shell": 250.0, "table_core": -950.0,
}


def phantom_geometry(shape: tuple[int, int, int] = DEFAULT_SHAPE,
                     spacing_mm: tuple[float, float, float] = DEFAULT_SPACING_MM) -> ImageGeometry:
    """Grid of the phantom: axis-aligned LPS, centred on the torso (+ table), origin on a 1/8 mm lattice.

    The origin is rounded to a multiple of 0.125 mm so that it is exact in
    float32 file headers (NIfTI), keeping cached round trips bit-exact.
    """
    shape_t = tuple(int(s) for s in shape)
    spacing = np.asarray(spacing_mm, float)
    centre = np.asarray(A.CENTRE_LPS) + np.asarray(GRID_CENTRE_OFFSET_MM)
    origin = np.round((centre - 0.5 * (np.asarray(shape_t) - 1) * spacing) * 8.0) / 8.0
    return ImageGeometry(shape_t, spacing, origin, np.eye(3))  # type: ignore[arg-type]


def local_grid(geometry: ImageGeometry) -> AxisGrid:
    """Voxel-centre coordinates (mm, local frame) of an axis-aligned geometry with identity direction."""
    if not np.allclose(geometry.direction, np.eye(3)):
        raise ValueError("the phantom is generated on an identity-direction (axial LPS) grid")
    axes = [geometry.origin[d] + geometry.spacing[d] * np.arange(geometry.shape[d]) - A.CENTRE_LPS[d]
            for d in range(3)]
    return AxisGrid(axes[0], axes[1], axes[2])


def _shell(mask: NDArray[np.bool_]) -> NDArray[np.bool_]:
    """Voxels of ``mask`` touching its outside (6-connectivity): the cortical shell at this resolution."""
    return mask & ~ndimage.binary_erosion(mask, border_value=1)


def _remove_islands(labels: NDArray[np.uint8], hu: NDArray[np.float32]) -> None:
    """Give voxel-sized fragments left by clipping (organs) or sampling (thin vessels) to visceral fat."""
    single = ("liver", "liver_tumor", "kidney_right", "kidney_left", "spleen", "aorta", "inferior_vena_cava",
              "stomach", "gallbladder")
    for name in (*single, "hepatic_vessels"):
        value = LABEL[name]
        box = ndimage.find_objects((labels == value).astype(np.uint8))
        if not box or box[0] is None:
            continue
        sl = box[0]
        cc, n = ndimage.label(labels[sl] == value)
        if n <= 1:
            continue
        sizes = np.bincount(cc.ravel())
        sizes[0] = 0
        drop = sizes < 20 if name == "hepatic_vessels" else sizes < sizes.max()
        drop[0] = False
        bad = drop[cc]
        labels[sl][bad] = LABEL["body"]
        hu[sl][bad] = HU["visceral_fat"]


def paint_anatomy(grid: AxisGrid, seed: int = 0,
                  progress: Progress | None = None) -> tuple[NDArray[np.uint8], NDArray[np.float32]]:
    """Label array and noise-free, unblurred tissue HU on ``grid``.

    Returns
    -------
    labels : (ni, nj, nk) uint8
        Values of :data:`twin.phantom.segments.DEMO_SEGMENTS`; 0 outside the body.
    hu : (ni, nj, nk) float32
        Tissue attenuation in HU, including the (unlabelled) CT table.
    """
    prog = ensure_progress(progress)
    L = LABEL
    x, y, z = grid.axes()
    shape = grid.shape
    labels = np.zeros(shape, np.uint8)
    hu = np.full(shape, HU["air"], F32)

    def paint(mask: NDArray[np.bool_], label: int | None, value: float | NDArray[np.float32]) -> None:
        if label is not None:
            labels[mask] = label
        hu[mask] = value if np.isscalar(value) else np.asarray(value)[mask]

    # --- body wall -----------------------------------------------------
    depth = A.skin_depth(x, y, z)
    body = depth > 0
    paint(body, L["body"], HU["skin"])
    d_fat = depth - F32(A.SKIN_MM)
    fat_t = A.fat_thickness(x, y)
    wall_t = A.wall_muscle_thickness(x, y)
    paint(body & (d_fat >= 0) & (d_fat < fat_t), L["subcutaneous_fat"], HU["subcutaneous_fat"])
    cav_d = d_fat - fat_t - wall_t
    paint(body & (d_fat >= fat_t) & (cav_d < 0), L["muscle"], HU["muscle"])
    cavity = body & (cav_d >= 0)
    below_fat = body & (d_fat >= fat_t)
    del depth, d_fat, cav_d
    prog.update(0.1, "body wall")
    prog.raise_if_cancelled()

    # visceral fat with bowel loops (a thresholded smooth random field; seed-dependent texture)
    rng = np.random.default_rng([int(seed), 1])
    sigma_vox = 5.0 / grid.spacing
    field = ndimage.gaussian_filter(rng.standard_normal(shape, dtype=F32), sigma_vox, truncate=2.5)
    field /= F32(field.std() or 1.0)
    # fewer loops towards the retroperitoneum (perirenal and pararenal fat behind)
    retro = np.maximum(y - A.spine_y(z) + F32(30.0), F32(0.0)) / F32(12.0)
    bowel = field > F32(0.1) + retro
    del field
    paint(cavity, L["body"], np.where(bowel, F32(HU["bowel"]), F32(HU["visceral_fat"])))
    muscles = (A.paraspinal_muscles(x, y, z) < 0) | (A.psoas_muscles(x, y, z) < 0) | (A.quadratus_muscles(x, y, z) < 0)
    paint(below_fat & muscles, L["muscle"], HU["muscle"])
    del muscles, below_fat

    # --- diaphragm, lungs, mediastinum -----------------------------------
    zd = A.diaphragm_z(x, y)
    paint(cavity & (z >= zd - F32(A.DIAPHRAGM_THICKNESS_MM)) & (z < zd), L["muscle"], HU["muscle"])
    thorax = cavity & (z >= zd)
    med = thorax & (A.mediastinum(x, y) < 0)
    paint(thorax & ~med, L["lungs"], HU["lung"])
    paint(med, L["body"], HU["mediastinum"])
    del thorax, med, zd
    prog.update(0.25, "thorax")
    prog.raise_if_cancelled()

    # --- hollow organs: stomach (wall, gas anteriorly, fluid posteriorly), gallbladder ----------------
    below = cavity & (z < A.diaphragm_z(x, y) - F32(A.DIAPHRAGM_THICKNESS_MM))
    outer = np.zeros(shape, bool)
    paint_tubes(outer, grid, _trees.stomach_tubes())
    outer &= below
    lumen = np.zeros(shape, bool)
    paint_tubes(lumen, grid, _trees.stomach_tubes(inset_mm=_trees.STOMACH_WALL_MM))
    lumen &= outer
    paint(outer, L["stomach"], HU["stomach_wall"])
    gas = np.broadcast_to(y < F32(_trees.STOMACH_AIR_FLUID_LEVEL_Y_MM), shape)
    paint(lumen & gas, None, HU["air"])
    paint(lumen & ~gas, None, HU["gastric_fluid"])
    del outer, lumen, below
    paint((A.gallbladder(x, y, z) < 0) & cavity, L["gallbladder"], HU["bile"])

    # --- solid organs ----------------------------------------------------
    paint(A.liver(x, y, z) < 0, L["liver"], HU["liver"])
    paint(A.spleen(x, y, z) < 0, L["spleen"], HU["spleen"])
    for side in ("right", "left"):
        kf = A.kidney(x, y, z, side)
        inside = kf < 0
        paint(inside, L[f"kidney_{side}"], np.where(kf > F32(-6.0), F32(HU["kidney_cortex"]),
                                                    F32(HU["kidney_medulla"])))
        sinus = (A.kidney_sinus(x, y, z, side) < 0) & ~inside & cavity
        paint(sinus, L["body"], HU["renal_sinus"])
    prog.update(0.5, "organs")
    prog.raise_if_cancelled()

    # --- vessels -----------------------------------------------------------
    portal, hepatic = _trees.hepatic_vessel_tubes()
    for tubes, value in ((portal, HU["portal_vein"]), (hepatic, HU["hepatic_vein"])):
        m = np.zeros(shape, bool)
        paint_tubes(m, grid, tubes)
        paint(m & body, L["hepatic_vessels"], value)
    paint(A.ivc(x, y, z) < 0, L["inferior_vena_cava"], HU["ivc"])
    paint(A.aorta(x, y, z) < 0, L["aorta"], HU["aorta"])
    tf = A.tumour(x, y, z)
    paint(tf < 0, L["liver_tumor"], np.where(tf > F32(-2.5), F32(HU["tumour_rim"]), F32(HU["tumour_core"])))
    del tf
    prog.update(0.65, "vessels")
    prog.raise_if_cancelled()

    # --- skeleton --------------------------------------------------------
    paint(A.discs(x, y, z) < 0, L["intervertebral_discs"], HU["disc"])
    paint(A.spinal_canal(x, y, z) < 0, L["body"], HU["csf"])
    spine = (A.vertebral_bodies(x, y, z) < 0) | (A.posterior_elements(x, y, z) < 0)
    paint(spine, L["spine"], HU["vertebra_cancellous"])
    paint(_shell(spine), None, HU["vertebra_cortex"])
    ribs = np.zeros(shape, bool)
    paint_tubes(ribs, grid, _trees.rib_tubes())
    ribs &= body
    paint(ribs, L["ribs"], HU["rib_cancellous"])
    paint(_shell(ribs), None, HU["rib_cortex"])
    del spine, ribs
    _remove_islands(labels, hu)
    prog.update(0.8, "skeleton")

    # --- CT table (in the image, not in the body label) --------------------
    yt = A.table_top_y(x)
    rel = y - yt
    shell = ((rel >= 0) & (rel < 3)) | ((rel >= 37) & (rel < 40))
    core = (rel >= 3) & (rel < 37)
    outside = ~body
    table_hu = np.where(shell, F32(HU["table_shell"]), F32(HU["table_core"]))
    paint(outside & np.broadcast_to(shell | core, shape), None, np.broadcast_to(table_hu, shape))
    return labels, hu


def synthesize_ct(hu: NDArray[np.float32], spacing_mm: NDArray[np.float64], seed: int = 0,
                  noise_sd_hu: float = NOISE_SD_HU,
                  psf_sigma_mm: tuple[float, float, float] = PSF_SIGMA_MM) -> NDArray[np.int16]:
    """Blur tissue HU with the anisotropic PSF (sigma in mm) and add correlated noise; int16 HU.

    Parameters
    ----------
    hu : (ni, nj, nk) float32
        Noise-free tissue attenuation.
    spacing_mm : (3,)
        Voxel size; the PSF sigma in voxels is ``psf_sigma_mm / spacing_mm`` per axis.
    noise_sd_hu : float
        Standard deviation of the added noise (HU); 0 gives a noise-free image.
    """
    sp = np.asarray(spacing_mm, float)
    img = ndimage.gaussian_filter(hu, np.asarray(psf_sigma_mm) / sp, mode="nearest", truncate=3.0)
    if noise_sd_hu > 0:
        rng = np.random.default_rng([int(seed), 2])
        noise = rng.standard_normal(hu.shape, dtype=F32)
        corr = np.array([NOISE_CORRELATION_MM, NOISE_CORRELATION_MM, 0.0]) / sp
        noise = ndimage.gaussian_filter(noise, corr, mode="wrap", truncate=3.0)
        noise *= F32(noise_sd_hu / (float(noise.std()) or 1.0))
        img += noise
    return np.clip(np.rint(img), -1024, 3071).astype(np.int16)
