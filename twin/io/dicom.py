"""Reading DICOM image series as :class:`twin.volume.Volume` (frame LPS, mm).

Inputs: a folder (searched recursively), a single file (its series is read from the
files beside it, as 3D Slicer and ITK-SNAP do; a multi-frame file is read alone), or a
DICOMDIR. Several series: :func:`list_series` describes them; :func:`read_dicom` reads
the largest unless ``series_uid`` says otherwise.

Pipeline (each file is parsed once for headers and decoded once):

1. headers with pydicom (``stop_before_pixels``), grouped by ``SeriesInstanceUID``;
2. per-frame geometry from ``ImagePositionPatient``/``ImageOrientationPatient`` (or the
   enhanced multi-frame functional groups), sorted along the slice normal and checked
   by :mod:`twin.io.dicom_geometry` (irregular spacing, missing slices, gantry tilt are
   resampled onto a regular grid with a warning in ``volume.metadata["warnings"]``);
3. pixels decoded by :mod:`twin.io.dicom_pixels`, modality rescale applied per frame
   (CT -> Hounsfield units).

DICOM's patient coordinate system is LPS, so no axis flips are involved: voxel
``[i, j, k]`` is column ``i``, row ``j`` of the ``k``-th plane along the normal.
"""

from __future__ import annotations

import os
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from twin.errors import InputError
from twin.geometry import ImageGeometry
from twin.io.dicom_geometry import plan_stack, regularise_stack
from twin.io.dicom_headers import (
    NO_UID_PREFIX,
    Frame,
    dicom_metadata,
    first_item,
    frames_of,
    group_attr,
    number_or,
    series_key,
    units_of,
)
from twin.io.dicom_pixels import _fit_dtype, _note_float_pixels, _stored, _worst_dtype, decode_file
from twin.progress import Progress, SubProgress, ensure_progress
from twin.volume import Volume

MEDIA_STORAGE_DIRECTORY = "1.2.840.10008.1.3.10"
@dataclass(frozen=True)
class SeriesInfo:
    """One image series found in a DICOM folder.

    Attributes
    ----------
    uid : str
        SeriesInstanceUID.
    description : str
        SeriesDescription (may be empty).
    modality : str
        DICOM Modality (``CT``, ``MR``, ...).
    size : tuple of int
        Voxels (i, j, k): columns, rows, frames of its largest consistent stack.
    n_files : int
        Number of files in the series.
    files : tuple of Path
        The files, in no particular order.
    """

    uid: str
    description: str
    modality: str
    size: tuple[int, int, int]
    n_files: int
    files: tuple[Path, ...] = field(repr=False, default=())

    @property
    def n_voxels(self) -> int:
        """Number of voxels of the stack."""
        return int(np.prod(self.size))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (without the file list)."""
        return {
            "uid": self.uid,
            "description": self.description,
            "modality": self.modality,
            "size": list(self.size),
            "n_files": self.n_files,
        }


@dataclass
class _Image:
    path: Path
    ds: Any  # pydicom Dataset, header only
    frames: list[Frame]
    problem: str | None = None  # e.g. truncated: refused only if this series is read
    pixel_offset: int | None = None  # file position of the (7FE0,0010) element, from the header read
    file_size: int = 0


# ------------------------------------------------------------------ file discovery
def _looks_like_dicom(path: Path) -> tuple[bool, bool]:
    """(is DICOM, needs force) from the first bytes of a regular file."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(132)
    except OSError:
        return False, False
    return _classify(head)


def _classify(head: bytes) -> tuple[bool, bool]:
    if len(head) >= 132 and head[128:132] == b"DICM":
        return True, False
    # no preamble: raw data set starting with a group 0x0002 or 0x0008 element (little endian)
    if len(head) >= 8 and head[:2] in (b"\x02\x00", b"\x08\x00") and head[3:4] == b"\x00":
        return True, True
    return False, False


