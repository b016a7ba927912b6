"""Real CT with TotalSegmentator labels (../shared/data/totalseg_example): anatomy lands on the right screen side."""

from __future__ import annotations

import numpy as np
import pytest

from rendering.offscreen import render_mpr_slice
from rendering.overlay import OverlayStyle

pytestmark = pytest.mark.data


@pytest.fixture(scope="module")
def ct_and_labels(shared_data):
    from twin.io.images import read_image, read_labelmap

    folder = shared_data / "totalseg_example"
    vol = read_image(folder / "example_ct_sm.nii.gz")
    lm = read_labelmap(folder / "example_seg.nii.gz")
    return vol, lm


def test_liver_left_spleen_right_on_axial_and_coronal(ct_and_labels):
    from twin.labelmap import LabelMap

    vol, lm = ct_and_labels
    # keep liver (5) and spleen (1) only, in pure colours
    arr = lm.layers[0]
    lab = np.where(arr == 5, 1, np.where(arr == 1, 2, 0)).astype(np.uint8)
    two = LabelMap.from_array(lab, lm.geometry, {1: "liver", 2: "spleen"}, colors={1: (1, 0, 0), 2: (0, 0, 1)})
    liver_lps = lm.geometry.index_to_lps(np.argwhere(lab == 1)).mean(axis=0)
    spleen_lps = lm.geometry.index_to_lps(np.argwhere(lab == 2)).mean(axis=0)
    assert liver_lps[0] < spleen_lps[0]  # the liver is on the patient's right (smaller L coordinate)
    pos = (liver_lps + spleen_lps) / 2
    for orientation in ("axial", "coronal"):
        img = render_mpr_slice(vol, two, orientation, pos, size=(400, 400), overlay=OverlayStyle(1.0, "fill"),
                               annotate=False)
        red = np.all(img == [255, 0, 0], axis=-1)
        blue = np.all(img == [0, 0, 255], axis=-1)
        assert red.sum() > 200 and blue.sum() > 50, orientation
        assert np.nonzero(red)[1].mean() < 200 < np.nonzero(blue)[1].mean(), orientation  # radiological convention


def test_sagittal_spine_is_posterior(ct_and_labels):
    from twin.labelmap import LabelMap

    vol, lm = ct_and_labels
    arr = lm.layers[0]
    vertebrae = np.isin(arr, [30, 31, 32, 33])
    liver = arr == 5
    lab = np.where(vertebrae, 1, np.where(liver, 2, 0)).astype(np.uint8)
    two = LabelMap.from_array(lab, lm.geometry, {1: "spine", 2: "liver"}, colors={1: (0, 1, 0), 2: (1, 0, 0)})
    pos = lm.geometry.index_to_lps(np.argwhere(liver)).mean(axis=0)
    pos[0] = lm.geometry.index_to_lps(np.argwhere(vertebrae)).mean(axis=0)[0] - 20  # sagittal through spine and liver
    img = render_mpr_slice(vol, two, "sagittal", pos, size=(400, 400), overlay=OverlayStyle(1.0, "fill"),
                           annotate=False)
    green = np.all(img == [0, 255, 0], axis=-1)
    red = np.all(img == [255, 0, 0], axis=-1)
    if green.sum() < 20:  # the plane missed the vertebrae: use the spine's own sagittal position
        pos[0] += 20
        img = render_mpr_slice(vol, two, "sagittal", pos, size=(400, 400), overlay=OverlayStyle(1.0, "fill"),
                               annotate=False)
        green = np.all(img == [0, 255, 0], axis=-1)
        red = np.all(img == [255, 0, 0], axis=-1)
    assert green.sum() > 20
    # anterior is on screen left in sagittal views: the spine (posterior) is right of the liver when both show
    if red.sum() > 20:
        assert np.nonzero(green)[1].mean() > np.nonzero(red)[1].mean()
    else:
        assert np.nonzero(green)[1].mean() > 200
