"""GUI test fixtures: an isolated main window (settings, recovery folder) on a synthetic case."""

from __future__ import annotations

import os

import pytest


@pytest.fixture
def gui_env(tmp_path, monkeypatch):
    """Per-test settings file and recovery folder; no modal dialogs."""
    monkeypatch.setenv("VHT_SETTINGS_FILE", str(tmp_path / "settings.ini"))
    monkeypatch.setenv("VHT_RECOVERY_DIR", str(tmp_path / "recovery"))
    return tmp_path


@pytest.fixture
def window(qtbot, gui_env):
    """A shown MainWindow with its 3-D controller; closed (plotter released) after the test."""
    from app.gui.main_window import MainWindow
    w = MainWindow()
    w.interactive_dialogs = False
    qtbot.addWidget(w)
    w.resize(1200, 800)
    w.show()
    qtbot.waitExposed(w)
    yield w
    w.project.undo_stack.set_clean()
    w.close()


@pytest.fixture
def synthetic_nifti(gui_env):
    """The synthetic torso written as NIfTI (+ its label map)."""
    from app.gui.synthetic import synthetic_case
    from twin.io.images import write_image, write_labelmap

    vol, lm = synthetic_case()
    path = write_image(vol, gui_env / "ct.nii.gz")
    write_labelmap(lm, gui_env / "labels.nrrd")
    return path


os.environ.setdefault("VTK_DEFAULT_OPENGL_WINDOW", "vtkEGLRenderWindow")


@pytest.fixture(scope="module")
def phantom():
    """The abdomen phantom at 4 x 4 x 5 mm (96 x 80 x 48) with a patient identity in its metadata."""
    from twin.phantom.demo import make_abdomen_phantom
    from twin.volume import Volume

    vol, lm = make_abdomen_phantom(shape=(96, 80, 48), spacing_mm=(4.0, 4.0, 5.0))
    md = {**vol.metadata, "PatientName": "Doe^Jane", "PatientID": "ID-4711"}
    return Volume(vol.array, vol.geometry, vol.modality, vol.units, vol.name, md), lm


@pytest.fixture
def plan_win(window, phantom, qtbot):
    """(window, panel, tumour centre LPS) with the phantom loaded and the crosshair on the tumour."""
    import numpy as np
    from PySide6.QtWidgets import QApplication, QDockWidget

    from twin.project import Project

    vol, lm = phantom
    proj = Project(name="phantom")
    proj.volumes["ct"] = vol
    proj.labelmaps["seg"] = lm.copy()
    tum = proj.labelmaps["seg"].mask("liver_tumor")
    centre = vol.geometry.index_to_lps(np.rint(np.argwhere(tum).mean(axis=0))[None])[0]
    window.set_project(proj, position_lps=centre)
    panel = window.panels["planning_panel"]
    dock = window.findChild(QDockWidget, "dock_planning_panel")
    dock.show()
    dock.raise_()
    QApplication.processEvents()
    # let the 3-D surfaces job (started 600 ms after a label-map change) finish first: a VTK call on the
    # GUI thread while it runs can deadlock (scene3d draws plan edits on the GUI thread)
    qtbot.wait(800)
    assert window.wait_for_workers(60)
    for v in window.slice_views.values():
        v.repaint()
    yield window, panel, centre
    # finish the jobs before the window closes (a pool thread still running at interpreter exit blocks it)
    assert window.wait_for_workers(60)