def _dicomdir_files(path: Path) -> list[Path]:
    import pydicom

    try:
        ds = pydicom.dcmread(str(path), force=True)
    except Exception as exc:  # noqa: BLE001
        raise InputError(f"cannot read DICOMDIR ({type(exc).__name__}: {exc})", path) from None
    records = ds.get("DirectoryRecordSequence")
    if records is None:
        raise InputError("DICOMDIR has no directory records", path)
    base = path.parent
    files: list[Path] = []
    for rec in records:
        ref = rec.get("ReferencedFileID")
        if not ref:
            continue
        parts = [str(ref)] if isinstance(ref, str) else [str(x) for x in ref]
        f = base.joinpath(*parts)
        if not f.exists():  # media written in upper case but copied to a case-sensitive disk
            alt = [p for p in base.rglob("*") if p.relative_to(base).as_posix().upper() == "/".join(parts).upper()]
            if alt:
                f = alt[0]
            else:
                continue
        files.append(f)
    if not files:
        raise InputError("DICOMDIR references no existing image files", path)
    return files


def _is_dicomdir(path: Path) -> bool:
    if path.name.upper() == "DICOMDIR":
        return True
    try:
        import pydicom

        meta = pydicom.filereader.read_file_meta_info(str(path))
        return str(meta.get("MediaStorageSOPClassUID", "")) == MEDIA_STORAGE_DIRECTORY
    except Exception:  # noqa: BLE001
        return False


def _candidate_files(path: Path) -> tuple[list[Path], Path | None]:
    """Files to scan and, for a single-file input, the file the user named."""
    if not path.exists():
        raise InputError("no such file or folder", path)
    if path.is_dir():
        dicomdir = [p for p in (path / "DICOMDIR", path / "dicomdir") if p.is_file()]
        if dicomdir:
            return _dicomdir_files(dicomdir[0]), None
        try:
            files = sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith("."))
        except OSError as exc:
            raise InputError(f"cannot list the folder ({exc.strerror or exc})", path) from None
        return files, None
    if not path.is_file():
        raise InputError("not a regular file or folder", path)
    if path.stat().st_size == 0:
        raise InputError("file is empty", path)
    if _is_dicomdir(path):
        return _dicomdir_files(path), None
    try:
        siblings = sorted(p for p in path.parent.iterdir() if p.is_file() and not p.name.startswith("."))
    except OSError:
        siblings = [path]
    return siblings, path


def _scan(files: list[Path], progress: Progress | None, strict: Path | None = None) -> tuple[list[_Image], int]:
    """Read the headers of every DICOM image among ``files``.

    Returns the images and the number of files that looked like DICOM but could not be parsed.
    """
    import warnings

    with warnings.catch_warnings():  # pydicom warns on every non-conformant value; we report what matters
        warnings.simplefilter("ignore")
        return _scan_quiet(files, progress, strict)


def _scan_quiet(files: list[Path], progress: Progress | None, strict: Path | None) -> tuple[list[_Image], int]:
    import pydicom

    prog = ensure_progress(progress)
    images: list[_Image] = []
    bad = 0
    for n, f in enumerate(files):
        if n % 32 == 0:
            prog.update(n / max(len(files), 1), f"reading headers ({n}/{len(files)})")
        try:
            with open(f, "rb") as fh:  # one open per file: sniff, parse the header, note where pixels start
                ok, force = _classify(fh.read(132))
                if not ok:
                    if strict is not None and f == strict:
                        raise InputError("not a DICOM file or supported image", f)
                    continue
                fh.seek(0)
                ds = pydicom.dcmread(fh, stop_before_pixels=True, force=force)
                pixel_offset, file_size = fh.tell(), os.fstat(fh.fileno()).st_size
                _note_float_pixels(ds, fh.read(4), force)
            if force and "SOPClassUID" not in ds and "Rows" not in ds:
                continue
        except InputError:
            raise
        except Exception as exc:  # noqa: BLE001 - corrupt files are skipped (or refused if named)
            if strict is not None and f == strict:
                raise InputError(f"cannot read DICOM header ({type(exc).__name__}: {exc})", f) from None
            bad += 1
            continue
        sop_class = str(getattr(getattr(ds, "file_meta", None), "MediaStorageSOPClassUID", "") or "")
        if sop_class == MEDIA_STORAGE_DIRECTORY or "Rows" not in ds or "Columns" not in ds:
            continue  # DICOMDIR, structured reports, RT structures ...
        image = _Image(f, ds, frames_of(ds, len(images)), None, pixel_offset, file_size)
        _check_size(image)
        images.append(image)
    prog.update(1.0, "headers read")
    return images, bad


