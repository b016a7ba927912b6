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


def test_undoing_a_rename_keeps_the_segment_display_settings(window, synthetic_nifti) -> None:  # type: ignore[no-untyped-def]
    window.open_path(synthetic_nifti)
    assert window.wait_for_workers(60)
    panel = window.panels["segments_panel"]
    assert panel.add_segment("lesion")
    panel.set_opacity("lesion", 0.2)
    panel.set_visible("lesion", False)
    assert panel.rename("lesion", "tumour")
    assert window.overlay.style("tumour").opacity == pytest.approx(0.2)
    window.undo()
    assert [s.name for s in window.labelmap.segments][-1] == "lesion"
    st = window.overlay.style("lesion")
    assert st.opacity == pytest.approx(0.2) and st.visible is False
    window.redo()
    assert window.overlay.style("tumour").opacity == pytest.approx(0.2)


def test_segment_names_are_not_cut_in_the_table(window, synthetic_nifti) -> None:  # type: ignore[no-untyped-def]
    """The name column gets the width (narrow swatch, arrow-less opacity box, 1-decimal volumes)."""
    from app.gui.panels.segments_panel import COL_NAME

    window.open_path(synthetic_nifti)
    assert window.wait_for_workers(60)
    panel = window.panels["segments_panel"]
    for name in ("subcutaneous_fat", "hepatic_vessels"):
        assert panel.add_segment(name)
    window.wait_for_workers(30)
    panel.on_labelmap_changed()
    fm = panel.table.fontMetrics()
    need = max(fm.horizontalAdvance(n) for n in ("subcutaneous_fat", "hepatic_vessels")) + 8
    assert panel.table.columnWidth(COL_NAME) >= need, (panel.table.columnWidth(COL_NAME), need)
