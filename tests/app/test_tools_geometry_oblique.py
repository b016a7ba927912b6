"""Slice-tool geometry on oblique planes (LPS mm): brush disc in the plane, scissors prism along the oblique normal.

Qt-free functions (no display needed), checked against brute force on every voxel.
"""

from __future__ import annotations

import numpy as np

from app.gui.tools.geometry import box_centres_lps, dab, prism_mask
from rendering.slicing import SlicePlane, reslice
from twin.geometry import ImageGeometry

GEOM = ImageGeometry((40, 36, 24), (1.0, 1.2, 2.0), (-20.0, -21.0, -23.0))


def _plane():
    return SlicePlane.standard("axial", [1.5, -2.0, 0.7]).rotated([1, 0, 0], np.deg2rad(35)).rotated(
        [0, 0, 1], np.deg2rad(15))


def test_disc_dab_lies_in_the_oblique_plane_and_covers_it_without_holes():
    plane = _plane()
    box, mask = dab(GEOM, plane.point_lps, 7.0, "disc", plane.normal)
    full = np.zeros(GEOM.shape, bool)
    full[box] = mask
    pts = GEOM.index_to_lps(np.argwhere(full))
    d = pts - plane.point_lps
    half = 0.5 * float(np.abs(plane.normal) @ GEOM.spacing)
    assert np.all(np.linalg.norm(d, axis=1) <= 7.0 + 1e-9) and np.all(np.abs(d @ plane.normal) <= half + 1e-6)
    # brute force: every voxel of the ball within the slab is painted
    centres = box_centres_lps(GEOM, (slice(0, 40), slice(0, 36), slice(0, 24))).reshape(-1, 3) - plane.point_lps
    expected = (np.linalg.norm(centres, axis=1) <= 7.0) & (np.abs(centres @ plane.normal) <= half)
    np.testing.assert_array_equal(full.ravel(), expected)
    # the oblique view of the painted mask (nearest voxel per pixel) is a filled disc: no holes inside 6 mm
    s = reslice(full.astype(np.uint8), GEOM, plane, order=0, spacing_mm=0.5)
    rr, cc = np.meshgrid(np.arange(s.shape[0]), np.arange(s.shape[1]), indexing="ij")
    r = np.linalg.norm(s.pixel_to_lps(np.stack([rr.ravel(), cc.ravel()], 1)) - plane.point_lps, axis=1)
    inner = r.reshape(s.shape) < 6.0
    assert inner.sum() > 400 and np.all(s.pixels[inner] == 1)


def test_scissors_prism_follows_the_oblique_normal():
    plane = _plane()
    square = np.array([[-6.0, -4.0], [5.0, -4.0], [5.0, 7.0], [-6.0, 7.0]])  # plane coords (mm), any offset
    cut = prism_mask(GEOM, square, plane.col_dir, plane.row_dir)
    uv = box_centres_lps(GEOM, (slice(0, 40), slice(0, 36), slice(0, 24))) @ np.stack([plane.col_dir, plane.row_dir]).T
    expected = (uv[..., 0] > -6) & (uv[..., 0] < 5) & (uv[..., 1] > -4) & (uv[..., 1] < 7)
    np.testing.assert_array_equal(cut, expected)
    assert cut.sum() > 300
    # the prism spans the whole depth: voxels far from the plane along its normal are cut too
    depth = (GEOM.index_to_lps(np.argwhere(cut)) - plane.point_lps) @ plane.normal
    assert depth.min() < -15 and depth.max() > 15
