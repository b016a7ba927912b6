"""Planning panel: the safety margin and segment role overrides are saved in the plan, undoable, and drive metrics.

Abdomen phantom 96 x 80 x 48 voxels of 4 x 4 x 5 mm (fixtures of test_panel_planning). Frame: LPS mm.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from tests.app.test_panel_planning import _wait_metrics

pytestmark = pytest.mark.gui


def _shown(panel, traj_id):
    return panel.object_metrics(panel.plan.get(traj_id))


@pytest.mark.slow
def test_margin_spin_box_and_role_menu_are_undoable_and_refresh_metrics(plan_win):
    from planning.trajectories import evaluate_trajectory
    from twin.phantom import DEMO_LANDMARKS

    window, panel, _ = plan_win
    lm = window.labelmap
    spin = panel.safety.margin
    assert spin.value() == 5.0 and panel.safety.roles_label.text() == "roles: default"
    panel.add_object("trajectory")
    traj = replace(panel.selected(), entry_lps=DEMO_LANDMARKS["needle_entry"],
                   target_lps=DEMO_LANDMARKS["needle_target"], target_segment="liver_tumor", diameter_mm=1.5)
    panel.modify(traj)
    _wait_metrics(window, panel)
    base = _shown(panel, traj.id)
    ref = evaluate_trajectory(traj, lm)
    assert base["too_close"] == ref["too_close"] == [] and base["safety_margin_mm"] == 5.0
    closest, clearance = ref["closest_structure"], ref["min_clearance_mm"]
    assert clearance > 5.0
    n_undo = len(window.project.undo_stack)

    # the spin box stepped up past the clearance: one undo step, the closest structure is now within the margin
    wide = float(int(clearance) + 2)
    for v in (6.0, 7.0, wide):
        spin.setValue(v)
        QApplication.processEvents()
    assert panel.plan.safety_margin_mm == wide and window.project.plan["safety_margin_mm"] == wide
    assert len(window.project.undo_stack) == n_undo + 1
    _wait_metrics(window, panel)
    m = _shown(panel, traj.id)
    assert m["safety_margin_mm"] == wide and closest in m["too_close"]
    assert m["too_close"] == evaluate_trajectory(traj, lm, safety_margin_mm=wide)["too_close"]
    assert f"within {wide:g} mm margin" in panel.metrics_view.toPlainText()

    # role override from the list's context menu: the closest structure ignored
    menu = panel.safety.role_menu(closest)
    action = next(a for a in menu.actions() if a.data() == "ignore")
    action.trigger()
    QApplication.processEvents()
    assert panel.plan.segment_roles == {closest: "ignore"}
    assert panel.safety.roles_label.text() == "roles: 1 override"
    item = panel.critical.findItems(closest, Qt.MatchFlag.MatchExactly)[0]
    assert item.font().italic() and "ignore" in item.toolTip()
    _wait_metrics(window, panel)
    m = _shown(panel, traj.id)
    assert closest not in {s["segment"] for s in m["structures"]} and closest not in m["too_close"]
    assert m["role_overrides"] == {closest: "ignore"} and m["roles"][closest] == "ignore"
    assert "1 role override" in panel.metrics_view.toPlainText()
    assert next(a for a in panel.safety.role_menu(closest).actions() if a.data() == "ignore").isChecked()

    # Ctrl+Z: role back to default, then the margin back to 5 mm (spin box follows), metrics follow
    window.undo_action.trigger()
    QApplication.processEvents()
    assert panel.plan.segment_roles == {}
    assert not panel.critical.findItems(closest, Qt.MatchFlag.MatchExactly)[0].font().italic()
    _wait_metrics(window, panel)
    assert closest in _shown(panel, traj.id)["too_close"]
    window.undo_action.trigger()
    QApplication.processEvents()
    assert panel.plan.safety_margin_mm == 5.0 and spin.value() == 5.0
    _wait_metrics(window, panel)
    assert _shown(panel, traj.id)["too_close"] == [] and _shown(panel, traj.id)["safety_margin_mm"] == 5.0
    assert len(window.project.undo_stack) == n_undo
    window.redo_action.trigger()
    QApplication.processEvents()
    assert spin.value() == wide
    _wait_metrics(window, panel)
    assert closest in _shown(panel, traj.id)["too_close"]

    # the trajectory's own margin (editor), below the clearance: clear again; its lowest value = the plan's
    own = panel.editor.widgets["safety_margin"]
    assert own.specialValueText() == f"plan ({wide:g} mm)" and own.value() == own.minimum()
    own.setValue(3.0)
    QApplication.processEvents()
    assert panel.plan.get(traj.id).safety_margin_mm == 3.0 and panel.plan.safety_margin_mm == wide
    _wait_metrics(window, panel)
    assert _shown(panel, traj.id)["safety_margin_mm"] == 3.0 and _shown(panel, traj.id)["too_close"] == []
    window.undo_action.trigger()
    QApplication.processEvents()
    assert panel.plan.get(traj.id).safety_margin_mm is None
