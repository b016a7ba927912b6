"""De-identification (DICOM PS3.15 E.1 basic profile) of DICOM-derived metadata."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np

from tests.twin.dicom_factory import PATIENT, axial_positions, ramp_volume, write_series
from twin.deid import date_offset_days, deidentify_metadata, deidentify_volume, pseudonym, replacement_uid
from twin.io.dicom import read_dicom
from twin.io.images import read_image, write_image

IDENTIFYING = [v for k, v in PATIENT.items() if k not in ("PatientSex", "PatientAge")] + ["Doe", "Jane"]


def _meta(tmp_path: Path) -> dict:
    write_series(tmp_path, ramp_volume((8, 6, 3)), axial_positions(3), series_uid="1.2.826.0.1.99.7",
                 study_uid="1.2.826.0.1.99.1")
    return read_dicom(tmp_path).metadata


def test_basic_profile_removes_identifiers_and_records_method(tmp_path: Path) -> None:
    meta = _meta(tmp_path)
    assert meta["PatientName"] == "Doe^Jane^Q" and meta["InstitutionName"] == PATIENT["InstitutionName"]
    out = deidentify_metadata(meta, salt="s1")
    text = json.dumps(out)
    for value in IDENTIFYING + ["1.2.826.0.1.99.7", "1.2.826.0.1.99.1"]:
        assert value.lower() not in text.lower(), value
    assert out["PatientIdentityRemoved"] == "YES"
    assert "Basic Application Confidentiality Profile" in out["DeidentificationMethod"]
    assert [c["CodeValue"] for c in out["DeidentificationMethodCodeSequence"]] == ["113100", "113107", "113108"]
    assert re.fullmatch(r"Case-[0-9A-F]{6}", out["pseudonym"]) and out["PatientName"] == out["pseudonym"]
    # UIDs: deterministic 2.25 form, valid length, consistent, and technical tags kept
    assert out["SeriesInstanceUID"] == replacement_uid("1.2.826.0.1.99.7", "s1")
    assert re.fullmatch(r"2\.25\.\d+", out["SeriesInstanceUID"]) and len(out["SeriesInstanceUID"]) <= 64
    assert out["StudyInstanceUID"] != out["SeriesInstanceUID"]
    assert out["Modality"] == "CT" and out["PatientSex"] == "F" and out["PixelSpacing"] == [0.7, 0.8]
    assert "StudyTime" not in out and "PatientBirthDate" not in out and "SeriesDescription" not in out


def test_dates_shifted_consistently_per_patient(tmp_path: Path) -> None:
    meta = _meta(tmp_path)
    out = deidentify_metadata(meta, salt="s1")
    days = date_offset_days(meta, "s1")
    assert 1 <= days <= 3650
    import datetime as dt

    shifted = dt.datetime.strptime(out["StudyDate"], "%Y%m%d").date()
    assert (dt.date(2022, 3, 15) - shifted).days == days
    assert out["LongitudinalTemporalInformationModified"] == "MODIFIED"
    # same patient, another study: same offset and pseudonym; another patient: different
    other_study = dict(meta, StudyInstanceUID="1.2.3.4", StudyDate="20230101")
    assert date_offset_days(other_study, "s1") == days and pseudonym(other_study, "s1") == out["pseudonym"]
    other_patient = dict(meta, PatientID="PID-000001")
    assert pseudonym(other_patient, "s1") != out["pseudonym"]
    # another salt: unlinkable
    assert pseudonym(meta, "s2") != pseudonym(meta, "s1")
    removed = deidentify_metadata(meta, salt="s1", shift_dates=False, keep_characteristics=False)
    assert "StudyDate" not in removed and "PatientAge" not in removed
    assert [c["CodeValue"] for c in removed["DeidentificationMethodCodeSequence"]] == ["113100"]


def test_idempotent_and_scrubs_free_text(tmp_path: Path) -> None:
    meta = _meta(tmp_path)
    meta = dict(meta, warnings=["2 series found; read the largest (1.2.826.0.1.99.7) for DOE"])
    once = deidentify_metadata(meta, salt="k")
    assert deidentify_metadata(once, salt="k") == once
    assert pseudonym(once) == once["pseudonym"]
    assert "1.2.826.0.1.99.7" not in once["warnings"][0] and "doe" not in once["warnings"][0].lower()
    assert replacement_uid("1.2.826.0.1.99.7", "k") in once["warnings"][0]


def test_deidentified_files_hold_no_identifying_bytes(tmp_path: Path) -> None:
    write_series(tmp_path / "dcm", ramp_volume((8, 6, 3)), axial_positions(3))
    vol = deidentify_volume(read_image(tmp_path / "dcm"), salt="x")
    assert vol.name.startswith("Case-")
    for name in ("out.nrrd", "out.nii.gz", "out.nii", "out.mha"):
        path = write_image(vol, tmp_path / name, compress=False)
        data = path.read_bytes()
        for value in IDENTIFYING:
            assert value.encode().lower() not in data.lower(), (name, value)
        if name != "out.nii.gz":
            assert b"PatientIdentityRemoved" in data
        back = read_image(path)
        np.testing.assert_array_equal(back.array, vol.array)


def test_pseudonym_without_dicom_identity_uses_the_source() -> None:
    a = pseudonym({"source_file": "case_a.nii.gz"}, "k")
    b = pseudonym({"source_file": "case_b.nii.gz"}, "k")
    assert a != b and a == pseudonym({"source_file": "case_a.nii.gz"}, "k")
    out = deidentify_metadata({"source_file": "smith_john.nii.gz", "source_format": ".nii.gz"}, "k")
    assert "smith" not in json.dumps(out).lower()
    assert out["pseudonym"] == pseudonym({"source_file": "smith_john.nii.gz"}, "k")
