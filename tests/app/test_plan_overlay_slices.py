"""Trajectories in the slice views (QA regression): the entry-target segment, solid only near the plane.

Frame: patient LPS, mm. Draws :func:`app.gui.tools.plan_tools.paint_plan` into a transparent image of a real
slice view and counts pixels: opaque yellow = solid (in the slice), translucent = the faint dashed projection.
Set ``VHT_SHOTS=<folder>`` to keep screenshots.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.gui

YELLOW = (255, 215, 30)


def _plan_image(window, view):  # type: ignore[no-untyped-def]
    """RGBA array (h, w, 4) of the plan drawn alone on ``view``."""
    from PySide6.QtGui import QImage, QPainter

    from app.gui.tools.plan_tools import PlanCache, paint_plan

    img = QImage(view.width(), view.height(), QImage.Format.Format_RGBA8888)
    img.fill(0)
    p = QPainter(img)
    p.setRenderHint(QPainter.RenderHint.Antialiasing, False)
    paint_plan(window, PlanCache(), view, p)
    p.end()
    h, w = img.height(), img.width()
    arr = np.frombuffer(img.constBits(), np.uint8, count=img.bytesPerLine() * h).reshape(h, img.bytesPerLine())
    return arr[:, : 4 * w].reshape(h, w, 4).copy()


def _yellow(arr, opaque: bool):  # type: ignore[no-untyped-def]
    rgb_ok = np.all(np.abs(arr[..., :3].astype(int) - np.array(YELLOW)) <= 2, axis=-1) if opaque else \
        (arr[..., 0] > 200) & (arr[..., 1] > 150) & (arr[..., 2] < 100)
    alpha = arr[..., 3]
    return rgb_ok & (alpha == 255) if opaque else rgb_ok & (alpha > 0) & (alpha < 255)


def _shot(window, name: str) -> None:  # type: ignore[no-untyped-def]
    folder = os.environ.get("VHT_SHOTS")
    if folder:
        window.screenshot(Path(folder) / f"{name}.png")


@pytest.fixture
def needle_win(window, qtbot):  # type: ignore[no-untyped-def]
    """Phantom with a 60 mm needle tilted in the axial-sagittal sense; crosshair at its midpoint."""
    from twin.phantom.demo import make_abdomen_phantom
    from twin.plan import Plan, Trajectory
    from twin.project import Project

    vol, lm = make_abdomen_phantom(shape=(96, 80, 48), spacing_mm=(4.0, 4.0, 5.0))
    proj = Project(name="phantom")
    proj.volumes["ct"] = vol
    centre = vol.geometry.index_to_lps(np.array([[48.0, 40.0, 24.0]]))[0]
    entry = centre + np.array([0.0, -40.0, -20.0])  # anterior and inferior
    target = centre + np.array([0.0, 0.0, 20.0])
    plan = Plan()
    plan.add(Trajectory(name="needle", entry_lps=tuple(entry), target_lps=tuple(target), diameter_mm=1.5))
    proj.plan = plan.to_dict()
    window.set_project(proj, position_lps=(entry + target) / 2)
    window.resize(1200, 800)
    qtbot.wait(50)
    for v in window.slice_views.values():
        v.repaint()
    yield window, entry, target
    assert window.wait_for_workers(60)


def test_axial_slice_through_the_needle_shows_a_short_solid_part_and_the_crossing(needle_win) -> None:  # type: ignore[no-untyped-def]
    window, entry, target = needle_win
    axial = window.slice_views["axial"]
    arr = _plan_image(window, axial)
    solid = np.argwhere(_yellow(arr, True))
    faint = np.argwhere(_yellow(arr, False))
    assert len(solid) > 0 and len(faint) > 0
    # the solid part is the piece within half a slice (2.5 mm) of the plane: its length along the path in
    # 3-D is 5 mm / sin(angle to the plane); projected, 5 mm * (40/40) ... bounded by the ring around it
    s = axial.scale()
    path_dir = (target - entry) / np.linalg.norm(target - entry)
    along_normal = abs(path_dir[2])
    solid_len_mm = 5.0 / along_normal * np.hypot(path_dir[0], path_dir[1])  # projected on the axial plane
    ring_px = 4.0 + 5  # crossing ring radius + its ticks
    extent = np.ptp(solid, axis=0).max()
    assert extent <= solid_len_mm * s + 2 * ring_px + 6, (extent, solid_len_mm * s)
    # nothing beyond entry and target: every painted pixel is between their projections
    e, t = axial.lps_to_screen(entry), axial.lps_to_screen(target)
    lo_y, hi_y = min(e.y(), t.y()) - ring_px - 3, max(e.y(), t.y()) + ring_px + 3
    painted = np.argwhere(arr[..., 3] > 0)
    assert painted[:, 0].min() >= lo_y and painted[:, 0].max() <= hi_y
    # the crossing ring is centred on the point where the path meets the slice (the crosshair here)
    c = axial.lps_to_screen(window.current_position_lps)
    near = solid[np.hypot(solid[:, 0] - c.y(), solid[:, 1] - c.x()) < 12]
    assert len(near) > 10
    _shot(window, "needle_through_slice")


def test_slice_20mm_beyond_the_needle_shows_no_solid_line_and_no_marker(needle_win) -> None:  # type: ignore[no-untyped-def]
    window, entry, target = needle_win
    p = window.current_position_lps.copy()
    p[2] = target[2] + 20.0  # 20 mm superior to the target: the needle does not reach this slice
    window.set_position(p)
    axial = window.slice_views["axial"]
    axial.repaint()
    arr = _plan_image(window, axial)
    assert not _yellow(arr, True).any()  # no solid part, no crossing ring
    faint = np.argwhere(_yellow(arr, False))
    assert len(faint) > 0  # the faint projection stays, as in Slicer
    e, t = axial.lps_to_screen(entry), axial.lps_to_screen(target)
    assert faint[:, 0].min() >= min(e.y(), t.y()) - 2 and faint[:, 0].max() <= max(e.y(), t.y()) + 2
    # far from the view's edges: not an infinite line
    assert faint[:, 0].min() > 5 and faint[:, 0].max() < axial.height() - 5
    _shot(window, "needle_20mm_away")


def test_view_aligned_to_the_needle_shows_it_solid_end_to_end(needle_win) -> None:  # type: ignore[no-untyped-def]
    from app.gui.view_orientation import align_view_to_trajectory, trajectories

    window, entry, target = needle_win
    view = window.slice_views["sagittal"]
    align_view_to_trajectory(view, trajectories(window)[0], "along")
    view.repaint()
    arr = _plan_image(window, view)
    solid = np.argwhere(_yellow(arr, True))
    e, t = view.lps_to_screen(entry), view.lps_to_screen(target)
    length_px = np.hypot(t.x() - e.x(), t.y() - e.y())
    assert length_px == pytest.approx(np.linalg.norm(target - entry) * view.scale(), rel=1e-3)  # in plane
    # solid along the whole path: the filled entry/target markers (radius 5 px) cover its two ends
    assert np.ptp(solid[:, 0]) + 1 >= abs(t.y() - e.y()) - 2 * 6
    assert len(solid) >= length_px - 2 * 6  # at least one pixel wide all along
    assert not _yellow(arr, False).any()  # no faint (out-of-slice) part at all
    _shot(window, "needle_aligned")


def test_clip_to_volume_is_exact_on_an_oblique_grid() -> None:
    from app.gui.tools.plan_tools import clip_to_volume
    from twin.geometry import ImageGeometry

    c, s = np.cos(0.3), np.sin(0.3)
    g = ImageGeometry((10, 20, 5), (1.0, 2.0, 3.0), (5.0, -7.0, 2.0), np.array([[c, -s, 0], [s, c, 0], [0, 0, 1.0]]))
    # a line along the grid's i axis through the middle of j and k: enters at i = -0.5, leaves at i = 9.5
    a = g.index_to_lps(np.array([[-50.0, 9.0, 2.0]]))[0]
    b = g.index_to_lps(np.array([[60.0, 9.0, 2.0]]))[0]
    p, q = clip_to_volume(a, b, g)
    np.testing.assert_allclose(g.lps_to_index(np.array([p, q])), [[-0.5, 9.0, 2.0], [9.5, 9.0, 2.0]], atol=1e-9)
    # outside the box: nothing
    a2 = g.index_to_lps(np.array([[-50.0, 30.0, 2.0]]))[0]
    b2 = g.index_to_lps(np.array([[60.0, 30.0, 2.0]]))[0]
    assert clip_to_volume(a2, b2, g) is None


def test_resection_plane_is_drawn_only_across_the_image(needle_win, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """QA: the demo's cut plane crossed the whole view as an endless dashed line, far outside the patient."""
    import app.gui.tools.plan_tools as plan_tools
    from app.gui.tools.overlay import slice_target_rect

    # the plane lines only: the blue "cut plane 1" label of the origin point may run past the image's edge
    monkeypatch.setattr(plan_tools, "plan_points", lambda plan: [])
    from twin.plan import CutPlane, Plan, Resection

    window, entry, target = needle_win
    plan = Plan()
    c = window.current_position_lps
    plan.add(Resection(name="cut", organ_segment="liver", tumour_segment="liver_tumor",
                       planes=(CutPlane(tuple(c), (0.6, 0.3, 0.74)),)))
    window.project.plan = plan.to_dict()
    for v in window.slice_views.values():
        v.zoom = 0.6  # the image leaves room around it: a line beyond it would show there
        v.repaint()
        arr = _plan_image(window, v)
        blue = np.argwhere((arr[..., 3] > 0) & (arr[..., 2] > 200) & (arr[..., 0] < 120))
        assert len(blue) > 20, v.orientation
        x, y, w, h = slice_target_rect(v)
        pad = 4  # pen width and voxel half-size rounding
        assert blue[:, 1].min() >= x - pad and blue[:, 1].max() <= x + w + pad, v.orientation
        assert blue[:, 0].min() >= y - pad and blue[:, 0].max() <= y + h + pad, v.orientation
    _shot(window, "resection_clipped")
