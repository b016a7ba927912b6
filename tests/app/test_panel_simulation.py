"""The simulation panel driven through its widgets on the small synthetic torso (liver, ~1000 tetrahedra).

Mesh -> materials -> supports/loads at the crosshair -> solve in a worker -> result in 3D and the
solver summary -> case file and project round trip. Frame: LPS mm; N; MPa.
"""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtWidgets import QApplication

pytestmark = pytest.mark.gui


@pytest.fixture
def sim(window):
    """(window, panel) on the synthetic torso at 40^3 with the liver meshed at 10 mm."""
    from app.gui.synthetic import synthetic_case
    from twin.project import Project

    vol, lm = synthetic_case((40, 40, 40))
    proj = Project(name="small")
    proj.volumes["ct"] = vol
    proj.labelmaps["seg"] = lm
    window.set_project(proj, position_lps=np.array([0.0, 0.0, 4.5]))
    assert window.wait_for_workers(60)
    panel = window.panels["simulation_panel"]
    panel.set_segments(["liver"])
    panel.edge.setValue(10.0)
    n0 = len(window.project.undo_stack)
    panel.build_mesh()
    assert window.wait_for_workers(120), window.messages
    assert len(window.project.undo_stack) == n0 + 1
    return window, panel


def _setup_liver_case(window, panel, e_kpa=10.0):
    """Liver fixed below z = -25 mm, 0.05 N pulling anteriorly (-P) on nodes near the anterior surface."""
    panel.set_material(2, None, "linear-elastic", e_kpa / 1000.0, 0.45)
    panel.nonlinear.setCurrentText("linear")
    window.set_position(np.array([-22.0, 0.0, -25.0]))
    panel.cond_kind.setCurrentText("fixed")
    panel.cond_select.setCurrentText("beyond plane")
    panel.cond_axis.setCurrentText("S (z)")
    panel.add_condition_from_widgets()
    window.set_position(np.array([-22.0, -26.0, 5.0]))
    panel.cond_kind.setCurrentText("force")
    panel.cond_select.setCurrentText("sphere")
    panel.cond_radius.setValue(10.0)
    for s, v in zip(panel.cond_vec, (0.0, -0.05, 0.0)):
        s.setValue(v)
    panel.add_condition_from_widgets()


def _run(window, panel):
    n0 = len(window.project.undo_stack)
    assert panel.run() is not None
    assert window.wait_for_workers(300), window.messages
    assert len(window.project.undo_stack) == n0 + 1  # result + case stored in one command
    return panel.summary


def test_mesh_quality_shown(sim):
    window, panel = sim
    mesh = window.project.meshes["fe_mesh"]
    assert 300 < mesh.n_cells < 3000 and set(mesh.region_names.values()) == {"liver"}
    q = panel.quality.summary
    text = panel.quality_label.text()
    assert f"{q['n_cells']} tetrahedra" in text and "Min dihedral" in text and "scaled Jacobian" in text
    assert q["min_dihedral_deg"]["min"] > 10 and "Bad cells" in text
    assert "sim:mesh" in window.view3d.plotter.renderer.actors
    assert panel.material_table.rowCount() == 1
    # the liver row defaults to the library tissue of that name
    assert panel.materials() == [{"region": 2, "tissue": "liver"}]
    window.undo()
    assert "fe_mesh" not in window.project.meshes


def test_bad_cells_are_counted_and_highlighted(sim):
    from twin.meshes import TetMesh

    window, panel = sim
    good = np.array([[0, 0, 0], [10, 0, 0], [0, 10, 0], [0, 0, 10]], float)
    flat = np.array([[20, 0, 0], [30, 0, 0], [20, 10, 0], [24, 4, 0.3]], float)  # a sliver
    mesh = TetMesh(np.vstack([good, flat]), np.array([[0, 1, 2, 3], [4, 5, 6, 7]]), np.array([1, 1]), {1: "test"})
    panel.set_mesh(mesh)
    assert list(panel.bad_cells()) == [1]
    assert "sim:mesh:bad" in window.view3d.plotter.renderer.actors
    assert "Bad cells (dihedral < 10° or SJ < 0.2): 1 (red in 3D)" in panel.quality_label.text()


