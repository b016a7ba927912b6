"""Safety-margin distance colours in the 3-D view (planning panel) on the abdomen phantom.

96 x 80 x 48 voxels of 4 x 4 x 5 mm. The colours are the signed distance (mm) of each critical
structure's surface vertices to the target's voxel cubes: checked against a brute-force distance,
against :func:`planning.margins.evaluate_safety_margin` (same voxel-cube model; the surface's
vertices sample the structure), and on screen (red below the margin, scalar bar in mm).
Frame: LPS mm.
"""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtWidgets import QApplication

pytestmark = pytest.mark.gui
CRITICAL = ["hepatic_vessels", "inferior_vena_cava"]


def _brute_force(points, mask, geom, samples=None):
    """Distance between each point and the union of the voxel cubes of ``mask`` (axis-aligned grid), by brute
    force; with ``samples``: distance of those points to the voxel cube centred on each point instead."""
    half = np.asarray(geom.spacing) / 2
    others = samples if samples is not None else geom.index_to_lps(np.argwhere(mask).astype(float))
    out = np.empty(len(points))
    for n, p in enumerate(points):
        d = np.maximum(np.abs(p - others) - half, 0.0)
        out[n] = np.sqrt((d * d).sum(axis=1)).min()
    return out


def _target_samples(mask, geom):
    """Centres and face centres of the boundary voxels (the samples of planning.margins)."""
    from planning.distance import boundary_voxels

    c = geom.index_to_lps(boundary_voxels(mask).astype(float))
    offs = np.vstack([np.zeros(3), np.diag(geom.spacing) / 2, -np.diag(geom.spacing) / 2])
    return (c[:, None, :] + offs[None]).reshape(-1, 3)


def test_signed_distance_sphere_depth():
    from planning.distance_colours import signed_distance_to_mask
    from twin.geometry import ImageGeometry

    g = ImageGeometry((41, 41, 41), (1.0, 1.0, 1.0), (-20.0, -20.0, -20.0), np.eye(3))
    ijk = np.indices(g.shape).reshape(3, -1).T
    mask = (np.linalg.norm(g.index_to_lps(ijk), axis=1) <= 10.0).reshape(g.shape)
    pts = np.array([[0.0, 0, 0], [5.0, 0, 0], [15.0, 0, 0], [0, 0, 19.0]])
    d = signed_distance_to_mask(pts, mask, g)
    # outside: the ball's voxel cubes reach 10.5 mm along the axes
    assert d[2:] == pytest.approx([4.5, 8.5], abs=1e-9)
    # inside: minus the distance to the nearest voxel cube outside the ball (brute force, whole grid)
    assert d[:2] == pytest.approx(-_brute_force(pts[:2], ~mask, g), abs=1e-9)
    assert -10.5 <= d[0] <= -9.0  # the voxelised ball is thinner than 10.5 mm along its diagonals
    # a ball touching the border: the depth is measured to the grid's outside too
    edge = np.zeros(g.shape, bool)
    edge[:5] = True
    assert signed_distance_to_mask(np.array([[-20.0, 0, 0]]), edge, g)[0] == pytest.approx(-0.5)
    assert np.isinf(signed_distance_to_mask(pts, np.zeros(g.shape, bool), g)).all()


