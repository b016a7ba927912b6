"""Threshold presets against TotalSegmentator labels of the real CT (agreement, not expert truth)."""

from __future__ import annotations

import numpy as np
import pytest

from segmentation import presets
from segmentation._common import dice
from segmentation.threshold import HU_RANGES, hu_range, otsu_threshold, threshold, threshold_preset
from tests.segmentation.conftest import data_dir, sphere_volume
from twin.errors import InputError

BONE_IDS = list(range(25, 51)) + list(range(69, 79)) + list(range(91, 118))
LUNG_IDS = [10, 11, 12, 13, 14]


def test_threshold_inclusive_and_validation():
    vol, truth, _ = sphere_volume()
    assert np.array_equal(threshold(vol, 100, 100), truth)
    assert not threshold(vol, 100.5, 200).any()
    with pytest.raises(InputError):
        threshold(vol, 5, 1)
    assert hu_range("Bone").low_hu == HU_RANGES["bone"].low_hu
    with pytest.raises(InputError, match="unknown"):
        hu_range("kidney stone")
    assert threshold_preset(vol, "soft_tissue").sum() == vol.array.size
    assert 0 < otsu_threshold(vol) < 100


@pytest.mark.slow
def test_bone_preset_dice_on_real_ct(totalseg):
    ct, seg, _ = totalseg
    body = presets.body(ct)
    assert not ((seg > 0) & ~body).any(), "every TotalSegmentator label lies inside the body mask"
    bone = presets.bone(ct, body_mask=body)
    ref = np.isin(seg, BONE_IDS)
    plain = (ct.array >= 200) & (ct.array <= 3071)
    d = dice(bone, ref)
    assert not presets.contrast_enhanced(ct, body), "non-contrast CT (kidneys ~20 HU)"
    print(f"bone preset Dice {d:.4f} (plain 200 HU threshold {dice(plain, ref):.4f})")
    assert d >= 0.90
    assert dice(plain, ref) < 0.75  # the pipeline, not the threshold, does the work
    lungs = presets.lungs(ct, body_mask=body)
    dl = dice(lungs, np.isin(seg, LUNG_IDS))
    print(f"lungs preset Dice {dl:.4f}")
    assert dl >= 0.90


def test_fat_preset_against_tissue_types():
    from twin.io.images import read_image

    d = data_dir("totalseg_example")
    ct = read_image(d / "example_ct_sm.nii.gz")
    ref = np.zeros(ct.shape, bool)
    for f in ("subcutaneous_fat", "torso_fat"):
        ref |= read_image(d / "example_seg_tissue_types" / f"{f}.nii.gz").array > 0
    fat = presets.fat(ct)
    print(f"fat preset Dice {dice(fat, ref):.4f}")
    assert dice(fat, ref) >= 0.85
    muscle = presets.muscle(ct)
    ref_m = read_image(d / "example_seg_tissue_types" / "skeletal_muscle.nii.gz").array > 0
    # organs share muscle density: most reference muscle is found, precision is low
    assert (muscle & ref_m).sum() / ref_m.sum() >= 0.8


def _phantom():
    phantom = pytest.importorskip("twin.phantom")
    if not hasattr(phantom, "make_abdomen_phantom"):
        pytest.skip("twin.phantom.make_abdomen_phantom not available")
    return phantom.make_abdomen_phantom()


@pytest.mark.slow
def test_presets_on_phantom():
    vol, lm = _phantom()
    body = presets.body(vol)
    d_body = dice(body, lm.to_single_layer() > 0)
    print(f"phantom body Dice {d_body:.4f}")
    assert d_body >= 0.95
    # the phantom is contrast-enhanced (kidneys ~150 HU, aorta ~200 HU): the 110 HU hysteresis of the
    # non-contrast pipeline takes in enhanced organs touching the spine (Dice 0.52); the contrast path does not
    assert presets.contrast_enhanced(vol, body)
    bone_ref = lm.mask("spine") | lm.mask("ribs")
    bone = presets.bone(vol, body_mask=body)
    d_bone = dice(bone, bone_ref)
    print(f"phantom bone Dice {d_bone:.4f}")
    assert d_bone >= 0.99  # 0.999 (0.96 before the half-maximum edge test took out blurred disc and organ rims)
    assert (bone & lm.mask("intervertebral_discs")).sum() < 0.01 * lm.mask("intervertebral_discs").sum()
    for organ in ("kidney_left", "kidney_right", "aorta", "liver"):
        assert (bone & lm.mask(organ)).sum() < 0.02 * lm.mask(organ).sum(), organ
    d_plain = dice(presets.bone(vol, body_mask=body, contrast=False), bone_ref)
    assert d_plain < 0.7, "the non-contrast pipeline leaks into enhanced organs (why the contrast path exists)"


