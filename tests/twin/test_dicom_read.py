"""DICOM series reading on synthetic series with known geometry (frame LPS, mm)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import SimpleITK as sitk
from pydicom.uid import ImplicitVRLittleEndian, JPEG2000Lossless, JPEGLSLossless, RLELossless

from tests.twin.dicom_factory import axial_positions, ramp_volume, write_enhanced, write_series
from twin.errors import InputError
from twin.io.dicom import list_series, read_dicom
from twin.io.images import read_image


def _rotation(seed: int = 3) -> np.ndarray:
    q, _ = np.linalg.qr(np.random.default_rng(seed).normal(size=(3, 3)))
    if np.linalg.det(q) < 0:
        q[:, 2] *= -1
    return q


def _sitk_series(folder: Path) -> sitk.Image:
    reader = sitk.ImageSeriesReader()
    reader.SetFileNames(reader.GetGDCMSeriesFileNames(str(folder)))
    return reader.Execute()


def test_oblique_series_geometry_exact_and_matches_simpleitk(tmp_path: Path) -> None:
    vol = ramp_volume((24, 20, 9))
    rot = _rotation()
    origin = np.array([-31.25, 17.5, -402.125])
    dz = 1.7
    positions = origin[None] + np.arange(9)[:, None] * dz * rot[:, 2][None]
    write_series(tmp_path, vol, positions, iop=rot[:, :2].T.reshape(-1), pixel_spacing_ij=(0.8, 0.65))
    out = read_dicom(tmp_path)
    assert out.shape == (24, 20, 9)
    np.testing.assert_allclose(out.spacing, [0.8, 0.65, dz], atol=1e-9)
    np.testing.assert_allclose(out.origin, origin, atol=1e-9)
    np.testing.assert_allclose(out.direction, rot, atol=1e-9)
    assert out.array.dtype == np.int16 and out.units == "HU" and out.modality == "CT"
    np.testing.assert_array_equal(out.array, vol)  # file order was shuffled: sorted along the normal
    ref = _sitk_series(tmp_path)
    np.testing.assert_array_equal(sitk.GetArrayFromImage(ref).transpose(2, 1, 0), out.array)
    np.testing.assert_allclose(ref.GetOrigin(), out.origin, atol=1e-6)
    np.testing.assert_allclose(np.reshape(ref.GetDirection(), (3, 3)), out.direction, atol=1e-6)
    # a voxel's LPS position is where the file says its plane is
    k = 4
    np.testing.assert_allclose(out.geometry.index_to_lps([[0, 0, k]])[0], positions[k], atol=1e-9)
    assert out.metadata["SeriesInstanceUID"] and out.metadata["warnings"] == []


def test_rescale_slope_intercept_per_slice_and_float(tmp_path: Path) -> None:
    vol = ramp_volume((8, 6, 4)).astype(float)
    write_series(tmp_path / "a", vol, axial_positions(4), slope=2.0, intercept=[-1000, -1024, -1000, -1200])
    out = read_dicom(tmp_path / "a")
    assert out.array.dtype == np.int16
    np.testing.assert_array_equal(out.array, 2 * np.rint((vol - np.array([-1000, -1024, -1000, -1200])) / 2)
                                  + np.array([-1000, -1024, -1000, -1200]))
    fvol = vol * 0.25
    write_series(tmp_path / "b", fvol, axial_positions(4), slope=0.25, intercept=-256.0, modality="MR")
    out = read_dicom(tmp_path / "b")
    assert out.array.dtype == np.float32 and out.units == ""
    np.testing.assert_allclose(out.array, fvol, atol=1e-6)


def test_signed_pixels_and_wide_range(tmp_path: Path) -> None:
    vol = np.full((6, 5, 3), 30000.0)
    vol[0, 0, 0] = -1024
    write_series(tmp_path, vol, axial_positions(3), intercept=-1024.0, bits_stored=16)
    out = read_dicom(tmp_path)
    assert out.array.dtype == np.int16 and out.array.max() == 30000
    vol[1, 1, 1] = 40000  # does not fit int16 after rescale: int32
    write_series(tmp_path / "w", vol, axial_positions(3), intercept=-1024.0, bits_stored=16)
    out = read_dicom(tmp_path / "w")
    assert out.array.dtype == np.int32 and out.array.max() == 40000
    neg = vol[:, :, :2] * 0 - 500
    write_series(tmp_path / "s", neg, axial_positions(2), intercept=0.0, signed=True, bits_stored=16)
    assert read_dicom(tmp_path / "s").array.max() == -500


@pytest.mark.parametrize("syntax", [ImplicitVRLittleEndian, RLELossless, JPEG2000Lossless, JPEGLSLossless])
def test_compressed_transfer_syntaxes(tmp_path: Path, syntax: str) -> None:
    vol = ramp_volume((40, 36, 3))  # JPEG 2000 needs tiles of at least 32 pixels
    write_series(tmp_path, vol, axial_positions(3), transfer_syntax=syntax)
    np.testing.assert_array_equal(read_dicom(tmp_path).array, vol)


def test_gdcm_fallback_gives_same_values(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Transfer syntaxes pydicom cannot decode go through GDCM, whose rescale is undone exactly."""
    import twin.io.dicom_pixels as px

    vol = ramp_volume((16, 12, 3))
    write_series(tmp_path, vol, axial_positions(3), slope=2.0, intercept=-1000.0, transfer_syntax=RLELossless)
    monkeypatch.setattr(px, "_NATIVE_LE", set())
    import pydicom.pixels

    class _NoDecoder:
        is_available = False

    monkeypatch.setattr(pydicom.pixels, "get_decoder", lambda ts: _NoDecoder())
    out = read_dicom(tmp_path)
    np.testing.assert_array_equal(out.array, 2 * np.rint((vol + 1000) / 2) - 1000)


