"""NIfTI / NRRD / MetaImage reading and writing: exact geometry (LPS mm), atomic writes, bad files."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest
import SimpleITK as sitk

from twin.errors import InputError
from twin.geometry import LPS_TO_RAS, ImageGeometry
from twin.io.images import read_image, write_image
from twin.volume import Volume

FORMATS = [".nrrd", ".nii", ".nii.gz", ".mha", ".mhd"]


def _oblique_geometry(shape: tuple[int, int, int] = (13, 11, 7)) -> ImageGeometry:
    q, _ = np.linalg.qr(np.random.default_rng(11).normal(size=(3, 3)))
    if np.linalg.det(q) < 0:
        q[:, 2] *= -1
    return ImageGeometry(shape, [0.712345678901, 0.93, 3.3], [-123.456789012345, 45.6789012345678, 300.123456789], q)


def _volume(dtype: type = np.int16, geometry: ImageGeometry | None = None) -> Volume:
    geo = geometry or _oblique_geometry()
    arr = (np.arange(np.prod(geo.shape)).reshape(geo.shape) % 251 - 100).astype(dtype)
    return Volume(arr, geo, modality="MR")


@pytest.mark.parametrize("fmt", FORMATS)
def test_roundtrip_anisotropic_oblique(tmp_path: Path, fmt: str) -> None:
    vol = _volume()
    path = write_image(vol, tmp_path / f"img{fmt}")
    back = read_image(path)
    np.testing.assert_array_equal(back.array, vol.array)
    assert back.array.dtype == vol.array.dtype
    err = np.abs(back.geometry.corners_lps() - vol.geometry.corners_lps()).max()
    if fmt.startswith(".nii"):
        # NIfTI-1 stores the affine in float32: ~1e-7 relative, i.e. ~3e-5 mm at 300 mm
        assert err < 1e-4
        import nibabel as nib

        ras = nib.load(str(path)).affine
        np.testing.assert_allclose(ras, LPS_TO_RAS @ vol.ijk_to_lps, atol=1e-4)
        np.testing.assert_allclose(np.asarray(nib.load(str(path)).dataobj), vol.array)
    else:
        assert err < 1e-6
        assert back.modality == "MR"  # recorded in the header
    # the frame is recorded in the header
    if fmt == ".nrrd":
        assert b"space: left-posterior-superior" in path.read_bytes()[:1000]


@pytest.mark.parametrize("fmt", [".nii", ".nii.gz"])
def test_nifti_exact_when_float32_representable(tmp_path: Path, fmt: str) -> None:
    geo = ImageGeometry((9, 8, 5), [0.5, 0.75, 2.5], [-120.5, 33.25, -400.0], np.diag([1.0, -1.0, -1.0]))
    vol = _volume(np.float32, geo)
    back = read_image(write_image(vol, tmp_path / f"x{fmt}"))
    assert np.abs(back.geometry.corners_lps() - geo.corners_lps()).max() < 1e-6
    np.testing.assert_array_equal(back.array, vol.array)


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.uint16, np.int16, np.int32, np.uint32, np.float32, np.float64])
@pytest.mark.parametrize("fmt", [".nrrd", ".nii.gz"])
def test_dtypes_roundtrip(tmp_path: Path, dtype: type, fmt: str) -> None:
    vol = _volume(dtype, ImageGeometry((6, 5, 4), [1, 2, 3]))
    back = read_image(write_image(vol, tmp_path / f"d{fmt}"))
    assert back.array.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(back.array, vol.array)


def test_our_readers_match_simpleitk(tmp_path: Path) -> None:
    vol = _volume()
    for name, compress in (("a.nrrd", True), ("b.nrrd", False), ("c.nii.gz", True), ("d.nii", False)):
        path = write_image(vol, tmp_path / name, compress=compress)
        ref = sitk.ReadImage(str(path))
        ours = read_image(path)
        np.testing.assert_array_equal(sitk.GetArrayFromImage(ref).transpose(2, 1, 0), ours.array)
        np.testing.assert_allclose(ref.GetOrigin(), ours.origin, atol=1e-12)
        np.testing.assert_allclose(np.reshape(ref.GetDirection(), (3, 3)), ours.direction, atol=1e-12)


def test_nifti_scaling_applied_like_itk(tmp_path: Path) -> None:
    import nibabel as nib

    data = np.arange(60, dtype=np.int16).reshape(3, 4, 5)
    img = nib.Nifti1Image(data, np.diag([2.0, 3.0, 4.0, 1.0]))
    img.header.set_slope_inter(0.5, -10.0)
    img.header.set_data_dtype(np.int16)
    path = tmp_path / "scaled.nii"
    nib.save(img, str(path))
    ours = read_image(path)
    ref = sitk.ReadImage(str(path))
    np.testing.assert_allclose(ours.array, sitk.GetArrayFromImage(ref).transpose(2, 1, 0))
    assert ours.array.dtype == sitk.GetArrayFromImage(ref).dtype
    np.testing.assert_allclose(ours.array, np.asarray(nib.load(str(path)).dataobj))
    assert ours.array.min() == -10.0 and ours.array.max() == 19.5
    # RAS affine diag(2,3,4) -> LPS direction diag(-1,-1,1)
    np.testing.assert_allclose(ours.direction, np.diag([-1.0, -1.0, 1.0]))


def _write_nrrd(path: Path, header: dict[str, str], data: bytes, detached: str | None = None) -> Path:
    text = "NRRD0004\n" + "".join(f"{k}: {v}\n" for k, v in header.items())
    if detached:
        path.write_text(text + f"data file: {detached}\n")
    else:
        path.write_bytes(text.encode() + b"\n" + data)
    return path


def test_nrrd_ras_space_converted_to_lps(tmp_path: Path) -> None:
    arr = np.arange(24, dtype=np.int16).reshape(4, 3, 2)  # [k, j, i] on disk order (i fastest)
    hdr = {"type": "short", "dimension": "3", "sizes": "2 3 4", "endian": "little", "encoding": "raw",
           "space": "right-anterior-superior", "space directions": "(1.5,0,0) (0,2,0) (0,0,2.5)",
           "space origin": "(10,20,30)"}
    path = _write_nrrd(tmp_path / "ras.nrrd", hdr, arr.tobytes())
    vol = read_image(path)
    np.testing.assert_allclose(vol.origin, [-10, -20, 30])
    np.testing.assert_allclose(vol.direction, np.diag([-1.0, -1.0, 1.0]))
    np.testing.assert_allclose(vol.spacing, [1.5, 2.0, 2.5])
    np.testing.assert_array_equal(vol.array, arr.transpose(2, 1, 0))
    ref = sitk.ReadImage(str(path))
    np.testing.assert_allclose(ref.GetOrigin(), vol.origin)
    np.testing.assert_allclose(np.reshape(ref.GetDirection(), (3, 3)), vol.direction)


def test_nrrd_detached_list_bigendian_gzip_ascii(tmp_path: Path) -> None:
    arr = (np.arange(60).reshape(5, 4, 3) * 7 - 100).astype(np.int32)  # [k, j, i]
    base = {"type": "int", "dimension": "3", "sizes": "3 4 5", "spacings": "0.5 0.6 2"}
    for k in range(5):  # one file per slice, big endian
        (tmp_path / f"sl{k:02d}.raw").write_bytes(arr[k].astype(">i4").tobytes())
    path = _write_nrrd(tmp_path / "list.nhdr", {**base, "endian": "big", "encoding": "raw"}, b"",
                       detached="sl%02d.raw 0 4 1")
    vol = read_image(path)
    np.testing.assert_array_equal(vol.array, arr.transpose(2, 1, 0))
    np.testing.assert_allclose(vol.spacing, [0.5, 0.6, 2.0])
    assert any("no patient space" in w for w in vol.metadata["warnings"])
    gz = _write_nrrd(tmp_path / "g.nrrd", {**base, "endian": "little", "encoding": "gzip"},
                     gzip.compress(arr.astype("<i4").tobytes()))
    np.testing.assert_array_equal(read_image(gz).array, arr.transpose(2, 1, 0))
    txt = _write_nrrd(tmp_path / "t.nrrd", {**base, "encoding": "ascii"}, " ".join(map(str, arr.ravel())).encode())
    np.testing.assert_array_equal(read_image(txt).array, arr.transpose(2, 1, 0))
    missing = _write_nrrd(tmp_path / "m.nhdr", {**base, "endian": "little", "encoding": "raw"}, b"",
                          detached="nope.raw")
    with pytest.raises(InputError, match="nope.raw is missing"):
        read_image(missing)


def test_write_is_atomic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    vol = _volume()
    target = write_image(vol, tmp_path / "keep.nrrd")
    before = target.read_bytes()

    def broken(image: sitk.Image, path: str, *args: object) -> None:
        Path(path).write_bytes(b"half")
        raise RuntimeError("disk full")

    monkeypatch.setattr(sitk, "WriteImage", broken)
    for name in ("keep.nrrd", "new.nii.gz", "pair.mhd"):
        with pytest.raises(InputError, match="cannot write"):
            write_image(vol, tmp_path / name)
    assert target.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.nrrd"]


def test_mhd_pair_written_and_replaced(tmp_path: Path) -> None:
    vol = _volume()
    path = write_image(vol, tmp_path / "pair.mhd", compress=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pair.mhd", "pair.raw"]
    assert "ElementDataFile = pair.raw" in path.read_text(errors="replace")
    vol2 = vol.with_array(vol.array[::-1].copy())
    write_image(vol2, path, compress=False)
    np.testing.assert_array_equal(read_image(path).array, vol2.array)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pair.mhd", "pair.raw"]


def test_bad_files_in_process(tmp_path: Path) -> None:
    vol = _volume(geometry=ImageGeometry((40, 30, 20), [1, 1, 1]))
    cut = write_image(vol, tmp_path / "cut.nii.gz")
    cut.write_bytes(cut.read_bytes()[: cut.stat().st_size * 2 // 3])
    with pytest.raises(InputError, match="truncated") as exc:
        read_image(cut)
    assert "cut.nii.gz" in str(exc.value)
    ok = write_image(vol, tmp_path / "ok.nrrd")
    with pytest.raises(InputError, match="memory allows"):
        read_image(ok, max_bytes=1000)
    fifo = tmp_path / "pipe.nrrd"
    import os

    os.mkfifo(fifo)
    with pytest.raises(InputError, match="not a regular file"):
        read_image(fifo)  # must not hang


def test_gzip_without_isal_and_truncation(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from twin.io import compression

    vol = _volume()
    path = write_image(vol, tmp_path / "z.nii.gz")
    monkeypatch.setattr(compression, "_igzip", None)  # no ISA-L: ITK inflates, trailer size checked
    np.testing.assert_array_equal(read_image(path).array, vol.array)
    nrrd = write_image(vol, tmp_path / "z.nrrd")
    np.testing.assert_array_equal(read_image(nrrd).array, vol.array)
    for p in (path, nrrd):
        p.write_bytes(p.read_bytes()[: p.stat().st_size * 2 // 3])
        with pytest.raises(InputError, match="truncated"):
            read_image(p)
    path.write_bytes(write_image(vol, tmp_path / "z.nii.gz").read_bytes()[:-6])  # only the trailer cut
    with pytest.raises(InputError, match="truncated"):
        read_image(path)
    assert compression.gunzip(gzip.compress(b"abc"), path, 3) == b"abc"


def test_native_stderr_captured_restores_fd2(capfd: pytest.CaptureFixture[str]) -> None:
    import os

    from twin.io.validate import native_message, native_stderr_captured

    with native_stderr_captured() as printed:
        os.write(2, b"MetaImage: something went wrong\n")
    os.write(2, b"after\n")
    assert native_message(printed) == "MetaImage: something went wrong"
    assert capfd.readouterr().err == "after\n"


def test_gzip_bomb_is_not_inflated_beyond_the_header(tmp_path: Path) -> None:
    import time

    import nibabel as nib

    hdr = nib.Nifti1Header()
    hdr.set_data_shape((4, 4, 4))
    hdr.set_data_dtype(np.int16)
    hdr.set_qform(np.eye(4), code=1)
    hdr["vox_offset"] = 352
    raw = hdr.binaryblock + b"\0" * 4 + np.arange(64, dtype="<i2").tobytes() + bytes(50_000_000)
    path = tmp_path / "bomb.nii.gz"
    path.write_bytes(gzip.compress(raw, compresslevel=1))
    t0 = time.perf_counter()
    vol = read_image(path)
    assert time.perf_counter() - t0 < 2.0
    np.testing.assert_array_equal(vol.array, np.arange(64).reshape(4, 4, 4).transpose(2, 1, 0))


def test_written_files_get_ordinary_permissions(tmp_path: Path) -> None:
    """Atomic writes go through a private temp file; the result has the usual umask mode."""
    import os
    import stat

    from twin.io.atomic import _umask

    path = write_image(_volume(), tmp_path / "perm.nrrd")
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~_umask()
    os.chmod(path, 0o640)
    write_image(_volume(), path)  # overwriting keeps the existing mode
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