def _check_size(image: _Image) -> None:
    """Flag an uncompressed file too short for its pixels (found from headers, before decoding)."""
    ds = image.ds
    ts = str(getattr(getattr(ds, "file_meta", None), "TransferSyntaxUID", "") or "")
    if ts not in ("1.2.840.10008.1.2", "1.2.840.10008.1.2.1", "1.2.840.10008.1.2.2"):
        return
    fr = image.frames[0]
    need = len(image.frames) * fr.rows * fr.cols * int(ds.get("BitsAllocated", 16) or 16) // 8
    spp = int(ds.get("SamplesPerPixel", 1) or 1)
    # YBR_FULL_422 stores two samples per pixel (chroma shared by pixel pairs), PS3.3 C.7.6.3.1.2
    need *= 2 if spp == 3 and str(ds.get("PhotometricInterpretation", "")).strip() == "YBR_FULL_422" else spp
    have = image.file_size
    if have < need:
        image.problem = f"pixel data is truncated (file has {have} bytes, the pixels alone need {need})"


def _series_groups(images: list[_Image]) -> dict[str, list[_Image]]:
    groups: dict[str, list[_Image]] = defaultdict(list)
    for im in images:
        groups[series_key(im.ds)].append(im)
    return dict(groups)


def _stack_key(fr: Frame) -> tuple[Any, ...]:
    iop = tuple(round(v, 3) for v in fr.iop) if fr.iop else None
    ps = tuple(round(v, 4) for v in fr.pixel_spacing) if fr.pixel_spacing else None
    return (fr.rows, fr.cols, iop, ps)


def _main_stack(images: list[_Image]) -> tuple[list[Frame], int]:
    """Frames of the largest set sharing size, orientation and pixel spacing; and how many were left out."""
    frames = [fr for im in images for fr in im.frames]
    counts = Counter(_stack_key(fr) for fr in frames)
    key = max(counts, key=lambda k: (counts[k], k[0] * k[1]))
    chosen = [fr for fr in frames if _stack_key(fr) == key]
    return chosen, len(frames) - len(chosen)


def _describe(uid: str, images: list[_Image]) -> SeriesInfo:
    frames, _ = _main_stack(images)
    ds = images[0].ds
    return SeriesInfo(
        uid=uid,
        description=str(ds.get("SeriesDescription", "") or ""),
        modality=str(ds.get("Modality", "") or "OT"),
        size=(frames[0].cols, frames[0].rows, len(frames)),
        n_files=len(images),
        files=tuple(im.path for im in images),
    )


def _dedupe(images: list[_Image], named: Path | None) -> tuple[list[_Image], Counter[str]]:
    """Drop copies of the same instance (same SOPInstanceUID), keeping the named file if it is one."""
    by_uid: dict[str, list[_Image]] = defaultdict(list)
    keep: list[_Image] = []
    for im in images:
        meta = getattr(im.ds, "file_meta", None)  # anonymisers may blank the data set's UID but not the meta's
        uid = str(im.ds.get("SOPInstanceUID", "") or (meta.get("MediaStorageSOPInstanceUID", "") if meta else "") or "")
        if uid:
            by_uid[uid].append(im)
        else:
            keep.append(im)
    dups: Counter[str] = Counter()
    for copies in by_uid.values():
        best = next((im for im in copies if im.path == named), copies[0])
        keep.append(best)
        dups[series_key(best.ds)] += len(copies) - 1
    keep.sort(key=lambda im: im.frames[0].file)
    return keep, dups


def _gather(path: str | Path,
            progress: Progress | None) -> tuple[dict[str, list[_Image]], Path | None, int, Counter[str]]:
    p = Path(path)
    files, named = _candidate_files(p)
    images, bad = _scan(files, progress, strict=named)
    if not images:
        extra = f"; {bad} unreadable DICOM file(s)" if bad else ""
        raise InputError(f"no DICOM images found ({len(files)} file(s) looked at{extra})", p)
    images, dups = _dedupe(images, named)
    groups = _series_groups(images)
    if named is not None:  # a single file: its own series (or the file alone when multi-frame)
        mine = next(im for im in images if im.path == named) if any(im.path == named for im in images) else None
        if mine is None:
            raise InputError("DICOM file holds no image", named)
        uid = series_key(mine.ds)
        if len(mine.frames) > 1:
            groups = {uid: [mine]}
        else:
            groups = {uid: [im for im in groups[uid] if len(im.frames) == 1]}
    return groups, named, bad, dups