def test_several_series_largest_by_default_and_choice(tmp_path: Path) -> None:
    small = ramp_volume((10, 10, 3), seed=1)
    big = ramp_volume((12, 10, 7), seed=2)
    write_series(tmp_path / "s1", small, axial_positions(3), series_uid="1.2.3.1", description="small")
    write_series(tmp_path / "s2" / "deep", big, axial_positions(7), series_uid="1.2.3.2", description="big",
                 modality="MR", intercept=0.0, signed=True)
    infos = list_series(tmp_path)
    assert [s.uid for s in infos] == ["1.2.3.2", "1.2.3.1"]
    assert infos[0].size == (12, 10, 7) and infos[0].n_files == 7 and infos[0].modality == "MR"
    assert infos[1].to_dict() == {"uid": "1.2.3.1", "description": "small", "modality": "CT",
                                  "size": [10, 10, 3], "n_files": 3}
    out = read_dicom(tmp_path)
    assert out.metadata["SeriesInstanceUID"] == "1.2.3.2"
    assert any("2 series found" in w for w in out.metadata["warnings"])
    np.testing.assert_array_equal(read_dicom(tmp_path, series_uid="1.2.3.1").array, small)
    with pytest.raises(InputError, match=r"1\.2\.3\.9 not found; available: 1\.2\.3\.1, 1\.2\.3\.2"):
        read_dicom(tmp_path, series_uid="1.2.3.9")


def test_single_file_reads_its_series(tmp_path: Path) -> None:
    vol = ramp_volume((10, 8, 5))
    paths = write_series(tmp_path, vol, axial_positions(5), series_uid="1.2.9.1")
    write_series(tmp_path, ramp_volume((10, 8, 6)), axial_positions(6), series_uid="1.2.9.2", prefix="OTHER")
    out = read_image(paths[2])
    assert out.metadata["SeriesInstanceUID"] == "1.2.9.1"
    np.testing.assert_array_equal(out.array, vol)


def test_enhanced_multiframe(tmp_path: Path) -> None:
    vol = ramp_volume((14, 11, 6))
    rot = _rotation(7)
    origin = np.array([10.0, -20.0, 30.0])
    positions = origin[None] + np.arange(6)[:, None] * 1.25 * rot[:, 2][None]
    f = write_enhanced(tmp_path / "enh.dcm", vol, positions, iop=rot[:, :2].T.reshape(-1),
                       intercept=-1024.0, frame_order=[3, 0, 5, 1, 4, 2])
    for path in (f, tmp_path):
        out = read_dicom(path)
        assert out.shape == (14, 11, 6)
        np.testing.assert_array_equal(out.array, vol)
        np.testing.assert_allclose(out.origin, origin, atol=1e-9)
        np.testing.assert_allclose(out.direction, rot, atol=1e-9)
        np.testing.assert_allclose(out.spacing, [0.8, 0.7, 1.25], atol=1e-9)
        assert out.units == "HU"


