"""DICOM-SEG export for the GUI: find the source series of the open image, write, optionally de-identify.

Qt-free helpers used by the files page (:mod:`app.gui.panels.segtools.files_page`).

* :func:`dicom_seg_status` - whether the open image can be referenced by a DICOM-SEG: it must
  have been read from DICOM (``Volume.metadata["source_format"] == "DICOM"``, recorded by the
  reader) and the series must still be where it was read from (``metadata["source_path"]``,
  recorded when the app opens a DICOM folder/file). A NIfTI/NRRD image has no DICOM images
  for the segmentation to reference, so DICOM-SEG is unavailable for it.
* :func:`reference_series_dir` - the files of exactly that series (``SeriesInstanceUID``) in
  a temporary folder of links, so a folder holding several series is handled.
* :func:`export_dicom_seg` - :func:`segmentation.dicom_seg.write_dicom_seg` (highdicom), then
  :func:`deidentify_dataset` when asked.
* :func:`deidentify_dataset` - DICOM PS3.15 E.1 basic profile applied to a written dataset with
  the rules and keyed hashes of :mod:`twin.deid`: same pseudonym, same per-patient date shift
  and same replacement UIDs (``2.25.<hash>``) as ``vht convert --deidentify`` gives for the
  source series, so the SEG's references (study, series, frame of reference, every referenced
  image) still match a series de-identified with the same salt.

Frame: patient LPS, mm (DICOM's patient frame).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from twin.errors import InputError

_TEXT_VRS = {"AE", "AS", "CS", "DA", "DS", "DT", "IS", "LO", "LT", "PN", "SH", "ST", "TM", "UC", "UI", "UR", "UT"}


def dicom_seg_status(volume: Any) -> tuple[bool, str, Path | None]:
    """``(available, explanation, reference path)`` for exporting a DICOM-SEG of ``volume``'s segmentation.

    ``reference path`` is the folder or file the series was read from (None when unknown: the caller
    may ask the user for the folder).
    """
    if volume is None:
        return False, "Open an image first.", None
    meta = volume.metadata or {}
    if meta.get("source_format") != "DICOM":
        src = meta.get("source_file") or "this image"
        fmt = str(meta.get("source_format") or "not DICOM").lstrip(".").upper()
        return False, (f"DICOM-SEG unavailable: the image was read from {src} ({fmt}), not from a DICOM series. "
                       "A DICOM-SEG must reference the DICOM images it segments (their UIDs and geometry); "
                       "open the DICOM series instead (File > Open DICOM folder), or export .seg.nrrd / NIfTI."), None
    path = meta.get("source_path")
    if path and Path(path).exists():
        uid = meta.get("SeriesInstanceUID") or "without SeriesInstanceUID"
        return True, f"DICOM-SEG will reference the image's series ({uid}) read from {Path(path).name}.", Path(path)
    if path:
        return True, f"The DICOM series was read from {path}, which is no longer there: choose its folder.", None
    return True, "The folder of the DICOM series is not recorded in this project: choose it when exporting.", None


@contextlib.contextmanager
def reference_series_dir(source: str | Path, series_uid: str | None) -> Iterator[Path]:
    """A temporary folder holding only the files of series ``series_uid`` found under ``source``.

    Raises
    ------
    InputError
        When ``source`` holds no such series (moved, deleted or another folder chosen).
    """
    from twin.io.dicom import list_series

    infos = list_series(source)
    if series_uid:
        match = [s for s in infos if s.uid == series_uid]
    else:
        match = infos[:1]
    if not match:
        found = ", ".join(s.uid for s in infos) or "none"
        raise InputError(f"the series {series_uid} of the open image is not in this folder (series found: {found})",
                         Path(source))
    tmp = Path(tempfile.mkdtemp(prefix="vht_ref_"))
    try:
        for n, f in enumerate(match[0].files):
            dst = tmp / f"{n:05d}_{Path(f).name}"
            try:
                os.symlink(Path(f).resolve(), dst)
            except OSError:
                shutil.copy2(f, dst)
        yield tmp
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def export_dicom_seg(labelmap: Any, volume: Any, path: str | Path, reference: str | Path,
                     deidentify: bool = False, salt: str | None = None, progress: Any = None) -> Path:
    """Write ``labelmap`` as a DICOM-SEG referencing the series of ``volume`` found under ``reference``.

    With ``deidentify``, :func:`deidentify_dataset` is applied before the (atomic) write.
    """
    from segmentation.dicom_seg import write_dicom_seg
    from twin.io.atomic import atomic_path

    out = Path(path)
    uid = (volume.metadata or {}).get("SeriesInstanceUID") if volume is not None else None
    with reference_series_dir(reference, uid) as ref, tempfile.TemporaryDirectory(prefix="vht_seg_") as tmp:
        written = write_dicom_seg(labelmap, ref, Path(tmp) / "seg.dcm", progress=progress)
        if not deidentify:
            with atomic_path(out) as dst:
                shutil.copyfile(written, dst)
            return out
        import pydicom

        ds = pydicom.dcmread(str(written))
        deidentify_dataset(ds, salt)
        with atomic_path(out) as dst:
            ds.save_as(str(dst), enforce_file_format=True)
    return out


def _shift(value: str, days: int) -> str:
    """``YYYYMMDD[...]`` shifted back by ``days`` (date part only, as :mod:`twin.deid`); "" if unreadable."""
    import datetime as dt

    try:
        d = dt.datetime.strptime(str(value)[:8], "%Y%m%d").date()
    except ValueError:
        return ""
    return (d - dt.timedelta(days=days)).strftime("%Y%m%d")


def deidentify_dataset(ds: Any, salt: str | None = None) -> Any:
    """De-identify a pydicom dataset in place (PS3.15 E.1 basic profile, rules of :mod:`twin.deid`).

    Patient name and ID become the pseudonym of :func:`twin.deid.pseudonym` (computed from the
    dataset's own patient attributes, i.e. the source series'); attributes of
    ``twin.deid._REMOVE`` and person names are emptied (kept zero-length, as the IOD's type-2
    attributes must be present); dates are shifted back by :func:`twin.deid.date_offset_days`
    (times of day emptied, except the SEG's own ``ContentTime``); every instance UID (own and
    referenced, also in the file meta) becomes :func:`twin.deid.replacement_uid`. Adds
    ``PatientIdentityRemoved``, ``DeidentificationMethod(CodeSequence)``.
    """
    from pydicom.dataset import Dataset
    from pydicom.sequence import Sequence

    from twin import deid

    s = deid._salt(salt)
    meta = {k: str(ds.get(k, "") or "") for k in ("PatientID", "PatientName", "PatientBirthDate",
                                                   "StudyInstanceUID")}
    pseudo = deid.pseudonym(meta, s)
    days = deid.date_offset_days(meta, s)

    def walk(d: Any) -> None:
        for elem in list(d):
            kw, vr = elem.keyword, elem.VR
            if vr == "SQ":
                if kw in deid._REMOVE:
                    elem.value = Sequence([])
                else:
                    for item in elem.value:
                        walk(item)
                continue
            if kw in ("PatientName", "PatientID"):
                elem.value = pseudo
            elif kw in deid._REMOVE or vr == "PN":
                elem.value = "" if vr in _TEXT_VRS else None  # zero length (type-2 attributes stay present)
            elif vr == "UI" and kw not in deid._NON_INSTANCE_UIDS and elem.value:
                elem.value = deid.replacement_uid(str(elem.value), s)
            elif vr in ("DA", "DT") and elem.value:
                elem.value = _shift(str(elem.value), days)
            elif vr == "TM" and kw != "ContentTime":
                elem.value = ""

    walk(ds)
    fm = getattr(ds, "file_meta", None)
    if fm is not None and fm.get("MediaStorageSOPInstanceUID"):
        fm.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.PatientIdentityRemoved = "YES"
    ds.LongitudinalTemporalInformationModified = "MODIFIED"
    codes = ["113100", "113107", "113108"]
    ds.DeidentificationMethod = [deid.PROFILE_CODES[c] for c in codes]  # LO: 64 characters per value
    seq = []
    for c in codes:
        item = Dataset()
        item.CodeValue = c
        item.CodingSchemeDesignator = "DCM"
        item.CodeMeaning = deid.PROFILE_CODES[c]
        seq.append(item)
    ds.DeidentificationMethodCodeSequence = Sequence(seq)
    ds.SeriesDescription = "VHT segmentation (de-identified)"
    return ds
