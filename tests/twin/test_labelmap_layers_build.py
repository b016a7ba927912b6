"""Building multi-layer label maps segment by segment (importers of DICOM-SEG, TotalSegmentator folders)."""

from __future__ import annotations

import numpy as np

from twin.labelmap import compact_layers, place_in_layers


def test_overlapping_masks_go_to_new_layers_and_values_count_per_layer():
    layers: list[np.ndarray] = []
    seg_layers: list[int] = []
    a = np.zeros((6, 5, 4), bool)
    a[:3] = True
    b = np.zeros_like(a)
    b[3:] = True
    c = np.zeros_like(a)
    c[2:4] = True  # overlaps both
    for m in (a, b, c):
        li, v = place_in_layers(layers, seg_layers, m)
        seg_layers.append(li)
        assert (layers[li][m] == v).all()
    assert seg_layers == [0, 0, 1] and len(layers) == 2
    assert (layers[0][a] == 1).all() and (layers[0][b] == 2).all() and (layers[1][c] == 1).all()


def test_more_than_255_segments_in_one_layer_keep_their_values():
    shape = (300, 2, 1)
    layers: list[np.ndarray] = []
    seg_layers: list[int] = []
    for n in range(300):
        m = np.zeros(shape, bool)
        m[n] = True
        li, v = place_in_layers(layers, seg_layers, m)
        seg_layers.append(li)
    (layer,) = compact_layers(layers)
    assert layer.dtype == np.uint16 and np.array_equal(layer[:, 0, 0], np.arange(1, 301))
    small = compact_layers([np.array([[[0, 7]]], np.uint16)])[0]
    assert small.dtype == np.uint8 and small.max() == 7