def test_dicomdir(tmp_path: Path) -> None:
    from pydicom import dcmread
    from pydicom.fileset import FileSet

    src = tmp_path / "src"
    vol = ramp_volume((10, 8, 4))
    paths = write_series(src, vol, axial_positions(4))
    fs = FileSet()
    for p in paths:
        fs.add(dcmread(p))
    media = tmp_path / "media"
    fs.write(media)
    assert (media / "DICOMDIR").exists()
    for path in (media / "DICOMDIR", media):
        out = read_image(path)
        np.testing.assert_array_equal(out.array, vol)
        assert [s.n_files for s in list_series(path)] == [4]


def test_missing_slice_resampled_with_warning(tmp_path: Path) -> None:
    """A gap is irregular spacing: linear interpolation onto a regular grid, and a warning."""
    n = 8
    z = np.arange(n) * 2.0
    keep = [k for k in range(n) if k != 4]
    vol = np.zeros((6, 5, n))
    vol[:] = 10.0 * z[None, None, :]  # linear in z: interpolation is exact
    pos = axial_positions(n, origin=(0, 0, 0), dz=2.0)
    write_series(tmp_path, vol[:, :, keep], pos[keep], intercept=0.0)
    out = read_dicom(tmp_path)
    assert out.shape == (6, 5, n)
    np.testing.assert_allclose(out.spacing[2], 2.0)
    np.testing.assert_allclose(out.array, vol, atol=0.5)
    warn = " ".join(out.metadata["warnings"])
    assert "irregular slice spacing" in warn and "missing slices" in warn and "resampled" in warn


def test_irregular_spacing_resampled(tmp_path: Path) -> None:
    z = np.array([0.0, 1.0, 2.0, 4.0, 6.0, 7.0, 8.0])
    vol = np.broadcast_to(100.0 + 20.0 * z, (5, 4, len(z))).copy()
    pos = np.column_stack([np.zeros_like(z), np.zeros_like(z), z])
    write_series(tmp_path, vol, pos, intercept=0.0)
    out = read_dicom(tmp_path)
    assert out.shape == (5, 4, 9)
    z_out = out.geometry.index_to_lps(np.column_stack([np.zeros(9), np.zeros(9), np.arange(9)]))[:, 2]
    np.testing.assert_allclose(z_out, np.arange(9.0))
    np.testing.assert_allclose(out.array[0, 0, :], 100 + 20 * z_out, atol=0.5)
    assert any("irregular" in w for w in out.metadata["warnings"])


def test_gantry_tilt_resampled_in_physical_space(tmp_path: Path) -> None:
    """Planes shifted along the column direction (a 15 degree tilt) are resampled onto a box grid."""
    nk, ni, nj = 10, 16, 14
    ps = (1.0, 1.0)
    dz = 2.0
    shift = np.tan(np.radians(15.0)) * dz  # in-plane shift per slice along +j (posterior)
    positions = np.array([[0.0, k * shift, k * dz] for k in range(nk)])

    def field(p: np.ndarray) -> np.ndarray:  # a linear function of LPS position
        return 200.0 + 3.0 * p[..., 0] + 5.0 * p[..., 1] + 7.0 * p[..., 2]

    ii, jj = np.meshgrid(np.arange(ni), np.arange(nj), indexing="ij")
    vol = np.stack([field(np.stack([ii * ps[0], jj * ps[1] + positions[k, 1], np.full_like(ii, k * dz, float)], -1))
                    for k in range(nk)], axis=-1)
    write_series(tmp_path, vol, positions, pixel_spacing_ij=ps, intercept=0.0)
    out = read_dicom(tmp_path)
    warn = " ".join(out.metadata["warnings"])
    assert "gantry tilt" in warn and "15.00 deg" in warn
    assert out.geometry.is_axis_aligned()
    assert out.shape[0] == ni and out.shape[2] == nk and out.shape[1] >= nj + int(shift * (nk - 1))
    # every output voxel covered by a plane holds the field value at its own LPS position
    idx = np.argwhere(np.ones(out.shape, bool))
    pts = out.geometry.index_to_lps(idx)
    k = np.rint(pts[:, 2] / dz).astype(int)
    covered = (pts[:, 1] >= positions[k, 1] - 1e-6) & (pts[:, 1] <= positions[k, 1] + (nj - 1) * ps[1] + 1e-6)
    vals = out.array[tuple(idx.T)]
    np.testing.assert_allclose(vals[covered], field(pts[covered]), atol=0.51)
    assert covered.mean() > 0.5