def test_presets_refuse_non_ct_and_handle_empty():
    vol, _, _ = sphere_volume()
    air = vol.with_array(np.full(vol.shape, -1000, np.int16))
    assert not presets.body(air).any()
    assert not presets.bone(air).any()
    assert not presets.lungs(air).any()
    mr = vol.with_array(vol.array, modality="MR", units="")
    with pytest.raises(InputError, match="CT"):
        presets.bone(mr)
    with pytest.raises(InputError, match="unknown preset"):
        presets.run_preset(vol, "brain")


def test_body_preset_cuts_a_table_touching_the_patient():
    from twin.geometry import ImageGeometry
    from twin.volume import Volume

    g = ImageGeometry((80, 80, 10), (1.0, 1.0, 2.0))
    ijk = np.indices(g.shape).transpose(1, 2, 3, 0)
    arr = np.full(g.shape, -1000, np.int16)
    patient = np.hypot(ijk[..., 0] - 40, ijk[..., 1] - 35) <= 25
    arr[patient] = 40
    # table 8 mm below the back, joined by a 2 mm wide cushion (the preset's resolution is ~6 mm)
    table = (ijk[..., 1] >= 68) & (ijk[..., 1] <= 71) & (ijk[..., 0] >= 5) & (ijk[..., 0] <= 75)
    arr[table] = 300
    arr[39:41, 60:68, :] = 40
    arr[35:45, 30:40, :] = -900  # air inside (bowel gas): filled
    vol = Volume(arr, g, modality="CT", units="HU")
    b = presets.body(vol)
    assert not b[table].any()
    assert b[patient].mean() > 0.995  # the table cut runs on a ~3 mm grid: a few rim voxels may differ
    assert not presets.bone(vol)[table].any(), "the dense table is not bone"


def test_contrast_bone_leaves_the_blurred_disc_next_to_endplates():
    """Two vertebral bodies (280 HU cancellous in a 1000 HU cortex shell) around a 9 mm disc (85 HU), blurred
    by a CT point-spread function (sigma 0.9/0.9/1.5 mm): the disc slices next to the endplates reach ~250 HU,
    above the contrast path's 230 HU bone threshold; the half-maximum edge test leaves them to soft tissue
    while keeping the cancellous bone next to the cortex."""
    from scipy import ndimage as ndi

    from twin.geometry import ImageGeometry
    from twin.volume import Volume

    sp = np.array([2.0, 2.0, 2.5])
    shape = (48, 48, 32)
    ijk = np.indices(shape).transpose(1, 2, 3, 0) * sp
    r = np.hypot(ijk[..., 0] - 48, ijk[..., 1] - 48)
    z = ijk[..., 2]
    body = r <= 40
    vert = (r <= 18) & ((np.abs(z - 20) <= 12) | (np.abs(z - 55) <= 12))
    disc = (r <= 18) & ~vert & (z > 20) & (z < 55)
    hu = np.where(body, 40.0, -1000.0)
    hu[disc] = 85.0
    hu[vert] = 280.0
    hu[vert & ~ndi.binary_erosion(vert, border_value=1)] = 1000.0
    img = ndi.gaussian_filter(hu, np.array([0.9, 0.9, 1.5]) / sp, mode="nearest")
    img += np.random.default_rng(1).normal(0, 8.0, shape)
    vol = Volume(np.rint(img).astype(np.int16), ImageGeometry(shape, sp), modality="CT", units="HU")
    assert (img[disc] >= presets.CONTRAST_BONE_HU).sum() > 100, "the test needs a bright disc rim"
    bone = presets.bone(vol, body_mask=body, contrast=True)
    assert (bone & disc).sum() <= 0.01 * disc.sum()
    assert dice(bone, vert) > 0.97


def test_soft_tissue_region_is_body_without_bone_and_lungs():
    from segmentation import presets
    from twin.phantom import make_abdomen_phantom

    vol, lm = make_abdomen_phantom(shape=(64, 54, 32), spacing_mm=(6.0, 6.0, 7.5))
    body = presets.body(vol)
    expected = body & ~presets.bone(vol, body_mask=presets.body(vol, fill=False)) & ~presets.lungs(vol, body_mask=body)
    region = presets.soft_tissue_region(vol)
    assert np.array_equal(region, expected)
    assert region[lm.mask("liver")].mean() > 0.99 and not region[lm.mask("lungs")].mean() > 0.05
