"""Oblique MPR actions for the slice views: presets, align to a planned trajectory, rotate mode, reset.

Frame: patient LPS, mm. View orientation is display state, not data: nothing
here goes on the undo stack or marks the project modified. The planes along
and across a trajectory come from :func:`rendering.slicing.trajectory_planes`
(the path runs down the view's vertical centre line, entry at the top; the
"across" plane is the probe's-eye plane at the target).

Entry points: :func:`install_view_actions` (the main window's View menu),
:func:`build_view_menu` (a slice view's right-click menu),
:func:`align_view_to_trajectory`, :func:`align_views_to_trajectory`,
:func:`reset_orientations`, :func:`set_rotate_mode`, :func:`warm_up_sampler`.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6.QtCore import QTimer
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu

from rendering.slicing import ORIENTATIONS, trajectory_planes

if TYPE_CHECKING:
    from app.gui.main_window import MainWindow
    from app.gui.slice_view import SliceView

ALIGN_MODES = {
    "along": "Along the path",
    "along_ortho": "Along the path (rotated 90\N{DEGREE SIGN})",
    "across": "Across the path (probe's eye, at the target)",
}
WARM_UP_DELAY_MS = 2500
SLOT_MODES = {"axial": "across", "coronal": "along", "sagittal": "along_ortho"}
"""Which plane each view slot shows after :func:`align_views_to_trajectory`."""


def trajectories(window: MainWindow) -> list[Any]:
    """The plan's trajectories (:class:`twin.plan.Trajectory`), empty when the plan cannot be read."""
    from twin.plan import Plan

    try:
        return list(Plan.from_dict(window.project.plan or {}).trajectories)
    except Exception:  # noqa: BLE001 - a broken plan offers no trajectory; the planning panel reports it
        return []


def _find(window: MainWindow, traj: Any) -> Any:
    if not isinstance(traj, str):
        return traj
    for t in trajectories(window):
        if traj in (t.id, t.name):
            return t
    raise KeyError(f"no trajectory {traj!r} in the plan")


def _frame_path(view: SliceView, entry: np.ndarray, target: np.ndarray) -> None:
    """Fit the view to the cut, centre it on the path's midpoint (projected on the plane), zoom out if the
    path would not fit in 80% of the view."""
    view.reset_view()
    length = float(np.linalg.norm(view.plane().to_plane_coords(np.stack([target - entry]))[0]))
    s = view.scale()
    room = 0.8 * min(view.width(), view.height())
    if length * s > room > 0:
        view.zoom = float(np.clip(view.zoom * room / (length * s), 0.05, 200.0))
    view.center_on((entry + target) / 2.0)


def align_view_to_trajectory(view: SliceView, traj: Any, mode: str = "along") -> None:
    """Show the plane ``mode`` (see :data:`ALIGN_MODES`) of a trajectory (object, id or name) in one view.

    The crosshair moves to the trajectory's target (every view passes through it), so the other views
    show where the path ends; the along planes contain the whole path on the view's vertical centre line.
    """
    window = view.main
    t = _find(window, traj)
    if mode not in ALIGN_MODES:
        raise ValueError(f"mode must be one of {tuple(ALIGN_MODES)}, got {mode!r}")
    entry, target = np.asarray(t.entry_lps, float), np.asarray(t.target_lps, float)
    planes = trajectory_planes(entry, target)
    window.set_position(target)
    view.set_plane(planes[mode], keep_screen=False)
    _frame_path(view, entry, target)
    window.statusBar().showMessage(f"{view.orientation.capitalize()} view: {ALIGN_MODES[mode].lower()} of "
                                   f"{t.name}", 5000)


def align_views_to_trajectory(window: MainWindow, traj: Any) -> None:
    """All three slice views on a trajectory: across it at the target (axial slot), and the two orthogonal
    planes containing it (coronal and sagittal slots)."""
    t = _find(window, traj)
    entry, target = np.asarray(t.entry_lps, float), np.asarray(t.target_lps, float)
    planes = trajectory_planes(entry, target)
    window.set_position(target)
    for slot, mode in SLOT_MODES.items():
        view = window.slice_views[slot]
        view.set_plane(planes[mode], keep_screen=False)
        _frame_path(view, entry, target)
    window.statusBar().showMessage(f"Views aligned to {t.name} (Ctrl+Shift+R resets the orientation)", 5000)


def reset_orientations(window: MainWindow) -> None:
    """Every slice view back to its own preset (axial, coronal, sagittal), fitted."""
    for v in window.slice_views.values():
        v.reset_orientation()


