"""``vht export-seg --format dicom-seg --deidentify``: the written SEG carries no identity, its
references match the series as ``twin.deid`` de-identifies it (same salt), geometry unchanged.

A small synthetic CT series (patient identity set) is written with pydicom. Frame: LPS mm.
"""

from __future__ import annotations

import numpy as np
import pytest

from app.cli import main


@pytest.fixture()
def series(tmp_path):
    from tests.twin.dicom_factory import PATIENT, write_series

    shape = (24, 20, 6)
    arr = np.full(shape, -50.0)
    arr[6:14, 5:12, 1:5] = 120.0
    pos = np.array([[-20.0, -30.0, 10.0 + 3.0 * k] for k in range(shape[2])])
    folder = tmp_path / "series"
    write_series(folder, arr, pos, pixel_spacing_ij=(1.5, 1.5), patient=PATIENT, description="ct")
    return folder, arr


def test_export_dicom_seg_deidentified(series, tmp_path, monkeypatch):
    import pydicom

    from twin.deid import replacement_uid
    from twin.io.images import read_image, write_labelmap
    from twin.labelmap import LabelMap

    monkeypatch.setenv("VHT_DEID_SALT", "site-secret")
    folder, arr = series
    vol = read_image(folder)
    lm = LabelMap.from_array((vol.array > 50).astype(np.uint8), vol.geometry, names={1: "lesion"})
    labels = tmp_path / "labels.nrrd"
    write_labelmap(lm, labels)

    plain, deid = tmp_path / "plain.dcm", tmp_path / "deid.dcm"
    assert main(["export-seg", str(labels), "--format", "dicom-seg", "--reference", str(folder),
                 "-o", str(plain), "-q"]) == 0
    assert main(["export-seg", str(labels), "--format", "dicom-seg", "--reference", str(folder),
                 "--deidentify", "-o", str(deid), "-q"]) == 0
    a, b = pydicom.dcmread(plain), pydicom.dcmread(deid)
    name = str(a.PatientName)
    assert name and name != str(b.PatientName) and str(b.PatientName).startswith("Case-")
    assert str(b.PatientID) == str(b.PatientName) and b.PatientIdentityRemoved == "YES"
    assert name.encode() not in deid.read_bytes()
    # references follow the keyed replacement of each source UID (each replaced exactly once)
    assert b.StudyInstanceUID == replacement_uid(a.StudyInstanceUID, "site-secret")
    ra, rb = a.ReferencedSeriesSequence[0], b.ReferencedSeriesSequence[0]
    assert rb.SeriesInstanceUID == replacement_uid(ra.SeriesInstanceUID, "site-secret")
    assert sorted(i.ReferencedSOPInstanceUID for i in rb.ReferencedInstanceSequence) == sorted(
        replacement_uid(i.ReferencedSOPInstanceUID, "site-secret") for i in ra.ReferencedInstanceSequence)
    # the segmentation itself is unchanged
    assert np.array_equal(a.pixel_array, b.pixel_array) and a.pixel_array.sum() == int((arr > 50).sum())
    assert list(b.SharedFunctionalGroupsSequence[0].PixelMeasuresSequence[0].PixelSpacing) == [1.5, 1.5]


def test_export_dicom_seg_warns_about_derived_uids(series, tmp_path, capsys):
    """A reference series whose Study/FrameOfReference UIDs were blanked by an anonymiser: the SEG
    is written, and the user is told its references use derived UIDs."""
    import pydicom

    from twin.io.images import read_image, write_labelmap
    from twin.labelmap import LabelMap

    folder, _ = series
    for f in sorted(folder.iterdir()):
        ds = pydicom.dcmread(f)
        ds.StudyInstanceUID = ""
        ds.FrameOfReferenceUID = ""
        ds.save_as(f)
    vol = read_image(folder)
    labels = tmp_path / "labels.nrrd"
    write_labelmap(LabelMap.from_array((vol.array > 50).astype(np.uint8), vol.geometry, names={1: "lesion"}), labels)
    out = tmp_path / "seg.dcm"
    assert main(["export-seg", str(labels), "--format", "dicom-seg", "--reference", str(folder),
                 "-o", str(out), "-q"]) == 0
    err = capsys.readouterr().err
    assert "warning" in err and "StudyInstanceUID" in err and "FrameOfReferenceUID" in err
    assert "SeriesInstanceUID" not in err.split("has no", 1)[1].split(":")[0]
    assert pydicom.dcmread(out).StudyInstanceUID  # derived, not empty
