"""Reslicing in physical space: orientation conventions, grids with flipped/rotated axes, exactness."""

from __future__ import annotations

import numpy as np
import pytest

from rendering.slicing import SlicePlane, direction_letter, reslice, slice_range_mm
from tests.rendering.conftest import phantom_on, voxel_centres_lps
from twin.geometry import ImageGeometry


def test_standard_planes_follow_radiological_convention():
    ax = SlicePlane.standard("axial", [0, 0, 0])
    assert direction_letter(ax.col_dir) == "L" and direction_letter(-ax.col_dir) == "R"  # patient left on screen right
    assert direction_letter(ax.row_dir) == "P" and direction_letter(ax.normal) == "S"
    co = SlicePlane.standard("coronal", [0, 0, 0])
    assert direction_letter(co.col_dir) == "L" and direction_letter(-co.row_dir) == "S"
    sa = SlicePlane.standard("sagittal", [0, 0, 0])
    assert direction_letter(-sa.col_dir) == "A" and direction_letter(-sa.row_dir) == "S"
    assert direction_letter([0.7, -0.7, 0.1]) == "LA"


def test_axial_slice_matches_voxels_and_puts_patient_left_on_screen_right(phantom):
    vol, _ = phantom
    k = 11
    point = vol.geometry.index_to_lps([[45, 35, k]])[0]
    s = reslice(vol.array, vol.geometry, SlicePlane.standard("axial", point))
    assert s.pixel_spacing_mm == (1.0, 1.0)
    # rows run along j (posterior), columns along i (left): the raw slice transposed
    np.testing.assert_array_equal(s.pixels, vol.array[:, :, k].T)
    left_half = s.pixels[:, : s.shape[1] // 2]
    right_half = s.pixels[:, s.shape[1] // 2:]
    assert (left_half == 90).sum() > 100 and (right_half == 90).sum() == 0  # liver (patient right) on screen left
    assert (right_half == 120).sum() > 20
    # pixel <-> LPS round trip lands on voxel centres
    rc = np.array([[3.0, 7.0], [40.0, 60.0]])
    lps = s.pixel_to_lps(rc)
    np.testing.assert_allclose(s.lps_to_pixel(lps), rc, atol=1e-9)
    np.testing.assert_allclose(lps[:, 2], point[2])


@pytest.mark.parametrize("orientation", ["axial", "coronal", "sagittal"])
def test_same_anatomy_on_a_flipped_grid_gives_the_same_slice(orientation):
    n = (60, 50, 20)
    sp = np.array([1.2, 1.0, 2.0])
    g1 = ImageGeometry(n, sp, -sp * (np.array(n) - 1) / 2)
    flip = np.diag([-1.0, -1.0, 1.0])  # RAS-ordered storage (as many NIfTI files)
    g2 = ImageGeometry(n, sp, flip @ (-sp * (np.array(n) - 1) / 2), flip)
    v1, _ = phantom_on(g1)
    v2, _ = phantom_on(g2)
    assert not np.array_equal(v1.array, v2.array)  # stored differently...
    plane = SlicePlane.standard(orientation, [2.0, -3.0, 4.0])
    s1 = reslice(v1.array, g1, plane)
    s2 = reslice(v2.array, g2, plane)
    np.testing.assert_array_equal(s1.pixels, s2.pixels)  # ...shown identically
    np.testing.assert_allclose(s1.origin_lps, s2.origin_lps, atol=1e-9)


def test_rotated_grid_is_resampled_exactly_for_linear_fields():
    a = np.deg2rad(25)
    rot = np.array([[np.cos(a), -np.sin(a), 0], [np.sin(a), np.cos(a), 0], [0, 0, 1]])
    g = ImageGeometry((40, 40, 12), (1.5, 1.5, 3.0), (-30, -30, -16), rot)
    p = voxel_centres_lps(g)
    coef = np.array([0.7, -1.3, 2.1])
    field = (p @ coef).astype(np.float32)
    s = reslice(field, g, SlicePlane.standard("axial", [0.0, 0.0, 1.0]), order=1, fill=np.nan)
    assert s.pixel_spacing_mm == (1.5, 1.5)  # oblique path, isotropic pixels at the finest spacing
    rr, cc = np.meshgrid(np.arange(s.shape[0]), np.arange(s.shape[1]), indexing="ij")
    lps = s.pixel_to_lps(np.stack([rr.ravel(), cc.ravel()], 1))
    inside = ~np.isnan(s.pixels.ravel())
    assert inside.sum() > 500
    np.testing.assert_allclose(s.pixels.ravel()[inside], (lps @ coef)[inside], atol=1e-3)


def test_oblique_plane_and_out_of_volume_slices(phantom):
    vol, _ = phantom
    plane = SlicePlane.oblique([0, 0, 0], normal=[1, 1, 1])
    assert np.isclose(plane.col_dir @ plane.row_dir, 0) and np.allclose(plane.normal, np.ones(3) / np.sqrt(3))
    s = reslice(vol.array, vol.geometry, plane, order=0, fill=-1000)
    assert s.inside and (s.pixels == 90).any()  # the plane through the centre cuts the liver
    far = reslice(vol.array, vol.geometry, SlicePlane.standard("axial", [0, 0, 500]), fill=-1000)
    assert not far.inside and np.all(far.pixels == -1000)
    lo, hi, step = slice_range_mm(vol.geometry, SlicePlane.standard("axial", [0, 0, 0]))
    assert step == 2.5 and np.isclose(hi - lo, 2.5 * 23)