@pytest.mark.slow
def test_margin_colours_match_planning_and_screen(plan_win):
    from app.gui.panels.planning.margin_view import ACTOR_PREFIX
    from planning.margins import evaluate_safety_margin
    from rendering.distance_view import bar_title

    window, panel, _ = plan_win
    lm = window.labelmap
    panel.set_critical_segments(CRITICAL)
    panel.add_object("margin")
    margin = panel.selected()
    assert margin.target_segment == "liver_tumor" and list(margin.critical_segments) == CRITICAL
    view = panel.margin_view
    assert view.isVisible() and view.toggle.isEnabled()
    view.toggle.setChecked(True)
    assert window.wait_for_workers(120), window.messages
    _drawn(view)
    assert sorted(view.colored) == sorted(CRITICAL)
    expected = evaluate_safety_margin(margin, lm)
    mins = view.min_distances()
    geom = lm.geometry
    tumour = lm.mask("liver_tumor")
    samples = _target_samples(tumour, geom)
    for row in expected["structures"]:
        name = row["segment"]
        surf = view.colored[name]
        d = np.asarray(surf.point_data["distance_mm"])
        # the colours' minimum IS the planning minimum (same voxel model), so the red shown and the
        # warning in the metrics / report agree
        assert mins[name] == pytest.approx(row["min_distance_mm"], abs=1e-9)
        assert f"{name}: min {mins[name]:.1f} mm" in view.info.text()
        # per vertex, by brute force: the smallest distance of the target samples to the structure's
        # boundary voxel cubes within one voxel diagonal of the vertex
        from planning.distance import boundary_voxels

        sb = boundary_voxels(lm.mask(name))
        centres = geom.index_to_lps(sb.astype(float))
        cube = _brute_force(centres, None, geom, samples)
        reach = np.linalg.norm(geom.spacing)
        for i in np.linspace(0, len(d) - 1, 200).astype(int):
            near = np.linalg.norm(centres - surf.points_lps[i], axis=1) <= reach
            exp = cube[near].min() if near.any() else cube[np.argmin(np.linalg.norm(centres - surf.points_lps[i],
                                                                                    axis=1))]
            assert d[i] == pytest.approx(exp, abs=1e-9)
    # drawn: one actor per structure with the distances as scalars, red below the margin, a bar in mm
    p = window.view3d.plotter
    title = bar_title("liver_tumor")
    assert title in p.scalar_bars and "(mm)" in title
    for name in CRITICAL:
        actor = p.actors[f"{ACTOR_PREFIX}{name}"]
        mapper = actor.GetMapper()
        lo, hi = mapper.GetScalarRange()
        assert lo == pytest.approx(margin.threshold_mm)
        lut = mapper.GetLookupTable()
        assert lut.GetUseBelowRangeColor()
        assert lut.GetBelowRangeColor()[:3] == pytest.approx((0.9, 0.05, 0.05), abs=0.005)
        arr = np.asarray(mapper.GetInput().GetPointData().GetArray("distance_mm"))
        assert arr.min() == pytest.approx(mins[name])
    # an edit of the label map (tumour grown by 4 mm, one undo step) recomputes the colours; undo restores them
    from segmentation import morphology as morph
    from twin.labelmap_commands import SetSegmentMask

    before = dict(mins)
    grown = morph.margin(lm.mask("liver_tumor"), lm.geometry, 4.0)
    assert window.push_command(SetSegmentMask(lm, "liver_tumor", grown))
    assert window.wait_for_workers(120)
    _drawn(view)
    after = evaluate_safety_margin(panel.plan.get(margin.id), lm)
    for row in after["structures"]:
        assert view.min_distances()[row["segment"]] == pytest.approx(row["min_distance_mm"], abs=1e-9)
        assert view.min_distances()[row["segment"]] < before[row["segment"]]
    window.undo()
    assert window.wait_for_workers(120)
    _drawn(view)
    assert view.min_distances() == pytest.approx(before, abs=1e-9)
    # off: actors and bar gone, the plain surfaces shown again
    view.toggle.setChecked(False)
    _until(lambda: not any(k.startswith(ACTOR_PREFIX) for k in p.actors))  # removal waits for a job's VTK lock
    assert not any(k.startswith(ACTOR_PREFIX) for k in p.actors) and title not in p.scalar_bars
    for name in CRITICAL:
        plain = p.actors.get(f"surface:{name}")
        assert plain is None or plain.GetVisibility()


def _until(condition, timeout_s=10.0):
    """Process events until ``condition()`` holds (deferred VTK work) or the time is up."""
    import time

    t0 = time.monotonic()
    while not condition() and time.monotonic() - t0 < timeout_s:
        QApplication.processEvents()
        time.sleep(0.01)


def _drawn(view, timeout_s=10.0):
    """Wait until the colours are drawn (drawing is deferred while a job holds the VTK lock)."""
    import time

    t0 = time.monotonic()
    while not view.drawn() and time.monotonic() - t0 < timeout_s:
        QApplication.processEvents()
        time.sleep(0.01)
    assert view.drawn()


