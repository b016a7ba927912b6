"""The vessel tool of the segmentation panel (Seeds and grow page) on the abdomen phantom.

96 x 80 x 48 voxels of 4 x 4 x 5 mm. The organ segment is the phantom's liver, which leaves
out its vessel channels (as a grown-and-split liver does): the tool closes those gaps, runs
:func:`segmentation.vessels.segment_vessels` in a worker and applies ONE undoable command.
Frame: LPS mm.
"""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtWidgets import QApplication, QDockWidget

pytestmark = pytest.mark.gui


@pytest.fixture
def seg(window, phantom, qtbot):
    from twin.project import Project

    vol, lm = phantom
    proj = Project(name="phantom")
    proj.volumes["ct"] = vol
    proj.labelmaps["seg"] = lm.copy()
    window.set_project(proj)
    panel = window.panels["segment_tools_panel"]
    dock = window.findChild(QDockWidget, "dock_segment_tools_panel")
    dock.show()
    dock.raise_()
    panel.show_page(panel.grow)
    QApplication.processEvents()
    qtbot.wait(700)
    assert window.wait_for_workers(60)
    yield window, panel
    assert window.wait_for_workers(60)


def _dice(a, b):
    return 2 * np.count_nonzero(a & b) / (a.sum() + b.sum())


@pytest.mark.slow
def test_vessel_tool_dice_and_undo(seg):
    from segmentation import morphology as morph
    from segmentation.vessels import segment_vessels

    window, panel = seg
    page = panel.grow
    lm = window.labelmap
    truth = lm.mask("hepatic_vessels")
    assert page.vessel_organ.currentText() == "liver"  # picked by name
    assert page.vessel_output.text() == "hepatic_vessels"
    page.vessel_output.setText("vessels_found")
    n = len(window.project.undo_stack)
    page.findChild(type(panel.grow.place), "vessel_run").click()
    assert window.wait_for_workers(60)
    assert len(window.project.undo_stack) == n + 1
    found = lm.mask("vessels_found")
    # measured 0.823 (0.882 on the 3 mm phantom; the library on the true liver + vessel region: 0.96;
    # without closing the organ's gaps the liver segment contains no vessel at all: 0.0)
    assert _dice(found, truth) >= 0.80
    # exactly the library's answer on the closed organ
    region = morph.fill_holes(morph.closing(lm.mask("liver"), lm.geometry, 6.0))
    assert np.array_equal(found, segment_vessels(window.volume, region))
    assert "vessels_found:" in page.vessel_info.text() and "HU" in page.vessel_info.text()
    assert panel.target() == "vessels_found"
    window.undo()
    assert "vessels_found" not in [s.name for s in lm.segments]
    window.redo()
    assert np.array_equal(lm.mask("vessels_found"), found)
    # closing off: the liver segment excludes its vessels, so nothing bright is left inside it
    page.vessel_close.setValue(0)
    page.find_vessels()
    assert window.wait_for_workers(60)
    assert _dice(lm.mask("vessels_found"), truth) < 0.1


def test_vessel_tool_refuses_bad_input(seg):
    window, panel = seg
    page = panel.grow
    page.vessel_output.setText("liver")
    assert page.find_vessels() is None and "must differ" in window.messages[-1]
    page.vessel_output.setText("v")
    page.vessel_low.setValue(5.0)
    page.vessel_high.setValue(3.0)
    assert page.find_vessels() is None and "low threshold" in window.messages[-1]
    page.vessel_high.setValue(6.0)
    page.vessel_seeds.setChecked(True)
    assert page.find_vessels() is None and "seed set has no points" in window.messages[-1]


