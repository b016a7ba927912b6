"""Crash recovery must survive an autosave that cannot be loaded (no traceback, files kept, not offered again)."""

from __future__ import annotations

import json
import os

import pytest
from PySide6.QtWidgets import QMessageBox

pytestmark = pytest.mark.gui


def test_unreadable_autosave_is_reported_and_set_aside(window, gui_env, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from app.gui.recovery import find_recoverable

    folder = gui_env / "recovery" / "deadbeef0001"
    (folder / "project").mkdir(parents=True)
    (folder / "project" / "manifest.json").write_text("{ this is not json")
    (folder / "session.json").write_text(json.dumps({"pid": 2**22 + 4321, "session": "crashed", "name": "liver plan",
                                                     "original_path": None, "saved_at": 1.0}))
    assert os.environ["VHT_RECOVERY_DIR"] == str(gui_env / "recovery")
    assert [s.name for s in find_recoverable()] == ["liver plan"]
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    assert window.offer_recovery() is False
    assert window.messages and "Could not recover liver plan" in window.messages[-1]
    assert "Traceback" not in window.messages[-1]
    assert (folder / "project" / "manifest.json").is_file()  # the user's data is not deleted
    assert find_recoverable() == []  # and not offered at every start
    assert window.volume is None
