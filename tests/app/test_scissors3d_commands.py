"""The 3-D scissors job (:func:`app.gui.tools.scissors3d.lasso_cut_command`) without a window.

Several segments share a layer with overlapping bounding boxes (the patches must not restore each
other's voxels), one lives in a second layer; a parallel anterior camera makes the expected cut
countable by hand. Frame: LPS mm.
"""

from __future__ import annotations

import numpy as np

from app.gui.tools.scissors3d import lasso_cut_command
from twin.commands import UndoStack
from twin.geometry import ImageGeometry
from twin.labelmap import LabelMap

S, CX, CY = 4.0, 300.0, 200.0
CAMERA = np.array([[S, 0, 0, CX], [0, 0, -S, CY], [0, 1, 0, 0], [0, 0, 0, 1]], float)  # anterior, parallel


def px(l0, l1, s0, s1):
    """Rectangle of L in (l0, l1) mm and S in (s0, s1) mm, as screen pixels."""
    return np.array([[CX + S * l0, CY - S * s1], [CX + S * l1, CY - S * s1], [CX + S * l1, CY - S * s0],
                     [CX + S * l0, CY - S * s0]])


def make_labelmap():
    g = ImageGeometry((30, 30, 30))
    lab = np.zeros(g.shape, np.uint8)
    lab[5:20, 5:25, 5:20] = 1  # "a"
    lab[12:25, 8:22, 10:25] = 2  # "b" overlaps a's box (and takes part of it)
    lm = LabelMap.from_array(lab, g, names={1: "a", 2: "b"})
    extra = np.zeros(g.shape, np.uint8)
    extra[0:30, 0:30, 14:16] = 1
    lm.layers.append(extra)
    from twin.labelmap import Segment
    lm.segments.append(Segment(1, "c", (0.5, 0.5, 0.5), 1))
    return lm


def test_erase_inside_several_segments_one_step():
    lm = make_labelmap()
    before = [a.copy() for a in lm.layers]
    poly = px(9.5, 15.5, 11.5, 17.5)  # i = 10..15, k = 12..17, every j
    cmd, counts = lasso_cut_command(lm, ["a", "b", "c"], CAMERA, poly, (600, 400))
    cols = np.zeros((30, 30), bool)
    cols[10:16, 12:18] = True  # (i, k)
    region = np.repeat(cols[:, None, :], 30, axis=1)
    exp0 = before[0].copy()
    exp0[region & (before[0] > 0)] = 0
    exp1 = before[1].copy()
    exp1[region & (before[1] > 0)] = 0
    assert counts == {"a": int((region & (before[0] == 1)).sum()), "b": int((region & (before[0] == 2)).sum()),
                      "c": int((region & (before[1] == 1)).sum())}
    assert counts["c"] == 6 * 2 * 30  # two slices (k = 14, 15) of the whole i-j plane inside the lasso columns
    assert all(np.array_equal(a, b) for a, b in zip(lm.layers, before))  # nothing applied before the push
    stack = UndoStack()
    stack.push(cmd)
    assert np.array_equal(lm.layers[0], exp0) and np.array_equal(lm.layers[1], exp1)
    stack.undo()
    assert all(np.array_equal(a, b) for a, b in zip(lm.layers, before))
    stack.redo()
    assert np.array_equal(lm.layers[0], exp0) and np.array_equal(lm.layers[1], exp1)


def test_erase_outside_only_named_segments():
    lm = make_labelmap()
    before = [a.copy() for a in lm.layers]
    poly = px(9.5, 15.5, 11.5, 17.5)
    cmd, counts = lasso_cut_command(lm, ["b"], CAMERA, poly, None, inside=False)
    UndoStack().push(cmd)
    cols = np.zeros((30, 30), bool)
    cols[10:16, 12:18] = True
    region = np.repeat(cols[:, None, :], 30, axis=1)
    b_before = before[0] == 2
    assert np.array_equal(lm.layers[0] == 2, b_before & region)
    assert np.array_equal(lm.layers[0] == 1, before[0] == 1) and np.array_equal(lm.layers[1], before[1])
    assert counts == {"b": int((b_before & ~region).sum())}


def test_fill_inside_slab_and_nothing_to_cut():
    lm = make_labelmap()
    poly = px(0.5, 3.5, 0.5, 3.5)  # i = 1..3, k = 1..3: outside a and b
    assert lasso_cut_command(lm, ["a", "b"], CAMERA, poly, None) == (None, {})
    cmd, counts = lasso_cut_command(lm, ["a"], CAMERA, poly, None, op="add", slab=((0, 10.0, 0), (0, 1, 0), 4.0))
    assert counts == {"a": 3 * 5 * 3}  # j = 8..12 within 2 mm of P = 10
    UndoStack().push(cmd)
    assert lm.mask("a")[1:4, 8:13, 1:4].all()
