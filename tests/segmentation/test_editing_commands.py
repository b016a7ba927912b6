"""Brush, scissors, level set, undoable commands and statistics."""

from __future__ import annotations

import numpy as np
import pytest

from segmentation import commands, editing
from segmentation._common import dice
from segmentation.levelset import refine_level_set
from segmentation.stats import segment_statistics
from tests.segmentation.conftest import sphere_volume
from twin.commands import UndoStack
from twin.errors import InputError
from twin.geometry import ImageGeometry
from twin.labelmap import LabelMap

G = ImageGeometry((60, 60, 30), (0.5, 0.5, 2.0), (10.0, 20.0, 30.0))


def test_brush_sphere_and_disc_sizes_in_mm():
    c = G.index_to_lps(np.array([[30, 30, 15]]))[0]
    ball = editing.brush_mask(G, c, 5.0)
    assert ball.sum() * G.voxel_volume_mm3 == pytest.approx(4 / 3 * np.pi * 125, rel=0.1)
    disc = editing.brush_mask(G, c, 5.0, shape="disc", slice_axis=2)
    assert np.unique(np.argwhere(disc)[:, 2]).tolist() == [15]
    assert disc.sum() * 0.25 == pytest.approx(np.pi * 25, rel=0.05)
    stroke = editing.brush_mask(G, [c, c + [10.0, 0, 0]], 2.0, shape="disc")
    assert stroke.sum() * 0.25 == pytest.approx(np.pi * 4 + 4 * 10, rel=0.1)
    assert not editing.brush_mask(G, c + 1000.0, 3.0).any()
    with pytest.raises(InputError):
        editing.brush_mask(G, c, -1.0)


def test_scissors_square_prism_along_view_direction():
    corners_ijk = np.array([[10, 10, 15], [40, 10, 15], [40, 30, 15], [10, 30, 15]], float)
    poly = G.index_to_lps(corners_ijk)
    cut = editing.scissors_mask(G, poly, G.direction[:, 2])
    idx = np.argwhere(cut)
    assert idx[:, 0].min() == 10 and idx[:, 0].max() == 40 and idx[:, 1].max() == 30
    assert np.unique(idx[:, 2]).size == G.shape[2], "extruded through every slice"
    slab = editing.scissors_mask(G, poly, G.direction[:, 2], depth_mm=4.0)
    assert np.unique(np.argwhere(slab)[:, 2]).tolist() == [14, 15, 16]
    outside = editing.scissors_mask(G, poly, G.direction[:, 2], inside=False)
    assert (outside ^ cut).all()
    side = editing.scissors_mask(G, poly, G.direction[:, 0])  # seen edge-on: a degenerate polygon
    assert side.sum() < cut.sum()


def test_commands_one_undo_step_each():
    lm = LabelMap.empty(G)
    stack = UndoStack()
    c = G.index_to_lps(np.array([[30, 30, 15]]))[0]
    stack.push(commands.apply_mask(lm, "liver", editing.brush_mask(G, c, 5.0)))
    n = lm.voxel_count("liver")
    assert n > 0
    stack.push(commands.apply_mask(lm, "liver", editing.brush_mask(G, c + [6.0, 0, 0], 3.0), "add"))
    assert lm.voxel_count("liver") > n
    labels = np.zeros(G.shape, np.uint8)
    labels[0:5] = 1
    labels[50:] = 2
    stack.push(commands.apply_labels(lm, labels, {1: "spleen", 2: "kidney_left"}))
    assert lm.voxel_count("spleen") == labels.__eq__(1).sum()
    poly = G.index_to_lps(np.array([[0, 0, 15], [59, 0, 15], [59, 59, 15], [0, 59, 15]], float))
    stack.push(commands.erase_everywhere(lm, editing.scissors_mask(G, poly, G.direction[:, 2])))
    assert sum(lm.voxel_count(s) for s in lm.segments) == 0
    stack.undo()
    assert lm.voxel_count("spleen") == labels.__eq__(1).sum()
    stack.push(commands.logical_operation(lm, "union", "spleen", "kidney_left"))
    assert lm.voxel_count("spleen") == (labels > 0).sum()
    stack.undo()
    stack.undo()
    assert [s.name for s in lm.segments] == ["liver"]
    stack.undo()
    assert lm.voxel_count("liver") == n
    stack.redo()
    with pytest.raises(InputError):
        commands.apply_mask(lm, "nothing", np.zeros(G.shape, bool), "erase")


def test_level_set_recovers_a_noisy_ball_from_a_small_seed():
    vol, truth, centre = sphere_volume(noise=10.0)
    g = vol.geometry
    pts = g.index_to_lps(np.argwhere(np.ones(g.shape, bool)))
    init = (np.linalg.norm(pts - centre, axis=1) <= 5.0).reshape(g.shape)
    out = refine_level_set(vol, init, "threshold", low=50, high=200, iterations=400)
    assert dice(out, truth) > 0.95
    out_g = refine_level_set(vol, truth, "geodesic", iterations=100)
    assert dice(out_g, truth) > 0.93
    assert not refine_level_set(vol, np.zeros(g.shape, bool)).any()


def test_segment_statistics():
    vol, truth, _ = sphere_volume(noise=0.0)
    lm = LabelMap.from_array(truth.astype(np.uint8), vol.geometry, names={1: "ball", 2: "empty"})
    stats = {s.name: s for s in segment_statistics(lm, vol)}
    b = stats["ball"]
    assert b.voxel_count == truth.sum() and b.mean == 100.0 and b.std == 0.0
    assert b.voxel_volume_mm3 == pytest.approx(4 / 3 * np.pi * 12**3, rel=0.03)
    assert b.mesh_volume_mm3 == pytest.approx(b.voxel_volume_mm3, rel=0.05) and b.watertight
    assert stats["empty"].voxel_count == 0 and stats["empty"].mean is None
