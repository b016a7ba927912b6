"""Hepatic-vessel tool (segmentation.vessels) on the generated phantom and synthetic tubes (frame LPS, mm)."""

from __future__ import annotations

import numpy as np
import pytest

from segmentation import grow
from segmentation import morphology as morph
from segmentation._common import dice
from segmentation.vessels import parenchyma_statistics, segment_vessels
from twin.errors import InputError
from twin.geometry import ImageGeometry
from twin.volume import Volume


@pytest.fixture(scope="module")
def phantom():
    mod = pytest.importorskip("twin.phantom")
    return mod.make_abdomen_phantom()


def test_vessels_in_true_liver_region(phantom):
    vol, lm = phantom
    truth = lm.mask("hepatic_vessels")
    region = truth | lm.mask("liver") | lm.mask("liver_tumor")
    med, sd = parenchyma_statistics(vol, region)
    assert 95 <= med <= 105 and 10 <= sd <= 18  # liver 100 HU, noise 12 HU (+ partial volume)
    out = segment_vessels(vol, region)
    # measured 0.942 (a plain 135 HU threshold in the same region: 0.54, ribs and noise islands)
    assert dice(out, truth) >= 0.92


@pytest.mark.slow
def test_vessels_in_grown_liver(phantom):
    from tests.segmentation.test_grow_real import _seed_sets

    vol, lm = phantom
    g = vol.geometry
    truth = lm.mask("hepatic_vessels")
    masks = {n: lm.mask(n) for n in ("liver", "spleen", "kidney_right", "kidney_left")}
    sets = _seed_sets(masks, g)
    out = grow.grow_from_seeds(vol, grow.seed_image(g, sets), background=[len(sets)], local_background=True)
    region = morph.fill_holes(morph.closing(out == 1, g, 5.0), "3d")
    vessels = segment_vessels(vol, region)
    # measured 0.809: the grown liver leaves out ~20 % of the vessel voxels (at the hilum)
    assert dice(vessels, truth) >= 0.78


def _tube_volume() -> tuple[Volume, np.ndarray, np.ndarray]:
    geom = ImageGeometry((40, 40, 30), (1.0, 1.0, 1.0))
    arr = np.full(geom.shape, 100.0, np.float32)
    i, j, k = np.meshgrid(*[np.arange(n) for n in geom.shape], indexing="ij")
    bright = (i - 12) ** 2 + (j - 12) ** 2 <= 9  # 200 HU tube along k
    faint = (i - 28) ** 2 + (j - 28) ** 2 <= 9  # 140 HU tube: above low, below high
    arr[bright] = 200.0
    arr[faint] = 140.0
    rng = np.random.default_rng(0)
    arr += rng.normal(0, 5.0, arr.shape).astype(np.float32)
    return Volume(arr, geom, modality="CT", units="HU"), bright, faint


def test_hysteresis_and_seed_points():
    vol, bright, faint = _tube_volume()
    region = np.ones(vol.geometry.shape, bool)
    out = segment_vessels(vol, region, low_hu=125, high_hu=170)
    assert dice(out, bright) > 0.95 and not (out & faint).any()
    seed = vol.geometry.index_to_lps(np.array([[28, 28, 15]]))
    out2 = segment_vessels(vol, region, low_hu=125, high_hu=170, seed_points_lps=seed)
    assert dice(out2, bright | faint) > 0.95
    # an already segmented structure can be kept out (e.g. the IVC next to the hepatic veins)
    out3 = segment_vessels(vol, region, low_hu=125, high_hu=170, seed_points_lps=seed, exclude_mask=faint)
    assert dice(out3, bright) > 0.95 and not (out3 & faint).any()


def test_bone_excluded_and_errors():
    vol, bright, _ = _tube_volume()
    region = np.ones(vol.geometry.shape, bool)
    out = segment_vessels(vol, region, low_hu=125, high_hu=170, bone_hu=190, bone_margin_mm=1.0)
    assert not out.any()
    with pytest.raises(InputError):
        segment_vessels(vol, np.zeros(vol.geometry.shape, bool))
    with pytest.raises(InputError):
        segment_vessels(vol, region, low_hu=150, high_hu=130)
