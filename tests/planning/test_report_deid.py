"""The de-identified report must not leak the patient's name through free text (project, volume, series names)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from planning.report import build_report
from planning.report_data import identity_terms, person_name, scrub
from twin.geometry import ImageGeometry
from twin.project import Project
from twin.volume import Volume

META = {"PatientName": "Doe^Jane^Q", "PatientID": "PID-778899", "SeriesDescription": "Jane Doe abdomen",
        "StudyDate": "20220315", "Manufacturer": "ACME", "SeriesInstanceUID": "1.2.826.0.1.3680043.2.1125.5"}


def _project() -> Project:
    g = ImageGeometry((12, 10, 8), (1.0, 1.0, 2.0))
    vol = Volume(np.zeros(g.shape, np.int16), g, modality="CT", units="HU", name="doe_jane_ct", metadata=dict(META))
    proj = Project(name="DOE_JANE planning")
    proj.volumes["doe_jane_ct"] = vol
    return proj


def _text(pdf: Path) -> str:
    import pypdf

    reader = pypdf.PdfReader(str(pdf))
    return "".join(p.extract_text() for p in reader.pages) + str(reader.metadata)


def test_default_report_scrubs_names_from_free_text(tmp_path: Path) -> None:
    data = build_report(_project(), tmp_path / "r.pdf", images=False, recompute=False)
    text = _text(tmp_path / "r.pdf") + str(data)
    for leak in ("Doe", "DOE", "Jane", "JANE", "PID-778899", "20220315"):
        assert leak not in text, leak
    assert data["case"]["project"] == "[removed]_[removed] planning"
    assert data["provenance"][0]["volume"] == "[removed]_[removed]_ct"
    assert data["provenance"][0]["source"] is None and data["provenance"][0]["manufacturer"] == "ACME"


def test_identified_report_shows_a_readable_name(tmp_path: Path) -> None:
    data = build_report(_project(), tmp_path / "r.pdf", identify=True, images=False, recompute=False)
    text = _text(tmp_path / "r.pdf")
    assert "Doe, Jane Q" in text and "PID-778899" in text and "Jane Doe abdomen" in text
    assert data["case"]["project"] == "DOE_JANE planning"


@pytest.mark.parametrize("value, expect", [("Doe^Jane^Q", "Doe, Jane Q"), ("Doe", "Doe"), ("^Jane", "Jane"),
                                           ("Yamada^Tarou=山田^太郎", "Yamada, Tarou")])
def test_person_name(value: str, expect: str) -> None:
    assert person_name(value) == expect


def test_scrub_is_case_insensitive_and_ignores_short_pieces() -> None:
    terms = identity_terms({"PatientName": "Li^Wu", "PatientID": "12"})
    assert terms == ["Li^Wu"]  # 2-letter pieces would erase ordinary words
    assert scrub("li^wu liver", terms) == "[removed] liver"
