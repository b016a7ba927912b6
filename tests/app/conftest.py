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
