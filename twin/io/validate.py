"""Cheap checks of an image file's header before reading its voxels."""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from twin.errors import GeometryError, InputError
from twin.geometry import ImageGeometry


def available_memory_bytes() -> int:
    """Memory available to this process (bytes), from /proc/meminfo; 8 GiB if unknown."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 8 * 1024**3


_FD2_LOCK = threading.Lock()  # file descriptor 2 is process-wide: one redirection at a time


@contextlib.contextmanager
def native_stderr_captured() -> Iterator[list[str]]:
    """Capture what C++ libraries (ITK's MetaIO, NIfTI, GDCM) print on file descriptor 2.

    Yields a list that holds the captured text after the block, so that errors
    printed by a library become part of our one-line message instead of stray lines.
    If another thread is already capturing, nothing is captured (never blocks).
    """
    out: list[str] = []
    if not _FD2_LOCK.acquire(blocking=False):
        yield out
        return
    try:
        try:
            sys.stderr.flush()
            saved = os.dup(2)
        except (OSError, ValueError):
            yield out
            return
        with tempfile.TemporaryFile() as buf:
            os.dup2(buf.fileno(), 2)
            try:
                yield out
            finally:
                os.dup2(saved, 2)
                os.close(saved)
                buf.seek(0)
                out.append(buf.read(100_000).decode("utf-8", errors="replace"))
    finally:
        _FD2_LOCK.release()


def native_message(captured: list[str]) -> str:
    """First meaningful line of captured native stderr ('' when nothing was printed)."""
    lines = [ln.strip() for ln in "".join(captured).splitlines() if ln.strip()]
    return lines[0][:200] if lines else ""


def check_header(path: Path, max_bytes: int | None = None) -> dict[str, Any]:
    """Read only the header; refuse bad geometry or sizes beyond memory.

    Returns
    -------
    dict
        ``size``, ``spacing``, ``bytes`` (voxel data), ``dtype`` (ITK's pixel type),
        ``geometry`` (:class:`ImageGeometry`, LPS mm) and ``modality`` when recorded.

    Raises
    ------
    InputError
        Unparseable header, not 3-D, zero/negative/NaN spacing, more voxels than ``max_bytes``
        (default 75% of available memory).
    """
    import SimpleITK as sitk

    reader = sitk.ImageFileReader()
    reader.SetFileName(str(path))
    try:
        with native_stderr_captured():
            reader.ReadImageInformation()
    except RuntimeError:
        raise InputError("not a readable image (header could not be parsed)", path) from None
    size = [int(s) for s in reader.GetSize()]
    spacing = [float(s) for s in reader.GetSpacing()]
    if any(s <= 0 for s in size):
        raise InputError(f"image has an empty dimension (size {size})", path)
    if len(size) > 4 or (len(size) == 4 and size[3] != 1):
        raise InputError(f"expected a 3-D image, got size {size} (time series are not supported)", path)
    if len(size) < 2:
        raise InputError(f"expected a 3-D image, got {len(size)}-D", path)
    sp = np.asarray(spacing[:3])
    if not np.all(np.isfinite(sp)) or np.any(sp <= 0):
        raise GeometryError(f"voxel spacing must be positive and finite, got {spacing}", path)
    n_bytes = int(np.prod(size, dtype=np.float64)) * max(1, int(reader.GetNumberOfComponents())) * _pixel_bytes(reader)
    limit = max_bytes if max_bytes is not None else int(0.75 * available_memory_bytes())
    if n_bytes > limit:
        raise InputError(
            f"header claims {size} voxels ({n_bytes / 2**30:.1f} GiB), "
            f"more than the {limit / 2**30:.1f} GiB memory allows",
            path,
        )
    info: dict[str, Any] = {"size": size, "spacing": spacing, "bytes": n_bytes, "dtype": _pixel_dtype(reader)}
    if int(reader.GetNumberOfComponents()) != 1:
        raise InputError(f"expected a scalar image, got {reader.GetNumberOfComponents()} components per voxel", path)
    nd = len(size)
    direction = np.eye(3)
    direction[: min(nd, 3), : min(nd, 3)] = np.asarray(reader.GetDirection(), dtype=np.float64).reshape(nd, nd)[:3, :3]
    origin = np.zeros(3)
    origin[: min(nd, 3)] = reader.GetOrigin()[:3]
    sp3 = np.ones(3)
    sp3[: min(nd, 3)] = sp
    try:
        info["geometry"] = ImageGeometry(tuple((size + [1])[:3]), sp3, origin, direction)
    except (GeometryError, ValueError) as exc:
        raise GeometryError(getattr(exc, "reason", str(exc)), path) from None
    try:
        if reader.HasMetaDataKey("vht_modality"):
            info["modality"] = reader.GetMetaData("vht_modality")
    except RuntimeError:
        pass
    return info


def _pixel_dtype(reader: Any) -> np.dtype[Any]:
    """NumPy dtype of the pixel type ITK will produce (float64 if not a scalar type)."""
    import SimpleITK as sitk

    table = {
        sitk.sitkUInt8: np.uint8, sitk.sitkInt8: np.int8, sitk.sitkUInt16: np.uint16, sitk.sitkInt16: np.int16,
        sitk.sitkUInt32: np.uint32, sitk.sitkInt32: np.int32, sitk.sitkFloat32: np.float32,
        sitk.sitkUInt64: np.uint64, sitk.sitkInt64: np.int64, sitk.sitkFloat64: np.float64,
    }
    return np.dtype(table.get(reader.GetPixelID(), np.float64))


def _pixel_bytes(reader: Any) -> int:
    import SimpleITK as sitk

    pid = reader.GetPixelID()
    table = {
        sitk.sitkUInt8: 1, sitk.sitkInt8: 1, sitk.sitkUInt16: 2, sitk.sitkInt16: 2,
        sitk.sitkUInt32: 4, sitk.sitkInt32: 4, sitk.sitkFloat32: 4,
        sitk.sitkUInt64: 8, sitk.sitkInt64: 8, sitk.sitkFloat64: 8,
    }
    return table.get(pid, 8)
