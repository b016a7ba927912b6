"""DICOM-SEG export from the segmentation panel (Surfaces, import, export page), read back.

* A synthetic CT series written with pydicom (abdomen phantom, patient identity set, a second
  small series in the same folder) is opened through the app like a user's DICOM folder; phantom
  segments are added; the DICOM-SEG written by the page is read back with highdicom and
  :func:`segmentation.dicom_seg.read_dicom_seg`: segment names and every voxel match. The
  de-identified export carries the pseudonym, shifted dates and replacement UIDs of
  :mod:`twin.deid` (consistent with ``vht convert --deidentify`` of the same series) and no
  identifying string.
* The real 20-slice CT series of ../shared/data (anonymised: blank UIDs) round-trips too.
* An image read from NIfTI: the button is disabled and the reason is shown.
Frame: LPS mm.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtWidgets import QApplication, QDockWidget

pytestmark = pytest.mark.gui
DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
NAMES = ("liver", "liver_tumor", "aorta")


@pytest.fixture(scope="module")
def dicom_folder(tmp_path_factory):
    """(folder, phantom label map): the phantom CT as a DICOM series + a 3-slice localizer-like series."""
    from tests.twin.dicom_factory import PATIENT, write_series
    from twin.phantom.demo import make_abdomen_phantom

    vol, lm = make_abdomen_phantom(shape=(48, 40, 24), spacing_mm=(8.0, 8.0, 10.0))
    g = vol.geometry
    assert np.allclose(g.direction, np.eye(3))
    folder = tmp_path_factory.mktemp("dicom") / "series"
    pos = g.origin[None, :] + np.arange(g.shape[2])[:, None] * np.array([0, 0, g.spacing[2]])
    write_series(folder, np.clip(vol.array, -1024, 3071), pos, pixel_spacing_ij=g.spacing[:2], patient=PATIENT,
                 description="phantom")
    write_series(folder, np.zeros((16, 16, 3)), pos[:3], pixel_spacing_ij=(20.0, 20.0), patient=PATIENT,
                 description="scout", prefix="SC")
    return folder, lm


def _open(window, qtbot, path):
    window.open_path(path)
    assert window.wait_for_workers(120)
    assert window.volume is not None, window.messages
    panel = window.panels["segment_tools_panel"]
    dock = window.findChild(QDockWidget, "dock_segment_tools_panel")
    dock.show()
    dock.raise_()
    panel.show_page(panel.files)
    QApplication.processEvents()
    qtbot.wait(700)
    assert window.wait_for_workers(60)
    return panel


def _add_segments(window, masks):
    from twin.labelmap_commands import AddSegment

    lm = window.labelmap
    for name, m in masks.items():
        assert window.push_command(AddSegment(lm, name, mask=m, allow_overlap=True))


@pytest.mark.slow
def test_dicom_seg_export_read_back_and_deidentified(window, qtbot, dicom_folder, tmp_path):
    import highdicom as hd
    import pydicom

    from segmentation.dicom_seg import read_dicom_seg
    from twin.deid import deidentify_metadata, replacement_uid

    folder, truth = dicom_folder
    panel = _open(window, qtbot, folder)
    page = panel.files
    vol = window.volume
    assert vol.metadata["source_format"] == "DICOM" and vol.geometry.is_same_grid(truth.geometry)
    assert vol.metadata["source_path"] == str(folder.resolve())
    assert page.dicom_button.isEnabled() and vol.metadata["SeriesInstanceUID"] in page.dicom_info.text()
    action = next(a for a in window.file_menu.actions() if a.objectName() == "export_dicomseg_action")
    assert action.isEnabled()  # File > Export segmentation as DICOM-SEG... (same dialog as the button)
    masks = {n: truth.mask(n) for n in NAMES}
    _add_segments(window, masks)
    out = tmp_path / "seg.dcm"
    assert page.export_path("dicom-seg", out, deidentify=False) is not None
    assert window.wait_for_workers(120) and out.exists(), window.messages
    seg = hd.seg.segread(str(out))
    labels = [seg.get_segment_description(n).SegmentLabel for n in seg.segment_numbers]
    assert labels == list(NAMES)
    # read back onto the series grid: the same voxels (the scout series in the folder is ignored)
    scout_free = tmp_path / "main_series"
    scout_free.mkdir()
    for f in folder.iterdir():
        if f.name.startswith("IM"):
            (scout_free / f.name).symlink_to(f)
    back = read_dicom_seg(out, scout_free)
    assert back.geometry.is_same_grid(vol.geometry)
    for n in NAMES:
        assert np.array_equal(back.mask(n), masks[n]), n
    ds = pydicom.dcmread(out)
    assert str(ds.PatientName) == "Doe^Jane^Q" and ds.StudyInstanceUID == vol.metadata["StudyInstanceUID"]

    # de-identified (the check box is on by default)
    assert page.deidentify.isChecked()
    out2 = tmp_path / "seg_deid.dcm"
    page.export_path("dicom-seg", out2)
    assert window.wait_for_workers(120) and out2.exists(), window.messages
    d2 = pydicom.dcmread(out2)
    expected = deidentify_metadata(vol.metadata)
    assert str(d2.PatientName) == str(d2.PatientID) == expected["PatientName"]
    assert d2.StudyInstanceUID == expected["StudyInstanceUID"] == replacement_uid(ds.StudyInstanceUID)
    assert d2.FrameOfReferenceUID == replacement_uid(ds.FrameOfReferenceUID)
    assert d2.StudyDate == expected["StudyDate"] != "20220315"
    assert d2.PatientIdentityRemoved == "YES" and d2.file_meta.MediaStorageSOPInstanceUID == d2.SOPInstanceUID
    ref = d2.ReferencedSeriesSequence[0]
    assert ref.SeriesInstanceUID == replacement_uid(vol.metadata["SeriesInstanceUID"])
    assert {i.ReferencedSOPInstanceUID for i in ref.ReferencedInstanceSequence} == {
        replacement_uid(i.ReferencedSOPInstanceUID) for i in ds.ReferencedSeriesSequence[0].ReferencedInstanceSequence}
    assert np.array_equal(d2.pixel_array, ds.pixel_array)
    raw = out2.read_bytes()
    for secret in (b"Doe", b"PID-778899", b"House", b"ACC-24680", b"St Example", b"19610314", b"Springfield"):
        assert secret not in raw, secret
    assert [s.SegmentLabel for s in d2.SegmentSequence] == list(NAMES)


def test_dicom_seg_unavailable_for_nifti(window, qtbot, synthetic_nifti, tmp_path):
    panel = _open(window, qtbot, synthetic_nifti)
    page = panel.files
    assert not page.dicom_button.isEnabled() and not page.deidentify.isEnabled()
    action = next(a for a in window.file_menu.actions() if a.objectName() == "export_dicomseg_action")
    assert not action.isEnabled() and "not from a DICOM series" in action.toolTip()
    text = page.dicom_info.text()
    assert "not from a DICOM series" in text and "ct.nii.gz" in text
    assert page.export_path("dicom-seg", tmp_path / "x.dcm") is None
    assert "DICOM-SEG unavailable" in window.messages[-1]
    assert not (tmp_path / "x.dcm").exists()


@pytest.mark.slow
def test_dicom_seg_real_series(window, qtbot, tmp_path):
    from segmentation.dicom_seg import read_dicom_seg

    ref = DATA / "totalseg_example" / "example_ct_dicom"
    if not ref.exists():
        pytest.skip("../shared/data not present")
    panel = _open(window, qtbot, ref)
    vol = window.volume
    bone = np.asarray(vol.array) >= 250
    ball = np.linalg.norm(vol.geometry.index_to_lps(np.argwhere(np.ones(vol.geometry.shape, bool)))
                          - vol.geometry.index_to_lps(np.array(vol.geometry.shape)[None] // 2), axis=1
                          ).reshape(vol.geometry.shape) < 40.0
    _add_segments(window, {"bone": bone, "ball": ball})
    out = tmp_path / "real_seg.dcm"
    panel.files.export_path("dicom-seg", out, deidentify=False)
    assert window.wait_for_workers(180) and out.exists(), window.messages
    back = read_dicom_seg(out, ref)
    assert [s.name for s in back.segments] == ["bone", "ball"]
    assert np.array_equal(back.mask("bone"), bone) and np.array_equal(back.mask("ball"), ball)
    # the series' equipment / institution attributes are copied into the SEG ... and removed by de-identification
    assert b"Basel" in out.read_bytes() and b"PETCT2" in out.read_bytes()
    out2 = tmp_path / "real_seg_deid.dcm"
    panel.files.export_path("dicom-seg", out2, deidentify=True)
    assert window.wait_for_workers(180) and out2.exists(), window.messages
    raw = out2.read_bytes()
    assert b"Basel" not in raw and b"PETCT2" not in raw
    import pydicom

    assert pydicom.dcmread(out2).PatientIdentityRemoved == "YES"


@pytest.mark.slow
def test_dicom_seg_reference_not_recorded(window, qtbot, dicom_folder, tmp_path):
    """A project saved before the source path was recorded (or a moved series): the folder is asked for,
    and a folder without the image's series is refused with the series it holds."""
    import pydicom

    from tests.twin.dicom_factory import write_series

    folder, truth = dicom_folder
    panel = _open(window, qtbot, folder)
    page = panel.files
    vol = window.volume
    del vol.metadata["source_path"]
    page.on_project_changed()
    assert page.dicom_button.isEnabled() and "choose it when exporting" in page.dicom_info.text()
    _add_segments(window, {"liver": truth.mask("liver")})
    assert page.export_path("dicom-seg", tmp_path / "a.dcm", deidentify=False) is None
    assert "not recorded" in window.messages[-1]
    other = tmp_path / "other"
    write_series(other, np.zeros((8, 8, 4)), np.zeros((4, 3)) + np.arange(4)[:, None] * [0, 0, 2.0])
    page.export_path("dicom-seg", tmp_path / "b.dcm", reference=other, deidentify=False)
    assert window.wait_for_workers(60)
    assert "is not in this folder" in window.messages[-1] and not (tmp_path / "b.dcm").exists()
    page.export_path("dicom-seg", tmp_path / "c.dcm", reference=folder, deidentify=False)
    assert window.wait_for_workers(60) and (tmp_path / "c.dcm").exists(), window.messages
    ds = pydicom.dcmread(tmp_path / "c.dcm")
    assert ds.ReferencedSeriesSequence[0].SeriesInstanceUID == vol.metadata["SeriesInstanceUID"]
    assert [s.SegmentLabel for s in ds.SegmentSequence] == ["liver"]
