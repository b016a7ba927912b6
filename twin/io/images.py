"""Image and label-map files: NIfTI, NRRD, MetaImage (and DICOM via :mod:`twin.io.dicom`).

All readers return :class:`twin.volume.Volume` in LPS mm with exact geometry
(SimpleITK converts NIfTI's RAS on read and write). Writers are atomic.
Label maps keep their segment table: in NRRD header fields
(``Segment<N>_Name`` etc., as 3D Slicer does) and, for every format, in a
sidecar ``<name>.segments.json``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from twin.errors import InputError
from twin.geometry import FRAME
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
    if p.name.upper() == "DICOMDIR":
        return True
    if image_format(p) in IMAGE_SUFFIXES:
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
        (default: 75% of available memory).

    Raises
    ------
    InputError
        Missing, empty, truncated or non-image file; invalid geometry; NaN voxels.
    """
    p = Path(path)
    if not p.exists():
        raise InputError("no such file or folder", p)
    if is_dicom_path(p):
        from twin.io.dicom import read_dicom

        return read_dicom(p, series_uid=series_uid, progress=progress, max_bytes=max_bytes)
    fmt = image_format(p)
    if fmt not in IMAGE_SUFFIXES:
        raise InputError(f"unsupported image format {fmt or '(no suffix)'}; use one of {', '.join(IMAGE_SUFFIXES)} or DICOM", p)
    if p.stat().st_size == 0:
        raise InputError("file is empty", p)
    from twin.io.validate import check_header

    ensure_progress(progress).update(0.05, f"reading {p.name}")
    reader_info = check_header(p, max_bytes=max_bytes)
    import SimpleITK as sitk

    try:
        image = sitk.ReadImage(str(p))
    except RuntimeError as exc:
        raise InputError(f"cannot read image ({_first_line(exc)})", p) from None
    if image.GetDimension() == 4 and image.GetSize()[3] == 1:
        image = image[:, :, :, 0]
    try:
        vol = Volume.from_sitk(image, modality=reader_info.get("modality", "OT"), name=_stem(p))
    except InputError as exc:
        raise InputError(exc.reason, p) from None
    vol.metadata.update({"source_file": p.name, "source_format": fmt})
    if vol.modality == "CT" or _looks_like_ct(vol):
        object.__setattr__(vol, "modality", "CT")
        object.__setattr__(vol, "units", "HU")
    ensure_progress(progress).update(1.0, "read")
    return vol


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
    qform/sform (RAS by definition, converted by ITK); MetaImage ``AnatomicalOrientation``.
    """
    p = Path(path)
    fmt = image_format(p)
    if fmt not in WRITABLE_SUFFIXES:
        raise InputError(f"cannot write {fmt or '(no suffix)'}; use one of {', '.join(WRITABLE_SUFFIXES)}", p)
    import SimpleITK as sitk

    image = array_to_sitk(volume.array, volume.geometry)
    image.SetMetaData("vht_frame", FRAME)
    if volume.modality:
        image.SetMetaData("vht_modality", volume.modality)
    if fmt == ".mhd":
        # header + separate raw file: write both next to each other, atomically per file
        sitk.WriteImage(image, str(p), compress)
        return p
    with atomic_path(p) as tmp:
        try:
            sitk.WriteImage(image, str(tmp), compress and fmt != ".nii")
        except RuntimeError as exc:
            raise InputError(f"cannot write image ({_first_line(exc)})", p) from None
    return p


def _sidecar(path: Path) -> Path:
    return path.with_name(_stem(path) + ".segments.json")


def write_labelmap(labelmap: LabelMap, path: str | Path) -> Path:
    """Write a label map: one integer image (layers flattened) + ``<name>.segments.json``.

    ``.seg.nrrd`` paths are written in 3D Slicer's segmentation format
    (:mod:`segmentation.io_slicer`). Multi-layer maps whose layers overlap
    need ``.seg.nrrd``.
    """
    p = Path(path)
    if image_format(p) == ".seg.nrrd":
        from segmentation.slicer_io import write_seg_nrrd  # type: ignore[import-not-found]

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
        from segmentation.slicer_io import read_seg_nrrd  # type: ignore[import-not-found]

        return read_seg_nrrd(p)  # type: ignore[no-any-return]
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
