"""Simulation panel view state.

Opening an image or project must not build the 3-D view before the slices show (the panel cleared its empty
brush patch through the 3-D plotter, which imported pyvistaqt and created the GL widget inside set_project:
~5 s before the first slice of `vht gui CT`); Load steps are greyed out for a linear analysis. Frame: LPS mm."""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.gui


@pytest.fixture
def fresh_window(qtbot, gui_env):
    from app.gui.main_window import MainWindow

    w = MainWindow()
    w.interactive_dialogs = False
    qtbot.addWidget(w)
    yield w
    w.project.undo_stack.set_clean()
    w.close()


def test_set_project_leaves_the_3d_view_to_be_built_later(fresh_window):
    from app.gui.synthetic import synthetic_case
    from twin.project import Project

    window = fresh_window
    vol, lm = synthetic_case((40, 40, 40))
    proj = Project(name="small")
    proj.volumes["ct"] = vol
    proj.labelmaps["seg"] = lm
    assert window.view3d.plotter is None
    window.set_project(proj, position_lps=np.zeros(3))  # synchronous part of opening a file
    assert window.view3d.plotter is None, "set_project built the 3-D view before the slices could paint"
    panel = window.panels["simulation_panel"]
    panel.scene.show_patch(None, None)  # nothing to remove: still nothing built
    assert panel.scene.show_conditions(None, []) == [] and window.view3d.plotter is None
    # the 3-D view is still built (lazily) and the panel draws into it once there is something to draw
    window.view3d.ensure_ready()
    assert window.view3d.plotter is not None
    pts = np.array([[0.0, 0.0, 0.0], [10.0, 0.0, 0.0], [0.0, 10.0, 0.0]])
    panel.scene.show_patch(pts, np.array([[0, 1, 2]]))
    assert "sim:paint" in window.view3d.plotter.renderer.actors
    panel.scene.show_patch(None, None)
    assert "sim:paint" not in window.view3d.plotter.renderer.actors


def test_load_steps_greyed_out_for_a_linear_analysis_and_follow_undo(window):
    panel = window.panels["simulation_panel"]
    assert panel.nonlinear.currentText() == "auto" and panel.steps.isEnabled()
    panel.nonlinear.setCurrentText("linear")
    assert not panel.steps.isEnabled()
    panel.nonlinear.setCurrentText("nonlinear")
    assert panel.steps.isEnabled()
    n0 = len(window.project.undo_stack)
    panel.nonlinear.setCurrentText("linear")
    assert len(window.project.undo_stack) == n0 + 1  # the analysis choice is a set-up edit
    window.undo_action.trigger()  # undo restores the widget and its greying
    assert panel.nonlinear.currentText() == "nonlinear" and panel.steps.isEnabled()
    window.redo_action.trigger()
    assert panel.nonlinear.currentText() == "linear" and not panel.steps.isEnabled()
