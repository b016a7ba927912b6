"""Oblique reslicing of a real CT with TotalSegmentator labels (../shared/data/totalseg_example), LPS mm."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.ndimage import map_coordinates

from rendering.mpr import label_slices
from rendering.slicing import SlicePlane, reslice, trajectory_planes

pytestmark = pytest.mark.data

LIVER = 5


@pytest.fixture(scope="module")
def ct_and_labels(shared_data):
    from twin.io.images import read_image, read_labelmap

    folder = shared_data / "totalseg_example"
    return read_image(folder / "example_ct_sm.nii.gz"), read_labelmap(folder / "example_seg.nii.gz")


def _pixels_lps(s):
    rr, cc = np.meshgrid(np.arange(s.shape[0]), np.arange(s.shape[1]), indexing="ij")
    return s.pixel_to_lps(np.stack([rr.ravel(), cc.ravel()], 1))


def test_oblique_ct_and_labels_match_scipy_and_the_voxels(ct_and_labels):
    vol, lm = ct_and_labels
    liver = lm.layers[0] == LIVER
    centre = lm.geometry.index_to_lps(np.argwhere(liver)).mean(axis=0)
    plane = SlicePlane.standard("axial", centre).rotated([1, 0, 0], np.deg2rad(35)).rotated([0, 0, 1], 0.4)
    s = reslice(vol.array, vol.geometry, plane, order=1, fill=-3000, spacing_mm=1.1)
    lps = _pixels_lps(s)
    ijk = vol.geometry.lps_to_index(lps)
    ref = map_coordinates(vol.array.astype(np.float64), ijk.T, order=1, mode="nearest", prefilter=False)
    inside = np.all((ijk > 1e-6) & (ijk < np.array(vol.shape) - 1 - 1e-6), axis=1)
    assert inside.sum() > 5000
    np.testing.assert_allclose(s.pixels.ravel()[inside], ref[inside], atol=1e-2)  # HU, float32 rounding
    assert np.all(s.pixels.ravel()[~np.all((ijk > -1e-6) & (ijk < np.array(vol.shape) - 1 + 1e-6), axis=1)] == -3000)
    (lab,) = label_slices(lm, s, plane)
    lidx = np.floor(lm.geometry.lps_to_index(lps) + 0.5).astype(int)
    ok = np.all((lidx >= 0) & (lidx < np.array(lm.shape)), axis=1)
    expected = np.zeros(len(lps), lm.layers[0].dtype)
    expected[ok] = lm.layers[0][tuple(lidx[ok].T)]
    np.testing.assert_array_equal(lab.ravel(), expected)
    # the liver in the oblique slice is soft tissue: its median CT value is liver-like (HU 30-90 on contrast CT)
    liver_px = (lab.ravel() == LIVER) & inside
    assert liver_px.sum() > 300
    assert 20 < float(np.median(s.pixels.ravel()[liver_px])) < 200


def test_trajectory_plane_runs_through_the_liver_on_its_centre_column(ct_and_labels):
    vol, lm = ct_and_labels
    liver = lm.layers[0] == LIVER
    target = lm.geometry.index_to_lps(np.argwhere(liver)).mean(axis=0)
    entry = target + np.array([-60.0, -40.0, 30.0])  # from the patient's right, anterior, cranial
    planes = trajectory_planes(entry, target)
    for key in ("along", "along_ortho"):
        p = planes[key]
        s = reslice(vol.array, vol.geometry, p, order=1, fill=-3000, spacing_mm=1.0)
        (lab,) = label_slices(lm, s, p)
        rc = s.lps_to_pixel(np.stack([entry, target]))
        assert rc[0, 1] == pytest.approx(rc[1, 1], abs=1e-9)  # the path is one pixel column
        r, c = np.rint(rc[1]).astype(int)
        assert lab[r, c] == LIVER  # the target pixel shows the liver label
        np.testing.assert_allclose(s.pixel_to_lps(rc)[1], target, atol=1e-9)
