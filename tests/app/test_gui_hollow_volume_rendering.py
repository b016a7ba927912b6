"""Two issue-5 bullets that had no GUI test: Hollow (segment tools, refine page) through its widgets as one
undo step, and volume rendering presets chosen in the data panel drawn in the 3-D view. Synthetic torso
at 40^3 (3.2 x 2.56 x 3 mm voxels). Frame: LPS mm."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtWidgets import QApplication

from tests.app.test_panel_segtools import seg  # noqa: F401 - fixture

pytestmark = pytest.mark.gui


def test_hollow_through_the_widgets_is_one_undo_step(seg):  # noqa: F811
    from scipy import ndimage

    from segmentation import morphology as morph

    window, panel = seg
    lm = window.labelmap
    panel.set_target("liver")
    page = panel.refine
    liver0 = lm.mask("liver").copy()
    page.hollow_mm.setValue(4.0)
    page.hollow_side.setCurrentText("inside")
    n0 = len(window.project.undo_stack)
    page.apply_hollow()
    assert window.wait_for_workers(60), window.messages
    assert len(window.project.undo_stack) == n0 + 1
    shell = lm.mask("liver")
    assert np.array_equal(shell, morph.hollow(liver0, lm.geometry, 4.0, True))  # the library's answer
    # a shell inside the old boundary: a subset, the boundary voxels kept, a cavity inside
    assert (shell & ~liver0).sum() == 0 and 0 < shell.sum() < 0.8 * liver0.sum()
    boundary = liver0 & ~ndimage.binary_erosion(liver0)
    assert shell[boundary].all()
    window.undo()
    assert np.array_equal(lm.mask("liver"), liver0)


def _colourful(img):
    return int(((img.max(axis=-1).astype(int) - img.min(axis=-1)) > 40).sum())


def test_volume_rendering_presets_from_the_data_panel(seg):  # noqa: F811
    window, _ = seg
    window.scene3d.set_show_surfaces(False)
    dp = window.panels["data_panel"]
    window.view3d.ensure_ready()
    assert window.wait_for_workers(60)
    window.view3d.render_now()
    empty = window.view3d.grab_rgb()
    bright0 = int((empty.max(axis=-1) > 150).sum())
    dp.vr.setCurrentIndex(dp.vr.findData("ct-bone"))
    QApplication.processEvents()
    assert window.wait_for_workers(60)
    assert "volume" in window.view3d.plotter.renderer.actors
    window.view3d.render_now()
    bone = window.view3d.grab_rgb()
    # the spine (bone, ~700 HU) appears: bright pixels where the view was background
    assert int((bone.max(axis=-1) > 150).sum()) > bright0 + 300
    dp.vr.setCurrentIndex(dp.vr.findData("ct-soft-tissue"))
    QApplication.processEvents()
    assert window.wait_for_workers(60)
    window.view3d.render_now()
    soft = window.view3d.grab_rgb()
    assert np.abs(soft.astype(int) - bone).max(axis=-1).astype(bool).sum() > 300  # another transfer function
    dp.vr.setCurrentIndex(0)  # off
    QApplication.processEvents()
    assert "volume" not in window.view3d.plotter.renderer.actors