def test_run_show_result_save_case_and_reopen(sim, tmp_path):
    from biomech.case import load_case
    from biomech.solver import solve
    from twin.project import Project

    window, panel = sim
    _setup_liver_case(window, panel)
    counts = [int(panel.cond_list.item(i).text().rsplit("[", 1)[1].split()[0]) for i in range(2)]
    assert all(c > 0 for c in counts)  # both selections hit mesh nodes
    s = _run(window, panel)
    assert s["converged"] and s["elements"] == window.project.meshes["fe_mesh"].n_cells
    # equilibrium: the support reacts with minus the applied 0.05 N
    assert np.allclose(s["reaction_forces"]["fixed_1"], [0.0, 0.05, 0.0], atol=1e-9)
    text = panel.status.toPlainText()
    assert "CONVERGED" in text and "Max displacement" in text and "Reaction fixed_1" in text
    # result in the 3-D view: coloured deformed mesh with a legend
    assert window.scene3d.fe_mesh is not None
    actors = window.view3d.plotter.renderer.actors
    assert "fe" in actors and "sim:mesh" not in actors
    assert "Displacement" in " ".join(window.view3d.plotter.scalar_bars.keys())
    rgb = window.view3d.grab_rgb().astype(int)
    assert ((rgb.max(axis=2) - rgb.min(axis=2)) > 120).sum() > 200  # saturated colour-map pixels
    panel.field.setCurrentText("Von Mises stress")
    assert window.scene3d.fe[1] == "von_mises"
    # soft tissue under 0.05 N: a fraction of a kPa, shown in kPa (MPa labels were 5e-05 .. 0.0002, overlapping)
    assert list(window.view3d.plotter.scalar_bars.keys()) == ["von Mises stress (kPa)"]
    panel.scale.setValue(10.0)
    assert window.scene3d.fe[2] == 10.0
    u1 = s["max_displacement_mm"]
    assert u1 > 0.1
    # linear elasticity: doubling E (typed in kPa in the table) halves the displacement
    panel.set_material(2, None, "linear-elastic", 0.02, 0.45)
    s2 = _run(window, panel)
    assert s2["max_displacement_mm"] == pytest.approx(u1 / 2, rel=1e-6)
    # the case file reproduces the panel's solve through `vht simulate`'s reader
    out = panel.save_case(tmp_path / "case.toml")
    assert out is not None and (tmp_path / "case_mesh.vtu").exists()
    text = out.read_text()
    assert "LPS" in text and "[[boundary_conditions]]" in text and "[[loads]]" in text
    assert solve(load_case(out)).max_displacement_mm == pytest.approx(s2["max_displacement_mm"], rel=1e-6)
    # the same case as an FEBio 4.0 file, as `vht simulate --export-feb` writes it
    import xml.etree.ElementTree as ET

    feb = panel.save_case(tmp_path / "case.feb")
    root = ET.parse(feb).getroot()
    assert root.tag == "febio_spec" and root.get("version") == "4.0"
    assert root.find("Mesh/Elements") is not None and root.find("Material/material") is not None
    # project round trip keeps the mesh, the case and the result
    case = window.project.documents["simulation_case"]["case"]
    window.project.save(tmp_path / "proj")
    again = Project.load(tmp_path / "proj")
    assert again.documents["simulation_case"]["case"] == case
    assert again.meshes["fe_result"].point_data["displacement"].shape == (again.meshes["fe_mesh"].n_points, 3)
    panel.clear_conditions()
    window.set_project(again)
    QApplication.processEvents()
    assert panel.build_case() == {**case, "name": "small"}  # the stored set-up has no name
    assert [c["name"] for c in panel.conditions] == ["fixed_1", "force_1"]
    assert panel.materials()[0]["youngs_modulus"] == pytest.approx(0.02)
    assert "CONVERGED" in panel.status.toPlainText()
    assert window.scene3d.fe_mesh is not None


def test_indenter_at_crosshair(sim):
    window, panel = sim
    panel.nonlinear.setCurrentText("nonlinear")
    panel.steps.setValue(4)
    window.set_position(np.array([-22.0, 0.0, -25.0]))
    panel.cond_kind.setCurrentText("fixed")
    panel.cond_select.setCurrentText("beyond plane")
    panel.cond_axis.setCurrentText("S (z)")
    panel.add_condition_from_widgets()
    window.set_position(np.array([-22.0, -31.0, 5.0]))  # just in front of the liver (its surface is at P -26.7)
    panel.cond_kind.setCurrentText("indenter")
    panel.cond_radius.setValue(5.0)
    for s, v in zip(panel.cond_vec, (0.0, 4.0, 0.0)):
        s.setValue(v)
    cond = panel.add_condition_from_widgets()
    assert cond["indenter"]["sphere"] == {"center": [-22.0, -31.0, 5.0], "radius": 5.0}
    assert "sim:cond:1:indenter" in window.view3d.plotter.renderer.actors
    s = _run(window, panel)
    assert s["converged"] and s["nonlinear"] and s["newton_iterations"] > 0
    f = np.array(s["contact_forces"]["indenter_1"])
    assert f[1] > 0  # the finger pushes the liver posteriorly
    assert "Indenter force indenter_1" in panel.status.toPlainText()


def test_solve_keeps_the_window_responsive_and_cancels_at_once(sim, qtbot):
    import time

    from PySide6.QtCore import QTimer

    window, panel = sim
    _setup_liver_case(window, panel)
    panel.set_material(2, "liver")  # neo-Hookean: many load steps, several seconds of solving
    panel.steps.setValue(200)
    n0 = len(window.project.undo_stack)
    ticks = []
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    timer.start(20)
    assert panel.run() is not None
    assert not panel.run_button.isEnabled() and panel.cancel_button.isEnabled()
    # the child process is solving load steps while the event loop keeps ticking
    qtbot.waitUntil(lambda: panel.progress.value() > 150, timeout=60000)
    gaps = np.diff(ticks)
    assert len(gaps) > 10 and gaps.max() < 0.5
    t0 = time.perf_counter()
    panel.cancel()
    assert window.wait_for_workers(10)
    assert time.perf_counter() - t0 < 2.0  # killed, not waiting for the end of a step
    timer.stop()
    assert "cancelled" in panel.status.toPlainText()
    assert panel.run_button.isEnabled() and "fe_result" not in window.project.meshes
    assert len(window.project.undo_stack) == n0


def test_undo_redo_of_mesh_and_result_follow_in_the_panel(sim):
    window, panel = sim
    _setup_liver_case(window, panel)
    _run(window, panel)
    assert window.scene3d.fe_mesh is not None
    window.undo()  # the result
    assert window.scene3d.fe_mesh is None and "fe_result" not in window.project.meshes
    assert panel.status.toPlainText() == "" and "sim:mesh" in window.view3d.plotter.renderer.actors
    window.redo()
    assert window.scene3d.fe_mesh is not None and "CONVERGED" in panel.status.toPlainText()
    window.undo()
    while "fe_mesh" in window.project.meshes:  # the set-up edits, then the mesh
        window.undo()
    assert panel.mesh is None and panel.material_table.rowCount() == 0
    assert "sim:mesh" not in window.view3d.plotter.renderer.actors
    window.redo()
    assert panel.mesh is window.project.meshes["fe_mesh"] and panel.material_table.rowCount() == 1