@pytest.mark.slow
def test_vessel_tool_seeds_and_cancel(seg):
    window, panel = seg
    page = panel.grow
    lm = window.labelmap
    vol = window.volume
    truth = lm.mask("hepatic_vessels")
    page.vessel_output.setText("seeded")
    # hysteresis marker out of reach (median + 40 SD): only candidates connected to a seed are kept
    page.vessel_high.setValue(15.0)
    page.vessel_low.setValue(2.5)
    ijk = np.argwhere(truth & (np.asarray(vol.array) > 150))[0]
    seed = vol.geometry.index_to_lps(ijk[None].astype(float))[0]
    page.add_set("vessel seeds")
    page.seeds.current().points_lps.append(tuple(seed))
    page.vessel_seeds.setChecked(True)
    page.find_vessels()
    assert window.wait_for_workers(60)
    seeded = lm.mask("seeded")
    assert seeded[tuple(ijk)] and seeded.sum() > 20
    assert 2 * np.count_nonzero(seeded & truth) / (seeded.sum() + truth.sum()) > 0.3
    from scipy import ndimage

    labels, n = ndimage.label(seeded, ndimage.generate_binary_structure(3, 3))
    assert n == 1  # one island: the one grown from the seed
    # without the seed nothing reaches the marker level
    page.vessel_seeds.setChecked(False)
    page.find_vessels()
    assert window.wait_for_workers(60)
    assert not lm.mask("seeded").any()
    # Cancel: no edit, no undo step
    n_steps = len(window.project.undo_stack)
    before = lm.mask("seeded").copy()
    page.vessel_seeds.setChecked(True)
    worker = page.find_vessels()
    window.cancel_button.click()
    assert window.wait_for_workers(60) and worker.token.cancelled
    assert len(window.project.undo_stack) == n_steps and np.array_equal(lm.mask("seeded"), before)
    assert "cancelled" in window.statusBar().currentMessage()


@pytest.mark.slow
def test_vessel_tool_at_a_large_vein_is_the_library_and_one_undo_step(seg):
    from segmentation import morphology as morph
    from segmentation.vessels import refine_vessels_at_large_vein, segment_vessels

    window, panel = seg
    page = panel.grow
    lm = window.labelmap
    truth_vessels, truth_ivc = lm.mask("hepatic_vessels"), lm.mask("inferior_vena_cava")
    liver0, ivc0 = lm.mask("liver"), lm.mask("inferior_vena_cava")
    assert page.vessel_vein.findText("inferior_vena_cava") >= 0 and page.vessel_vein.currentText() == "(none)"
    assert page.vessel_fwhm_xy.value() == 4.0 and page.vessel_fwhm_z.value() == 5.0  # the voxel size
    page.vessel_vein.setCurrentText("liver")
    assert page.find_vessels() is None and "large vein" in window.messages[-1]
    page.vessel_vein.setCurrentText("inferior_vena_cava")
    page.vessel_output.setText("vessels_found")
    n = len(window.project.undo_stack)
    page.find_vessels()
    assert window.wait_for_workers(120)
    assert len(window.project.undo_stack) == n + 1
    found, ivc = lm.mask("vessels_found"), lm.mask("inferior_vena_cava")
    # the library's answer on the same inputs
    others = np.zeros(lm.shape, bool)
    for s in lm.segments:
        if s.name not in ("liver", "vessels_found", "inferior_vena_cava"):
            others |= lm.mask(s.name)
    v0 = segment_vessels(window.volume, morph.fill_holes(morph.closing(liver0, lm.geometry, 6.0)))
    region = morph.fill_holes(liver0 | v0, "3d") & ~others
    ref_v, ref_ivc = refine_vessels_at_large_vein(window.volume, v0, ivc0, region, (4.0, 4.0, 5.0))
    assert np.array_equal(found, ref_v) and np.array_equal(ivc, ref_ivc)
    assert not (found & ivc).any() and not (lm.mask("liver") & (found | ivc)).any()
    assert _dice(ivc, truth_ivc) >= 0.9 and _dice(found, truth_vessels) >= 0.75
    window.undo()  # vessels, vein and organ come back together
    assert "vessels_found" not in [s.name for s in lm.segments]
    assert np.array_equal(lm.mask("inferior_vena_cava"), ivc0) and np.array_equal(lm.mask("liver"), liver0)
