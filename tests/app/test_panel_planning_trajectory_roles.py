"""Planning panel: a needle's expected traversed tissue is not an alarm; crossing a critical structure is.

Abdomen phantom 96 x 80 x 48 voxels of 4 x 4 x 5 mm (fixtures of test_panel_planning). Frame: LPS mm.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from tests.app.test_panel_planning import _wait_metrics

pytestmark = pytest.mark.gui


def _item_of(panel, obj_id):
    from app.gui.panels.planning import ID_ROLE

    for i in range(panel.tree.topLevelItemCount()):
        top = panel.tree.topLevelItem(i)
        for j in range(top.childCount()):
            if top.child(j).data(0, ID_ROLE) == obj_id:
                return top.child(j)
    raise AssertionError("trajectory not in the tree")


def test_default_critical_set_traversed_tissue_and_aorta_alarm(plan_win):
    from planning.trajectories import evaluate_trajectory
    from twin.phantom import DEMO_LANDMARKS

    window, panel, _ = plan_win
    lm = window.labelmap
    assert panel.plan.critical_segments == []
    assert "default set by name" in panel.critical_note.text()
    note = panel.critical_note.toolTip()  # the whole list (the label shows a two-line summary)
    assert "default set by name" in note and "aorta" in note and "hepatic_vessels" in note
    assert "subcutaneous_fat" not in note and "liver," not in note
    panel.add_object("trajectory")
    traj = panel.selected()
    traj = replace(traj, entry_lps=DEMO_LANDMARKS["needle_entry"], target_lps=DEMO_LANDMARKS["needle_target"],
                   target_segment="liver_tumor", diameter_mm=1.5)
    panel.modify(traj)
    _wait_metrics(window, panel)
    expected = evaluate_trajectory(traj, lm)
    shown = panel.object_metrics(panel.plan.get(traj.id))
    assert shown["crossed"] == expected["crossed"] == []
    assert [r["segment"] for r in shown["traversed"]] == [r["segment"] for r in expected["traversed"]]
    text = panel.metrics_view.toPlainText()
    assert "CROSSES" not in text and "default by name" in text
    trav = {r["segment"]: r for r in expected["traversed"]}
    assert f"subcutaneous_fat {trav['subcutaneous_fat']['length_mm']:.1f} mm" in text
    assert f"liver {trav['liver']['length_mm']:.1f} mm (target organ)" in text
    assert f"closest: {expected['closest_structure']} {expected['min_clearance_mm']:.1f} mm" in text
    item = _item_of(panel, traj.id)
    assert "CROSSES" not in item.text(1)
    # the probe's eye colours the same default critical set (not the body wall)
    dlg = panel.open_probes_eye()
    assert "aorta" in dlg.segments and "muscle" not in dlg.segments and "liver_tumor" not in dlg.segments
    dlg.close()
    assert item.foreground(1).color().name() != "#dd3333"
    # straight through the aorta: red, named
    aorta = lm.geometry.index_to_lps(np.argwhere(lm.mask("aorta")).mean(axis=0)[None])[0]
    bad = replace(panel.plan.get(traj.id), entry_lps=tuple(aorta + [0.0, -140.0, 0.0]),
                  target_lps=tuple(aorta + [0.0, 15.0, 0.0]), target_segment=None)
    panel.modify(bad)
    _wait_metrics(window, panel)
    assert "aorta" in panel.object_metrics(panel.plan.get(traj.id))["crossed"]
    item = _item_of(panel, traj.id)
    assert "CROSSES" in item.text(1) and "aorta" in item.text(1)
    assert item.foreground(1).color().name() == "#dd3333"
    assert "aorta: " in panel.metrics_view.toPlainText() and "CROSSED" in panel.metrics_view.toPlainText()
    # an explicit choice in the list overrides the default set
    it = panel.critical.findItems("gallbladder", Qt.MatchFlag.MatchExactly)[0]
    it.setCheckState(Qt.CheckState.Checked)
    QApplication.processEvents()
    assert panel.plan.critical_segments == ["gallbladder"]
    assert "1 chosen" in panel.critical_note.text()
    _wait_metrics(window, panel)
    m = panel.object_metrics(panel.plan.get(traj.id))
    assert [s["segment"] for s in m["structures"]] == ["gallbladder"] and m["crossed"] == []
    assert m["critical_source"] == "plan"
    assert {r["segment"]: r["critical"] for r in m["traversed"]}["aorta"] is False


def test_renaming_a_segment_keeps_the_plans_target_and_role(plan_win):
    from twin.plan_commands import SetSegmentRole

    window, panel, _ = plan_win
    panel.add_object("trajectory")
    traj = replace(panel.selected(), target_segment="liver_tumor")
    panel.modify(traj)
    window.push_command(SetSegmentRole(window.project, "gallbladder", "traversable"))
    segs = window.panels["segments_panel"]
    assert segs.rename("liver_tumor", "hcc") and segs.rename("gallbladder", "gb")
    QApplication.processEvents()
    assert panel.plan.get(traj.id).target_segment == "hcc"
    assert panel.plan.segment_roles == {"gb": "traversable"}
    assert window.labelmap.segment("hcc") is not None
    window.undo()  # one Ctrl+Z undoes the label map's and the plan's rename together
    QApplication.processEvents()
    assert panel.plan.segment_roles == {"gallbladder": "traversable"} and window.labelmap.segment("gallbladder")
    assert panel.plan.get(traj.id).target_segment == "hcc"
