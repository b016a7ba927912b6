"""Simulation panel view state.

Opening an image or project must not build the 3-D view before the slices show (the panel cleared its empty
brush patch through the 3-D plotter, which imported pyvistaqt and created the GL widget inside set_project:
~5 s before the first slice of `vht gui CT`); Load steps are greyed out for a linear analysis. Frame: LPS mm."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtWidgets import QApplication

from tests.app.test_panel_simulation import sim  # noqa: F401 - fixture

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


def test_reopened_project_points_the_camera_at_its_mesh(sim, fresh_window, tmp_path):  # noqa: F811
    """A project opened with its FE mesh (segment surfaces hidden) showed VTK's default camera inside the mesh."""
    from twin.project import Project

    window, panel = sim
    window.project.save(tmp_path / "proj")
    other = fresh_window
    other.resize(900, 700)
    other.show()
    other.view3d.interactive = False  # the off-screen renderer of `--screenshot` (nothing resets its camera)
    other.view3d.ensure_ready()  # as after start-up: the 3-D view exists and has rendered an empty scene
    other.view3d.render_now()
    other.set_project(Project.load(tmp_path / "proj"))
    # pointed at once (before any further render: `vht gui PROJECT --screenshot` grabbed the view from inside
    # the mesh, where VTK's default camera sits)
    p = other.view3d.plotter
    assert p is not None and "sim:mesh" in p.renderer.actors
    pts = np.asarray(other.panels["simulation_panel"].mesh.points_lps)
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    focal = np.asarray(p.camera.focal_point)
    eye = np.asarray(p.camera.position)
    assert np.all(focal >= lo - 1.0) and np.all(focal <= hi + 1.0)  # looking at the mesh
    assert np.linalg.norm(eye - (lo + hi) / 2) > np.linalg.norm(hi - lo)  # from outside it, all of it in view
    assert other.wait_for_workers(60)
    QApplication.processEvents()


def test_a_load_of_zero_is_refused_with_a_message(sim):  # noqa: F811
    """A zero force / pressure / indenter travel was accepted and solved to a zero field that looks like a result."""
    from app.gui.panels.simulation import case_builder as cb

    window, panel = sim
    stack = window.project.undo_stack
    n0 = len(stack)
    window.set_position(np.array([-22.0, -26.0, 5.0]))
    panel.cond_select.setCurrentText("sphere")
    panel.cond_radius.setValue(10.0)
    for kind, message in [("force", "force is zero"), ("pressure", "pressure is zero"),
                          ("indenter", "travel is zero")]:
        panel.cond_kind.setCurrentText(kind)
        for s in panel.cond_vec:
            s.setValue(0.0)
        panel.cond_scalar.setValue(0.0)
        window.messages.clear()
        panel.add_condition_from_widgets()
        assert len(stack) == n0 and panel.conditions == [], kind
        assert window.messages and message in window.messages[-1], (kind, window.messages)
    # supports act whatever their value: fixed, and a prescribed displacement of zero
    for kind in ("fixed", "displacement"):
        panel.cond_kind.setCurrentText(kind)
        panel.add_condition_from_widgets()
    assert [c["kind"] for c in panel.conditions] == ["fixed", "displacement"] and len(stack) == n0 + 2
    # a non-zero force is added; Apply cannot turn it into a zero one
    panel.cond_kind.setCurrentText("force")
    panel.cond_vec[1].setValue(-0.05)
    panel.add_condition_from_widgets()
    assert panel.conditions[-1]["value"] == [0.0, -0.05, 0.0] and len(stack) == n0 + 3
    panel.cond_list.setCurrentRow(2)
    panel.cond_vec[1].setValue(0.0)
    window.messages.clear()
    assert panel.update_selected_condition() is None
    assert panel.conditions[-1]["value"] == [0.0, -0.05, 0.0] and len(stack) == n0 + 3
    assert "force is zero" in window.messages[-1]
    assert cb.zero_load_message(cb.make_condition("force", "f", {}, (0.0, 0.0, 1e-3))) is None
