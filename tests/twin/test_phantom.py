"""The generated abdominal CT phantom: anatomy, HU, ground truth and landmarks (frame LPS, mm)."""

from __future__ import annotations

import hashlib
import time

import numpy as np
import pytest
from scipy import ndimage

from twin.errors import Cancelled, InputError
from twin.labelmap import LabelMap
from twin.phantom import (
    DEMO_LANDMARKS,
    DEMO_SEGMENTS,
    LABEL,
    body_outline_mask,
    make_abdomen_phantom,
)
from twin.progress import CallbackProgress
from twin.volume import Volume


@pytest.fixture(scope="module")
def phantom() -> tuple[Volume, LabelMap]:
    cpu = time.process_time()
    result = make_abdomen_phantom()
    cpu = time.process_time() - cpu
    assert cpu < 10.0, f"generation took {cpu:.1f} s of CPU"  # ~1.3 s measured; CPU time ignores machine load
    return result


def _label_at(lm: LabelMap, point_lps) -> int:
    ijk = np.rint(lm.geometry.lps_to_index(np.asarray(point_lps, float)[None]))[0].astype(int)
    return int(lm.layers[0][tuple(ijk)])


def _centroid_lps(lm: LabelMap, name: str) -> np.ndarray:
    return lm.geometry.index_to_lps(np.argwhere(lm.mask(name)).mean(axis=0)[None])[0]


def test_geometry_is_an_axial_lps_ct(phantom) -> None:
    vol, lm = phantom
    g = vol.geometry
    assert vol.shape == (192, 160, 96) and vol.array.dtype == np.int16
    assert vol.modality == "CT" and vol.units == "HU"
    np.testing.assert_array_equal(g.spacing, [2.0, 2.0, 2.5])
    np.testing.assert_array_equal(g.direction, np.eye(3))
    assert np.all(g.origin != 0) and np.all(g.origin * 8 == np.round(g.origin * 8))  # exact in float32 headers
    assert lm.geometry.is_same_grid(g, tol_mm=0.0)
    # patient right (-x) holds the liver, left (+x) the spleen; the spine is posterior (+y) of the aorta;
    # superior (+z) the lungs above the kidneys
    liver, spleen = _centroid_lps(lm, "liver"), _centroid_lps(lm, "spleen")
    assert liver[0] < -20 < 40 < spleen[0]
    assert _centroid_lps(lm, "spine")[1] > _centroid_lps(lm, "aorta")[1] + 20
    assert _centroid_lps(lm, "aorta")[0] > _centroid_lps(lm, "inferior_vena_cava")[0] + 25
    assert _centroid_lps(lm, "lungs")[2] > _centroid_lps(lm, "kidney_right")[2] + 80
    assert _centroid_lps(lm, "kidney_right")[2] < _centroid_lps(lm, "kidney_left")[2]  # right kidney lower


VOLUME_RANGES_ML = {
    "liver": (1200, 2000), "liver_tumor": (10, 20), "kidney_right": (120, 190), "kidney_left": (120, 190),
    "spleen": (120, 260), "hepatic_vessels": (10, 60), "aorta": (50, 150), "inferior_vena_cava": (50, 150),
    "spine": (150, 450), "ribs": (60, 300), "intervertebral_discs": (30, 150), "lungs": (300, 2000),
    "muscle": (1000, 4000), "subcutaneous_fat": (1500, 6000), "body": (2000, 8000), "stomach": (100, 400),
    "gallbladder": (15, 50),
}


def test_every_segment_present_with_plausible_volume(phantom) -> None:
    _, lm = phantom
    assert {s.name for s in lm.segments} == set(VOLUME_RANGES_ML)
    values = set(np.unique(lm.layers[0]).tolist())
    assert values == {0} | {s.value for s in DEMO_SEGMENTS}  # nothing unlabelled inside the table
    for name, (lo, hi) in VOLUME_RANGES_ML.items():
        ml = lm.volume_mm3(name) / 1000.0
        assert lo <= ml <= hi, f"{name}: {ml:.1f} mL not in [{lo}, {hi}]"


