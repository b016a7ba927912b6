"""QA regressions of the CLI on real scans and bad inputs (exit 2, one line, no output file).

Frame LPS, mm. Real data from ``../shared/data`` (skipped when absent).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from app.cli import main


def _ct(shared_data: Path) -> Path:
    return shared_data / "totalseg_example" / "example_ct.nii.gz"


def _one_error_line(capsys: pytest.CaptureFixture[str], command: str) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"vht {command}: error: "), err
    return err[0]


@pytest.mark.parametrize("extra, words", [
    (["--preset", "bone", "--threshold", "1", "2"], "does not apply to --preset"),
    (["--seeds", "x.json", "--threshold", "1", "2"], "does not apply to --seeds"),
    (["--preset", "bone", "--largest"], "--largest applies to --threshold alone"),
    (["--threshold", "nan", "100"], "finite"),
])
def test_segment_conflicting_options_are_refused(shared_data: Path, tmp_path: Path, capsys, extra, words) -> None:
    out = tmp_path / "out.nii.gz"
    assert main(["segment", str(_ct(shared_data)), *extra, "-o", str(out), "-q"]) == 2
    assert words in _one_error_line(capsys, "segment")
    assert not out.exists() and not list(tmp_path.iterdir())


def test_segment_empty_result_warns(shared_data: Path, tmp_path: Path, capsys) -> None:
    """A range no voxel of the real CT falls in (max 3382 HU) writes an empty map and says so."""
    out = tmp_path / "out.nii.gz"
    assert main(["segment", str(_ct(shared_data)), "--threshold", "5000", "6000", "-o", str(out), "-q"]) == 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "'threshold' came out empty" in err[0]
    from twin.io.images import read_labelmap

    assert not read_labelmap(out).mask("threshold").any()


def test_segment_dicom_passes_reader_warnings_on(shared_data: Path, tmp_path: Path, capsys) -> None:
    folder = shared_data / "totalseg_example" / "example_ct_dicom"
    out = tmp_path / "bone.nrrd"
    assert main(["segment", str(folder), "--threshold", "200", "3000", "-o", str(out), "-q"]) == 0
    err = capsys.readouterr().err
    assert "warning: the files have no SeriesInstanceUID" in err and "noUID-" in err


@pytest.mark.parametrize("command", ["mesh", "export-seg"])
def test_all_zero_label_map_is_one_clear_error(tmp_path: Path, capsys, command: str) -> None:
    from twin.geometry import ImageGeometry
    from twin.io.images import write_image
    from twin.volume import Volume

    labels = tmp_path / "zero.nii.gz"
    write_image(Volume(np.zeros((8, 9, 10), np.uint8), ImageGeometry((8, 9, 10), (1.0, 1.0, 2.0))), labels)
    out = tmp_path / ("z.stl" if command == "mesh" else "z.seg.nrrd")
    args = ["--label", "1"] if command == "mesh" else ["--format", "seg.nrrd"]
    assert main([command, str(labels), *args, "-o", str(out), "-q"]) == 2
    assert "every voxel is 0" in _one_error_line(capsys, command)
    assert not out.exists()


def test_non_contiguous_labels_mesh_by_value(shared_data: Path, tmp_path: Path, capsys) -> None:
    """TotalSegmentator's multilabel map (values 1..117 with gaps): value 5 (liver) meshes, a gap value does not."""
    import json

    labels = shared_data / "totalseg_example" / "example_seg_fast_force_split.nii.gz"
    out = tmp_path / "liver.stl"
    assert main(["mesh", str(labels), "--label", "5", "--smoothing", "0", "-o", str(out), "--json", "-q"]) == 0
    info = json.loads(capsys.readouterr().out)
    from twin.io.images import read_labelmap

    voxel_mm3 = read_labelmap(labels).volume_mm3(5)
    assert info["watertight"] and abs(info["volume_mm3"] / voxel_mm3 - 1) < 0.03
    assert main(["mesh", str(labels), "--label", "12", "-o", str(tmp_path / "gap.stl"), "-q"]) == 2
    line = _one_error_line(capsys, "mesh")
    assert "no segment 12" in line and "5=label_5" in line and "... 49 more" in line and len(line) < 400
    assert not (tmp_path / "gap.stl").exists()


@pytest.mark.parametrize("target, words", [
    ("shot.jpg", "use a .png file name"),
    ("shot.txt", "use a .png file name"),
    ("folder", "use a .png file name"),
    ("afile/shot.png", "is a file"),
])
@pytest.mark.parametrize("command", ["gui", "demo"])
def test_bad_screenshot_target_refused_before_any_window(tmp_path: Path, capsys, target, words, command) -> None:
    (tmp_path / "folder").mkdir()
    (tmp_path / "afile").write_text("x")
    out = tmp_path / target
    assert main([command, "--screenshot", str(out)]) == 2
    assert words in _one_error_line(capsys, command)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile", "folder"]


def test_failing_commands_print_only_their_error_line(shared_data: Path, tmp_path: Path) -> None:
    """As a subprocess (stderr not a terminal): no progress lines before the one error line."""
    import subprocess
    import sys

    ct = str(_ct(shared_data))
    cases = [
        ["segment", ct, "--grow", "0", "0", "0", "--threshold", "200", "3000", "-o", str(tmp_path / "g.nii.gz")],
        ["mesh", ct, "--label", "1", "-o", str(tmp_path / "m.stl")],
        ["export-seg", ct, "--format", "seg.nrrd", "-o", str(tmp_path / "e.seg.nrrd")],
        ["report", str(tmp_path), "-o", str(tmp_path / "r.pdf")],
    ]
    for argv in cases:
        cmd = [sys.executable, "-c", "import sys; from app.cli import main; sys.exit(main())", *argv]
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        lines = res.stderr.strip().splitlines()
        assert res.returncode == 2 and len(lines) == 1 and lines[0].startswith(f"vht {argv[0]}: error: "), res.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_linear_simulation_summary_line(tmp_path: Path, capsys) -> None:
    """A linear solve is reported as such, not as '0 Newton iteration(s)'; reaction = applied force (2 N)."""
    from tests.app.test_cli_simulate import _setup

    case = _setup(tmp_path)
    assert main(["simulate", str(case), "-o", str(tmp_path / "out.vtu")]) == 0
    out = capsys.readouterr().out
    assert "linear solve" in out and "0 Newton" not in out and "z0=[0, 0, -2] N" in out
