"""The planning panel driven through its real widgets on the abdomen phantom (96 x 80 x 48, 4 x 4 x 5 mm).

Each edit must be ONE undo step, metrics shown must be those of the :mod:`planning`
functions, and points must be placeable by clicking / dragging in the slice views.
Frame: LPS mm.
"""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QEvent, Qt
from PySide6.QtWidgets import QApplication

from tests.app.gui_helpers import send_mouse

pytestmark = pytest.mark.gui


def _click(view, point_lps):
    pos = view.lps_to_screen(np.asarray(point_lps, float))
    send_mouse(view, QEvent.Type.MouseButtonPress, pos)
    send_mouse(view, QEvent.Type.MouseButtonRelease, pos)


def _drag(view, points_lps):
    pos = [view.lps_to_screen(np.asarray(p, float)) for p in points_lps]
    send_mouse(view, QEvent.Type.MouseButtonPress, pos[0])
    for q in pos[1:]:
        send_mouse(view, QEvent.Type.MouseMove, q, Qt.MouseButton.NoButton, Qt.MouseButton.LeftButton)
    send_mouse(view, QEvent.Type.MouseButtonRelease, pos[-1])


def _wait_metrics(window, panel, timeout_s=60.0):
    import time

    t0 = time.monotonic()
    while not panel.metrics_ready():
        QApplication.processEvents()
        assert time.monotonic() - t0 < timeout_s, "metrics not computed in time"
        time.sleep(0.01)
    assert window.wait_for_workers(timeout_s)


def test_trajectory_by_crosshair_and_click_metrics_undo(plan_win):
    from planning.trajectories import evaluate_trajectory

    window, panel, centre = plan_win
    lm = window.labelmap
    # critical structures through the checkable list
    for name in ("hepatic_vessels", "aorta"):
        it = panel.critical.findItems(name, Qt.MatchFlag.MatchExactly)[0]
        it.setCheckState(Qt.CheckState.Checked)
        QApplication.processEvents()
    assert panel.plan.critical_segments == ["hepatic_vessels", "aorta"]
    n0 = len(window.project.undo_stack)
    panel.add_object("trajectory")
    traj = panel.selected()
    assert traj is not None and traj.collection == "trajectories"
    assert len(window.project.undo_stack) == n0 + 1
    # target from the crosshair (the tumour centre), entry by "Pick" + a click in the axial view
    panel.editor.widgets["target0:Here"].click()
    assert np.allclose(panel.plan.get(traj.id).target_lps, centre)
    entry = centre + np.array([48.0, -60.0, 0.0])
    panel.editor.widgets["entry0:Pick"].click()
    axial = window.slice_views["axial"]
    _click(axial, entry)
    t = panel.plan.get(traj.id)
    assert np.allclose(t.entry_lps, entry, atol=0.5)
    assert np.allclose(window.current_position_lps, centre)  # the pick did not move the crosshair
    assert len(window.project.undo_stack) == n0 + 3  # add, target, entry
    _wait_metrics(window, panel)
    expected = evaluate_trajectory(t, lm, ["hepatic_vessels", "aorta"])
    shown = panel.object_metrics(t)
    assert shown["path_length_mm"] == pytest.approx(np.linalg.norm(entry - centre), abs=0.5)
    for a, b in zip(shown["structures"], expected["structures"], strict=True):
        assert a["segment"] == b["segment"] and a["clearance_mm"] == pytest.approx(b["clearance_mm"], abs=1e-9)
    html = panel.metrics_view.toPlainText()
    assert f"Path length {expected['path_length_mm']:.1f} mm" in html
    assert f"aorta: {expected['structures'][1]['clearance_mm']:.1f} mm" in html
    item = panel.tree.currentItem()
    assert item.text(1).startswith(f"{expected['path_length_mm']:.1f} mm")
    # undo the entry placement: the old entry and its metrics come back
    window.undo()
    t_old = panel.plan.get(traj.id)
    assert np.allclose(t_old.target_lps, centre) and not np.allclose(t_old.entry_lps, entry, atol=1)
    _wait_metrics(window, panel)
    assert f"Path length {np.linalg.norm(np.subtract(t_old.entry_lps, centre)):.1f} mm" in \
        panel.metrics_view.toPlainText()
    window.undo()  # target
    window.undo()  # the trajectory itself
    assert panel.plan.trajectories == []


