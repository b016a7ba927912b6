"""``vht info`` / ``vht convert``: the CLI contract of issue 2, run as subprocesses."""

from __future__ import annotations

import functools
import gzip
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import SimpleITK as sitk

from tests.twin.dicom_factory import PATIENT, axial_positions, ramp_volume, write_series
from twin.geometry import ImageGeometry
from twin.io.images import write_image
from twin.volume import Volume


def vht(*args: str | Path, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run ``vht`` in a subprocess (no terminal: progress lines are plain)."""
    env = dict(os.environ, PYTHONWARNINGS="ignore")
    script = Path(sys.executable).parent / "vht"
    cmd = [str(script)] if script.exists() else [sys.executable, "-c", "import sys; from app.cli import main; "
                                                 "sys.exit(main())"]
    return subprocess.run([*cmd, *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, env=env, cwd=Path(__file__).resolve().parents[2])


def _volume(dtype: type = np.int16) -> Volume:
    geo = ImageGeometry((20, 16, 12), [0.8, 0.9, 2.5], [-10.0, 20.0, -30.0])
    return Volume(ramp_volume((20, 16, 12)).astype(dtype), geo, modality="CT", units="HU")


def _cut(path: Path, fraction: float = 0.6) -> Path:
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * fraction)])
    return path


def _nrrd(path: Path, header: str, data: bytes = b"") -> Path:
    path.write_bytes(header.encode() + b"\n" + data)
    return path


def _case_missing(d: Path) -> Path:
    return d / "nothing_here.nii.gz"


def _case_empty(d: Path) -> Path:
    (d / "empty.nii.gz").write_bytes(b"")
    return d / "empty.nii.gz"


def _case_truncated_nii_gz(d: Path) -> Path:
    return _cut(write_image(_volume(), d / "cut.nii.gz"))


def _case_truncated_nii(d: Path) -> Path:
    return _cut(write_image(_volume(), d / "cut.nii"))


def _case_truncated_nrrd(d: Path) -> Path:
    return _cut(write_image(_volume(), d / "cut.nrrd", compress=False))


def _case_truncated_nrrd_gz(d: Path) -> Path:
    return _cut(write_image(_volume(), d / "cutgz.nrrd", compress=True), 0.8)


def _case_truncated_mha(d: Path) -> Path:
    return _cut(write_image(_volume(), d / "cut.mha", compress=False))


def _case_truncated_dicom(d: Path) -> Path:
    paths = write_series(d / "dcm_cut", ramp_volume((32, 32, 4)), axial_positions(4))
    _cut(paths[2], 0.7)
    return d / "dcm_cut"


def _case_not_image_nii(d: Path) -> Path:
    (d / "notes.nii.gz").write_bytes(gzip.compress(b"this is not an image at all\n" * 20))
    return d / "notes.nii.gz"


def _case_not_image_txt(d: Path) -> Path:
    (d / "notes.txt").write_text("hello\n")
    return d / "notes.txt"


def _case_garbage_dicom(d: Path) -> Path:
    (d / "bad.dcm").write_bytes(b"\0" * 128 + b"DICM" + os.urandom(300))
    return d / "bad.dcm"


def _case_zero_spacing(d: Path) -> Path:
    hdr = "NRRD0004\ntype: short\ndimension: 3\nsizes: 4 4 4\nspacings: 1 0 1\nendian: little\nencoding: raw\n"
    return _nrrd(d / "zero_spacing.nrrd", hdr, bytes(128))


def _case_negative_spacing(d: Path) -> Path:
    hdr = ("ObjectType = Image\nNDims = 3\nDimSize = 4 4 4\nElementSpacing = 1 -2 1\n"
           "ElementType = MET_SHORT\nElementDataFile = LOCAL\n")
    (d / "neg.mha").write_bytes(hdr.encode() + bytes(128))
    return d / "neg.mha"


def _case_negative_spacing_nii(d: Path) -> Path:
    import struct

    path = write_image(_volume(), d / "neg.nii")
    data = bytearray(path.read_bytes())
    struct.pack_into("<f", data, 80, -0.8)  # pixdim[1]: ITK would silently take abs()
    path.write_bytes(bytes(data))
    return path


def _case_nan(d: Path) -> Path:
    arr = np.ones((4, 5, 6), np.float32)
    arr[1, 2, 3] = np.nan
    sitk.WriteImage(sitk.GetImageFromArray(arr), str(d / "nan.nrrd"))
    return d / "nan.nrrd"


def _case_nan_nii(d: Path) -> Path:
    arr = np.ones((4, 5, 6), np.float32)
    arr[0, 0, 0] = np.inf
    sitk.WriteImage(sitk.GetImageFromArray(arr), str(d / "nan.nii.gz"))
    return d / "nan.nii.gz"


def _case_huge_nrrd(d: Path) -> Path:
    hdr = "NRRD0004\ntype: float\ndimension: 3\nsizes: 100000 100000 100000\nencoding: raw\nendian: little\n"
    return _nrrd(d / "huge.nrrd", hdr, bytes(64))


def _case_huge_mha(d: Path) -> Path:
    hdr = ("ObjectType = Image\nNDims = 3\nDimSize = 90000 90000 9000\nElementSpacing = 1 1 1\n"
           "ElementType = MET_FLOAT\nElementDataFile = LOCAL\n")
    (d / "huge.mha").write_bytes(hdr.encode() + bytes(64))
    return d / "huge.mha"


def _case_huge_nii(d: Path) -> Path:
    import nibabel as nib

    hdr = nib.Nifti1Header()
    hdr.set_data_shape((30000, 30000, 30000))
    hdr.set_data_dtype(np.int16)
    (d / "huge.nii").write_bytes(hdr.binaryblock + b"\0" * 4 + bytes(64))
    return d / "huge.nii"


def _case_empty_folder(d: Path) -> Path:
    (d / "no_images").mkdir()
    (d / "no_images" / "readme.txt").write_text("nothing")
    return d / "no_images"


def _case_folder_of_nifti(d: Path) -> Path:
    (d / "nifti_folder").mkdir()
    write_image(_volume(), d / "nifti_folder" / "a.nii.gz")
    return d / "nifti_folder"


BAD_CASES: dict[str, tuple[Callable[[Path], Path], str]] = {
    "missing": (_case_missing, "no such file"),
    "empty": (_case_empty, "empty"),
    "truncated-nii.gz": (_case_truncated_nii_gz, "truncated"),
    "truncated-nii": (_case_truncated_nii, "truncated"),
    "truncated-nrrd": (_case_truncated_nrrd, "truncated"),
    "truncated-nrrd-gzip": (_case_truncated_nrrd_gz, "truncated"),
    "truncated-mha": (_case_truncated_mha, "truncated"),
    "truncated-dicom": (_case_truncated_dicom, "truncated"),
    "not-image-nii": (_case_not_image_nii, "not"),
    "not-image-txt": (_case_not_image_txt, "not a supported image"),
    "garbage-dicom": (_case_garbage_dicom, "DICOM"),
    "zero-spacing": (_case_zero_spacing, "spacing must be positive"),
    "negative-spacing": (_case_negative_spacing, "spacing must be positive"),
    "negative-spacing-nii": (_case_negative_spacing_nii, "spacing must be positive"),
    "nan-voxels": (_case_nan, "NaN"),
    "inf-voxels-nii": (_case_nan_nii, "NaN or infinite"),
    "huge-nrrd": (_case_huge_nrrd, "memory allows"),
    "huge-mha": (_case_huge_mha, "memory allows"),
    "huge-nii": (_case_huge_nii, "memory allows"),
    "folder-without-images": (_case_empty_folder, "no images"),
    "folder-of-nifti": (_case_folder_of_nifti, "no DICOM images"),
}


def vht_here(capfd: pytest.CaptureFixture[str], *args: str | Path) -> subprocess.CompletedProcess[str]:
    """Run ``vht`` in this process (same code path, faster); C-level stderr is captured too."""
    from app.cli import main

    capfd.readouterr()
    code = main([str(a) for a in args])
    captured = capfd.readouterr()
    return subprocess.CompletedProcess(["vht", *map(str, args)], code, captured.out, captured.err)


def _convert_in_process(args: list[str | Path], capfd: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    res = vht_here(capfd, "convert", *args)
    return res.returncode, res.stdout, res.stderr


@pytest.mark.parametrize("case", sorted(BAD_CASES))
def test_bad_input_exit_2_one_line_no_output(case: str, tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    """``vht info`` as a subprocess; ``vht convert`` in-process (same code path, C-level stderr captured too)."""
    make, expected = BAD_CASES[case]
    bad = make(tmp_path)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    capfd.readouterr()
    res = vht("info", bad, "--json", timeout=30)
    code, out, err = _convert_in_process([bad, out_dir / "result.nrrd"], capfd)
    for rc, stdout, stderr in ((res.returncode, res.stdout, res.stderr), (code, out, err)):
        lines = stderr.strip().splitlines()
        assert rc == 2, stderr
        assert len(lines) == 1, stderr
        assert "Traceback" not in stderr
        assert bad.name in lines[0] and expected.lower() in lines[0].lower(), lines[0]
        assert stdout == ""
    assert list(out_dir.iterdir()) == [], "convert left a file behind"


def test_convert_subprocess_failure_leaves_nothing(tmp_path: Path) -> None:
    bad = _case_truncated_dicom(tmp_path)
    res = vht("convert", bad, tmp_path / "out.nii.gz")
    assert res.returncode == 2 and len(res.stderr.strip().splitlines()) == 1 and "truncated" in res.stderr
    assert not any(p.name.startswith((".out", "out")) for p in tmp_path.iterdir())


def test_info_json_contract_dicom_and_series_choice(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    big, small = ramp_volume((24, 20, 6), 1), ramp_volume((16, 16, 3), 2)
    write_series(tmp_path / "d" / "a", big, axial_positions(6, dz=1.5), series_uid="1.2.3.10", description="big")
    write_series(tmp_path / "d" / "b", small, axial_positions(3), series_uid="1.2.3.20", description="small")
    res = vht("info", tmp_path / "d", "--json")
    assert res.returncode == 0, res.stderr
    info = json.loads(res.stdout)
    for key in ("size", "spacing", "origin", "direction", "modality", "dtype", "min", "max", "series_uid", "series"):
        assert key in info
    assert info["size"] == [24, 20, 6] and info["series_uid"] == "1.2.3.10" and info["modality"] == "CT"
    np.testing.assert_allclose(info["spacing"], [0.8, 0.7, 1.5])
    np.testing.assert_allclose(info["origin"], [-100, -80, -50])
    assert info["direction"] == [1, 0, 0, 0, 1, 0, 0, 0, 1]
    assert info["min"] == float(big.min()) and info["max"] == float(big.max()) and info["dtype"] == "int16"
    assert [s["uid"] for s in info["series"]] == ["1.2.3.10", "1.2.3.20"]
    assert info["series"][1] == {"uid": "1.2.3.20", "description": "small", "modality": "CT",
                                 "size": [16, 16, 3], "n_files": 3}
    res = vht_here(capfd, "info", tmp_path / "d", "--json", "--series", "1.2.3.20")
    assert json.loads(res.stdout)["size"] == [16, 16, 3]
    res = vht_here(capfd, "info", tmp_path / "d", "--series", "9.9.9")
    assert res.returncode == 2 and "1.2.3.10, 1.2.3.20" in res.stderr and len(res.stderr.strip().splitlines()) == 1
    text = vht_here(capfd, "info", tmp_path / "d").stdout
    assert "1.2.3.20" in text and "24x20x6" in text and "(LPS)" in text


def test_info_prints_resampling_warning(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    z = np.array([0.0, 1.0, 2.0, 4.0, 5.0])
    write_series(tmp_path, ramp_volume((8, 8, 5)), np.column_stack([np.zeros(5), np.zeros(5), z]))
    res = vht_here(capfd, "info", tmp_path)
    assert res.returncode == 0 and "warning" in res.stdout and "irregular slice spacing" in res.stdout
    assert "irregular" in " ".join(json.loads(vht_here(capfd, "info", tmp_path, "--json").stdout)["warnings"])


@pytest.mark.parametrize("suffix", [".nrrd", ".nii.gz", ".mha", ".mhd"])
def test_convert_dicom_roundtrip_and_deidentify(tmp_path: Path, suffix: str, capfd: pytest.CaptureFixture[str]) -> None:
    vol = ramp_volume((20, 18, 5))
    write_series(tmp_path / "dcm", vol, axial_positions(5))
    out = tmp_path / f"case{suffix}"
    run = vht if suffix == ".nrrd" else functools.partial(vht_here, capfd)  # one real subprocess is enough
    res = run("convert", tmp_path / "dcm", out, "--deidentify")
    assert res.returncode == 0, res.stderr
    files = sorted(p.name for p in tmp_path.iterdir() if p.is_file())
    assert files == (["case.mhd", "case.zraw"] if suffix == ".mhd" else [out.name])
    data = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.is_file())
    if suffix == ".nii.gz":
        data = gzip.decompress(out.read_bytes())
    for value in list(PATIENT.values()) + ["Doe", "Jane"]:
        if value in ("F", "061Y"):
            continue
        assert value.encode().lower() not in data.lower(), value
    assert b"PatientIdentityRemoved" in data
    info = json.loads(vht_here(capfd, "info", out, "--json").stdout)
    assert info["size"] == [20, 18, 5] and info["min"] == float(vol.min()) and info["max"] == float(vol.max())
    np.testing.assert_allclose(info["origin"], [-100, -80, -50], atol=1e-4)
