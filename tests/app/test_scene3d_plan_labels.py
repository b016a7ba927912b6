"""3-D plan labels stay readable when markers are close on screen (QA regression: the demo's
"biopsy needle", "needle_entry", "liver_hilum" labels piled up). Frame: LPS mm.

Set ``VHT_SHOTS=<folder>`` to keep the rendered images.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.gui


def _render(labels, size=(400, 300), scale=60.0):  # type: ignore[no-untyped-def]
    import pyvista as pv

    from app.gui.scene3d import add_plan_labels

    p = pv.Plotter(off_screen=True, window_size=size)
    p.set_background((0.1, 0.1, 0.12))
    # frames the camera and its clipping range (labels outside the view frustum are culled, as in the app)
    p.add_mesh(pv.Box(bounds=(-60, 60, -60, 60, -60, 60)), style="wireframe", color=(0.3, 0.3, 0.3))
    p.camera_position = [(0.0, -300.0, 0.0), (0.0, 0.0, 0.0), (0.0, 0.0, 1.0)]  # anterior view, S up
    p.camera.parallel_projection = True
    p.camera.parallel_scale = scale
    if labels:
        add_plan_labels(p, labels)
    img = np.asarray(p.screenshot(return_img=True), dtype=np.int16)
    p.close()
    return img


def _text_pixels(img) -> int:  # type: ignore[no-untyped-def]
    return int(np.count_nonzero(img.min(axis=2) > 200))  # white label text


def test_overlapping_labels_are_placed_not_piled(tmp_path: Path) -> None:
    a = (np.array([0.0, 0.0, 0.0]), "biopsy needle", 3.0)
    b = (np.array([2.0, -40.0, 1.0]), "needle_entry", 1.0)  # in front of a: same pixels seen from the front
    far = (np.array([0.0, 0.0, 40.0]), "liver_hilum", 1.0)  # 40 mm superior: its own place on screen
    only_a, only_b, only_far = _render([a]), _render([b]), _render([far])
    both = _render([a, b, far])
    folder = os.environ.get("VHT_SHOTS")
    if folder:
        import imageio.v3 as iio  # shipped with pyvista

        iio.imwrite(Path(folder) / "plan_labels_3d.png", both.astype(np.uint8))
    assert _text_pixels(only_a) > 50 and _text_pixels(only_b) > 50 and _text_pixels(only_far) > 50
    # the two coincident labels are not drawn over each other: the higher-priority trajectory label wins,
    # the separate one is drawn as well
    region = np.zeros(both.shape[:2], bool)
    region[np.any(np.abs(only_a - only_b) > 0, axis=2) | np.any(np.abs(only_a - only_far) > 0, axis=2)] = True
    expect = only_a.copy()
    mask_far = np.any(np.abs(only_far - _render([])) > 0, axis=2)
    expect[mask_far] = only_far[mask_far]
    diff = np.abs(both - expect).max(axis=2)
    assert np.count_nonzero(diff > 30) < 0.02 * np.count_nonzero(region), np.count_nonzero(diff > 30)


def test_hidden_label_comes_back_when_zooming_in() -> None:
    a = (np.array([0.0, 0.0, 0.0]), "biopsy needle", 3.0)
    b = (np.array([0.0, 0.0, 3.0]), "liver_hilum", 1.0)  # 3 mm above: overlapping at this zoom
    far_a, far_both = _render([a]), _render([a, b])
    assert _text_pixels(far_both) == pytest.approx(_text_pixels(far_a), rel=0.05)  # b left out, a intact
    near_a, near_b = _render([a], scale=8.0), _render([b], scale=8.0)
    near_both = _render([a, b], scale=8.0)  # 3 mm = 56 px on screen: both fit
    assert _text_pixels(near_both) == pytest.approx(_text_pixels(near_a) + _text_pixels(near_b), rel=0.05)


def test_split_plan_labels_moves_marker_labels_out(qtbot) -> None:  # type: ignore[no-untyped-def]
    from app.gui.scene3d import split_plan_labels
    from rendering.plan_view import plan_to_objects
    from twin.plan import Landmark, Plan, Trajectory

    plan = Plan()
    plan.add(Landmark(name="needle_entry", position_lps=(0.0, -40.0, 0.0)))
    plan.add(Trajectory(name="biopsy needle", entry_lps=(0.0, -40.0, 0.0), target_lps=(0.0, 0.0, 0.0),
                        diameter_mm=1.5))
    objects, labels = split_plan_labels(plan_to_objects(plan.to_dict()))
    assert all(getattr(o, "label", "") == "" for o in objects)
    texts = {t: prio for _, t, prio in labels}
    assert texts == {"needle_entry": 1.0, "biopsy needle": 3.0}


def test_window_draws_one_label_actor_for_the_plan(window, qtbot) -> None:  # type: ignore[no-untyped-def]
    from app.gui.scene3d import PLAN_LABELS_NAME
    from app.gui.synthetic import synthetic_case
    from twin.plan import Landmark, Plan, Trajectory
    from twin.project import Project

    vol, _ = synthetic_case()
    proj = Project(name="labels")
    proj.volumes["ct"] = vol
    c = vol.geometry.index_to_lps(np.array([[10.0, 10.0, 10.0]]))[0]
    plan = Plan()
    plan.add(Landmark(name="liver_hilum", position_lps=tuple(c)))
    plan.add(Trajectory(name="biopsy needle", entry_lps=tuple(c + [0, -40, 0]), target_lps=tuple(c),
                        diameter_mm=1.5))
    proj.plan = plan.to_dict()
    window.set_project(proj)
    window.view3d.ensure_ready()
    assert window.wait_for_workers(60)
    window.scene3d.update_plan()
    plotter = window.view3d.plotter
    assert plotter is not None and PLAN_LABELS_NAME in plotter.actors
    assert not any(k.endswith(":label") for k in plotter.actors)
    window.scene3d.update_plan()  # redrawn, not duplicated
    assert sum(1 for k in plotter.actors if k == PLAN_LABELS_NAME) == 1
    if os.environ.get("VHT_SHOTS"):
        window.screenshot(Path(os.environ["VHT_SHOTS"]) / "plan_labels_window.png")