def test_single_organs_are_one_piece(phantom) -> None:
    _, lm = phantom
    for name in ("liver", "liver_tumor", "kidney_right", "kidney_left", "spleen", "aorta", "inferior_vena_cava",
                 "stomach", "gallbladder"):
        _, n = ndimage.label(lm.mask(name))
        assert n == 1, name
    _, n_vessels = ndimage.label(lm.mask("hepatic_vessels"))
    assert 1 <= n_vessels <= 4  # portal tree + three hepatic veins (joined through the IVC)
    _, n_vertebrae = ndimage.label(lm.mask("spine"))
    assert n_vertebrae == 7  # T10..L4, separated by discs
    # solids for meshing: no enclosed voids (the liver's are filled by its tumour and vessels)
    liver_solid = lm.mask("liver") | lm.mask("liver_tumor") | lm.mask("hepatic_vessels")
    for name, mask in [("liver+tumor+vessels", liver_solid)] + [
            (n, lm.mask(n)) for n in ("kidney_right", "kidney_left", "spleen", "gallbladder", "aorta")]:
        assert not (ndimage.binary_fill_holes(mask) & ~mask).any(), name


HU_RANGES = {
    "subcutaneous_fat": (-120, -85), "muscle": (35, 65), "liver": (90, 110), "liver_tumor": (25, 45),
    "hepatic_vessels": (150, 200), "kidney_right": (130, 175), "kidney_left": (130, 175), "spleen": (95, 125),
    "aorta": (185, 215), "inferior_vena_cava": (135, 165), "intervertebral_discs": (60, 110),
    "lungs": (-900, -780), "spine": (250, 700), "ribs": (200, 700), "gallbladder": (-5, 25),
}


def test_hu_of_every_structure_is_realistic(phantom) -> None:
    vol, lm = phantom
    ct = vol.array.astype(np.float64)
    for name, (lo, hi) in HU_RANGES.items():
        core = ndimage.binary_erosion(lm.mask(name))  # away from partial-volume edges
        mean = ct[core].mean()
        assert lo <= mean <= hi, f"{name}: mean {mean:.1f} HU not in [{lo}, {hi}]"
    # hypovascular tumour is hypodense to the enhanced liver by 40-75 HU, as in the portal venous phase
    contrast = ct[ndimage.binary_erosion(lm.mask("liver"))].mean() - ct[lm.mask("liver_tumor")].mean()
    assert 40 <= contrast <= 75
    # supine stomach: gas anteriorly above an air-fluid level, fluid posteriorly
    stomach = lm.mask("stomach")
    gas = stomach & (ct < -900)
    fluid = stomach & (ct > -20) & (ct < 40)
    assert gas.sum() > 1000 and fluid.sum() > 1000
    assert np.argwhere(gas)[:, 1].max() < np.argwhere(fluid)[:, 1].mean()  # j increases posteriorly
    # noise: ~12 HU in homogeneous liver; air in front of the body is -1000
    liver_core = ndimage.binary_erosion(lm.mask("liver"), iterations=2)
    assert 9.0 <= ct[liver_core].std() <= 16.0
    assert abs(ct[:, :8, :].mean() + 1000) < 3


def test_partial_volume_blur_is_anisotropic() -> None:
    from twin.phantom._generate import PSF_SIGMA_MM, synthesize_ct

    spacing = np.array([2.0, 2.0, 2.5])
    step_i = np.full((40, 40, 40), -1000.0, np.float32)
    step_i[20:, :, :] = 0.0
    step_k = np.full((40, 40, 40), -1000.0, np.float32)
    step_k[:, :, 20:] = 0.0
    a = synthesize_ct(step_i, spacing, noise_sd_hu=0)[:, 20, 20].astype(float)
    b = synthesize_ct(step_k, spacing, noise_sd_hu=0)[20, 20, :].astype(float)

    def expected(sigma_vox: float) -> float:
        """Value just outside a 1000 HU step blurred by a sampled, normalised Gaussian kernel."""
        k = np.arange(-6, 7)
        w = np.exp(-0.5 * (k / sigma_vox) ** 2)
        return -1000 + 1000 * w[k >= 1].sum() / w.sum()

    # the PSF is given in mm: in voxels it differs per axis
    assert a[19] == pytest.approx(expected(PSF_SIGMA_MM[0] / 2.0), abs=1.5)
    assert b[19] == pytest.approx(expected(PSF_SIGMA_MM[2] / 2.5), abs=1.5)
    assert b[19] - a[19] > 20
    assert a[15] == -1000 and a[24] == 0  # and it stays local


