"""Oblique reslicing (LPS mm): analytic volumes, the numba sampler against scipy and brute force, plane helpers."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.ndimage import map_coordinates

from rendering._plane_sampler import sample_plane_grid
from rendering.mpr import label_slices, screen_letters
from rendering.slicing import (
    SlicePlane,
    intersection_direction,
    is_axis_aligned,
    obliquity,
    preset_of,
    reslice,
    rotation_matrix,
    slice_range_mm,
    trajectory_planes,
)
from tests.rendering.conftest import phantom_on, voxel_centres_lps
from twin.geometry import ImageGeometry


def _pixel_lps(s):
    rr, cc = np.meshgrid(np.arange(s.shape[0]), np.arange(s.shape[1]), indexing="ij")
    return s.pixel_to_lps(np.stack([rr.ravel(), cc.ravel()], 1)).reshape(*s.shape, 3)


def _tilted(point=(0.0, 0.0, 0.0)):
    """Axial turned 30 deg about L then 20 deg about P: no image axis lies in it."""
    return SlicePlane.standard("axial", point).rotated([1, 0, 0], np.deg2rad(30)).rotated([0, 1, 0], np.deg2rad(20))


@pytest.mark.parametrize("rotated_grid", [False, True])
def test_oblique_reslice_of_x_lps_volume_is_exact(rotated_grid):
    """value = x_lps (and a general linear field) is reproduced at every pixel inside, on any grid."""
    a = np.deg2rad(25) if rotated_grid else 0.0
    rot = np.array([[np.cos(a), -np.sin(a), 0], [np.sin(a), np.cos(a), 0], [0, 0, 1]])
    g = ImageGeometry((50, 44, 30), (1.2, 1.0, 2.0), (-30, -22, -29), rot)
    p = voxel_centres_lps(g)
    plane = _tilted((3.0, -2.0, 1.5))
    for coef in ([1.0, 0.0, 0.0], [0.7, -1.3, 2.1]):
        field = (p @ np.array(coef)).astype(np.float32)
        s = reslice(field, g, plane, order=1, fill=np.nan)
        assert s.inside and s.pixel_spacing_mm == (1.0, 1.0)
        lps = _pixel_lps(s)
        np.testing.assert_allclose(lps.reshape(-1, 3) @ plane.normal, plane.offset_mm, atol=1e-9)  # on the plane
        inside = ~np.isnan(s.pixels)
        assert inside.sum() > 800
        np.testing.assert_allclose(s.pixels[inside], (lps @ np.array(coef))[inside], atol=2e-4)
        # NaN exactly where the point is outside the voxel-centre box
        ijk = g.lps_to_index(lps.reshape(-1, 3)).reshape(*s.shape, 3)
        out = np.any((ijk < -1e-5) | (ijk > np.array(g.shape) - 1 + 1e-5), axis=-1)
        assert not inside[out].any()
        assert inside[np.all((ijk > 1e-5) & (ijk < np.array(g.shape) - 1 - 1e-5), axis=-1)].all()


def test_spacing_and_region_keep_one_pixel_grid():
    g = ImageGeometry((40, 40, 40), (1.0, 1.0, 1.0), (-20, -20, -20))
    field = (voxel_centres_lps(g) @ np.array([1.0, 2.0, -0.5])).astype(np.float32)
    plane = _tilted()
    full = reslice(field, g, plane, spacing_mm=1.5)
    assert full.pixel_spacing_mm == (1.5, 1.5)
    part = reslice(field, g, plane, spacing_mm=1.5, region_uv=(-10.0, 5.0, -3.0, 12.0))
    assert part.shape[0] < full.shape[0] and part.shape[1] < full.shape[1]
    # the crop is a sub-grid of the full slice: same values at the same LPS points
    rc = full.lps_to_pixel(part.origin_lps[None])[0]
    r0, c0 = np.rint(rc).astype(int)
    np.testing.assert_allclose(rc, [r0, c0], atol=1e-9)
    np.testing.assert_allclose(part.pixels, full.pixels[r0:r0 + part.shape[0], c0:c0 + part.shape[1]], atol=1e-4)
    u0, u1, v0, v1 = part.extent_plane_mm()
    assert u0 <= -10.0 and u1 >= 5.0 and v0 <= -3.0 and v1 >= 12.0 and u1 - u0 < 20.0
    # scrolling keeps the frame: the grid origin moves only along the normal
    moved = reslice(field, g, plane.moved_to(plane.point_lps + 3.0 * plane.normal), spacing_mm=1.5)
    assert moved.shape == full.shape
    np.testing.assert_allclose(moved.origin_lps - full.origin_lps, 3.0 * plane.normal, atol=1e-9)


def test_sampler_matches_scipy_linear_and_brute_force_nearest():
    rng = np.random.default_rng(3)
    arr = np.asfortranarray(rng.normal(size=(23, 31, 17)).astype(np.float32))
    ijk0 = np.array([-4.0, 2.5, -3.0])
    d_row, d_col = np.array([0.41, 0.23, 0.37]), np.array([0.52, -0.19, 0.28])
    shape = (60, 70)
    pts = ijk0 + np.arange(shape[0])[:, None, None] * d_row + np.arange(shape[1])[None, :, None] * d_col
    n = np.array(arr.shape)
    lin = sample_plane_grid(arr, ijk0, d_row, d_col, shape, 1, -7.0)
    ref = map_coordinates(arr.astype(np.float64), pts.reshape(-1, 3).T, order=1, prefilter=False).reshape(shape)
    inside = np.all((pts > 1e-6) & (pts < n - 1 - 1e-6), axis=-1)
    outside = np.any((pts < -1e-6) | (pts > n - 1 + 1e-6), axis=-1)
    assert inside.sum() > 500 and outside.sum() > 500
    np.testing.assert_allclose(lin[inside], ref[inside], atol=1e-5)
    assert np.all(lin[outside] == -7.0)
    # C order, and a strided view (no flat view: the 3-D kernel), give the same values
    np.testing.assert_array_equal(sample_plane_grid(np.ascontiguousarray(arr), ijk0, d_row, d_col, shape, 1, -7.0),
                                  lin)
    view = np.asfortranarray(rng.normal(size=(23, 62, 17)).astype(np.float32))
    view[:, ::2, :] = arr
    strided = view[:, ::2, :]
    assert not (strided.flags.c_contiguous or strided.flags.f_contiguous)
    np.testing.assert_array_equal(sample_plane_grid(strided, ijk0, d_row, d_col, shape, 1, -7.0), lin)
    labels = rng.integers(0, 5, size=arr.shape).astype(np.uint16)
    near = sample_plane_grid(labels, ijk0, d_row, d_col, shape, 0, 9)
    idx = np.floor(pts + 0.5).astype(int)
    ok = np.all((idx >= 0) & (idx < n), axis=-1)
    expected = np.full(shape, 9, np.uint16)
    expected[ok] = labels[idx[ok][:, 0], idx[ok][:, 1], idx[ok][:, 2]]
    assert near.dtype == np.uint16
    np.testing.assert_array_equal(near, expected)
    boolean = sample_plane_grid(labels == 2, ijk0, d_row, d_col, shape, 0, 0)
    np.testing.assert_array_equal(boolean, expected == 2)
    with pytest.raises(ValueError):
        sample_plane_grid(arr, ijk0, d_row, d_col, shape, 3, 0.0)


def test_labels_follow_the_oblique_grid_and_letters_name_the_dominant_direction(phantom):
    vol, lm = phantom
    plane = _tilted()
    s = reslice(vol.array, vol.geometry, plane, order=1, fill=-1000, spacing_mm=1.3)
    (lab,) = label_slices(lm, s, plane)
    assert lab.shape == s.shape
    # the liver label (1) lies where the CT is 90 HU (same anatomy, same pixels), bar partial-volume rims
    liver_ct = np.abs(s.pixels - 90) < 1
    assert liver_ct.sum() > 50 and np.mean(lab[liver_ct] == 1) > 0.97
    letters = screen_letters(plane)
    assert letters == {"right": "L", "left": "R", "bottom": "P", "top": "A"}  # axial tilted by < 45 deg
    assert screen_letters(SlicePlane.standard("sagittal", [0, 0, 0])) == {"right": "P", "left": "A", "bottom": "I",
                                                                          "top": "S"}
    far = reslice(vol.array, vol.geometry, plane.moved_to(plane.point_lps + 500 * plane.normal), fill=-1000)
    assert not far.inside and np.all(far.pixels == -1000)
    lo, hi, step = slice_range_mm(vol.geometry, plane)
    assert step == float(vol.spacing.min()) and lo < plane.offset_mm < hi


def test_plane_helpers():
    ax = SlicePlane.standard("axial", [1.0, 2.0, 3.0])
    assert preset_of(ax) == "axial" and is_axis_aligned(ImageGeometry((4, 4, 4), (1, 1, 1), (0, 0, 0)), ax)
    r = rotation_matrix([0.3, -0.5, 0.8], 0.7)
    np.testing.assert_allclose(r @ r.T, np.eye(3), atol=1e-12)
    assert np.linalg.det(r) == pytest.approx(1.0)
    # axial turned -90 deg about L (right-handed) is coronal; the point is kept
    co = ax.rotated([1, 0, 0], -np.pi / 2)
    assert preset_of(co) == "coronal" and np.allclose(co.point_lps, [1, 2, 3])
    t = ax.rotated([1, 0, 0], np.deg2rad(20))
    assert preset_of(t) is None
    base, angle = obliquity(t)
    assert base == "axial" and angle == pytest.approx(20.0)
    d = intersection_direction(t, SlicePlane.standard("sagittal", [0, 0, 0]))
    assert d is not None and abs(d @ t.normal) < 1e-12 and abs(d[0]) < 1e-12
    assert intersection_direction(ax, ax.moved_to([0, 0, 9])) is None
    with pytest.raises(ValueError):
        SlicePlane([0, 0, 0], [1, 0, 0], [2, 0, 0])  # parallel axes span no plane


def test_trajectory_planes_put_the_path_on_the_centre_line():
    entry = np.array([-80.0, -30.0, 40.0])
    target = np.array([-10.0, 5.0, -5.0])
    d = (target - entry) / np.linalg.norm(target - entry)
    planes = trajectory_planes(entry, target)
    for key in ("along", "along_ortho"):
        p = planes[key]
        uv = p.to_plane_coords(np.stack([entry, target]))
        assert abs(float((entry - p.point_lps) @ p.normal)) < 1e-9  # both points on the plane
        assert abs(float((target - p.point_lps) @ p.normal)) < 1e-9
        assert uv[0, 0] == pytest.approx(uv[1, 0])  # same screen column: a vertical line
        assert uv[0, 1] < uv[1, 1]  # entry above the target (screen down = row_dir)
    assert abs(planes["along"].normal @ planes["along_ortho"].normal) < 1e-12
    assert planes["along"].col_dir[0] > 0  # screen right towards patient left
    across = planes["across"]
    np.testing.assert_allclose(across.normal, d, atol=1e-12)
    np.testing.assert_allclose(across.point_lps, target)
    # a path along the column hint (pure left-right) still gets a valid frame
    lr = trajectory_planes([0, 0, 0], [50, 0, 0])
    assert abs(lr["along"].col_dir @ np.array([1.0, 0, 0])) < 1e-9
    with pytest.raises(ValueError):
        trajectory_planes(entry, entry)


def test_flipped_grid_gives_the_same_oblique_slice():
    n = (40, 36, 20)
    sp = np.array([1.2, 1.0, 2.0])
    g1 = ImageGeometry(n, sp, -sp * (np.array(n) - 1) / 2)
    flip = np.diag([-1.0, -1.0, 1.0])
    g2 = ImageGeometry(n, sp, flip @ (-sp * (np.array(n) - 1) / 2), flip)
    v1, _ = phantom_on(g1)
    v2, _ = phantom_on(g2)
    s1 = reslice(v1.array, g1, _tilted(), order=0, fill=-1000)
    s2 = reslice(v2.array, g2, _tilted(), order=0, fill=-1000)
    np.testing.assert_allclose(s1.origin_lps, s2.origin_lps, atol=1e-9)
    assert np.mean(s1.pixels == s2.pixels) > 0.995  # identical bar ties at exact voxel boundaries


def test_plane_box_polygon():
    from rendering.slicing import plane_box_polygon

    g = ImageGeometry((10, 20, 30), (1.0, 1.0, 1.0), (0.0, 0.0, 0.0))  # voxel edges span -0.5 .. n - 0.5
    poly = plane_box_polygon(g, SlicePlane.standard("axial", [3.0, 4.0, 7.0]))
    assert poly.shape == (4, 3) and np.allclose(poly[:, 2], 7.0)
    np.testing.assert_allclose(np.sort(np.unique(poly[:, 0])), [-0.5, 9.5])
    np.testing.assert_allclose(np.sort(np.unique(poly[:, 1])), [-0.5, 19.5])
    # a plane cutting one corner off the box is a triangle; through the box centre with normal (1,1,1), a hexagon
    corner = SlicePlane.oblique([9.0, 19.0, 29.0], normal=[1, 1, 1])
    assert len(plane_box_polygon(g, corner)) == 3
    cube = ImageGeometry((11, 11, 11), (1.0, 1.0, 1.0), (0.0, 0.0, 0.0))
    hexagon = plane_box_polygon(cube, SlicePlane.oblique([5.0, 5.0, 5.0], normal=[1, 1, 1]))
    assert len(hexagon) == 6
    np.testing.assert_allclose(hexagon.sum(axis=1), 15.0)  # all on the plane x + y + z = 15
    # ordered around the polygon: the shoelace area equals the regular hexagon's (side = 5.5 * sqrt(2))
    uv = SlicePlane.oblique([5.0, 5.0, 5.0], normal=[1, 1, 1]).to_plane_coords(hexagon)
    area = 0.5 * abs(np.sum(uv[:, 0] * np.roll(uv[:, 1], -1) - np.roll(uv[:, 0], -1) * uv[:, 1]))
    assert area == pytest.approx(1.5 * np.sqrt(3) * (5.5 * np.sqrt(2)) ** 2)
    assert len(plane_box_polygon(g, SlicePlane.standard("axial", [0.0, 0.0, 100.0]))) == 0