def test_oblique_tilted_irregular_stack_exact_for_linear_field(tmp_path: Path) -> None:
    """Oblique planes, sheared by 12 degrees along their columns, with uneven gaps: the regular grid
    holds the field value at each voxel's own LPS position wherever two bracketing planes cover it."""
    rot = _rotation(9)
    row, col, normal = rot[:, 0], rot[:, 1], rot[:, 2]
    origin = np.array([-40.0, 25.0, 110.0])
    t = np.array([0.0, 2.0, 4.0, 7.0, 9.0, 11.0, 13.0])
    shear = np.tan(np.radians(12.0))
    positions = origin[None] + t[:, None] * normal[None] + (shear * t)[:, None] * col[None]
    ni, nj, ps = 18, 15, (0.9, 1.1)
    grad = np.array([2.0, -3.0, 5.0])

    def field(p: np.ndarray) -> np.ndarray:
        return 500.0 + (p - origin) @ grad

    ii, jj = np.meshgrid(np.arange(ni), np.arange(nj), indexing="ij")
    planes = [positions[k][None, None] + ii[..., None] * ps[0] * row + jj[..., None] * ps[1] * col
              for k in range(len(t))]
    vol = np.stack([field(pl) for pl in planes], axis=-1)
    write_series(tmp_path, vol, positions, iop=np.concatenate([row, col]), pixel_spacing_ij=ps, intercept=0.0)
    out = read_dicom(tmp_path)
    warn = " ".join(out.metadata["warnings"])
    assert "irregular slice spacing" in warn and "gantry tilt" in warn and "12.00 deg" in warn
    np.testing.assert_allclose(out.direction, rot, atol=1e-9)
    idx = np.argwhere(np.ones(out.shape, bool))
    pts = out.geometry.index_to_lps(idx)
    tt = (pts - origin) @ normal
    k = np.clip(np.searchsorted(t, tt + 1e-9, side="right") - 1, 0, len(t) - 2)
    covered = np.ones(len(pts), bool)
    for kk in (k, k + 1):
        rel = pts - positions[kk]
        u, v = rel @ row / ps[0], rel @ col / ps[1]
        covered &= (u > -1e-6) & (u < ni - 1 + 1e-6) & (v > -1e-6) & (v < nj - 1 + 1e-6)
    assert covered.mean() > 0.5
    # stored pixels are integers (+-0.5), interpolated and rounded again (+-0.5)
    np.testing.assert_allclose(out.array[tuple(idx[covered].T)], field(pts[covered]), atol=1.0)


def test_two_echoes_first_volume_with_warning(tmp_path: Path) -> None:
    vol1, vol2 = ramp_volume((6, 5, 4), 1), ramp_volume((6, 5, 4), 2)
    uid = "1.2.5.5"
    write_series(tmp_path, vol1, axial_positions(4), series_uid=uid, extra={"EchoNumbers": 1}, prefix="E1")
    write_series(tmp_path, vol2, axial_positions(4), series_uid=uid, extra={"EchoNumbers": 2}, prefix="E2")
    out = read_dicom(tmp_path)
    np.testing.assert_array_equal(out.array, vol1)
    assert any("2 volumes" in w for w in out.metadata["warnings"])


def test_localizer_in_series_left_out(tmp_path: Path) -> None:
    vol = ramp_volume((8, 8, 5))
    uid = "1.2.5.6"
    write_series(tmp_path, vol, axial_positions(5), series_uid=uid)
    write_series(tmp_path, ramp_volume((8, 8, 1)), np.array([[0.0, 0.0, 0.0]]), iop=(1, 0, 0, 0, 0, -1),
                 series_uid=uid, prefix="LOC")
    out = read_dicom(tmp_path)
    np.testing.assert_array_equal(out.array, vol)
    assert any("left out" in w for w in out.metadata["warnings"])