def test_drag_is_one_undo_step_and_points_are_drawn(plan_win):
    window, panel, centre = plan_win
    panel.add_object("landmark")
    lm_id = panel.selected_id
    axial = window.slice_views["axial"]
    axial.repaint()
    # the landmark is drawn on the axial slice (overlay hook): its pixel has the landmark colour
    img = axial.grab().toImage()
    c = axial.lps_to_screen(centre)
    px = img.pixelColor(int(round(c.x())), int(round(c.y())))
    assert (px.red(), px.green(), px.blue()) == (60, 230, 90)
    panel.edit_views.setChecked(True)
    assert window.slice_tool is panel.tool
    n0 = len(window.project.undo_stack)
    path = [centre + np.array([dx, 0.0, 0.0]) for dx in (0.0, 6.0, 12.0, 20.0, 28.0)]
    _drag(axial, path)
    assert len(window.project.undo_stack) == n0 + 1
    assert np.allclose(panel.plan.get(lm_id).position_lps, path[-1], atol=0.5)
    assert np.allclose(window.current_position_lps, centre)  # dragging a point does not move the crosshair
    # a press away from any point still moves the crosshair
    away = centre + np.array([0.0, 40.0, 0.0])
    _click(axial, away)
    assert np.allclose(window.current_position_lps[:2], away[:2], atol=0.5)
    window.undo()
    assert np.allclose(panel.plan.get(lm_id).position_lps, centre)
    # a second drag after undo is again one step
    window.set_position(centre)
    _drag(axial, path[:3])
    assert len(window.project.undo_stack) == n0 + 1
    panel.edit_views.setChecked(False)
    assert window.slice_tool is None


def test_resection_volumes_match_planning(plan_win):
    from planning.resection import evaluate_resection

    window, panel, centre = plan_win
    panel.add_object("resection")
    res = panel.selected()
    assert res.organ_segment == "liver" and res.tumour_segment == "liver_tumor"
    _wait_metrics(window, panel)
    expected = evaluate_resection(res, window.labelmap)
    text = panel.metrics_view.toPlainText()
    assert f"Resected {expected['resected_volume_ml']:.1f} mL" in text
    assert f"remnant {expected['remnant_volume_ml']:.1f} mL ({expected['remnant_percent']:.1f} % of the organ)" in text
    assert f"remnant {expected['remnant_percent']:.1f} %" == panel.tree.currentItem().text(1)
    # flip the plane's side through the editor: resected and remnant swap (one undo step)
    n0 = len(window.project.undo_stack)
    combo = panel.editor.widgets["normal0"]
    combo.setCurrentIndex(combo.findText("-L (right)"))
    assert len(window.project.undo_stack) == n0 + 1
    _wait_metrics(window, panel)
    flipped = panel.object_metrics(panel.selected())
    assert flipped["resected_volume_mm3"] == pytest.approx(expected["remnant_volume_mm3"], rel=1e-6)


def test_rename_remove_and_markups_round_trip(plan_win, tmp_path):
    window, panel, centre = plan_win
    panel.add_object("landmark")
    panel.add_object("distance")
    panel.add_object("angle")
    dist = next(m for m in panel.plan.measurements if m.kind == "distance")
    # rename by editing the list item
    item = next(panel.tree.topLevelItem(1).child(j) for j in range(panel.tree.topLevelItem(1).childCount())
                if panel.tree.topLevelItem(1).child(j).data(0, Qt.ItemDataRole.UserRole) == dist.id)
    item.setText(0, "liver width")
    QApplication.processEvents()
    assert panel.plan.get(dist.id).name == "liver width"
    before = panel.plan
    path = tmp_path / "plan.mrk.json"
    panel.export_markups(str(path))
    assert path.exists()
    for obj in list(before.landmarks) + list(before.measurements):
        panel.select(obj.id)
        panel.remove_selected()
    assert not panel.plan.landmarks and not panel.plan.measurements
    panel.import_markups(str(path))
    after = panel.plan
    assert [x.name for x in after.landmarks] == [x.name for x in before.landmarks]
    assert np.allclose(after.landmarks[0].position_lps, before.landmarks[0].position_lps, atol=1e-6)
    assert sorted((m.name, round(m.value, 6)) for m in after.measurements) == \
        sorted((m.name, round(m.value, 6)) for m in before.measurements)
    window.undo()  # the import is one step
    assert not panel.plan.landmarks


def test_report_from_the_gui_is_a_deidentified_pdf(plan_win, tmp_path):
    from pypdf import PdfReader

    window, panel, centre = plan_win
    panel.add_object("trajectory")
    panel.set_point(panel.selected_id, "entry", 0, centre + np.array([48.0, -60.0, 0.0]))
    pdf = tmp_path / "report.pdf"
    assert not panel.identify.isChecked()
    panel.write_report(str(pdf))
    assert window.wait_for_workers(120)
    assert not window.messages, window.messages
    assert pdf.read_bytes()[:5] == b"%PDF-"
    text = " ".join(p.extract_text() for p in PdfReader(str(pdf)).pages)
    assert "Doe" not in text and "ID-4711" not in text
    length = np.linalg.norm([48.0, -60.0, 0.0])
    assert f"{length:.1f}" in text
    assert panel.report_action.text().startswith("Write report")


