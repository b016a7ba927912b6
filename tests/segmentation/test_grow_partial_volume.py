"""Two-sided partial-volume boundary (``boundary_trim``): a label one voxel too large over a weak edge
loses its outer layer, a right one at most part of its outer layer (frame LPS, mm)."""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi

from segmentation import grow
from segmentation._common import dice
from segmentation._partial_volume import trim_boundary
from twin.geometry import ImageGeometry
from twin.volume import Volume


def _weak_sphere():
    """A 14 mm ball at 8 HU (bile) in 30 HU tissue (bowel) on 2 x 2 x 2.5 mm voxels, blurred
    (sigma 0.9 mm) with 11 HU noise: 22 HU of contrast, twice the noise."""
    g = ImageGeometry((40, 40, 32), (2.0, 2.0, 2.5))
    xyz = np.indices(g.shape).transpose(1, 2, 3, 0) * g.spacing
    centre = np.array([40.0, 40.0, 40.0])
    ball = np.linalg.norm(xyz - centre, axis=-1) <= 14.0
    img = ndi.gaussian_filter(np.where(ball, 8.0, 30.0), 0.9 / g.spacing)
    img += np.random.default_rng(5).normal(0, 11.0, g.shape)
    return Volume(img.astype(np.float32), g, modality="CT", units="HU"), ball, centre


def test_trim_boundary_removes_an_extra_layer_and_keeps_a_right_boundary():
    vol, ball, _ = _weak_sphere()
    g = vol.geometry
    sm = np.asarray(vol.array, np.float32)
    six = ndi.generate_binary_structure(3, 1)
    too_big = ndi.binary_dilation(ball, six)
    labels = too_big.astype(np.uint16)
    removed = trim_boundary(labels, 1, sm, g, contrast=3.0)
    print("one layer too far:", round(dice(too_big, ball), 3), "->", round(dice(labels == 1, ball), 3), removed)
    assert dice(too_big, ball) < 0.9
    assert dice(labels == 1, ball) > 0.95
    # the known bias: a right boundary on a convex object loses part of its outer layer, never more
    right = ball.astype(np.uint16)
    trim_boundary(right, 1, sm, g, contrast=3.0)
    boundary = ball & ~ndi.binary_erosion(ball, six)
    assert np.all((right == 1) <= ball)
    assert (ball & (right != 1)).sum() < 0.5 * boundary.sum()
    assert not (ndi.binary_erosion(ball, six) & (right != 1)).any()
    # no edge (the same tissue inside and out): only the noise's 3-sigma outliers are removed
    flat = np.random.default_rng(6).normal(8.0, 11.0, g.shape).astype(np.float32)
    labels = too_big.astype(np.uint16)
    assert trim_boundary(labels, 1, flat, g, contrast=3.0) <= 0.01 * (too_big & ~ball).sum()


def test_boundary_trim_option_only_removes_voxels_of_its_label():
    vol, ball, centre = _weak_sphere()
    g = vol.geometry
    pts = {1: [centre, centre + [6, 0, 0], centre - [0, 6, 0]],
           2: [centre + [26, 0, 0], centre - [26, 0, 0], centre + [0, 26, 0], centre - [0, 26, 0], centre + [0, 0, 26]]}
    seeds = np.zeros(g.shape, np.uint16)
    for v, p in pts.items():
        seeds[tuple(np.rint(np.array(p) / g.spacing).astype(int).T)] = v
    plain = grow.grow_from_seeds(vol, seeds, background=[2])
    trimmed = grow.grow_from_seeds(vol, seeds, background=[2], label_options={1: {"boundary_trim": True}})
    assert np.all((trimmed == 1) <= (plain == 1))
    assert (plain == 1).sum() > (trimmed == 1).sum()  # the ball's weak edge: some boundary voxels go
    assert np.array_equal(trimmed[plain != 1], plain[plain != 1])


def test_trim_boundary_cuts_a_thin_leak_beyond_one_layer_of_the_opened_label():
    """A label that leaked along a one-voxel channel of bile-like tissue (a bowel/fat mixture of the bile's
    attenuation): the intensity rule cannot remove it (its voxels look like the inside), the opening by the
    label's leak-cutting radius does, beyond one voxel layer; the ball itself is kept."""
    g = ImageGeometry((40, 40, 32), (2.0, 2.0, 2.5))
    xyz = np.indices(g.shape).transpose(1, 2, 3, 0) * g.spacing
    ball = np.linalg.norm(xyz - np.array([40.0, 40.0, 40.0]), axis=-1) <= 14.0
    channel = np.zeros(g.shape, bool)
    channel[27:35, 20, 16] = True  # 8 voxels (16 mm) out of the ball along i, one voxel thick
    inside = ball | channel
    img = ndi.gaussian_filter(np.where(inside, 8.0, 30.0), 0.9 / g.spacing)
    img = (img + np.random.default_rng(7).normal(0, 4.0, g.shape)).astype(np.float32)
    leak = channel & ~ndi.binary_dilation(ball, ndi.generate_binary_structure(3, 1))
    assert leak.sum() >= 5
    plain = inside.astype(np.uint16)
    trim_boundary(plain, 1, img, g, contrast=3.0)
    assert (leak & (plain == 1)).sum() >= 3  # without the leak step most of the channel stays
    cut = inside.astype(np.uint16)
    trim_boundary(cut, 1, img, g, contrast=3.0, leak_radius_mm=4.5)
    assert not (leak & (cut == 1)).any()
    assert dice(cut == 1, ball) > dice(plain == 1, ball)
    # the ball's outline is smooth at the opening's scale: the leak step takes (almost) nothing else
    assert ((plain == 1) & (cut != 1) & ~channel).sum() <= 0.01 * ball.sum()
