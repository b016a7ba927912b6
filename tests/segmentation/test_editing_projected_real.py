"""3-D scissors on a real CT label map: totalseg_example/example_seg_dicom.nii.gz (512 x 512 x 20,
0.98 x 0.98 x 2 mm, y axis flipped: direction diag(1, -1, 1)).

The liver is cut with an oblique perspective camera and a free-hand lasso; the result must equal an
independent computation (pinhole formula from the camera's eye / axes + skimage's point-in-polygon)
voxel for voxel, and an erase-inside plus erase-outside cut must partition the liver. Frame: LPS mm.
"""

from __future__ import annotations

import numpy as np
import pytest
from skimage.measure import points_in_poly

from segmentation.editing import projected_polygon_mask
from tests.segmentation.conftest import data_dir
from twin.labelmap import mask_bbox

pytestmark = pytest.mark.data


def test_real_liver_oblique_perspective_cut():
    from twin.io.images import read_image

    seg_vol = read_image(data_dir("totalseg_example") / "example_seg_dicom.nii.gz")
    g = seg_vol.geometry
    assert g.direction[1, 1] < 0  # the flipped axis really is exercised
    liver = np.asarray(seg_vol.array) == 5
    assert liver.sum() > 50_000
    centre = g.index_to_lps(np.argwhere(liver).mean(axis=0)[None])[0]
    # camera 400 mm away, from anterior-right-superior, looking at the liver centre
    view_dir = np.array([-0.35, 0.85, -0.4])
    view_dir /= np.linalg.norm(view_dir)
    up = np.array([0.0, 0.0, 1.0]) - view_dir[2] * view_dir
    up /= np.linalg.norm(up)
    right = np.cross(view_dir, up)
    eye = centre - 400.0 * view_dir
    f, cx, cy = 900.0, 420.0, 310.0
    rot = np.stack([right, -up, view_dir])
    view = np.eye(4)
    view[:3, :3] = rot
    view[:3, 3] = -rot @ eye
    m = np.array([[f, 0, cx, 0], [0, f, cy, 0], [0, 0, 1, 0], [0, 0, 1, 0]], float) @ view
    rng = np.random.default_rng(7)
    t = np.linspace(0, 2 * np.pi, 90, endpoint=False)
    r = 70 + 20 * np.sin(2 * t + 0.3) + rng.uniform(-3, 3, t.size)
    poly = np.c_[cx - 15 + r * np.cos(t), cy + 10 + 0.8 * r * np.sin(t)]
    bbox = mask_bbox(liver)
    cut = projected_polygon_mask(g, m, poly, (840, 620), bbox=bbox) & liver
    keep = projected_polygon_mask(g, m, poly, (840, 620), inside=False, bbox=bbox) & liver
    ijk = np.argwhere(liver)
    p = g.index_to_lps(ijk) - eye
    d = p @ view_dir
    px = np.c_[cx + f * (p @ right) / d, cy - f * (p @ up) / d]
    inside = points_in_poly(px, poly) & (d > 0)
    expected = np.zeros_like(liver)
    expected[tuple(ijk[inside].T)] = True
    assert 0.1 * liver.sum() < inside.sum() < 0.9 * liver.sum()
    assert np.array_equal(cut, expected)
    assert not (cut & keep).any() and np.array_equal(cut | keep, liver)