def test_bad_inputs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.txt").write_text("hello")
    with pytest.raises(InputError, match="folder holds no images"):
        read_image(empty)
    with pytest.raises(InputError, match="no DICOM images found"):
        read_dicom(empty)
    with pytest.raises(InputError, match="no such file"):
        read_dicom(tmp_path / "missing")
    # truncated pixel data: the error names the file
    paths = write_series(tmp_path / "t", ramp_volume((16, 16, 3)), axial_positions(3))
    data = paths[1].read_bytes()
    paths[1].write_bytes(data[: len(data) - 100])
    with pytest.raises(InputError, match="truncated") as exc:
        read_dicom(tmp_path / "t")
    assert paths[1].name in str(exc.value)
    # memory limit checked from headers, before decoding any pixel
    ok = write_series(tmp_path / "m", ramp_volume((16, 16, 3)), axial_positions(3))
    import twin.io.dicom as dicom_mod

    monkeypatch.setattr(dicom_mod, "decode_file", lambda *a, **k: pytest.fail("decoded despite the memory limit"))
    with pytest.raises(InputError, match="memory allows"):
        read_dicom(ok[0].parent, max_bytes=1000)
    # two different images at the same position, no distinguishing tag
    same = tmp_path / "same"
    write_series(same, ramp_volume((6, 6, 2), 1), axial_positions(2), series_uid="1.9", prefix="A")
    write_series(same, ramp_volume((6, 6, 1), 2), axial_positions(1), series_uid="1.9", prefix="B")
    with pytest.raises(InputError, match="images per slice position"):
        read_dicom(same)


def test_progress_reported_and_cancellable(tmp_path: Path) -> None:
    from twin.errors import Cancelled
    from twin.progress import CallbackProgress

    write_series(tmp_path, ramp_volume((8, 8, 40)), axial_positions(40))
    seen: list[float] = []
    read_dicom(tmp_path, progress=CallbackProgress(lambda f, m: seen.append(f)))
    assert seen[-1] == 1.0 and seen == sorted(seen) and len(seen) >= 4
    prog = CallbackProgress(lambda f, m: prog.token.cancel() if f > 0.3 else None)
    with pytest.raises(Cancelled):
        read_dicom(tmp_path, progress=prog)


def test_legacy_converted_enhanced_ct_oblique_rescaled(tmp_path: Path) -> None:
    """An oblique CT series with rescale, converted to Enhanced CT by highdicom, reads like the original."""
    import warnings

    import highdicom as hd
    import pydicom
    from pydicom.uid import generate_uid

    vol = ramp_volume((20, 18, 6))
    rot = _rotation(5)
    positions = np.array([10.0, 20.0, -30.0])[None] + np.arange(6)[:, None] * 2.5 * rot[:, 2][None]
    paths = write_series(tmp_path / "single", vol, positions, iop=rot[:, :2].T.reshape(-1), slope=1.0,
                         intercept=-1024.0, extra={"KVP": 120, "SeriesNumber": 3, "AcquisitionNumber": 1})
    datasets = [pydicom.dcmread(p) for p in paths]
    for ds in datasets:
        ds.PatientName = "Doe^Jane"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        enhanced = hd.legacy.LegacyConvertedEnhancedCTImage(
            datasets, series_instance_uid=generate_uid(), series_number=4, sop_instance_uid=generate_uid(),
            instance_number=1)
    enhanced.save_as(tmp_path / "enh.dcm")
    single, multi = read_dicom(tmp_path / "single"), read_dicom(tmp_path / "enh.dcm")
    np.testing.assert_array_equal(multi.array, vol)
    np.testing.assert_array_equal(single.array, vol)
    assert multi.geometry.is_same_grid(single.geometry, tol_mm=1e-9) and multi.units == "HU"


def test_position_rounding_noise_is_not_irregular(tmp_path: Path) -> None:
    """Positions written with one decimal (0.625 mm slices) stay a regular stack (< 2% of the spacing off)."""
    n = 12
    z = np.round(np.arange(n) * 0.625, 1)  # 0.0, 0.6, 1.2, 1.9, ...: up to 0.05 mm off; 2% is 0.0125 mm
    vol = ramp_volume((6, 5, n))
    write_series(tmp_path / "r", vol, np.column_stack([np.zeros(n), np.zeros(n), z]))
    out = read_dicom(tmp_path / "r")
    assert "irregular" in " ".join(out.metadata["warnings"])  # 0.05 mm > 2% of 0.625 mm: resampled, said so
    z5 = np.round(np.arange(n) * 5.0 + 0.04 * np.sin(np.arange(n)), 2)  # 5 mm slices, 0.04 mm jitter
    write_series(tmp_path / "s", vol, np.column_stack([np.zeros(n), np.zeros(n), z5]))
    out = read_dicom(tmp_path / "s")
    assert out.metadata["warnings"] == [] and out.shape == (6, 5, n)
    np.testing.assert_array_equal(out.array, vol)
