"""Slab-wise morphology (memory-bounded paths) against one-piece references, frame-free index tests."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage as ndi

from segmentation import morphology as morph
from segmentation._common import ball
from twin.geometry import ImageGeometry


@pytest.fixture
def blobs():
    rng = np.random.default_rng(3)
    return np.asfortranarray(ndi.uniform_filter(rng.random((40, 36, 50)), 3) > 0.56)


@pytest.fixture
def tiny_slabs(monkeypatch):
    """Slabs of two or three k-slices, so that components cross many slab boundaries."""
    monkeypatch.setattr(morph, "SLAB_MAX_VOXELS", 40 * 36 * 3)
    monkeypatch.setattr(morph, "SINGLE_PASS_VOXELS", 1)


@pytest.mark.parametrize("fully_connected", [True, False])
def test_select_components_matches_one_piece_labelling(blobs, tiny_slabs, fully_connected):
    labels, n = ndi.label(blobs, ndi.generate_binary_structure(3, 3 if fully_connected else 1))
    sizes = np.bincount(labels.ravel())
    assert n > 50  # many components, several spanning slabs
    g = ImageGeometry(blobs.shape)
    np.testing.assert_array_equal(morph.remove_small_islands(blobs, g, 12, fully_connected),
                                  (sizes >= 12)[labels] & blobs)
    np.testing.assert_array_equal(morph.keep_largest(blobs, 3, fully_connected),
                                  np.isin(labels, 1 + np.argsort(-sizes[1:], kind="stable")[:3]))
    extra = np.zeros_like(blobs)
    extra[:, :, ::2] = True  # per-component count of voxels on even slices
    even = np.bincount(labels[extra & blobs], minlength=n + 1)
    got = morph.select_components(blobs, lambda s, e: 2 * e > s, extra=extra, fully_connected=fully_connected)
    want = (2 * even > sizes)[labels] & blobs
    np.testing.assert_array_equal(got, want)


def test_slab_dilation_and_erosion_are_exact(blobs, tiny_slabs):
    g = ImageGeometry(blobs.shape, (0.9, 1.2, 1.6))
    for r in (1.0, 3.5):  # shifted ORs, then slab-wise distance maps
        want = ndi.binary_dilation(blobs, structure=ball(r, g.spacing))
        np.testing.assert_array_equal(morph.dilate(blobs, g, r), want)
        np.testing.assert_array_equal(morph.erode(blobs, g, r), ~morph.dilate(~blobs, g, r))


def test_slab_slice_filling_matches_per_slice_filling(blobs, tiny_slabs):
    ring = np.zeros((30, 30, 12), bool)
    ring[5:25, 5:25, :] = True
    ring[10:20, 10:20, :] = False  # a hole in every axial slice
    ring[12:14, 12:14, 6] = True  # an island inside one of them
    for m in (blobs, ring):
        for axis in range(3):
            want = np.stack([ndi.binary_fill_holes(np.take(m, i, axis)) for i in range(m.shape[axis])], axis)
            np.testing.assert_array_equal(morph.fill_holes(m, "slice", axes=(axis,)), want | m)