def test_probes_eye_shows_the_plane_perpendicular_to_the_path(plan_win):
    from planning.trajectories import probes_eye_frame, reslice
    from rendering.windowing import apply_window

    window, panel, centre = plan_win
    panel.add_object("trajectory")
    panel.set_point(panel.selected_id, "entry", 0, centre + np.array([0.0, -80.0, 0.0]))
    dlg = panel.open_probes_eye()
    assert dlg is not None and dlg.isVisible()
    dlg.depth.setValue(40.0)
    t = panel.selected()
    frame = probes_eye_frame(t, 40.0)
    assert np.allclose(frame.normal_lps, [0, 1, 0]) or np.allclose(frame.normal_lps, [0, -1, 0])
    vol = window.volume
    ref = apply_window(reslice(vol.array, vol.geometry, frame, (80.0, 80.0), 0.4, order=1).T, window.window_level)
    grey = dlg.rgb[..., 0] == dlg.rgb[..., 1]  # pixels without a segment colour
    grey &= dlg.rgb[..., 1] == dlg.rgb[..., 2]
    assert grey.mean() > 0.3
    assert np.abs(dlg.rgb[..., 0][grey].astype(int) - ref[grey].astype(int)).max() <= 1
    dlg.close()
    _wait_metrics(window, panel)


def test_rehearsal_runs_in_a_worker_and_stores_its_result(plan_win):
    from biomech.verification.structured_meshes import box_mesh

    window, panel, centre = plan_win
    box = box_mesh((40.0, 40.0, 40.0), (3, 3, 3), origin_mm=tuple(centre - 20.0))
    window.project.meshes["liver_mesh"] = type(box)(box.points_lps, box.cells, box.region, {1: "liver"} if
                                                    int(box.region.max()) == 1 else {int(r): "liver" for r in
                                                                                     np.unique(box.region)})
    window.set_position(centre + np.array([0.0, 0.0, 20.0]))  # the top face
    panel.add_object("rehearsal")
    reh = panel.selected()
    assert reh.organ_segment == "liver" and not reh.result
    panel.set_point(reh.id, "point", 0, centre + np.array([0.0, 0.0, 20.0]))
    spin = panel.editor.widgets["displacement"]
    spin.setValue(4.0)
    n0 = len(window.project.undo_stack)
    panel.rehearse_button.click()
    assert window.wait_for_workers(120)
    assert not window.messages, window.messages
    done = panel.plan.get(reh.id)
    assert len(window.project.undo_stack) == n0 + 1
    assert done.result["converged"] is True
    assert done.result["max_displacement_mm"] == pytest.approx(4.0, rel=1e-6)  # prescribed on the loaded patch
    assert "Max displacement 4.00 mm" in panel.metrics_view.toPlainText()
    assert f"{reh.name}_result" in window.project.meshes
    window.undo()
    assert not panel.plan.get(reh.id).result and f"{reh.name}_result" not in window.project.meshes


def test_ablation_and_safety_margin_metrics_match_planning(plan_win):
    from planning.margins import ablation_coverage, evaluate_safety_margin

    window, panel, centre = plan_win
    panel.set_critical_segments(["hepatic_vessels", "inferior_vena_cava"])
    panel.add_object("ablation")
    abl = panel.selected()
    panel.editor.widgets["radius"].setValue(20.0)
    abl = panel.plan.get(abl.id)
    assert abl.radii_mm == (20.0, 20.0, 20.0)
    panel.add_object("margin")
    margin = panel.selected()
    assert margin.target_segment == "liver_tumor"
    assert margin.critical_segments == ("hepatic_vessels", "inferior_vena_cava")
    _wait_metrics(window, panel)
    text = panel.metrics_view.toPlainText()
    m_exp = evaluate_safety_margin(margin, window.labelmap)
    for row in m_exp["structures"]:
        assert f"{row['segment']}: {row['min_distance_mm']:.1f} mm" in text
    panel.select(abl.id)
    a_exp = ablation_coverage(abl, window.labelmap)
    text = panel.metrics_view.toPlainText()
    assert f"covered {a_exp['tumour_coverage_percent']:.1f} %" in text
    assert f"With 5.0 mm margin: covered {a_exp['margin_coverage_percent']:.1f} %" in text
