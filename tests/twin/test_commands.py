"""Undo stack and label-map edit commands."""

from __future__ import annotations

import numpy as np
import pytest

from twin.commands import FunctionCommand, UndoStack
from twin.errors import InputError
from twin.geometry import ImageGeometry
from twin.labelmap import LabelMap
from twin.labelmap_commands import AddSegment, RemoveSegment, ReplaceLabelMapContent, SetSegmentMask, UpdateSegment


def make_lm() -> LabelMap:
    g = ImageGeometry((10, 8, 6), spacing=(0.8, 0.8, 2.5))
    arr = np.zeros(g.shape, np.uint8)
    arr[2:5, 2:5, 1:3] = 1
    return LabelMap.from_array(arr, g, names={1: "liver"})


def test_undo_redo_and_clean_state() -> None:
    state = {"x": 0}
    stack = UndoStack()
    events = []
    stack.subscribe(lambda: events.append(1))
    stack.push(FunctionCommand("inc", lambda: state.update(x=state["x"] + 1), lambda: state.update(x=state["x"] - 1)))
    assert state["x"] == 1 and not stack.is_clean and stack.undo_text == "inc"
    stack.set_clean()
    assert stack.is_clean
    assert stack.undo() and state["x"] == 0 and not stack.is_clean
    assert stack.redo() and state["x"] == 1 and stack.is_clean
    stack.undo()
    stack.push(FunctionCommand("inc2", lambda: state.update(x=5), lambda: state.update(x=0)))
    assert not stack.can_redo and not stack.is_clean
    assert len(events) == 6
    assert not UndoStack().undo()


def test_paint_stores_only_bounding_box_and_undoes_exactly() -> None:
    lm = make_lm()
    before = lm.layers[0].copy()
    stack = UndoStack()
    mask = np.zeros(lm.shape, bool)
    mask[7, 6, 5] = True
    mask[6, 6, 5] = True
    cmd = SetSegmentMask(lm, "liver", mask, mode="add")
    assert cmd.old is not None and cmd.old.size == 2  # 2x1x1 box
    stack.push(cmd)
    assert lm.voxel_count("liver") == 18 + 2
    stack.undo()
    np.testing.assert_array_equal(lm.layers[0], before)
    stack.redo()
    assert lm.layers[0][7, 6, 5] == 1


def test_erase_replace_and_no_overwrite() -> None:
    lm = make_lm()
    stack = UndoStack()
    stack.push(AddSegment(lm, "tumour"))
    m = np.zeros(lm.shape, bool)
    m[3:7, 3, 1] = True
    stack.push(SetSegmentMask(lm, "tumour", m, mode="add", overwrite=False))
    # voxels already liver were kept
    assert lm.voxel_count("tumour") == 2 and lm.voxel_count("liver") == 18
    stack.push(SetSegmentMask(lm, "liver", lm.mask("liver"), mode="erase"))
    assert lm.voxel_count("liver") == 0
    stack.undo()
    assert lm.voxel_count("liver") == 18
    rev = lm.revision
    stack.push(SetSegmentMask(lm, "tumour", m, mode="replace", overwrite=True))
    assert lm.voxel_count("tumour") == 4 and lm.voxel_count("liver") == 16 and lm.revision > rev


def test_add_overlapping_segment_gets_new_layer_and_undo_removes_it() -> None:
    lm = make_lm()
    stack = UndoStack()
    m = lm.mask("liver").copy()
    stack.push(AddSegment(lm, "margin", mask=m, allow_overlap=True))
    assert len(lm.layers) == 2 and lm.segment("margin").layer == 1
    assert lm.voxel_count("margin") == lm.voxel_count("liver") == 18
    stack.undo()
    assert len(lm.layers) == 1 and [s.name for s in lm.segments] == ["liver"]


def test_remove_update_replace() -> None:
    lm = make_lm()
    stack = UndoStack()
    stack.push(UpdateSegment(lm, "liver", name="Liver", color=(1.0, 0.0, 0.0)))
    assert lm.segment("Liver").color == (1.0, 0.0, 0.0)
    stack.push(RemoveSegment(lm, "Liver"))
    assert lm.segments == [] and lm.layers[0].max() == 0
    stack.undo()
    assert lm.voxel_count("Liver") == 18
    stack.undo()
    assert lm.segment("liver")
    with pytest.raises(InputError):
        AddSegment(lm, "liver")
    other = LabelMap.from_array(np.ones(lm.shape, np.uint8), lm.geometry, names={1: "body"})
    stack.push(ReplaceLabelMapContent(lm, other))
    assert [s.name for s in lm.segments] == ["body"]
    stack.undo()
    assert [s.name for s in lm.segments] == ["liver"] and lm.voxel_count("liver") == 18


def test_command_subclass_must_implement_do_and_undo() -> None:
    from twin.commands import Command

    class Incomplete(Command):
        def do(self) -> None:
            pass

    with pytest.raises(TypeError, match="abstract"):
        Incomplete()  # type: ignore[abstract]


def test_composite_builds_lazily_and_rolls_back_a_failed_first_do():
    from twin.commands import CompositeCommand, FunctionCommand, UndoStack

    state: list[int] = []
    seen: list[list[int]] = []

    def add(v: int):  # noqa: ANN202
        seen.append(list(state))  # built right before it runs: sees the previous command's effect
        return FunctionCommand(f"add {v}", lambda: state.append(v), lambda: state.remove(v))

    stack = UndoStack()
    stack.push(CompositeCommand("two", [lambda: add(1), lambda: add(2)]))
    assert state == [1, 2] and seen == [[], [1]]
    stack.undo()
    assert state == []
    stack.redo()
    assert state == [1, 2] and len(seen) == 2  # redo replays the built commands, no rebuild

    def boom():  # noqa: ANN202
        raise ValueError("bad edit")

    bad = CompositeCommand("bad", [lambda: add(3), boom])
    try:
        bad.do()
    except ValueError:
        pass
    assert state == [1, 2]  # the first sub-command was undone: nothing half-applied
