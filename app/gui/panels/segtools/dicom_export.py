"""DICOM-SEG export for the GUI: find the source series of the open image, write, optionally de-identify.

Qt-free helpers used by the files page (:mod:`app.gui.panels.segtools.files_page`).

* :func:`dicom_seg_status` - whether the open image can be referenced by a DICOM-SEG: it must
  have been read from DICOM (``Volume.metadata["source_format"] == "DICOM"``, recorded by the
  reader) and the series must still be where it was read from (``metadata["source_path"]``,
  recorded when the app opens a DICOM folder/file). A NIfTI/NRRD image has no DICOM images
  for the segmentation to reference, so DICOM-SEG is unavailable for it.
* :func:`reference_series_dir` - the files of exactly that series (``SeriesInstanceUID``) in
  a temporary folder of links, so a folder holding several series is handled.
* :func:`export_dicom_seg` - :func:`segmentation.dicom_seg.write_dicom_seg` (highdicom), de-identified
  by :func:`twin.deid.deidentify_dataset` when asked (same as ``vht export-seg --deidentify``).

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
                     deidentify: bool = False, salt: str | None = None, progress: Any = None,
                     notes: list[str] | None = None) -> Path:
    """Write ``labelmap`` as a DICOM-SEG referencing the series of ``volume`` found under ``reference``.

    With ``deidentify``, :func:`twin.deid.deidentify_dataset` is applied before the (atomic) write.
    """
    from segmentation.dicom_seg import write_dicom_seg
    from twin.io.atomic import atomic_path

    out = Path(path)
    uid = (volume.metadata or {}).get("SeriesInstanceUID") if volume is not None else None
    with reference_series_dir(reference, uid) as ref, tempfile.TemporaryDirectory(prefix="vht_seg_") as tmp:
        written = write_dicom_seg(labelmap, ref, Path(tmp) / "seg.dcm", progress=progress,
                                  deidentify=deidentify, salt=salt, notes=notes)
        with atomic_path(out) as dst:
            shutil.copyfile(written, dst)
    return out
