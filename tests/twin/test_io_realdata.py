"""Reading the shared real scans (../shared/data): DICOM CT (JPEG 2000), MR DICOM, NIfTI, NRRD, MetaImage."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import SimpleITK as sitk

from twin.io.dicom import list_series, read_dicom
from twin.io.images import read_image

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
pytestmark = pytest.mark.data


def _need(rel: str) -> Path:
    path = DATA / rel
    if not path.exists():
        pytest.skip("../shared/data not present")
    return path


@pytest.fixture(scope="module")
def ct_dicom():  # type: ignore[no-untyped-def]
    return read_dicom(_need("totalseg_example/example_ct_dicom"))


def test_jpeg2000_ct_series_matches_simpleitk(ct_dicom) -> None:  # type: ignore[no-untyped-def]
    folder = _need("totalseg_example/example_ct_dicom")
    vol = ct_dicom
    assert vol.shape == (512, 512, 20) and vol.modality == "CT" and vol.units == "HU"
    assert vol.array.dtype == np.int16 and vol.array.min() == -1024 and vol.array.max() == 1839
    np.testing.assert_allclose(vol.spacing, [0.9765625, 0.9765625, 2.0])
    np.testing.assert_allclose(vol.origin, [-249.51171875, -437.51171875, -804.5])
    reader = sitk.ImageSeriesReader()
    reader.SetFileNames(reader.GetGDCMSeriesFileNames(str(folder)))
    ref = reader.Execute()
    np.testing.assert_array_equal(sitk.GetArrayFromImage(ref).transpose(2, 1, 0), vol.array)
    np.testing.assert_allclose(ref.GetOrigin(), vol.origin, atol=1e-9)
    np.testing.assert_allclose(np.reshape(ref.GetDirection(), (3, 3)), vol.direction, atol=1e-9)
    meta = vol.metadata
    assert meta["Manufacturer"] == "SIEMENS" and meta["TransferSyntaxUID"] == "1.2.840.10008.1.2.4.90"
    assert "SeriesInstanceUID" in meta and json.loads(json.dumps(meta)) == meta  # JSON-serialisable
    assert [s.size for s in list_series(folder)] == [(512, 512, 20)]


def test_dicom_and_seg_nifti_line_up_in_physical_space(ct_dicom) -> None:  # type: ignore[no-untyped-def]
    """The y-flipped NIfTI label map lands on the DICOM grid by LPS coordinates, not by index."""
    seg = read_image(_need("totalseg_example/example_seg_dicom.nii.gz"))
    ct = ct_dicom
    np.testing.assert_allclose(seg.direction, np.diag([1.0, -1.0, 1.0]), atol=1e-9)  # flipped vs DICOM
    # our own geometry: every labelled voxel centre maps exactly onto a DICOM voxel centre
    lab_idx = np.argwhere(seg.array > 0)
    assert len(lab_idx) == 739_420
    ijk = ct.geometry.lps_to_index(seg.geometry.index_to_lps(lab_idx))
    assert np.abs(ijk - np.rint(ijk)).max() < 1e-3
    assert ct.geometry.contains_index(ijk).all()
    # resample by physical coordinates (ITK, identity transform) and check tissue HU
    on_ct = sitk.Resample(seg.to_sitk(), ct.to_sitk(), sitk.Transform(), sitk.sitkNearestNeighbor, 0)
    labels = sitk.GetArrayViewFromImage(on_ct).transpose(2, 1, 0)
    assert int((labels > 0).sum()) == 739_420  # nothing falls outside the grid
    hu = ct.array
    liver, aorta = np.median(hu[labels == 5]), np.median(hu[labels == 52])
    assert 85 <= liver <= 100 and 140 <= aorta <= 165  # contrast CT: liver ~93 HU, aorta ~151 HU
    # overlaying by voxel index instead (ignoring the flip) misplaces the aorta
    naive = np.median(hu[seg.array == 52])
    assert abs(naive - aorta) > 50


def test_real_metadata_deidentified(ct_dicom) -> None:  # type: ignore[no-untyped-def]
    from twin.deid import deidentify_volume

    meta = ct_dicom.metadata
    assert "Basel" in meta["InstitutionAddress"] and meta["StationName"] == "PETCT2"
    text = json.dumps(deidentify_volume(ct_dicom).metadata)
    for value in ("Basel", "Petersgraben", "PETCT2", "20221208", "1.3.12.2.1107.5.1.4.60064"):
        assert value not in text


def test_mr_dicom_stack_three_slices_12mm() -> None:
    folder = _need("vtk_classic/DICOM_Stack")
    vol = read_image(folder)
    assert vol.shape == (512, 512, 3) and vol.modality == "MR" and vol.units == ""
    np.testing.assert_allclose(vol.spacing[2], 12.0)
    assert vol.array.min() == 0 and vol.array.max() == 346 and vol.metadata["warnings"] == []
    ref = sitk.ReadImage(sitk.ImageSeriesReader.GetGDCMSeriesFileNames(str(folder)))
    np.testing.assert_array_equal(sitk.GetArrayFromImage(ref).transpose(2, 1, 0), vol.array)
    np.testing.assert_allclose(ref.GetOrigin(), vol.origin)
    one = read_image(folder / "1-2.dcm")  # a single file reads its whole series
    np.testing.assert_array_equal(one.array, vol.array)


@pytest.mark.parametrize("rel", [
    "vtk_classic/HeadMRVolume.mhd",
    "pyradiomics_cases/brain1_image.nrrd",
    "pyradiomics_cases/breast1_label.nrrd",
    "pyradiomics_cases/prostate_phantom_subvolume.nrrd",
    "totalseg_example/example_ct_sm.nii.gz",
    "totalseg_example/example_mr_sm.nii.gz",
])
def test_files_match_simpleitk(rel: str) -> None:
    path = _need(rel)
    vol = read_image(path)
    ref = sitk.ReadImage(str(path))
    arr = sitk.GetArrayFromImage(ref).transpose(2, 1, 0)
    np.testing.assert_array_equal(arr, vol.array)
    assert arr.dtype == vol.array.dtype
    np.testing.assert_allclose(ref.GetOrigin(), vol.origin, atol=1e-9)
    np.testing.assert_allclose(ref.GetSpacing(), vol.spacing, atol=1e-12)
    np.testing.assert_allclose(np.reshape(ref.GetDirection(), (3, 3)), vol.direction, atol=1e-12)


def test_pyradiomics_label_volume() -> None:
    lab = read_image(_need("pyradiomics_cases/brain1_label.nrrd"))
    np.testing.assert_allclose(lab.spacing, [0.78125, 0.78125, 6.5], rtol=1e-6)
    assert int((lab.array == 1).sum()) == 4137
    np.testing.assert_allclose((lab.array == 1).sum() * lab.geometry.voxel_volume_mm3, 16412.66, atol=0.01)


def test_quarter_nhdr_read_by_our_nrrd_reader() -> None:
    """SimpleITK refuses this header (spacings + a file list); our reader gives VTK's classic head."""
    folder = _need("vtk_classic/headsq")
    with pytest.raises(RuntimeError):
        sitk.ReadImage(str(folder / "quarter.nhdr"))
    vol = read_image(folder / "quarter.nhdr")
    assert vol.shape == (64, 64, 93) and vol.array.dtype == np.int16
    np.testing.assert_allclose(vol.spacing, [3.2, 3.2, 1.5])
    slices = np.stack([np.fromfile(folder / f"quarter.{i}", "<i2").reshape(64, 64) for i in range(1, 94)])
    np.testing.assert_array_equal(vol.array, slices.transpose(2, 1, 0))
    assert vol.array.max() == 3926
    assert any("3D-left-handed" in w for w in vol.metadata["warnings"])


def test_legacy_converted_enhanced_mr_from_real_series(tmp_path: Path) -> None:
    """highdicom converts the real MR series to one enhanced multi-frame file: same volume."""
    import warnings

    import highdicom as hd
    import pydicom
    from pydicom.uid import generate_uid

    folder = _need("vtk_classic/DICOM_Stack")
    datasets = [pydicom.dcmread(f) for f in sorted(folder.glob("*.dcm"))]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        enhanced = hd.legacy.LegacyConvertedEnhancedMRImage(
            datasets, series_instance_uid=generate_uid(), series_number=99, sop_instance_uid=generate_uid(),
            instance_number=1)
    enhanced.save_as(tmp_path / "enhanced.dcm")
    single = read_image(folder)
    multi = read_image(tmp_path / "enhanced.dcm")
    assert multi.metadata["SOPClassUID"] == "1.2.840.10008.5.1.4.1.1.4.4"  # Legacy Converted Enhanced MR
    np.testing.assert_array_equal(multi.array, single.array)
    assert multi.geometry.is_same_grid(single.geometry, tol_mm=1e-9)
