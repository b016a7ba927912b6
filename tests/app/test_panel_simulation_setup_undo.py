"""The simulation set-up is project data: every edit in the panel is one step of the main window's undo
stack (Edit > Undo / Redo), the panel follows undo/redo, and save/reopen restores the set-up, which then
solves. Synthetic torso, liver meshed at 10 mm (~1000 tetrahedra). Frame: LPS mm; N; MPa."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtWidgets import QApplication

from tests.app.test_panel_simulation import _run, _setup_liver_case, sim  # noqa: F401 - fixture

pytestmark = pytest.mark.gui


def _names(panel):
    return [c["name"] for c in panel.conditions]


def _rows(panel):
    return [panel.cond_list.item(i).text().split(":")[0] for i in range(panel.cond_list.count())]


def test_each_setup_edit_is_one_undo_step_and_the_panel_follows(sim):  # noqa: F811
    from biomech.case_commands import default_setup

    window, panel = sim
    stack = window.project.undo_stack
    stack.set_clean()  # as if saved right after meshing
    assert not window.isWindowModified()
    n0 = len(stack)
    _setup_liver_case(window, panel)  # material, analysis, two conditions at the crosshair
    assert len(stack) == n0 + 4 and window.isWindowModified()
    assert window.undo_action.text() == "Undo Add force_1" and _rows(panel) == ["fixed_1", "force_1"]
    window.undo_action.trigger()
    assert _names(panel) == ["fixed_1"] and _rows(panel) == ["fixed_1"]
    assert window.redo_action.text() == "Redo Add force_1"
    window.redo_action.trigger()
    assert _names(panel) == ["fixed_1", "force_1"] and panel.cond_list.count() == 2
    # remove through the button, undo puts it back in place
    panel.cond_list.setCurrentRow(0)
    panel.findChild(type(panel.run_button), "sim_cond_remove").click()
    assert _names(panel) == ["force_1"] and window.undo_action.text() == "Undo Remove fixed_1"
    window.undo_action.trigger()
    assert _names(panel) == ["fixed_1", "force_1"]
    # select a condition: its values come into the widgets; Apply changes the value / kind in one step
    panel.cond_list.setCurrentRow(1)
    panel.show_selected_values()
    assert panel.cond_kind.currentText() == "force" and panel.cond_vec[1].value() == pytest.approx(-0.05)
    sel = panel.conditions[1]["select"]
    panel.cond_vec[1].setValue(-0.1)
    panel.findChild(type(panel.run_button), "sim_cond_update").click()
    assert window.undo_action.text() == "Undo Edit force_1" and panel.conditions[1]["value"] == [0.0, -0.1, 0.0]
    panel.cond_kind.setCurrentText("pressure")
    panel.cond_scalar.setValue(0.001)
    panel.cond_list.setCurrentRow(1)
    panel.update_selected_condition()
    assert _names(panel) == ["fixed_1", "pressure_1"] and panel.conditions[1]["select"] == sel
    assert panel.conditions[1]["value"] == 0.001 and panel.conditions[1]["_section"] == "loads"
    panel.cond_kind.setCurrentText("indenter")
    panel.update_selected_condition()  # a load cannot become an indenter: refused, nothing pushed
    assert window.messages and "indenter" in window.messages[-1] and window.undo_action.text() == "Undo Edit force_1"
    window.undo_action.trigger()
    window.undo_action.trigger()
    assert panel.conditions[1]["value"] == [0.0, -0.05, 0.0] and _names(panel) == ["fixed_1", "force_1"]
    # a material chosen in the table (the tissue combo) is one step; undo restores the custom E = 10 kPa
    tissue = panel.material_table.cellWidget(0, 1)
    e_box = panel.material_table.cellWidget(0, 3)
    assert tissue.currentText() == "custom" and e_box.value() == pytest.approx(10.0)
    tissue.setCurrentText("liver")
    assert window.undo_action.text() == "Undo Material of liver: liver"
    assert panel.build_case()["materials"] == [{"region": 2, "tissue": "liver"}] and not e_box.isEnabled()
    window.undo_action.trigger()
    assert tissue.currentText() == "custom" and e_box.value() == pytest.approx(10.0) and e_box.isEnabled()
    assert panel.build_case()["materials"][0]["youngs_modulus"] == pytest.approx(0.01)
    # typing E (kPa): one command per finished entry; undo / redo
    e_box.setValue(25.0)
    assert panel.materials()[0]["youngs_modulus"] == pytest.approx(0.025)
    window.undo_action.trigger()
    assert e_box.value() == pytest.approx(10.0)
    window.redo_action.trigger()
    assert e_box.value() == pytest.approx(25.0)
    # solver options: element, analysis, load steps (consecutive step changes merge into one undo step)
    n1 = len(stack)
    panel.element.setCurrentText("tet10")
    panel.steps.setValue(6)
    panel.steps.setValue(7)
    assert len(stack) == n1 + 2 and panel.build_case()["solver"]["steps"] == 7
    window.undo_action.trigger()
    assert panel.steps.value() == 5 and panel.element.currentText() == "tet10"
    window.undo_action.trigger()
    assert panel.element.currentText() == "tet4"
    # undo everything back to the freshly meshed state: no set-up at all
    while len(stack) > n0:
        window.undo_action.trigger()
    assert panel.conditions == [] and panel.cond_list.count() == 0 and panel.nonlinear.currentText() == "auto"
    assert not window.isWindowModified()
    assert window.project.documents["simulation_case"] == {**default_setup(), "meshing": {"segments": ["liver"],
                                                                                         "edge_mm": 10.0}}


def test_paint_patch_add_and_edit_are_single_undo_steps(sim):  # noqa: F811
    window, panel = sim
    stack = window.project.undo_stack
    faces = panel.scene.boundary_faces(panel.mesh)
    pts = panel.mesh.points_lps
    centre = pts[faces].mean(axis=1)
    k = int(np.argmin(centre[:, 2]))  # the lowest boundary face
    painter = panel._painter()
    n = painter.normal_at(centre[k])
    for dz in (0.0, 3.0):  # one stroke, two dabs
        panel.paint_dab(centre[k] + [dz, 0, 0], n, 6.0)
    panel._stroke_end()
    painted = painter.mask.copy()
    assert painted.any()
    n0 = len(stack)
    panel.cond_kind.setCurrentText("fixed")
    cond = panel.add_patch_condition()
    assert len(stack) == n0 + 1 and window.undo_action.text() == "Undo Add fixed_1"
    assert not panel.painter.mask.any() and _names(panel) == ["fixed_1"]
    window.undo_action.trigger()
    assert panel.conditions == []
    window.redo_action.trigger()
    assert panel.conditions[0]["select"] == cond["select"]
    # edit the patch: it stays in the list until Add patch replaces it (one step "Edit patch fixed_1")
    panel.cond_list.setCurrentRow(0)
    panel.edit_selected_patch()
    assert np.array_equal(panel.painter.mask, painted) and "editing fixed_1" in panel.patch_info.text()
    panel.paint_dab(centre[k] + [6.0, 0, 0], n, 6.0)
    panel._stroke_end()
    grown = panel.painter.mask.copy()
    assert grown.sum() > painted.sum()
    panel.set_painting(False)
    edited = panel.add_patch_condition()
    assert len(stack) == n0 + 1 + 1 and window.undo_action.text() == "Undo Edit patch fixed_1"
    assert _names(panel) == ["fixed_1"] and panel.conditions[0]["select"] == edited["select"] != cond["select"]
    window.undo_action.trigger()
    assert panel.conditions[0]["select"] == cond["select"]


@pytest.mark.slow  # meshing + a solve in a worker + project save/reopen (~8 s)
def test_setup_survives_save_reopen_and_solves(sim, tmp_path):  # noqa: F811
    from twin.project import Project

    window, panel = sim
    _setup_liver_case(window, panel, e_kpa=20.0)
    panel.steps.setValue(2)
    case = panel.build_case()
    assert window.isWindowModified()
    window.project.save(tmp_path / "proj")
    QApplication.processEvents()
    assert not window.isWindowModified()
    panel.clear_conditions()  # the window's project changes after the save (not saved)
    panel.edge.setValue(4.0)
    panel.set_segments([])
    window.set_project(Project.load(tmp_path / "proj"))
    QApplication.processEvents()
    assert not window.isWindowModified() and len(window.project.undo_stack) == 0
    assert panel.build_case() == case
    assert _rows(panel) == ["fixed_1", "force_1"] and panel.steps.value() == 2
    assert panel.edge.value() == 10.0 and panel.selected_segments() == ["liver"]  # what the mesh was made from
    assert panel.material_table.cellWidget(0, 3).value() == pytest.approx(20.0)
    actors = window.view3d.plotter.renderer.actors
    assert "sim:mesh" in actors and "sim:cond:0" in actors  # the restored mesh and its condition markers
    s = _run(window, panel)
    assert s["converged"] and np.allclose(s["reaction_forces"]["fixed_1"], [0.0, 0.05, 0.0], atol=1e-9)
    assert window.project.documents["simulation_result"]["setup"] == case
    # `vht simulate PROJECT_DIR` solves the same stored set-up to the same answer
    import json

    from app.cli import main

    window.project.save(tmp_path / "proj2")
    assert main(["simulate", str(tmp_path / "proj2"), "-o", str(tmp_path / "r.vtu"), "--summary",
                 str(tmp_path / "s.json"), "-q"]) == 0
    cli = json.loads((tmp_path / "s.json").read_text())
    assert cli["max_displacement_mm"] == pytest.approx(s["max_displacement_mm"], rel=1e-9)
    assert np.allclose(cli["reaction_forces"]["fixed_1"], s["reaction_forces"]["fixed_1"], atol=1e-12)
    # undoing a set-up edit after the reopen works on the restored document
    panel.clear_conditions()
    assert panel.conditions == []
    window.undo_action.trigger()
    assert _names(panel) == ["fixed_1", "force_1"]
