"""The PDF report: numbers found in the PDF text, graceful degradation, JSON parity."""

from __future__ import annotations

import re

import numpy as np
import pytest
from pypdf import PdfReader

from planning.report import build_report, write_report_pdf
from planning.report_data import collect_report_data, pseudonym
from tests.planning._case import make_project


def pdf_text(path) -> str:
    return re.sub(r"\s+", " ", " ".join(p.extract_text() for p in PdfReader(str(path)).pages))


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    out = tmp_path_factory.mktemp("rep") / "report.pdf"
    proj = make_project()
    data = build_report(proj, out, images=False)
    return out, data, pdf_text(out)


def test_numbers_in_pdf_match_hand_computed_values(report):
    _, data, text = report
    seg = {s["segment"]: s for s in data["segments"]}
    # liver block 60 x 60 x 50 mm = 180 mL minus the tumour and vessel voxels inside it
    # the vessel runs from z = 5 to 80 mm, 50 mm of it inside the block
    vessel_in_block = seg["portal_vein"]["volume_ml"] * 50 / 75
    assert seg["liver"]["volume_ml"] + seg["tumour"]["volume_ml"] == pytest.approx(180 - vessel_in_block, abs=1e-9)
    assert f"{seg['liver']['volume_ml']:.2f}" in text
    assert seg["liver"]["intensity"]["mean"] == pytest.approx(60, abs=0.5)
    assert seg["portal_vein"]["intensity"]["mean"] == pytest.approx(180, abs=0.5)
    # trajectory: entry x = 99.5 -> tumour centre x = 60.5: 39.0 mm; vessel cubes end at x = 49: 11.5 mm axis distance
    traj = data["plan"]["trajectories"][0]["metrics"]
    assert traj["path_length_mm"] == pytest.approx(39.0)
    assert traj["structures"][0]["axis_distance_mm"] == pytest.approx(11.5)
    assert "39.0 mm" in text and "11.5" in text and "10.5 mm (portal_vein)" in text
    # resection at x = 50: tumour cubes start at 54.0 -> 4.0 mm margin
    res = data["plan"]["resections"][0]["metrics"]
    assert res["tumour_margin_mm"] == pytest.approx(4.0)
    assert f"{res['resected_volume_ml']:.1f}" in text and f"{res['remnant_percent']:.1f}" in text
    # the liver voxels at x >= 50 are 40 x 60 x 50 mm minus the tumour
    assert res["resected_volume_ml"] == pytest.approx(120 - seg["tumour"]["volume_ml"], abs=1e-9)
    # ablation 12 mm sphere on a 6 mm tumour: 5.5 mm achieved (tumour voxel cubes reach 6.5 mm)
    abl = data["plan"]["ablation_zones"][0]["metrics"]
    assert abl["min_margin_achieved_mm"] == pytest.approx(5.5)
    assert "5.5" in text and "100.0" in text
    # margin tumour -> vessel: 54.0 - 49.0
    assert data["plan"]["safety_margins"][0]["metrics"]["min_distance_mm"] == pytest.approx(5.0)


def test_deidentified_by_default_and_sections_say_not_computed(report):
    _, data, text = report
    assert "Doe" not in text and "PID-12345" not in text and "1.2.3.4.5.6" not in text
    assert data["case"]["pseudonym"] in text
    assert "Rehearsal retract: not computed" in text  # rehearsal not run
    assert "images not rendered (disabled)" in text
    assert "Research use only" in text and "not a medical device" in text
    assert "Solver verification: not run" in text


def test_identify_shows_patient(tmp_path):
    proj = make_project()
    out = tmp_path / "r.pdf"
    data = build_report(proj, out, identify=True, images=False, recompute=False)
    text = pdf_text(out)
    assert "Doe, Jane" in text and "PID-12345" in text  # DICOM PN shown readable
    assert data["case"]["PatientID"] == "PID-12345"


def test_empty_project_report(tmp_path):
    from twin.project import Project

    out = tmp_path / "empty.pdf"
    write_report_pdf(collect_report_data(Project(name="empty")), out)
    text = pdf_text(out)
    for what in ("Image data: not computed", "Segmentation: not computed", "Trajectories: not computed",
                 "Resections: not computed", "Volume meshes: not computed", "Images: not computed"):
        assert what in text


def test_pseudonym_is_stable_and_hides_ids():
    a = pseudonym({"PatientID": "X1", "PatientName": "A^B"})
    assert a == pseudonym({"PatientID": "X1", "PatientName": "A^B"})
    assert a != pseudonym({"PatientID": "X2", "PatientName": "A^B"})
    assert "X1" not in a


def test_stored_metrics_used_without_recompute():
    proj = make_project()
    data = collect_report_data(proj, recompute=False)
    assert data["plan"]["trajectories"][0]["metrics"] is None
    assert np.isfinite(collect_report_data(proj)["plan"]["trajectories"][0]["metrics"]["path_length_mm"])


def test_report_degrades_when_rendering_fails(tmp_path, monkeypatch):
    import rendering.offscreen as off
    import segmentation.surfaces as surf

    def no_gl(*a, **k):
        raise RuntimeError("no OpenGL context")

    for name in ("render_mpr_slice", "render_3d_scene", "render_fe_result"):
        monkeypatch.setattr(off, name, no_gl)
    monkeypatch.setattr(surf, "display_surfaces", no_gl)
    out = tmp_path / "r.pdf"
    data = build_report(make_project(), out, recompute=False)
    text = pdf_text(out)
    assert "axial image not rendered (RuntimeError: no OpenGL context)" in text
    assert "3-D surfaces not computed" in text
    # the probe's-eye reslices need no GL
    assert set(data["images"]["rendered"]) == {"probe", "path"}
    assert "Probe's eye" in text


def test_probes_eye_images_orientation():
    import io

    from PIL import Image

    from planning.report import probes_eye_images
    from twin.geometry import ImageGeometry
    from twin.plan import Trajectory
    from twin.volume import Volume

    geom = ImageGeometry((80, 80, 80), (1.0, 1.0, 1.0), (0.5, 0.5, 0.5), np.eye(3))
    c = geom.index_to_lps(np.argwhere(np.ones(geom.shape, bool))).reshape(*geom.shape, 3)
    hu = np.where(np.linalg.norm(c - (20.5, 40.5, 40.5), axis=-1) < 6, 200, 0)  # bright blob near the entry
    hu = hu + np.where(c[..., 2] > 55, 150, 0)  # bright slab superior to the path
    vol = Volume(hu.astype(np.int16), geom, "CT", "HU")
    traj = Trajectory(name="t", entry_lps=(15.5, 40.5, 40.5), target_lps=(65.5, 40.5, 40.5), diameter_mm=4.0)
    imgs = probes_eye_images(vol, None, traj, [])
    path = np.asarray(Image.open(io.BytesIO(imgs["path"])).convert("L"), float)
    h, w = path.shape
    mid = path[h // 2 - 5:h // 2 + 5]
    assert mid[:, : w // 3].mean() > mid[:, 2 * w // 3:].mean() + 20  # the entry (blob) is on the left
    assert path[: h // 5].mean() > path[-h // 5:].mean() + 20  # superior is up
    probe = np.asarray(Image.open(io.BytesIO(imgs["probe"])).convert("L"), float)
    assert probe[: probe.shape[0] // 5].mean() > probe[-probe.shape[0] // 5:].mean() + 20
