"""Atomic file writing: write to a temporary file beside the target, then rename.

A crash or an error mid-write leaves the previous file (if any) untouched and
no partial output behind.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path


def full_suffix(path: str | Path) -> str:
    """All suffixes of a file name that matter to readers, e.g. ``.nii.gz`` or ``.seg.nrrd``."""
    name = Path(path).name.lower()
    for multi in (".seg.nrrd", ".nii.gz", ".mrk.json", ".vtk.gz"):
        if name.endswith(multi):
            return Path(path).name[-len(multi):]
    return Path(path).suffix


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path with the same suffix in the target's folder; rename on success.

    Examples
    --------
    >>> with atomic_path("out.nii.gz") as tmp:  # doctest: +SKIP
    ...     sitk.WriteImage(image, str(tmp))
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=f".tmp{full_suffix(target)}", dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        if not tmp.exists() or (tmp.stat().st_size == 0 and not target.suffix == ".txt"):
            raise OSError(f"writer produced no data for {target}")
        # mkstemp makes the file private (0600): give it the mode a plain open() would
        os.chmod(tmp, stat.S_IMODE(target.stat().st_mode) if target.exists() else 0o666 & ~_umask())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def _umask() -> int:
    """The process umask, read without changing it (Linux); falls back to os.umask."""
    try:
        with open("/proc/self/status", encoding="ascii", errors="replace") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def atomic_write_text(path: str | Path, text: str) -> None:
    """Write a text file atomically (UTF-8)."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write a binary file atomically."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


@contextlib.contextmanager
def atomic_directory(path: str | Path) -> Iterator[Path]:
    """Yield a temporary folder; on success it replaces ``path`` (old content removed last).

    The swap is two renames; if the process dies between them the previous
    folder survives as ``.<name>.old-*`` next to it and :func:`recover_directory`
    restores it.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.new-", dir=target.parent))
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    # mkdtemp makes the folder private (0700): give it the mode a plain mkdir() would
    os.chmod(tmp, stat.S_IMODE(target.stat().st_mode) if target.exists() else 0o777 & ~_umask())
    old = None
    if target.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
        old.rmdir()
        os.replace(target, old)
    os.replace(tmp, target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def recover_directory(path: str | Path) -> bool:
    """If ``path`` is missing but an interrupted save left ``.<name>.old-*``, restore it. Returns True if restored."""
    target = Path(path)
    if target.exists():
        return False
    olds = sorted(target.parent.glob(f".{target.name}.old-*"), key=lambda p: p.stat().st_mtime)
    if not olds:
        return False
    os.replace(olds[-1], target)
    return True
