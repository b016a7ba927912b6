"""Slice-view corner annotations, de-identified titles and the first crosshair (QA regressions).

Frame: patient LPS, mm. Set ``VHT_SHOTS=<folder>`` to keep screenshots of the views for a visual check.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.gui


def _shot(widget, name: str) -> None:  # type: ignore[no-untyped-def]
    folder = os.environ.get("VHT_SHOTS")
    if folder:
        widget.grab().save(str(Path(folder) / f"{name}.png"))


def _open(window, path) -> None:  # type: ignore[no-untyped-def]
    window.open_path(path)
    assert window.wait_for_workers(120)
    assert window.volume is not None, window.messages


def _ct_small(tmp_path: Path, folder_name: str = "one") -> Path:
    from pydicom.data import get_testdata_file

    src = get_testdata_file("CT_small.dcm")  # PatientName CompressedSamples^CT1, PatientID 1CT1
    if src is None:
        pytest.skip("pydicom test file CT_small.dcm not shipped")
    (tmp_path / folder_name).mkdir()
    return Path(shutil.copy(src, tmp_path / folder_name / "CT_small.dcm"))


def _paint(window, qtbot) -> None:  # type: ignore[no-untyped-def]
    for v in window.slice_views.values():
        v.repaint()
    qtbot.wait(20)


def _assert_no_overlap(view) -> None:  # type: ignore[no-untyped-def]
    rects = view.annotation_rects
    assert "letter_top" in rects and "top_left_0" in rects
    names = sorted(rects)
    for i, a in enumerate(names):
        r = rects[a]
        assert r.left() >= 0 and r.right() <= view.width() + 0.5, (a, r, view.width())
        for b in names[i + 1:]:
            assert not r.intersects(rects[b]), (view.orientation, a, b, r, rects[b])


def test_long_patient_name_never_covers_the_orientation_letters(window, qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _open(window, _ct_small(tmp_path))
    window.identity_action.trigger()  # Ctrl+I
    assert window.show_identity
    window.resize(900, 650)  # narrow views: the name has to be elided
    qtbot.wait(50)
    _paint(window, qtbot)
    for v in window.slice_views.values():
        assert "top_right_0" in v.annotation_rects, v.orientation
        _assert_no_overlap(v)
    _shot(window, "ct_small_identity")
    # wide enough views show the whole name
    window.resize(1800, 1100)
    qtbot.wait(50)
    _paint(window, qtbot)
    assert "CompressedSamples CT1" in window.patient_info_text()
    for v in window.slice_views.values():
        _assert_no_overlap(v)
    _shot(window.slice_views["axial"], "ct_small_identity_wide_axial")


def test_tiny_view_drops_corner_lines_instead_of_overlapping(window, qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _open(window, _ct_small(tmp_path))
    window.identity_action.trigger()
    v = window.slice_views["axial"]
    v.setFixedSize(150, 130)
    qtbot.wait(50)
    v.repaint()
    _assert_no_overlap(v)
    corner = [r for k, r in v.annotation_rects.items() if k.startswith("top_")]
    assert all(r.bottom() <= v.annotation_rects["letter_left"].top() for r in corner)


def test_hidden_identity_scrubs_series_name_and_title(window, qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A series description, volume name, project and folder named after the patient show no name."""
    from twin.project import Project
    from twin.volume import Volume

    path = _ct_small(tmp_path, "CompressedSamples_CT1")
    _open(window, path)
    vol = window.volume
    md = dict(vol.metadata)
    md["SeriesDescription"] = "Liver CompressedSamples 1CT1"
    named = Volume(vol.array, vol.geometry, vol.modality, vol.units, "compressedsamples_ct1", md)
    project = Project(name="CompressedSamples^CT1 plan")
    project.volumes["ct"] = named
    project.path = tmp_path / "CompressedSamples_CT1"
    window.set_project(project)
    _paint(window, qtbot)
    shown = window.patient_info_text() + window.windowTitle()
    assert "compressedsamples" not in shown.lower() and "1ct1" not in shown.lower(), shown
    assert "[removed]" in window.patient_info_text() and "Liver" in window.patient_info_text()
    window.identity_action.trigger()
    assert "CompressedSamples" in window.windowTitle() and "CompressedSamples" in window.patient_info_text()
    window.identity_action.trigger()
    assert "CompressedSamples" not in window.windowTitle()


def _dicom_series(folder: Path, n: int = 20, thickness_mm: float = 2.5) -> Path:
    """``n`` axial CT slices (64x64, 0.8 mm pixels) whose z centres are -800 + 2.5 k mm."""
    from pydicom.dataset import FileDataset, FileMetaDataset
    from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, generate_uid

    folder.mkdir()
    series, study = generate_uid(), generate_uid()
    for k in range(n):
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID = CTImageStorage
        meta.MediaStorageSOPInstanceUID = generate_uid()
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds = FileDataset(str(folder / f"{k:03d}.dcm"), {}, file_meta=meta, preamble=b"\0" * 128)
        ds.SOPClassUID, ds.SOPInstanceUID = CTImageStorage, meta.MediaStorageSOPInstanceUID
        ds.StudyInstanceUID, ds.SeriesInstanceUID = study, series
        ds.Modality, ds.PatientName, ds.PatientID = "CT", "Test^Slices", "X123"
        ds.Rows = ds.Columns = 64
        ds.PixelSpacing = [0.8, 0.8]
        ds.SliceThickness = thickness_mm
        ds.ImagePositionPatient = [0.0, 0.0, -800.0 + thickness_mm * k]
        ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
        ds.InstanceNumber = k + 1
        ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 1
        ds.RescaleIntercept, ds.RescaleSlope = 0, 1
        ds.PixelData = np.full((64, 64), 10 * k, np.int16).tobytes()
        ds.save_as(str(folder / f"{k:03d}.dcm"), enforce_file_format=True)
    return folder


def test_first_crosshair_is_on_a_voxel_centre_and_labels_match_the_slice(window, qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _open(window, _dicom_series(tmp_path / "series"))
    vol = window.volume
    assert vol.shape[2] == 20
    ijk = vol.geometry.lps_to_index(window.current_position_lps[None])[0]
    np.testing.assert_allclose(ijk, np.round(ijk), atol=1e-6)  # a voxel centre, not k = 9.5
    _paint(window, qtbot)
    axial = window.slice_views["axial"]
    k = int(round(ijk[2]))
    z = -800.0 + 2.5 * k
    text = axial.slice_label_text()
    assert f"Axial  {k + 1}/20" in text and f"{'S' if z >= 0 else 'I'} {abs(z):.1f} mm" in text, text
    # the shown pixels are that slice (value 10 k)
    assert float(np.asarray(axial._slice.pixels).mean()) == 10 * k


def test_label_describes_the_slice_shown_when_the_crosshair_is_between_slices(window, qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _open(window, _dicom_series(tmp_path / "series"))
    p = window.current_position_lps.copy()
    p[2] = -800.0 + 2.5 * 7.5  # exactly between slices 7 and 8 (0-based)
    window.set_position(p)
    _paint(window, qtbot)
    axial = window.slice_views["axial"]
    k_shown = int(round(float(np.asarray(axial._slice.pixels).mean()) / 10))
    assert k_shown in (7, 8)
    z = -800.0 + 2.5 * k_shown
    text = axial.slice_label_text()
    assert f"Axial  {k_shown + 1}/20" in text and f"I {abs(z):.1f} mm" in text, text
