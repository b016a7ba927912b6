"""DICOM without SeriesInstanceUID, and colour pixels (frame LPS, mm).

Real data: the TotalSegmentator CT series (its UIDs are blank) and colour files shipped
with pydicom (RGB, YBR_FULL_422 uncompressed, palette colour).
"""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest

from app.cli import main as cli_main
from tests.twin.dicom_factory import axial_positions, ramp_volume, write_series
from twin.deid import deidentify_metadata
from twin.io.dicom import list_series, read_dicom, read_dicom_with_series

pydicom = pytest.importorskip("pydicom")
from pydicom.data import get_testdata_file  # noqa: E402

LUMA = np.array([0.299, 0.587, 0.114])


def _alone(name: str, folder: Path) -> Path:
    """Copy one pydicom test file into its own folder (siblings would be read as its series)."""
    src = get_testdata_file(name)
    if src is None:
        pytest.skip(f"pydicom test file {name} not shipped")
    folder.mkdir(parents=True, exist_ok=True)
    return Path(shutil.copy(src, folder / name))


def _rgb(path: Path) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds = pydicom.dcmread(str(path))
        return np.asarray(ds.pixel_array)


def test_real_series_without_uid_gets_a_usable_key(shared_data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = shared_data / "totalseg_example" / "example_ct_dicom"
    vol, series = read_dicom_with_series(folder)
    key = series[0].uid
    assert key.startswith("noUID-") and len(series) == 1 and series[0].n_files == 20
    assert vol.metadata["series_key"] == key and vol.metadata["SeriesInstanceUID"] == ""
    assert any("no SeriesInstanceUID" in w and key in w for w in vol.metadata["warnings"])
    # the key is stable and selects the series
    assert read_dicom(folder, series_uid=key).shape == (512, 512, 20)
    assert cli_main(["info", str(folder), "--json", "--series", key, "-q"]) == 0
    import json

    out = json.loads(capsys.readouterr().out)
    assert out["series_uid"] == key and out["series"][0]["uid"] == key
    # never written out as a UID: de-identification drops the stand-in
    assert "series_key" not in deidentify_metadata(dict(vol.metadata))


def test_series_without_uid_are_told_apart(tmp_path: Path) -> None:
    """Two UID-less series in one folder (other description, other size) are not merged into one."""
    study = "1.2.826.0.1.3680043.2.1125.9"
    a = ramp_volume((12, 10, 5))
    b = ramp_volume((16, 14, 3), seed=1)
    write_series(tmp_path, a, axial_positions(5), description="arterial", study_uid=study, prefix="A",
                 extra={"SeriesInstanceUID": ""})
    write_series(tmp_path, b, axial_positions(3), description="venous", study_uid=study, prefix="V",
                 extra={"SeriesInstanceUID": ""})
    infos = list_series(tmp_path)
    assert sorted(s.description for s in infos) == ["arterial", "venous"]
    assert all(s.uid.startswith("noUID-") for s in infos) and infos[0].uid != infos[1].uid
    venous = next(s for s in infos if s.description == "venous")
    vol = read_dicom(tmp_path, series_uid=venous.uid)
    assert vol.shape == (16, 14, 3)
    np.testing.assert_array_equal(vol.array, b)


@pytest.mark.parametrize("name", ["SC_rgb_small_odd.dcm", "SC_rgb_rle_16bit.dcm", "examples_ybr_color.dcm"])
def test_colour_dicom_reads_as_luminance(tmp_path: Path, name: str) -> None:
    path = _alone(name, tmp_path)
    rgb = _rgb(path)  # pydicom converts YBR to RGB
    vol = read_dicom(path)
    frames = rgb.reshape((-1,) + rgb.shape[-3:])
    expect = np.clip(np.rint(frames.astype(np.float64) @ LUMA), 0, np.iinfo(rgb.dtype).max).astype(rgb.dtype)
    assert vol.array.dtype == rgb.dtype
    np.testing.assert_array_equal(vol.array, expect.transpose(2, 1, 0))  # [k, j, i] -> [i, j, k]
    assert any("converted to grey" in w for w in vol.metadata["warnings"])


def test_ybr_422_uncompressed_is_not_called_truncated(tmp_path: Path) -> None:
    """YBR_FULL_422 stores 2 samples per pixel: 100x100 needs 20000 bytes, not 30000."""
    path = _alone("SC_ybr_full_422_uncompressed.dcm", tmp_path)
    vol = read_dicom(path)
    expect = np.rint(_rgb(path).astype(np.float64) @ LUMA)
    assert vol.shape == (100, 100, 1)
    np.testing.assert_array_equal(vol.array[:, :, 0], expect.T)


def test_palette_colour_uses_the_lut(tmp_path: Path) -> None:
    path = _alone("examples_palette.dcm", tmp_path)
    from pydicom.pixels import apply_color_lut

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds = pydicom.dcmread(str(path))
        rgb = apply_color_lut(ds.pixel_array, ds).astype(np.float64)  # 16-bit LUT entries
    vol = read_dicom(path)
    grey = np.clip(np.rint(rgb @ LUMA * 255.0 / 65535.0), 0, 255)
    assert vol.array.dtype == np.uint8
    np.testing.assert_array_equal(vol.array[:, :, 0], grey.T)
    # the palette is not the identity: indices and luminance differ somewhere
    assert np.any(vol.array[:, :, 0] != np.asarray(ds.pixel_array).T)


def test_cli_colour_convert_writes_grey(tmp_path: Path) -> None:
    path = _alone("SC_rgb_small_odd.dcm", tmp_path / "in")
    out = tmp_path / "grey.nrrd"
    assert cli_main(["convert", str(path), str(out), "-q"]) == 0
    from twin.io.images import read_image

    assert read_image(out).shape == (3, 3, 1)


def test_signed_ct_gets_the_rescale(tmp_path: Path) -> None:
    """Signed int16 storage with RescaleIntercept -1024 (the common Siemens/GE case) must become HU.

    The rescaled values fit the stored dtype (int16), which once made the reader skip the rescale.
    """
    path = _alone("CT_small.dcm", tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds = pydicom.dcmread(str(path))
    assert ds.PixelRepresentation == 1 and float(ds.RescaleIntercept) == -1024
    vol = read_dicom(path)
    expect = ds.pixel_array.astype(np.int32) * float(ds.RescaleSlope) + float(ds.RescaleIntercept)
    np.testing.assert_array_equal(vol.array[:, :, 0], expect.T)
    assert vol.array.dtype == np.int16 and vol.units == "HU"


def test_signed_synthetic_series_rescaled(tmp_path: Path) -> None:
    hu = ramp_volume((10, 8, 4)).astype(np.int16)
    write_series(tmp_path, hu, axial_positions(4), signed=True, bits_stored=16, intercept=-1024.0)
    vol = read_dicom(tmp_path)
    np.testing.assert_array_equal(vol.array, hu)


def _float_slice(path: Path, values: np.ndarray, z: float, series: str, double: bool = False) -> None:
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    ds = Dataset()
    fm = FileMetaDataset()
    fm.TransferSyntaxUID = ExplicitVRLittleEndian
    fm.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.30"  # Parametric Map Storage
    fm.MediaStorageSOPInstanceUID = generate_uid()
    ds.file_meta = fm
    ds.SOPClassUID, ds.SOPInstanceUID = fm.MediaStorageSOPClassUID, fm.MediaStorageSOPInstanceUID
    ds.Modality, ds.SeriesInstanceUID = "MR", series
    ds.Rows, ds.Columns = values.shape
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated = 64 if double else 32
    ds.ImagePositionPatient, ds.ImageOrientationPatient, ds.PixelSpacing = [0, 0, z], [1, 0, 0, 0, 1, 0], [1.5, 1]
    if double:
        ds.DoubleFloatPixelData = values.astype(np.float64).tobytes()
    else:
        ds.FloatPixelData = values.astype(np.float32).tobytes()
    ds.save_as(path, enforce_file_format=True)


@pytest.mark.parametrize("double", [False, True])
def test_float_pixel_data_reads_as_values(tmp_path: Path, double: bool) -> None:
    """Float / Double Float Pixel Data (parametric maps, e.g. ADC) were refused as 'no pixel data'."""
    rng = np.random.default_rng(3)
    planes = [rng.normal(0, 2.5, (4, 5)) for _ in range(3)]
    series = "1.2.826.0.1.3680043.2.1125.77"
    for k, plane in enumerate(planes):
        _float_slice(tmp_path / f"f{k}.dcm", plane, 2.0 * k, series, double)
    vol = read_dicom(tmp_path)
    expect = np.stack(planes, axis=-1).transpose(1, 0, 2)  # rows x cols x k -> i, j, k
    assert vol.array.dtype == (np.float64 if double else np.float32)
    np.testing.assert_allclose(vol.array, expect.astype(vol.array.dtype))
    np.testing.assert_allclose(vol.spacing, [1.0, 1.5, 2.0])


def test_copied_series_with_blank_uids_is_deduplicated(shared_data: Path, tmp_path: Path) -> None:
    """Two copies of the real UID-less series: duplicates found by the file meta's SOP instance UID."""
    src = shared_data / "totalseg_example" / "example_ct_dicom"
    shutil.copytree(src, tmp_path / "a")
    shutil.copytree(src, tmp_path / "b")
    vol = read_dicom(tmp_path)
    assert vol.shape == (512, 512, 20)
    assert "20 duplicate file(s) (same SOPInstanceUID) were ignored" in vol.metadata["warnings"]
    assert not any("images per slice position" in w for w in vol.metadata["warnings"])
    np.testing.assert_array_equal(vol.array, read_dicom(src).array)


def test_monochrome1_is_flagged(tmp_path: Path) -> None:
    path = _alone("CT_small.dcm", tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds = pydicom.dcmread(str(path))
    ds.PhotometricInterpretation = "MONOCHROME1"
    ds.save_as(path)
    vol = read_dicom(path)
    assert any(w.startswith("MONOCHROME1 image") for w in vol.metadata["warnings"])
    np.testing.assert_array_equal(vol.array[:, :, 0], (ds.pixel_array.astype(np.int32) - 1024).T)  # values unchanged
