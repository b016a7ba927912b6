"""Generic undoable document edits (twin.document_commands): exact undo/redo, merging, refusals, save/load."""

from __future__ import annotations

import copy

import pytest

from twin.document_commands import RemoveDocument, SetDocument, SetDocumentValue, check_json_safe
from twin.errors import InputError
from twin.project import Project


def test_set_value_creates_undoes_and_redoes_exact_dicts():
    proj = Project()
    stack = proj.undo_stack
    stack.push(SetDocumentValue(proj, "notes", ("a", "b"), [1, 2.5, "x"], "Set b"))
    assert proj.documents == {"notes": {"a": {"b": [1, 2.5, "x"]}}}
    first = proj.documents["notes"]
    stack.push(SetDocumentValue(proj, "notes", ("c",), {"k": None}))
    after = copy.deepcopy(proj.documents)
    stack.push(SetDocumentValue(proj, "notes", ("a", "b"), SetDocumentValue.DELETE, "Delete b"))
    assert proj.documents == {"notes": {"a": {}, "c": {"k": None}}}
    assert stack.undo_text == "Delete b"
    stack.undo()
    assert proj.documents == after
    stack.undo()
    assert proj.documents == {"notes": {"a": {"b": [1, 2.5, "x"]}}}
    assert proj.documents["notes"] is not first  # a new dict after every undo: views notice by identity
    stack.undo()
    assert proj.documents == {}  # the document did not exist before
    for _ in range(3):
        stack.redo()
    assert proj.documents == {"notes": {"a": {}, "c": {"k": None}}}


def test_values_are_copied_not_aliased():
    proj = Project()
    value = {"list": [1, 2]}
    proj.undo_stack.push(SetDocumentValue(proj, "d", ("v",), value))
    value["list"].append(3)  # the caller's object changes afterwards
    assert proj.documents["d"]["v"] == {"list": [1, 2]}
    proj.documents["d"]["v"]["list"].append(99)  # someone scribbles on the live document
    proj.undo_stack.undo()
    proj.undo_stack.redo()
    assert proj.documents["d"]["v"] == {"list": [1, 2]}  # redo restores the command's own snapshot


def test_merge_folds_consecutive_edits_of_one_path():
    proj = Project()
    stack = proj.undo_stack
    proj.documents["d"] = {"steps": 1}
    for v in (2, 3, 4):
        stack.push(SetDocumentValue(proj, "d", ("steps",), v, "Steps"), merge=True)
    assert len(stack) == 1 and proj.documents["d"] == {"steps": 4}
    stack.push(SetDocumentValue(proj, "d", ("other",), 1), merge=True)  # another path: a new step
    assert len(stack) == 2
    stack.undo()
    stack.undo()
    assert proj.documents["d"] == {"steps": 1}


@pytest.mark.parametrize("bad", [(1, 2), float("nan"), {1: "int key"}, object()])
def test_non_json_values_are_refused_and_nothing_changes(bad):
    proj = Project()
    proj.documents["d"] = {"x": 1}
    with pytest.raises(InputError, match="JSON"):
        proj.undo_stack.push(SetDocumentValue(proj, "d", ("x",), bad))
    assert proj.documents == {"d": {"x": 1}} and len(proj.undo_stack) == 0
    with pytest.raises(InputError):
        check_json_safe({"v": bad})


def test_set_and_remove_whole_document_and_save_load_round_trip(tmp_path):
    proj = Project(name="p")
    stack = proj.undo_stack
    doc = {"case": {"solver": {"steps": 3}, "loads": [{"name": "f", "value": [0.0, 0.0, -1.5]}]}, "frame": "LPS"}
    stack.push(SetDocument(proj, "setup", doc, "Set up"))
    assert proj.modified
    proj.save(tmp_path / "proj")
    assert not proj.modified
    again = Project.load(tmp_path / "proj")
    assert again.documents == {"setup": doc}
    stack.push(RemoveDocument(proj, "setup"))
    assert "setup" not in proj.documents and proj.modified
    stack.undo()
    assert proj.documents["setup"] == doc and not proj.modified
    stack.undo()
    assert proj.documents == {}
