"""Image and label-map files: NIfTI, NRRD, MetaImage (and DICOM via :mod:`twin.io.dicom`).

All readers return :class:`twin.volume.Volume` in LPS mm with exact geometry.
NRRD voxels and geometry are read by :mod:`twin.io.nrrd`; NIfTI voxels by
:mod:`twin.io.nifti` with ITK's header interpretation (qform/sform, RAS -> LPS);
MetaImage by SimpleITK. Every reader checks sizes against memory from the header
before allocating and refuses truncated data. Writers (SimpleITK) are atomic.
Label maps keep their segment table in a sidecar ``<name>.segments.json``, or,
as ``.seg.nrrd``, in 3D Slicer's header fields (``Segment<N>_Name`` ...; layers
and overlaps kept, :mod:`twin.io.seg_nrrd`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from twin.errors import InputError
from twin.geometry import FRAME, ImageGeometry
from twin.io.atomic import atomic_path, atomic_write_text, full_suffix
from twin.labelmap import LabelMap, Segment
from twin.progress import Progress, ensure_progress
from twin.volume import Volume, array_to_sitk

IMAGE_SUFFIXES = (".nii", ".nii.gz", ".nrrd", ".nhdr", ".mha", ".mhd")
WRITABLE_SUFFIXES = (".nii", ".nii.gz", ".nrrd", ".mha", ".mhd")


def image_format(path: str | Path) -> str:
    """Lower-case full suffix of an image path (``.nii.gz``, ``.nrrd``, ...)."""
    return full_suffix(path).lower()


def is_dicom_path(path: str | Path) -> bool:
    """Whether ``path`` is a DICOM folder, DICOMDIR or DICOM file (by content, not name)."""
    p = Path(path)
    if p.is_dir():
        return True
    if not p.is_file():  # never open a FIFO or device (it could block)
        return False
    if p.name.upper() == "DICOMDIR":
        return True
    if image_format(p) in IMAGE_SUFFIXES or image_format(p) == ".seg.nrrd":
        return False
    try:
        with open(p, "rb") as fh:
            head = fh.read(132)
    except OSError:
        return False
    return len(head) >= 132 and head[128:132] == b"DICM" or p.suffix.lower() in (".dcm", ".dicom", ".ima")


def read_image(
    path: str | Path,
    series_uid: str | None = None,
    progress: Progress | None = None,
    max_bytes: int | None = None,
) -> Volume:
    """Read a 3-D image (NIfTI, NRRD, MetaImage or DICOM) as a :class:`Volume` in LPS mm.

    See :func:`read_image_with_series` for the parameters and errors.
    """
    return read_image_with_series(path, series_uid, progress, max_bytes)[0]


def read_image_with_series(
    path: str | Path,
    series_uid: str | None = None,
    progress: Progress | None = None,
    max_bytes: int | None = None,
) -> tuple[Volume, list[Any] | None]:
    """Read a 3-D image (NIfTI, NRRD, MetaImage or DICOM) as a :class:`Volume` in LPS mm.

    Parameters
    ----------
    path : str or Path
        Image file, DICOM file, DICOMDIR or folder of DICOM files.
    series_uid : str, optional
        Which DICOM series to read when a folder holds several (default: the largest).
    progress : Progress, optional
        Progress sink.
    max_bytes : int, optional
        Refuse images whose voxel data would exceed this many bytes
        (default: 75% of available memory). Checked from the header, before allocating.

    Returns
    -------
    volume : Volume
    series : list of twin.io.dicom.SeriesInfo or None
        For DICOM input, every series found (largest first); None for other formats.

    Raises
    ------
    InputError
        Missing, empty, truncated or non-image file; invalid geometry; NaN voxels;
        too large for memory; a folder without images. The message names the file.
    """
    from twin.io.validate import available_memory_bytes

    p = Path(path)
    if not p.exists():
        raise InputError("no such file or folder", p)
    if not p.is_dir() and not p.is_file():
        raise InputError("not a regular file or folder", p)
    limit = max_bytes if max_bytes is not None else int(0.75 * available_memory_bytes())
    if p.is_dir() or is_dicom_path(p):
        from twin.io.dicom import read_dicom_with_series

        if p.is_dir():
            _refuse_folder_without_dicom(p)
        return read_dicom_with_series(p, series_uid=series_uid, progress=progress, max_bytes=limit)
    fmt = image_format(p)
    if fmt == ".seg.nrrd":
        fmt = ".nrrd"  # a single-layer Slicer segmentation is a label volume
    if fmt not in IMAGE_SUFFIXES:
        if p.stat().st_size == 0:
            raise InputError("file is empty", p)
        raise InputError(f"not a supported image (suffix {fmt or '(none)'}; use one of "
                         f"{', '.join(IMAGE_SUFFIXES)} or DICOM)", p)
    if p.stat().st_size == 0:
        raise InputError("file is empty", p)
    prog = ensure_progress(progress)
    prog.update(0.05, f"reading {p.name}")
    warnings: list[str] = []
    modality = "OT"
    from twin.io import compression

    fast_gzip = compression._igzip is not None  # without ISA-L, ITK's zlib-ng inflates ~2x faster than Python's
    if fmt in (".nrrd", ".nhdr"):
        from twin.io.nrrd import NrrdUnsupported, read_header, read_nrrd

        vol = None
        try:
            if not fast_gzip and read_header(p).encoding == "gzip":
                try:
                    vol = _read_with_itk(p, limit)  # ITK's NRRD reader reports truncated gzip data itself
                except InputError:
                    vol = None  # e.g. a header ITK refuses: ours below
            if vol is None:
                array, hdr = read_nrrd(p, limit)
                warnings = hdr.warnings
                modality = hdr.keyvalues.get("vht_modality", "OT")
                vol = _volume(p, array, ImageGeometry(tuple(array.shape), hdr.spacing, hdr.origin, hdr.direction),
                              modality)
        except NrrdUnsupported:
            vol = _read_with_itk(p, limit)
    elif fmt in (".nii", ".nii.gz"):
        from twin.io.nifti import NiftiUnsupported, gzip_size_matches, read_nifti_voxels
        from twin.io.validate import check_header

        info = check_header(p, max_bytes=limit)
        try:
            if fmt == ".nii.gz" and not fast_gzip:
                vol = _read_with_itk(p, limit)
                if not gzip_size_matches(p):  # ITK does not notice truncation: check exactly (slow path)
                    read_nifti_voxels(p, info["dtype"], limit)
            else:
                array = read_nifti_voxels(p, info["dtype"], limit)
                vol = _volume(p, array, info["geometry"], info.get("modality", "OT"))
        except NiftiUnsupported:
            vol = _read_with_itk(p, limit)
    else:
        vol = _read_with_itk(p, limit)
    vol.metadata.update({"source_file": p.name, "source_format": fmt})
    if warnings:
        vol.metadata["warnings"] = list(warnings)
    if vol.modality == "CT" or (vol.modality == "OT" and _looks_like_ct(vol)):
        object.__setattr__(vol, "modality", "CT")
        object.__setattr__(vol, "units", "HU")
    prog.update(1.0, "read")
    return vol, None


def _refuse_folder_without_dicom(folder: Path) -> None:
    """A folder is read as DICOM; say clearly when it holds none but other images."""
    entries = [q for q in folder.rglob("*") if q.is_file() and not q.name.startswith(".")]
    if not entries:
        raise InputError("folder is empty (no images)", folder)
    from twin.io.dicom import _looks_like_dicom

    if any(_looks_like_dicom(q)[0] for q in entries):
        return
    images = sorted(q.name for q in entries if image_format(q).lower() in IMAGE_SUFFIXES)
    if images:
        raise InputError(f"folder holds no DICOM images; pass one of its image files ({', '.join(images[:5])})",
                         folder)
    raise InputError(f"folder holds no images ({len(entries)} file(s), none DICOM, NIfTI, NRRD or MetaImage)",
                     folder)


def _volume(p: Path, array: Any, geometry: ImageGeometry, modality: str) -> Volume:
    try:
        return Volume(array, geometry, modality=modality, name=_stem(p))
    except InputError as exc:
        raise InputError(exc.reason, p) from None


def _read_with_itk(p: Path, limit: int) -> Volume:
    import SimpleITK as sitk

    from twin.io.validate import check_header, native_message, native_stderr_captured

    try:
        info = check_header(p, max_bytes=limit)
    except InputError as exc:
        if p.name.lower().endswith(".seg.nrrd") and "components" in exc.reason:
            raise InputError(exc.reason + " (a layered segmentation: open it as a label map)", p) from None
        raise

    try:
        with native_stderr_captured() as printed:
            image = sitk.ReadImage(str(p))
    except RuntimeError as exc:
        detail = native_message(printed) or _first_line(exc)
        if "not read completely" in detail or "truncat" in detail.lower():
            raise InputError(f"image data is truncated ({detail})", p) from None
        raise InputError(f"cannot read image ({detail})", p) from None
    detail = native_message(printed)
    if "not read completely" in detail:
        raise InputError(f"image data is truncated ({detail})", p)
    if image.GetDimension() == 4 and image.GetSize()[3] == 1:
        image = image[:, :, :, 0]
    try:
        return Volume.from_sitk(image, modality=info.get("modality", "OT"), name=_stem(p))
    except InputError as exc:
        raise InputError(exc.reason, p) from None


def _looks_like_ct(vol: Volume) -> bool:
    a = vol.array
    if a.dtype.kind not in "iu" or a.size == 0:
        return False
    lo, hi = float(a.min()), float(a.max())
    return lo <= -900 and 300 <= hi <= 5000


def _first_line(exc: BaseException) -> str:
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
    for ln in lines:
        if "ERROR" in ln or "error" in ln.lower():
            return ln[-200:]
    return lines[-1][-200:] if lines else type(exc).__name__


def _stem(p: Path) -> str:
    name = p.name
    suffix = full_suffix(p)
    return name[: -len(suffix)] if suffix else name


def write_image(volume: Volume, path: str | Path, compress: bool = True) -> Path:
    """Write a volume atomically to NIfTI/NRRD/MetaImage, geometry exact.

    The frame is recorded: NRRD ``space: left-posterior-superior``; NIfTI by its
    qform/sform (RAS by definition, converted by ITK; positions stored as float32, so
    exact to ~1e-5 mm at 500 mm from the origin); MetaImage ``AnatomicalOrientation``.
    No patient-identifying metadata is ever written into the file; a de-identified
    volume records ``PatientIdentityRemoved``/``DeidentificationMethod`` (NRRD/MetaImage
    header fields, NIfTI ``descrip``).

    ``.mhd`` writes a header and a data file: both are written to a temporary folder,
    the old header is removed, then the data file and the header are renamed into
    place, so a failure never leaves a header pointing at mismatched data.
    """
    p = Path(path)
    fmt = image_format(p)
    if fmt not in WRITABLE_SUFFIXES:
        raise InputError(f"cannot write {fmt or '(no suffix)'}; use one of {', '.join(WRITABLE_SUFFIXES)}", p)
    import SimpleITK as sitk

    image = array_to_sitk(volume.array, volume.geometry)
    image.SetMetaData("vht_frame", FRAME)
    if volume.modality:
        image.SetMetaData("vht_modality", _clean_field(volume.modality))
    meta = volume.metadata or {}
    if str(meta.get("PatientIdentityRemoved", "")).upper() == "YES":
        image.SetMetaData("PatientIdentityRemoved", "YES")
        image.SetMetaData("DeidentificationMethod", _clean_field(str(meta.get("DeidentificationMethod", ""))))
        if meta.get("pseudonym"):
            image.SetMetaData("vht_pseudonym", _clean_field(str(meta["pseudonym"])))
        if fmt in (".nii", ".nii.gz"):
            note = f"PatientIdentityRemoved=YES PS3.15 E.1 {meta.get('pseudonym', '')}"
            image.SetMetaData("ITK_FileNotes", note[:79])
    if fmt == ".mhd":
        _write_mhd(image, p, compress)
        return p
    with atomic_path(p) as tmp:
        try:
            sitk.WriteImage(image, str(tmp), compress and fmt != ".nii")
        except RuntimeError as exc:
            raise InputError(f"cannot write image ({_first_line(exc)})", p) from None
    return p


def _clean_field(text: str) -> str:
    """A header value on one line, without NRRD/MetaImage separators."""
    return " ".join(text.replace(":=", ": ").replace("=", ":").split())[:500]


def _write_mhd(image: Any, p: Path, compress: bool) -> None:
    import os
    import shutil
    import tempfile

    import SimpleITK as sitk

    p.parent.mkdir(parents=True, exist_ok=True)
    tmpdir = Path(tempfile.mkdtemp(prefix=f".{p.name}.", dir=p.parent))
    try:
        try:
            sitk.WriteImage(image, str(tmpdir / p.name), compress)
        except RuntimeError as exc:
            raise InputError(f"cannot write image ({_first_line(exc)})", p) from None
        header = tmpdir / p.name
        data = [f for f in tmpdir.iterdir() if f != header]
        if not header.exists() or not data or any(f.stat().st_size == 0 for f in data):
            raise InputError("cannot write image (writer produced no data)", p)
        if p.exists():
            p.unlink()  # no old header may ever point at the new data
        for f in data:
            os.replace(f, p.parent / f.name)
        os.replace(header, p)
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)


def _sidecar(path: Path) -> Path:
    return path.with_name(_stem(path) + ".segments.json")


def write_labelmap(labelmap: LabelMap, path: str | Path) -> Path:
    """Write a label map: one integer image (layers flattened) + ``<name>.segments.json``.

    ``.seg.nrrd`` paths are written in 3D Slicer's segmentation format
    (:mod:`twin.io.seg_nrrd`, layers and overlaps kept). Multi-layer maps whose
    layers overlap need ``.seg.nrrd``.
    """
    p = Path(path)
    if image_format(p) == ".seg.nrrd":
        from twin.io.seg_nrrd import write_seg_nrrd

        return write_seg_nrrd(labelmap, p)
    flat = labelmap.to_single_layer()
    for s in labelmap.segments:
        if not np.array_equal(flat == s.value, labelmap.mask(s)):
            raise InputError(f"segments overlap (e.g. {s.name!r}); save as .seg.nrrd to keep the overlap", p)
    vol = Volume(flat, labelmap.geometry, modality="SEG", name=labelmap.name)
    write_image(vol, p)
    table = {"frame": FRAME, "name": labelmap.name, "segments": labelmap.table()}
    atomic_write_text(_sidecar(p), json.dumps(table, indent=2))
    return p


def read_labelmap(
    path: str | Path, names: dict[int, str] | None = None, progress: Progress | None = None
) -> LabelMap:
    """Read an integer label image (and its ``.segments.json`` sidecar when present).

    Parameters
    ----------
    names : dict, optional
        Value -> name, overriding the sidecar.
    """
    p = Path(path)
    if image_format(p) == ".seg.nrrd":
        from twin.io.seg_nrrd import read_seg_nrrd

        if not p.is_file():
            raise InputError("no such file", p)
        return read_seg_nrrd(p)
    vol = read_image(p, progress=progress)
    arr = vol.array
    if arr.dtype.kind == "f":
        if np.any(arr != np.round(arr)):
            raise InputError("label image has non-integer values", p)
        arr = arr.astype(np.int64)
    if arr.size and arr.min() < 0:
        raise InputError("label image has negative values", p)
    side = _sidecar(p)
    segs: list[Segment] = []
    if side.exists():
        try:
            data: dict[str, Any] = json.loads(side.read_text(encoding="utf-8"))
            segs = [Segment.from_dict(d) for d in data.get("segments", [])]
        except (ValueError, KeyError, TypeError) as exc:
            raise InputError(f"segment table is invalid ({exc})", side) from None
    if names:
        lm = LabelMap.from_array(arr, vol.geometry, names=names, name=_stem(p))
    elif segs:
        lm = LabelMap.from_array(arr, vol.geometry, names={s.value: s.name for s in segs},
                                 colors={s.value: s.color for s in segs}, name=_stem(p))
    else:
        lm = LabelMap.from_array(arr, vol.geometry, name=_stem(p))
    return lm