def list_series(path: str | Path, progress: Progress | None = None) -> list[SeriesInfo]:
    """Describe every image series under ``path`` (largest first).

    Parameters
    ----------
    path : str or Path
        Folder (recursive), DICOM file or DICOMDIR.

    Raises
    ------
    InputError
        Missing path or no DICOM images.
    """
    groups, _, _, _ = _gather(path, progress)
    infos = [_describe(uid, ims) for uid, ims in groups.items()]
    return sorted(infos, key=lambda s: (-s.n_voxels, s.uid))


# ------------------------------------------------------------------ reading
def _select_volume(frames: list[Frame], normal: NDArray[np.float64], warnings: list[str],
                   path: Path) -> list[Frame]:
    """When several frames share a position (echoes, time points), keep the first volume."""
    pos = np.array([fr.ipp for fr in frames], dtype=np.float64)
    t = pos @ normal
    order = np.argsort(t, kind="stable")
    clusters: list[list[int]] = []
    for idx in order:
        if clusters and abs(t[idx] - t[clusters[-1][0]]) <= 0.01:
            clusters[-1].append(int(idx))
        else:
            clusters.append([int(idx)])
    sizes = {len(c) for c in clusters}
    if sizes == {1}:
        return frames
    if len(sizes) != 1:
        raise InputError(
            f"series has a varying number of images per slice position ({sorted(sizes)}); "
            "it mixes several acquisitions and cannot be read as one volume", path)
    m = sizes.pop()
    keys = sorted({fr.volume_key for fr in frames})
    first_key = keys[0]
    chosen = [min((frames[i] for i in c), key=lambda fr: (fr.volume_key, fr.instance, fr.index)) for c in clusters]
    if len(keys) >= m and all(fr.volume_key == first_key for fr in chosen):
        warnings.append(f"series holds {m} volumes at the same slice positions (time points, echoes or "
                        f"acquisitions); read the first one")
    else:
        warnings.append(f"series holds {m} images per slice position; read the one with the lowest instance number")
    return chosen


def _read_pixels(frames: list[Frame], scan_index: dict[int, _Image], ref: Any,
                 progress: Progress, notes: set[str] | None = None) -> NDArray[Any]:
    """Decode every file once into stored values ``(n, rows, cols)``, then apply the modality rescale.

    The output dtype is the smallest one holding the actual rescaled values (int16 for
    ordinary CT); the rescale runs in place when the sizes allow.
    """
    rows, cols = frames[0].rows, frames[0].cols
    stored = _stored(ref)
    buf = np.empty((len(frames), rows, cols), dtype=stored)
    ranges: list[tuple[float, float]] = [(0.0, 0.0)] * len(frames)
    slot: dict[int, list[tuple[int, Frame]]] = defaultdict(list)
    for k, fr in enumerate(frames):
        slot[fr.file].append((k, fr))
    import warnings

    from twin.io.validate import native_stderr_captured

    for n, (file_idx, placed) in enumerate(slot.items()):
        im = scan_index[file_idx]
        with native_stderr_captured(), warnings.catch_warnings():  # codecs print on fd 2, pydicom warns
            warnings.simplefilter("ignore")
            decoded = decode_file(im.path, len(im.frames), rows, cols, header=im.ds, pixel_offset=im.pixel_offset)
        if decoded.note and notes is not None:
            notes.add(decoded.note)
        for k, fr in placed:
            plane = decoded.frames[fr.index]
            if decoded.rescaled:  # GDCM applied the rescale: back to stored values (exact for integers)
                plane = np.rint((plane.astype(np.float64) - fr.intercept) / fr.slope)
            buf[k] = plane
            ranges[k] = (float(buf[k].min()), float(buf[k].max()))
        if n % 16 == 0:
            progress.update(n / len(slot), f"decoding pixels ({n}/{len(slot)})")
            progress.raise_if_cancelled()
    out_dtype = _fit_dtype(frames, ranges, stored)
    if all(fr.slope == 1 and fr.intercept == 0 for fr in frames):
        return buf  # (out_dtype == stored may still need the rescale: signed CT with intercept -1024)
    pairs = {(fr.slope, fr.intercept) for fr in frames}
    if out_dtype.kind == "i" and out_dtype.itemsize == stored.itemsize:
        # modular integer arithmetic in place: exact because every result fits out_dtype
        view = buf.view(out_dtype)
        if len(pairs) == 1:
            slope, icpt = pairs.pop()
            if slope != 1:
                np.multiply(view, np.array(int(slope)).astype(out_dtype), out=view, casting="unsafe")
            np.add(view, np.array(int(icpt)).astype(out_dtype), out=view, casting="unsafe")
        else:
            for k, fr in enumerate(frames):
                np.multiply(view[k], np.array(int(fr.slope)).astype(out_dtype), out=view[k], casting="unsafe")
                np.add(view[k], np.array(int(fr.intercept)).astype(out_dtype), out=view[k], casting="unsafe")
        return view
    out = np.empty(buf.shape, dtype=out_dtype)
    work = np.float64 if out_dtype.kind == "f" else np.int64
    for k, fr in enumerate(frames):
        out[k] = buf[k].astype(work) * fr.slope + fr.intercept
    return out


