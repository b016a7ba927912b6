"""Per-seed-set grow options in the segment tools (Slicer-like per-segment settings): the dialog's
result, validation, the list text, the SEEDS.json they write, and that grow passes them to
segmentation.grow.grow_from_seeds for exactly that label. Frame LPS, mm."""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.gui

from tests.app.test_panel_segtools import seg  # noqa: E402,F401 - the shared fixture


def _spy_grow(monkeypatch) -> dict:
    """Record the keyword arguments the grow page passes to segmentation.grow.grow_from_seeds."""
    from segmentation import grow as grow_mod

    seen: dict = {}
    real = grow_mod.grow_from_seeds

    def spy(*a, **k):  # noqa: ANN002, ANN003
        seen.update(k)
        return real(*a, **k)

    monkeypatch.setattr(grow_mod, "grow_from_seeds", spy)
    return seen


def test_dialog_returns_only_what_the_user_set(qtbot):
    from app.gui.panels.segtools.seed_options import SeedOptionsDialog

    dlg = SeedOptionsDialog("muscle", {}, 4.5)
    qtbot.addWidget(dlg)
    assert dlg.options() == {} and not dlg.bridge.isEnabled() and dlg.bridge.value() == 4.5
    dlg.own_bridge.setChecked(True)
    dlg.bridge.setValue(0.0)
    dlg.refinement.setCurrentText("on")
    dlg.rim.setValue(3)
    dlg.directional.setCurrentText("on")
    dlg.wall.setValue(4.0)
    dlg.trim.setChecked(True)
    dlg.muscle.setChecked(True)
    dlg.reach.setValue(25.0)
    assert dlg.options() == {"bridge_radius_mm": 0.0, "boundary_refinement": True, "rim_layers": 3,
                             "directional_edges": True, "wall_mm": 4.0, "boundary_trim": True,
                             "skeletal_muscle": True, "max_distance_mm": 25.0}
    again = SeedOptionsDialog("muscle", dlg.options(), 4.5)
    qtbot.addWidget(again)
    assert again.options() == dlg.options()  # reopening shows the stored choices


def test_set_options_reach_grow_from_seeds(seg, monkeypatch):  # noqa: F811
    from segmentation import grow as grow_mod
    from twin.errors import InputError

    window, panel = seg
    page = panel.grow
    panel.show_page(page)
    z = window.current_position_lps[2]
    page.add_set("grown_liver")
    for p in ([-35.0, 5.0, z], [-15.0, -10.0, z], [-25.0, 12.0, z]):
        page.seeds.current().points_lps.append(np.array(p))
    page.edit_set_options({"bridge_radius_mm": 0.0, "rim_layers": 2})
    assert "own options" in page.list.item(0).text() and "rim_layers = 2" in page.list.item(0).toolTip()
    with pytest.raises(InputError):
        page.edit_set_options({"leak": 3})  # unknown key: refused, the set keeps its options
    assert page.seeds.current().options == {"bridge_radius_mm": 0.0, "rim_layers": 2}
    page.add_set("background")
    for p in ([0.0, -30.0, z], [32.0, 14.0, z], [40.0, -10.0, z]):
        page.seeds.current().points_lps.append(np.array(p))
    doc = page.seeds.to_json()
    assert doc["segments"][0]["options"] == {"bridge_radius_mm": 0.0, "rim_layers": 2}
    assert "options" not in doc["segments"][1]
    assert grow_mod.label_options_of(grow_mod.seed_sets_from_json(doc)) == {1: {"bridge_radius_mm": 0.0,
                                                                               "rim_layers": 2}}
    seen = _spy_grow(monkeypatch)
    page.grow()
    assert window.wait_for_workers(120), window.messages
    assert seen["label_options"] == {1: {"bridge_radius_mm": 0.0, "rim_layers": 2}}
    assert window.labelmap.mask("grown_liver").any()


def test_grow_defaults_are_the_librarys_and_soft_tissue_sets_the_region(seg, monkeypatch):  # noqa: F811
    import inspect

    from segmentation import grow as grow_mod
    from segmentation import presets

    window, panel = seg
    page = panel.grow
    panel.show_page(page)
    d = inspect.signature(grow_mod.grow_from_seeds).parameters
    assert page.smoothing.value() == d["smoothing_mm"].default
    assert page.tolerance.value() == d["intensity_tolerance"].default
    assert page.bridge.value() == d["bridge_radius_mm"].default
    z = window.current_position_lps[2]
    page.add_set("grown_liver")
    for p in ([-35.0, 5.0, z], [-15.0, -10.0, z]):
        page.seeds.current().points_lps.append(np.array(p))
    page.add_set("background")
    page.seeds.current().points_lps.append(np.array([0.0, -30.0, z]))
    seen = _spy_grow(monkeypatch)
    page.soft_tissue.setChecked(True)
    page.grow()
    assert window.wait_for_workers(120), window.messages
    assert np.array_equal(seen["region"], presets.soft_tissue_region(window.volume))
