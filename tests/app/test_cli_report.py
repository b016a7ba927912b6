"""``vht report``: PDF + JSON written atomically, same numbers, clean errors."""

from __future__ import annotations

import json

import pytest
from pypdf import PdfReader

from app.cli import main
from tests.planning._case import make_project


@pytest.fixture(scope="module")
def project_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("proj") / "case"
    make_project().save(d)
    return d


@pytest.mark.slow
def test_report_pdf_and_json(project_dir, tmp_path, capsys):
    pdf = tmp_path / "out" / "report.pdf"
    js = tmp_path / "out" / "report.json"
    assert main(["report", str(project_dir), "-o", str(pdf), "--json", str(js), "-q"]) == 0
    data = json.loads(js.read_text())
    text = " ".join(p.extract_text() for p in PdfReader(str(pdf)).pages)
    assert data["plan"]["trajectories"][0]["metrics"]["path_length_mm"] == pytest.approx(39.0)
    assert f"{data['plan']['resections'][0]['metrics']['remnant_percent']:.1f}" in text
    assert "Doe" not in text and "Doe" not in js.read_text() and "PID-12345" not in js.read_text()
    assert set(data["images"]["rendered"]) >= {"axial", "coronal", "sagittal"}  # off-screen rendering works here
    assert not list(pdf.parent.glob(".*tmp*"))  # no temporary leftovers


def test_report_json_to_stdout_identified(project_dir, tmp_path, capsys):
    pdf = tmp_path / "r.pdf"
    assert main(["report", str(project_dir), "-o", str(pdf), "--json", "--identify", "-q"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["case"]["PatientName"] == "Doe^Jane"


@pytest.mark.parametrize("args", [["report", "/nonexistent/project", "-o", "x.pdf"],
                                  ["report", ".", "-o", "report.txt"]])
def test_bad_input_exits_2(args, capsys, tmp_path):
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("vht report: error:") and "Traceback" not in err


def test_not_a_project_exits_2(tmp_path, capsys):
    assert main(["report", str(tmp_path), "-o", str(tmp_path / "r.pdf")]) == 2
    assert "no manifest.json" in capsys.readouterr().err