def read_dicom(
    path: str | Path,
    series_uid: str | None = None,
    progress: Progress | None = None,
    max_bytes: int | None = None,
) -> Volume:
    """Read one DICOM series as a :class:`Volume`; see :func:`read_dicom_with_series`."""
    return read_dicom_with_series(path, series_uid, progress, max_bytes)[0]


def read_dicom_with_series(
    path: str | Path,
    series_uid: str | None = None,
    progress: Progress | None = None,
    max_bytes: int | None = None,
) -> tuple[Volume, list[SeriesInfo]]:
    """Read one DICOM series (LPS mm, rescaled values) and describe every series found.

    Parameters
    ----------
    path : str or Path
        Folder (recursive), single DICOM file (its series is read) or DICOMDIR.
    series_uid : str, optional
        SeriesInstanceUID to read; default the series with the most voxels.
    progress : Progress, optional
        Progress sink (headers, pixels, resampling).
    max_bytes : int, optional
        Refuse series whose voxels would need more bytes (default 75% of available memory);
        checked from the headers before any pixel is decoded.

    Returns
    -------
    volume : Volume
        ``array[i, j, k]`` (columns, rows, slices sorted along the normal); ``units`` ``"HU"``
        for CT; ``metadata`` holds series-level tags by keyword, ``SeriesInstanceUID``,
        ``source_format`` ``"DICOM"`` and ``warnings`` (irregular spacing, tilt, ...).
    series : list of SeriesInfo
        Every series under ``path``, largest first (as :func:`list_series`).

    Raises
    ------
    InputError
        Missing path, no images, unknown ``series_uid`` (the message lists the UIDs),
        inconsistent or undecodable series, not enough memory.
    """
    p = Path(path)
    prog = ensure_progress(progress)
    groups, _, bad, dups = _gather(p, SubProgress(prog, 0.0, 0.25, ""))
    if series_uid is not None:
        if series_uid not in groups:
            raise InputError(f"series {series_uid} not found; available: {', '.join(sorted(groups))}", p)
        uid = series_uid
    else:
        uid = max(groups, key=lambda u: (_describe(u, groups[u]).n_voxels, u))
    images = groups[uid]
    warnings: list[str] = []
    if bad:
        warnings.append(f"{bad} unreadable DICOM file(s) were skipped")
    if dups.get(uid):
        warnings.append(f"{dups[uid]} duplicate file(s) (same SOPInstanceUID) were ignored")
    if uid.startswith(NO_UID_PREFIX):
        warnings.append(f"the files have no SeriesInstanceUID; grouped by study, series number and description, "
                        f"modality, frame of reference and image size as series {uid}")
    if len(groups) > 1 and series_uid is None:
        warnings.append(f"{len(groups)} series found; read the largest ({uid}); choose another with --series")
    for im in images:
        if im.problem:
            raise InputError(im.problem, im.path)
    frames, dropped = _main_stack(images)
    if dropped:
        warnings.append(f"{dropped} image(s) of this series with another size or orientation (e.g. localizers) "
                        "were left out")
    # frame.file indexes the scan order of all images; map back to this series' images
    scan_index = {im.frames[0].file: im for im in images}
    ref = scan_index[frames[0].file].ds
    modality = str(ref.get("Modality", "") or "OT")
    rows, cols = frames[0].rows, frames[0].cols
    if rows <= 0 or cols <= 0:
        raise InputError("DICOM images have no rows or columns", p)
    if frames[0].pixel_spacing is None:
        warnings.append("no PixelSpacing: 1 mm pixels assumed")
    ps = np.asarray(frames[0].pixel_spacing or (1.0, 1.0), dtype=np.float64)
    if np.any(ps <= 0):
        raise InputError(f"PixelSpacing must be positive, got {ps[::-1].tolist()}", p)
    has_geometry = all(fr.ipp is not None for fr in frames) and frames[0].iop is not None and len(frames[0].iop) == 6
    nominal = (number_or(ref.get("SpacingBetweenSlices"), 0.0) or number_or(ref.get("SliceThickness"), 0.0)
               or number_or(group_attr(None, first_item(ref, "SharedFunctionalGroupsSequence"),
                                      "PixelMeasuresSequence", "SliceThickness"), 0.0) or None)
    if has_geometry:
        from twin.io.dicom_geometry import orientation_axes

        try:
            normal = orientation_axes(np.asarray(frames[0].iop))[2]
        except ValueError as exc:
            raise InputError(str(exc), p) from None
        frames = _select_volume(frames, normal, warnings, p)
        try:
            plan = plan_stack(np.array([fr.ipp for fr in frames]), np.asarray(frames[0].iop), ps, (cols, rows),
                              nominal_spacing=nominal)
        except ValueError as exc:
            raise InputError(str(exc), p) from None
        frames = [frames[i] for i in plan.order]
        warnings.extend(plan.warnings)
    else:
        frames = sorted(frames, key=lambda fr: (fr.instance, fr.file, fr.index))
        warnings.append("no ImagePositionPatient/ImageOrientationPatient: slices ordered by InstanceNumber, "
                        "identity orientation and nominal slice spacing assumed (not patient coordinates)")
        plan = None
    n_in = len(frames)
    from twin.io.validate import available_memory_bytes

    out_ij = plan.out_shape_ij if plan is not None and not plan.regular else (cols, rows)
    itemsize = max(_worst_dtype(ref, frames).itemsize, _stored(ref).itemsize)
    need = n_in * rows * cols * itemsize
    if plan is not None and not plan.regular:
        need += plan.n_out * out_ij[0] * out_ij[1] * itemsize
    limit = max_bytes if max_bytes is not None else int(0.75 * available_memory_bytes())
    if need > limit:
        raise InputError(f"series {uid} needs {need / 2**30:.2f} GiB ({cols}x{rows}x{n_in} voxels), more than the "
                         f"{limit / 2**30:.2f} GiB memory allows", p)
    notes: set[str] = set()
    buf = _read_pixels(frames, scan_index, ref, SubProgress(prog, 0.25, 0.9, ""), notes)
    warnings.extend(sorted(notes))
    if str(ref.get("PhotometricInterpretation", "")).strip().upper() == "MONOCHROME1":
        warnings.append("MONOCHROME1 image: values kept as stored, but its viewers show high values dark; "
                        "invert the window to see it as acquired")
    if buf.dtype.kind == "f" and not np.all(np.isfinite(buf)):
        raise InputError("DICOM pixel data contains NaN or infinite values", p)
    # ---- geometry
    if plan is None:
        step = nominal or 1.0
        geometry = ImageGeometry((cols, rows, n_in), [ps[0], ps[1], step], np.zeros(3), np.eye(3))
        data = buf
    elif plan.regular:
        geometry = ImageGeometry((cols, rows, n_in), plan.spacing, plan.origin, plan.direction)
        data = buf
    else:
        fill = float(buf.min()) if buf.size else 0.0
        data = regularise_stack(buf, plan, fill, SubProgress(prog, 0.9, 1.0, ""))
        del buf
        geometry = ImageGeometry((out_ij[0], out_ij[1], plan.n_out), plan.spacing, plan.origin, plan.direction)
    meta = dicom_metadata(ref)
    meta.update({
        "SeriesInstanceUID": "" if uid.startswith(NO_UID_PREFIX) else uid,
        "source_format": "DICOM",
        "source_file": p.name,
        "n_files": len(images),
        "warnings": warnings,
    })
    if uid.startswith(NO_UID_PREFIX):
        meta["series_key"] = uid  # the stand-in key (--series); never written out as a UID
    if plan is not None and plan.tilt_deg:
        meta["gantry_tilt_deg"] = plan.tilt_deg
    name = str(ref.get("SeriesDescription", "") or modality or "dicom")
    prog.update(1.0, "read")
    vol = Volume(data.transpose(2, 1, 0), geometry, modality=modality, units=units_of(ref, modality),
                 name=name, metadata=meta)
    infos = sorted((_describe(u, ims) for u, ims in groups.items()), key=lambda s: (-s.n_voxels, s.uid))
    return vol, infos