def test_tumour_strictly_inside_liver_and_vessels_inside_liver(phantom) -> None:
    _, lm = phantom
    tumour = lm.mask("liver_tumor")
    shell = ndimage.binary_dilation(tumour, iterations=2) & ~tumour
    assert set(np.unique(lm.layers[0][shell]).tolist()) == {LABEL["liver"]}
    vessels = lm.mask("hepatic_vessels")
    near_liver = ndimage.binary_dilation(lm.mask("liver"))
    assert (vessels & near_liver).sum() / vessels.sum() > 0.65  # the extrahepatic portal trunk is outside
    # hepatic veins drain into the IVC: vessel voxels touch the IVC
    assert (ndimage.binary_dilation(vessels) & lm.mask("inferior_vena_cava")).any()


def test_body_outline_and_table(phantom) -> None:
    vol, lm = phantom
    body = body_outline_mask(lm)
    filled = ndimage.binary_fill_holes(body)
    assert (filled & ~body).sum() == 0  # no holes in the body outline
    # the CT table is in the image below (posterior to) the body but not in any label
    table = (vol.array > 100) & ~body
    assert table.sum() > 1000
    j = np.arange(body.shape[1])[None, :, None]
    body_back = np.where(body, j, -1).max(axis=1)  # most posterior body voxel per (i, k) column
    table_front = np.where(table, j, 10**6).min(axis=1)
    both = (body_back >= 0) & (table_front < 10**6)
    assert both.sum() > 1000 and np.all(table_front[both] > body_back[both])
    # cross-sections are elliptic torsos: width/depth ~1.3-1.6
    mid = body[:, :, body.shape[2] // 2]
    ii, jj = np.nonzero(mid)
    ratio = (np.ptp(ii) + 1) * 2.0 / ((np.ptp(jj) + 1) * 2.0)
    assert 1.25 <= ratio <= 1.6


def test_threshold_on_image_finds_the_skeleton(phantom) -> None:
    vol, lm = phantom
    bone = vol.array > 250
    cc, _ = ndimage.label(bone)
    sizes = np.bincount(cc.ravel())
    sizes[0] = 0
    bone = sizes[cc] >= 20  # drop noise specks
    truth = lm.mask("spine") | lm.mask("ribs")
    dice = 2 * (bone & truth).sum() / (bone.sum() + truth.sum())
    assert dice > 0.95
    assert not (bone & lm.mask("aorta")).any()  # contrast-enhanced vessels stay below the bone threshold


def test_landmarks_lie_in_their_structures(phantom) -> None:
    _, lm = phantom
    expect = {
        "tumor_center": "liver_tumor", "needle_target": "liver_tumor", "liver_hilum": "hepatic_vessels",
        "ivc_hepatic_confluence": "inferior_vena_cava", "liver_dome": "liver", "kidney_right_center": "kidney_right",
        "kidney_left_center": "kidney_left", "spleen_center": "spleen", "resection_plane_point": "liver",
    }
    for name, seg in expect.items():
        assert _label_at(lm, DEMO_LANDMARKS[name]) == LABEL[seg], name
    n = np.asarray(DEMO_LANDMARKS["resection_plane_normal"])
    assert np.linalg.norm(n) == pytest.approx(1.0)
    for point in DEMO_LANDMARKS.values():
        assert len(point) == 3 and all(np.isfinite(point))


def test_needle_path_reaches_tumour_clear_of_critical_structures(phantom) -> None:
    _, lm = phantom
    g = lm.geometry
    entry = np.asarray(DEMO_LANDMARKS["needle_entry"])
    target = np.asarray(DEMO_LANDMARKS["needle_target"])
    d = (entry - target) / np.linalg.norm(entry - target)
    assert 40 < np.linalg.norm(entry - target) < 100
    # entry sits on the skin: inside the body, air 4 mm further out
    assert _label_at(lm, entry) == LABEL["body"]
    assert _label_at(lm, entry + 4 * d) == 0
    # every sample between the tumour surface and the skin keeps >= 8 mm from vessels, bone, lung, kidney,
    # spleen, stomach and gallbladder, and crosses no bowel: 'body' voxels (fat, bowel) only in a thin fat
    # plane and the skin
    critical = ("hepatic_vessels", "aorta", "inferior_vena_cava", "spine", "ribs", "intervertebral_discs", "lungs",
                "kidney_right", "kidney_left", "spleen", "stomach", "gallbladder")
    length = np.linalg.norm(entry - target)
    t = np.arange(17.0, length, 0.5)
    ijk = np.rint(g.lps_to_index(target + t[:, None] * d)).astype(int)
    lo = np.maximum(ijk.min(axis=0) - 12, 0)  # a box 24+ mm around the path is enough to measure 8 mm
    hi = ijk.max(axis=0) + 13
    box = tuple(slice(a, b) for a, b in zip(lo, hi))
    forbidden = np.isin(lm.layers[0][box], [LABEL[c] for c in critical])
    dist = ndimage.distance_transform_edt(~forbidden, sampling=g.spacing)
    assert dist[tuple((ijk - lo).T)].min() >= 8.0
    labels_on_path = lm.layers[0][tuple(ijk.T)]
    deep = t < length - 4.0
    assert (labels_on_path[deep] == LABEL["body"]).sum() * 0.5 <= 4.0
    assert set(labels_on_path[deep].tolist()) <= {LABEL[n] for n in ("liver", "muscle", "subcutaneous_fat", "body")}
    # exact geometry (no voxels): the straight needle stays >= 10 mm from the rib and vessel tube surfaces
    from twin.phantom import _trees
    from twin.phantom._anatomy import CENTRE_LPS
    from twin.phantom._shapes import tubes_distance

    line_local = target + np.arange(0.0, length, 0.25)[:, None] * d - np.asarray(CENTRE_LPS)
    portal, hepatic = _trees.hepatic_vessel_tubes()
    assert tubes_distance(line_local, _trees.rib_tubes()).min() >= 10.0
    assert tubes_distance(line_local, portal + hepatic).min() >= 10.0
    # and it crosses at least 1 cm of liver parenchyma before the tumour (tamponade of the tract)
    assert (labels_on_path == LABEL["liver"]).sum() * 0.5 >= 10.0


def test_resection_plane_clears_tumour_with_margin(phantom) -> None:
    _, lm = phantom
    p0 = np.asarray(DEMO_LANDMARKS["resection_plane_point"])
    n = np.asarray(DEMO_LANDMARKS["resection_plane_normal"])
    g = lm.geometry
    tumour_pts = g.index_to_lps(np.argwhere(lm.mask("liver_tumor")))
    assert ((tumour_pts - p0) @ n).min() >= 9.0
    liver_pts = g.index_to_lps(np.argwhere(lm.mask("liver")))
    resected = ((liver_pts - p0) @ n > 0).mean()
    assert 0.2 <= resected <= 0.5


def test_same_seed_same_image_other_seed_other_noise_same_truth() -> None:
    small = dict(shape=(64, 54, 32), spacing_mm=(6.0, 6.0, 7.5))
    v1, l1 = make_abdomen_phantom(seed=3, **small)
    v2, l2 = make_abdomen_phantom(seed=3, **small)
    v3, l3 = make_abdomen_phantom(seed=4, **small)

    def digest(a: np.ndarray) -> str:
        return hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest()

    assert digest(v1.array) == digest(v2.array) and digest(l1.layers[0]) == digest(l2.layers[0])
    assert digest(v1.array) != digest(v3.array)
    np.testing.assert_array_equal(l1.layers[0], l3.layers[0])  # anatomy does not depend on the seed
    assert v1.geometry.is_same_grid(v3.geometry, tol_mm=0.0)


def test_anatomy_is_fixed_in_lps_for_other_grids(phantom) -> None:
    _, fine = phantom
    vol, coarse = make_abdomen_phantom(shape=(100, 84, 60), spacing_mm=(4.0, 4.0, 4.0))
    assert not coarse.geometry.is_same_grid(fine.geometry)
    for name in ("tumor_center", "kidney_left_center", "spleen_center", "liver_dome"):
        assert _label_at(coarse, DEMO_LANDMARKS[name]) == _label_at(fine, DEMO_LANDMARKS[name]), name
    for name in ("liver", "kidney_right", "spleen"):
        assert coarse.volume_mm3(name) == pytest.approx(fine.volume_mm3(name), rel=0.08), name
    assert vol.array.dtype == np.int16


def test_progress_reports_and_cancellation() -> None:
    seen: list[float] = []
    prog = CallbackProgress(lambda f, m: seen.append(f))
    make_abdomen_phantom(shape=(32, 28, 16), spacing_mm=(12.0, 12.0, 15.0), progress=prog)
    assert seen[-1] == 1.0 and seen == sorted(seen) and len(seen) >= 5
    cancelling = CallbackProgress()
    cancelling.token.cancel()
    with pytest.raises(Cancelled):
        make_abdomen_phantom(shape=(32, 28, 16), spacing_mm=(12.0, 12.0, 15.0), progress=cancelling)


@pytest.mark.parametrize(
    "kwargs",
    [dict(shape=(0, 10, 10)), dict(shape=(10, 10)), dict(shape=(10.5, 10, 10)), dict(spacing_mm=(1.0, -1.0, 1.0)),
     dict(spacing_mm=(1.0, float("nan"), 1.0)), dict(shape=(5000, 5000, 5000)), dict(noise_sd_hu=-1.0)],
)
def test_bad_parameters_are_input_errors(kwargs) -> None:
    with pytest.raises(InputError):
        make_abdomen_phantom(**kwargs)


@pytest.mark.data
def test_organ_layout_matches_a_real_abdominal_ct(phantom, shared_data) -> None:
    """Centroid-to-centroid directions and distances agree with a real CT read through ``twin.io`` (LPS)."""
    from twin.io.images import read_labelmap

    real = read_labelmap(shared_data / "totalseg_example" / "example_seg.nii.gz")  # TotalSegmentator labels
    real_values = {"liver": [5], "spleen": [1], "kidney_right": [2], "kidney_left": [3], "aorta": [52],
                   "inferior_vena_cava": [63], "spine": [30, 31, 32, 33]}

    def centroid(lm: LabelMap, values: list[int]) -> np.ndarray:
        return lm.geometry.index_to_lps(np.argwhere(np.isin(lm.layers[0], values)).mean(axis=0)[None])[0]

    ours = {n: _centroid_lps(phantom[1], n) for n in real_values}
    theirs = {n: centroid(real, v) for n, v in real_values.items()}
    for a, b in [("liver", "spleen"), ("inferior_vena_cava", "aorta"), ("spine", "aorta"),
                 ("kidney_right", "kidney_left"), ("kidney_right", "liver"), ("spine", "liver")]:
        u, v = ours[a] - ours[b], theirs[a] - theirs[b]
        angle = np.degrees(np.arccos(u @ v / np.linalg.norm(u) / np.linalg.norm(v)))
        assert angle < 45, f"{a} - {b}: {angle:.0f} deg from the real CT"
        assert 0.6 < np.linalg.norm(u) / np.linalg.norm(v) < 1.6, f"{a} - {b} distance"
