"""The real window on real scans: orientation, values, reader warnings, de-identification (frame LPS, mm)."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.gui


def _load(window, path) -> None:  # type: ignore[no-untyped-def]
    window.open_path(path)
    assert window.wait_for_workers(120)
    assert window.volume is not None, window.messages


def test_dicom_folder_shows_reader_warnings_and_hu(window, shared_data: Path) -> None:  # type: ignore[no-untyped-def]
    folder = shared_data / "totalseg_example" / "example_ct_dicom"
    _load(window, folder)
    panel = window.panels["data_panel"]
    assert not panel.warnings.isHidden()
    assert "no SeriesInstanceUID" in panel.warnings.text() and "noUID-" in panel.warnings.toolTip()
    assert "-1024 .. 1839 HU" in panel.info.text()
    # the recent list shows the name first and opens the full path
    item = panel.recent.item(0)
    assert item.text().startswith("example_ct_dicom")
    assert item.data(0x0100) == str(folder.resolve())  # Qt.UserRole
    # the display form is not squeezed by the warning: rows do not overlap
    combo, slider = panel.wl_combo, panel.opacity
    assert combo.geometry().bottom() < slider.geometry().top()
    # status bar value is the voxel's HU
    vol = window.volume
    p = window.current_position_lps
    window.report_cursor(p, from_crosshair=True)
    ijk = np.rint(vol.geometry.lps_to_index(p[None])[0]).astype(int)
    assert f"value {float(vol.array[tuple(ijk)]):g} HU" in window.cursor_label.text()


def test_plain_nifti_has_no_warning_line(window, shared_data: Path) -> None:  # type: ignore[no-untyped-def]
    _load(window, shared_data / "totalseg_example" / "example_ct.nii.gz")
    assert window.panels["data_panel"].warnings.isHidden()


def test_identity_hidden_by_default(window, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from pydicom.data import get_testdata_file

    src = get_testdata_file("CT_small.dcm")  # PatientName CompressedSamples^CT1, PatientID 1CT1
    if src is None:
        pytest.skip("pydicom test file CT_small.dcm not shipped")
    (tmp_path / "one").mkdir()
    path = Path(shutil.copy(src, tmp_path / "one" / "CT_small.dcm"))
    _load(window, path)
    shown = window.patient_info_text() + window.panels["data_panel"].info.text() + window.windowTitle()
    assert "(de-identified)" in window.patient_info_text()
    assert "CompressedSamples" not in shown and "1CT1" not in shown
    window.identity_action.setChecked(True)
    window._toggle_identity()
    assert "CompressedSamples CT1" in window.patient_info_text() and "1CT1" in window.patient_info_text()
    # HU (intercept -1024 applied to signed storage)
    assert "-896 .. 1167 HU" in window.panels["data_panel"].info.text()


def test_liver_is_on_the_screen_left_in_axial(window, shared_data: Path) -> None:  # type: ignore[no-untyped-def]
    """Radiological convention on the real CT: the liver (patient right) is drawn left, spine posterior."""
    from twin.io.images import read_labelmap

    _load(window, shared_data / "totalseg_example" / "example_ct.nii.gz")
    lm = read_labelmap(shared_data / "totalseg_example" / "example_seg_fast_force_split.nii.gz")
    g = lm.geometry
    liver = g.index_to_lps(np.argwhere(lm.layers[0] == 5).mean(0)[None])[0]
    spleen = g.index_to_lps(np.argwhere(lm.layers[0] == 1).mean(0)[None])[0]
    spine = g.index_to_lps(np.argwhere(np.isin(lm.layers[0], [27, 28, 29, 30, 31])).mean(0)[None])[0]
    window.set_position(liver)
    axial = window.slice_views["axial"]
    z = window.current_position_lps[2]
    on = [axial.lps_to_screen(np.array([p[0], p[1], z])) for p in (liver, spleen, spine)]
    assert on[0].x() < axial.width() / 2 < on[1].x()  # liver left, spleen right
    assert on[2].y() > on[0].y()  # spine below (posterior to) the liver centroid
    window.report_cursor(liver, from_crosshair=True)
    assert "segment" not in window.cursor_label.text()  # no label map loaded in the window


def test_data_panel_hides_a_patient_name_in_the_file_name(window, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from pydicom.data import get_testdata_file

    src = get_testdata_file("CT_small.dcm")
    if src is None:
        pytest.skip("pydicom test file CT_small.dcm not shipped")
    (tmp_path / "one").mkdir()
    path = Path(shutil.copy(src, tmp_path / "one" / "CompressedSamples_CT1_chest.dcm"))
    _load(window, path)
    info = window.panels["data_panel"].info
    assert "CompressedSamples" not in info.text() and "[removed]" in info.text()
    window.identity_action.setChecked(True)  # Ctrl+I: identity shown everywhere
    assert "CompressedSamples_CT1_chest.dcm" in info.text()
    window.identity_action.setChecked(False)
    assert "CompressedSamples" not in info.text()