def set_rotate_mode(window: MainWindow, on: bool) -> None:
    """In rotate mode a left drag in a slice view turns the other views' planes about its normal."""
    window.rotate_mode = bool(on)
    action = getattr(window, "rotate_action", None)
    if action is not None and action.isChecked() != bool(on):
        action.setChecked(bool(on))
    if on:
        window.statusBar().showMessage("Rotate mode: drag in a slice view to turn the other views' planes "
                                       "about the crosshair (Ctrl+drag does it without the mode)", 8000)
    window.refresh_slices()


def _fill_trajectory_menu(menu: QMenu, window: MainWindow, view: SliceView | None) -> None:
    menu.clear()
    trajs = trajectories(window)
    if not trajs:
        a = menu.addAction("(no trajectory in the plan)")
        a.setEnabled(False)
        return
    for t in trajs:
        if view is None:
            menu.addAction(t.name, lambda t=t: align_views_to_trajectory(window, t))
            continue
        sub = menu.addMenu(t.name)
        for mode, label in ALIGN_MODES.items():
            sub.addAction(label, lambda t=t, mode=mode: align_view_to_trajectory(view, t, mode))
        sub.addSeparator()
        sub.addAction("All views", lambda t=t: align_views_to_trajectory(window, t))


def warm_up_sampler(window: MainWindow) -> threading.Thread | None:
    """Load the oblique sampler's compiled kernels for the open image's and label map's dtypes in a
    background thread (numba: ~1-2 s the first time), so that the first oblique view does not stall."""
    vol, lm = window.volume, window.labelmap
    if vol is None:
        return None
    jobs = [(vol.array.dtype, 1)] + ([(layer.dtype, 0) for layer in lm.layers] if lm is not None else [])

    def work() -> None:
        from rendering._plane_sampler import sample_plane_grid

        z = np.zeros(3)
        for dtype, order in jobs:
            sample_plane_grid(np.zeros((2, 2, 2), dtype), z, z, z, (1, 1), order, 0)

    t = threading.Thread(target=work, name="vht-sampler-warmup", daemon=True)
    t.start()
    return t


def install_view_actions(window: MainWindow, menu: QMenu) -> None:
    """Add the orientation actions to the main window's View menu (and window-wide shortcuts)."""
    # after the first slices are painted: importing numba in a thread competes for the GIL with start-up
    window.project_changed.connect(
        lambda: QTimer.singleShot(WARM_UP_DELAY_MS, window, lambda: warm_up_sampler(window)))  # dropped on close
    menu.addSeparator()
    traj_menu = menu.addMenu("Align views to trajectory")
    traj_menu.setObjectName("align_trajectory_menu")
    traj_menu.aboutToShow.connect(lambda: _fill_trajectory_menu(traj_menu, window, None))
    _fill_trajectory_menu(traj_menu, window, None)
    window.rotate_action = QAction("Rotate planes (drag in a slice view)", window)
    window.rotate_action.setCheckable(True)
    window.rotate_action.setShortcut(QKeySequence("Ctrl+Alt+R"))
    window.rotate_action.toggled.connect(lambda on: set_rotate_mode(window, on))
    menu.addAction(window.rotate_action)
    from app.gui.slice_planes3d import SlicePlanes3D

    window.slice_planes3d = SlicePlanes3D(window)
    window.slice_planes_action = QAction("Show slice planes in 3-D", window)
    window.slice_planes_action.setCheckable(True)
    window.slice_planes_action.toggled.connect(window.slice_planes3d.set_enabled)
    menu.addAction(window.slice_planes_action)
    reset = QAction("Reset orientation (axial / coronal / sagittal)", window)
    reset.setShortcut(QKeySequence("Ctrl+Shift+R"))
    reset.triggered.connect(lambda: reset_orientations(window))
    menu.addAction(reset)
    window.reset_orientation_action = reset


def build_view_menu(view: SliceView) -> QMenu:
    """The right-click menu of a slice view (shown with ``popup``; tests trigger its actions directly)."""
    window = view.main
    menu = QMenu(view)
    menu.setObjectName(f"view_menu_{view.orientation}")
    current = view.preset
    for name in ORIENTATIONS:
        a = menu.addAction(name.capitalize(), lambda name=name: view.set_preset(name))
        a.setCheckable(True)
        a.setChecked(current == name)
    traj_menu = menu.addMenu("Align to trajectory")
    _fill_trajectory_menu(traj_menu, window, view)
    menu.addSeparator()
    rot = getattr(window, "rotate_action", None)
    if rot is not None:
        menu.addAction(rot)
    menu.addAction("Reset this view's orientation", view.reset_orientation)
    menu.addAction("Reset all orientations", lambda: reset_orientations(window))
    return menu
