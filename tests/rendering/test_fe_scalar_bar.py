"""FE result colour bars stay readable: soft-tissue stresses in kPa/Pa (not 5e-05 MPa), strain in percent,
bar text contrasting with the background. Frame: LPS mm; MPa."""

from __future__ import annotations

import numpy as np
import pytest

from rendering.scene import display_units, fe_field


def _beam(stress_mpa: float):
    from tests.rendering.test_offscreen import _beam as beam

    mesh = beam()
    cd = dict(mesh.cell_data)
    cd["stress"] = np.asarray(cd["stress"]) * (stress_mpa / 2.0)  # the helper's beam is at 2 MPa uniaxial
    return type(mesh)(mesh.points_lps, mesh.cells, mesh.region, mesh.region_names, dict(mesh.point_data), cd)


@pytest.mark.parametrize(("peak_mpa", "factor", "unit"), [(2.0, 1.0, "MPa"), (0.1, 1.0, "MPa"),
                                                          (2.04e-4, 1e3, "kPa"), (5e-5, 1e6, "Pa"),
                                                          (0.0, 1.0, "MPa")])
def test_von_mises_unit_keeps_labels_short(peak_mpa, factor, unit):
    f, label = display_units("von_mises", np.array([0.0, peak_mpa]), "von Mises stress (MPa)")
    assert f == factor and label == f"von Mises stress ({unit})"
    if peak_mpa:
        assert 0.1 <= peak_mpa * f < 1000 or unit == "Pa"
        assert len(f"{peak_mpa * f:.3g}") <= 5  # "0.204", not "0.000204"


def test_strain_in_percent_and_displacement_unchanged():
    assert display_units("max_principal_strain", np.array([0.01]), "Max principal strain (-)") == (
        100.0, "Max principal strain (%)")
    assert display_units("displacement", np.array([1.76]), "Displacement (mm)") == (1.0, "Displacement (mm)")


@pytest.mark.parametrize("background", ["white", (0.118, 0.125, 0.149)])
def test_bar_title_units_and_text_contrast(background):
    pv = pytest.importorskip("pyvista")
    from rendering.scene import add_fe_result

    mesh = _beam(2.04e-4)  # 0.204 kPa, as on the small liver case
    vm, _, _ = fe_field(mesh, "von_mises")
    assert np.allclose(vm, 2.04e-4)
    p = pv.Plotter(off_screen=True, window_size=(400, 300))
    try:
        p.set_background(background)
        add_fe_result(p, mesh, "von_mises")
        assert list(p.scalar_bars.keys()) == ["von Mises stress (kPa)"]
        bar = p.scalar_bars["von Mises stress (kPa)"]
        lut_range = bar.GetLookupTable().GetRange()
        assert lut_range[1] == pytest.approx(0.204, rel=1e-6)  # values scaled with the label
        text = np.array(bar.GetLabelTextProperty().GetColor())
        bg = np.asarray(p.background_color.float_rgb)
        assert np.abs(text - bg).max() > 0.7  # readable: white on dark, black on white
        assert np.allclose(bar.GetTitleTextProperty().GetColor(), text)
    finally:
        p.close()