def _cut_colours_brute_force(points, mask, geom, origin, normal):
    """Independent implementation of the cut colours for one plane (axis-aligned grid)."""
    import itertools

    from planning.distance import boundary_voxels

    sb = boundary_voxels(mask)
    centres = geom.index_to_lps(sb.astype(float))
    corners = np.array(list(itertools.product((-0.5, 0.5), repeat=3))) * np.asarray(geom.spacing)
    depth = ((centres[:, None, :] + corners[None]) - origin) @ normal
    vox = np.where(depth.min(1) >= 0, depth.min(1), np.where(depth.max(1) <= 0, depth.max(1), 0.0))
    out = []
    reach = np.linalg.norm(geom.spacing)
    for p in points:
        dist = np.linalg.norm(centres - p, axis=1)
        v = vox[dist <= reach] if (dist <= reach).any() else vox[[np.argmin(dist)]]
        out.append(v.min() if v.min() >= 0 else (v.max() if v.max() <= 0 else 0.0))
    return np.array(out)


@pytest.mark.slow
def test_resection_cut_colours(plan_win):
    from dataclasses import replace

    from app.gui.panels.planning.margin_view import ACTOR_PREFIX
    from planning.resection import evaluate_resection
    from rendering.distance_view import CUT_TITLE
    from twin.plan import CutPlane

    window, panel, _ = plan_win
    lm = window.labelmap
    panel.set_critical_segments(["hepatic_vessels"])
    panel.add_object("resection")  # one plane through the crosshair (the tumour centre), normal +x
    res = panel.selected()
    assert res.collection == "resections" and res.tumour_segment == "liver_tumor"
    view = panel.margin_view
    assert view.isVisible() and view.cut_row.isVisible() and "cut" in view.toggle.text()
    view.toggle.setChecked(True)
    assert window.wait_for_workers(120), window.messages
    _drawn(view)
    assert sorted(view.colored) == ["hepatic_vessels", "liver_tumor"]
    origin, normal = np.asarray(res.planes[0].origin_lps), np.asarray(res.planes[0].normal_lps)
    for name, surf in view.colored.items():
        d = np.asarray(surf.point_data["distance_mm"])
        idx = np.linspace(0, len(d) - 1, 150).astype(int)
        exp = _cut_colours_brute_force(surf.points_lps[idx], lm.mask(name), lm.geometry, origin, normal)
        assert np.allclose(d[idx], exp, atol=1e-9), name
    tumour = np.asarray(view.colored["liver_tumor"].point_data["distance_mm"])
    assert tumour.min() < 0 < tumour.max()  # cut through its centre
    assert "liver_tumor: <b style='color:#d00'>crosses the cut</b>" in view.info.text()
    p = window.view3d.plotter
    assert CUT_TITLE in p.scalar_bars and f"{ACTOR_PREFIX}liver_tumor" in p.actors
    # move the cut 30 mm to the right of the tumour: the tumour is resected whole, its smallest colour is
    # the resection metric's tumour margin
    moved = replace(res, planes=(CutPlane(tuple(origin - 30.0 * normal), tuple(normal)),))
    panel.modify(moved)
    assert window.wait_for_workers(120)
    _drawn(view)
    expected = evaluate_resection(panel.plan.get(res.id), lm)["tumour_margin_mm"]
    assert expected > 5
    assert view.min_distances()["liver_tumor"] == pytest.approx(expected, abs=1e-9)
    assert "liver_tumor: resected side" in view.info.text()
    # the threshold only redraws (no new job) and turns the whole tumour red
    colored = view.colored
    view.cut_margin.setValue(60.0)
    assert view.colored is colored and view._pending is None  # no recomputation started
    _drawn(view)
    assert "within the margin" in view.info.text()
    lut = p.actors[f"{ACTOR_PREFIX}liver_tumor"].GetMapper().GetLookupTable()
    rgb = np.zeros(3)
    lut.GetColor(float(expected), rgb)
    assert rgb == pytest.approx((0.9, 0.05, 0.05), abs=0.01)
