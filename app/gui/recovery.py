"""Autosave to a recovery folder and crash recovery at the next start.

Each running window owns ``<recovery root>/<session id>/`` holding a project
copy (``project/``, written atomically by :meth:`twin.project.Project.save`) and
``session.json`` (pid, original project path, time). A clean exit deletes the
folder; folders left by processes that are no longer running are offered for
recovery. The root is ``$VHT_RECOVERY_DIR`` or the per-user application data folder.
"""

from __future__ import annotations

import json
import os
import shutil
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from twin.io.atomic import atomic_write_text
from twin.project import Project


def recovery_root() -> Path:
    """Folder holding the autosave sessions."""
    env = os.environ.get("VHT_RECOVERY_DIR")
    if env:
        return Path(env)
    from PySide6.QtCore import QStandardPaths

    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
    return Path(base or Path.home() / ".vht-planner") / "recovery"


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@dataclass
class RecoverableSession:
    """An autosave left behind by a crashed or killed session."""

    folder: Path
    original_path: str | None
    saved_at: float
    name: str

    @property
    def project_folder(self) -> Path:
        """The saved project copy."""
        return self.folder / "project"

    def describe(self) -> str:
        """One line for the recovery dialog."""
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(self.saved_at))
        return f"{self.name} (autosaved {when}{', from ' + self.original_path if self.original_path else ''})"

    def discard(self) -> None:
        """Delete the autosave."""
        shutil.rmtree(self.folder, ignore_errors=True)

    def set_aside(self) -> None:
        """Keep the files but stop offering them (an autosave that could not be loaded)."""
        info = self.folder / "session.json"
        if info.is_file():
            info.replace(self.folder / "session.unreadable.json")


def find_recoverable(root: Path | None = None) -> list[RecoverableSession]:
    """Autosaves of sessions whose process is gone, newest first."""
    root = root or recovery_root()
    out = []
    if not root.is_dir():
        return out
    for d in root.iterdir():
        info_file = d / "session.json"
        if not info_file.is_file() or not (d / "project" / "manifest.json").is_file():
            continue
        try:
            info = json.loads(info_file.read_text(encoding="utf-8"))
        except ValueError:
            continue
        if _pid_alive(int(info.get("pid", -1))) and int(info.get("pid", -1)) != os.getpid():
            continue
        if int(info.get("pid", -1)) == os.getpid() and info.get("session") == _CURRENT.get("id"):
            continue
        out.append(RecoverableSession(d, info.get("original_path"), float(info.get("saved_at", 0)),
                                      str(info.get("name", d.name))))
    return sorted(out, key=lambda s: -s.saved_at)


_CURRENT: dict[str, str] = {}


class Autosaver:
    """Writes snapshots of a project into this session's recovery folder."""

    def __init__(self, root: Path | None = None) -> None:
        self.session_id = uuid.uuid4().hex[:12]
        _CURRENT["id"] = self.session_id
        self.root = root or recovery_root()
        self.folder = self.root / self.session_id

    def snapshot(self, project: Project) -> Project:
        """A copy safe to save from another thread (label maps copied; volumes are immutable)."""
        return Project(
            name=project.name,
            volumes=dict(project.volumes),
            labelmaps={k: lm.copy() for k, lm in project.labelmaps.items()},
            surfaces=dict(project.surfaces),
            meshes=dict(project.meshes),
            plan=json.loads(json.dumps(project.plan)),
            documents=json.loads(json.dumps(project.documents)),
        )

    def write(self, snapshot: Project, original_path: Path | None) -> Path:
        """Save ``snapshot`` (from :meth:`snapshot`) into the recovery folder."""
        self.folder.mkdir(parents=True, exist_ok=True)
        snapshot.save(self.folder / "project")
        atomic_write_text(self.folder / "session.json", json.dumps({
            "pid": os.getpid(), "session": self.session_id, "name": snapshot.name,
            "original_path": str(original_path) if original_path else None, "saved_at": time.time(),
        }))
        return self.folder

    def clear(self) -> None:
        """Remove this session's autosave (clean exit or after a real save)."""
        shutil.rmtree(self.folder, ignore_errors=True)
