"""``Project``: one open case, stored as a folder with ``manifest.json``.

Layout (all paths relative to the folder, frame LPS, units mm/N/MPa/s)::

    manifest.json              schema_version, frame, units, items below
    volumes/<name>.nii.gz      images (NIfTI; geometry exact)
    labelmaps/<name>.seg.nrrd  or .nrrd + .segments.json
    surfaces/<name>.vtp        triangle surfaces
    meshes/<name>.vtu          tet meshes and FE results
    plan.json                  the intervention plan (owned by :mod:`planning`)
    documents/<name>.json      other JSON documents (simulation cases, summaries)

Saving is atomic: the whole folder is written beside the target and swapped
in, so a crash mid-save leaves the previous save intact. Loading migrates
older schema versions and refuses paths that escape the folder.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from twin.commands import UndoStack
from twin.errors import InputError
from twin.geometry import FRAME
from twin.io.atomic import atomic_directory, recover_directory
from twin.labelmap import LabelMap
from twin.meshes import SurfaceModel, TetMesh
from twin.progress import Progress, ensure_progress
from twin.volume import Volume

SCHEMA_VERSION = 2
UNITS = {"length": "mm", "force": "N", "stress": "MPa", "density": "tonne/mm^3", "time": "s"}
_SAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def safe_name(name: str) -> str:
    """File-system-safe version of an item name."""
    cleaned = _SAFE.sub("_", name).strip("._")
    return cleaned or "item"


def _migrate(manifest: dict[str, Any]) -> dict[str, Any]:
    """Bring an older manifest up to :data:`SCHEMA_VERSION`."""
    version = int(manifest.get("schema_version", 1))
    if version > SCHEMA_VERSION:
        raise InputError(f"project was saved by a newer VHT Planner (schema {version} > {SCHEMA_VERSION})")
    if version == 1:
        # v1 kept a single "image" and "segmentation" entry and no units block.
        if "image" in manifest:
            manifest.setdefault("volumes", {})["image"] = {"path": manifest.pop("image")}
        if "segmentation" in manifest:
            manifest.setdefault("labelmaps", {})["segmentation"] = {"path": manifest.pop("segmentation")}
        manifest.setdefault("units", dict(UNITS))
        manifest["schema_version"] = 2
    return manifest


@dataclass(eq=False)
class Project:
    """The open case: everything the planner knows about one patient.

    Passed explicitly (no singletons). Edit it through commands pushed on
    ``undo_stack``.
    """

    name: str = "case"
    volumes: dict[str, Volume] = field(default_factory=dict)
    labelmaps: dict[str, LabelMap] = field(default_factory=dict)
    surfaces: dict[str, SurfaceModel] = field(default_factory=dict)
    meshes: dict[str, TetMesh] = field(default_factory=dict)
    plan: dict[str, Any] = field(default_factory=dict)
    documents: dict[str, dict[str, Any]] = field(default_factory=dict)
    path: Path | None = None
    undo_stack: UndoStack = field(default_factory=UndoStack)

    # ------------------------------------------------------------------ state
    @property
    def modified(self) -> bool:
        """Whether there are changes since the last save or load."""
        return not self.undo_stack.is_clean

    @property
    def main_volume(self) -> Volume | None:
        """The first volume (the patient image), if any."""
        return next(iter(self.volumes.values()), None)

    @property
    def main_labelmap(self) -> LabelMap | None:
        """The first label map, if any."""
        return next(iter(self.labelmaps.values()), None)

    # ------------------------------------------------------------------- save
    def save(self, folder: str | Path | None = None, progress: Progress | None = None) -> Path:
        """Write the project folder atomically; returns its path and marks the stack clean."""
        from twin.io.images import write_image, write_labelmap

        target = Path(folder) if folder is not None else self.path
        if target is None:
            raise InputError("no folder given to save the project")
        prog = ensure_progress(progress)
        steps = max(1, len(self.volumes) + len(self.labelmaps) + len(self.surfaces) + len(self.meshes))
        done = 0

        def tick(msg: str) -> None:
            nonlocal done
            done += 1
            prog.update(done / (steps + 1), msg)

        manifest: dict[str, Any] = {
            "schema_version": SCHEMA_VERSION,
            "application": "VHT Planner",
            "name": self.name,
            "frame": FRAME,
            "units": dict(UNITS),
            "volumes": {},
            "labelmaps": {},
            "surfaces": {},
            "meshes": {},
            "documents": {},
        }
        with atomic_directory(target) as tmp:
            for key, vol in self.volumes.items():
                rel = f"volumes/{safe_name(key)}.nii.gz"
                write_image(vol, tmp / rel)
                manifest["volumes"][key] = {
                    "path": rel, "modality": vol.modality, "units": vol.units,
                    "metadata": _jsonable(vol.metadata),
                }
                tick(f"saved {key}")
            for key, lm in self.labelmaps.items():
                single = len(lm.layers) == 1
                rel = f"labelmaps/{safe_name(key)}.nrrd" if single else f"labelmaps/{safe_name(key)}.seg.nrrd"
                write_labelmap(lm, tmp / rel)
                manifest["labelmaps"][key] = {"path": rel, "segments": lm.table()}
                tick(f"saved {key}")
            for key, surf in self.surfaces.items():
                rel = f"surfaces/{safe_name(key)}.vtp"
                (tmp / "surfaces").mkdir(exist_ok=True)
                surf.to_pyvista().save(str(tmp / rel))
                manifest["surfaces"][key] = {"path": rel, "name": surf.name, "color": list(surf.color)}
                tick(f"saved {key}")
            for key, mesh in self.meshes.items():
                rel = f"meshes/{safe_name(key)}.vtu"
                (tmp / "meshes").mkdir(exist_ok=True)
                mesh.to_pyvista().save(str(tmp / rel))
                names = {str(k): v for k, v in mesh.region_names.items()}
                manifest["meshes"][key] = {"path": rel, "region_names": names}
                tick(f"saved {key}")
            if self.plan:
                (tmp / "plan.json").write_text(json.dumps(self.plan, indent=2), encoding="utf-8")
                manifest["plan"] = "plan.json"
            for key, doc in self.documents.items():
                rel = f"documents/{safe_name(key)}.json"
                (tmp / "documents").mkdir(exist_ok=True)
                (tmp / rel).write_text(json.dumps(doc, indent=2), encoding="utf-8")
                manifest["documents"][key] = rel
            (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
        self.path = target
        self.undo_stack.set_clean()
        prog.update(1.0, "project saved")
        return target

    # ------------------------------------------------------------------- load
    @classmethod
    def load(cls, folder: str | Path, progress: Progress | None = None) -> Project:
        """Read a project folder (migrating older schema versions).

        Raises
        ------
        InputError
            Missing manifest, invalid JSON, a path escaping the folder, a missing file.
        """
        from twin.io.images import read_image, read_labelmap

        root = Path(folder)
        recover_directory(root)
        mf = root / "manifest.json"
        if not mf.is_file():
            raise InputError("not a VHT project (no manifest.json)", root)
        try:
            manifest = json.loads(mf.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError) as exc:
            raise InputError(f"manifest.json is not valid JSON ({exc})", mf) from None
        if not isinstance(manifest, dict):
            raise InputError("manifest.json must hold a JSON object", mf)
        manifest = _migrate(manifest)
        if manifest.get("frame", FRAME) != FRAME:
            raise InputError(f"project frame {manifest.get('frame')!r} is not {FRAME}", mf)
        prog = ensure_progress(progress)

        def resolve(rel: Any) -> Path:
            if not isinstance(rel, str) or not rel:
                raise InputError(f"invalid path entry {rel!r}", mf)
            p = (root / rel).resolve()
            if root.resolve() not in p.parents:
                raise InputError(f"path {rel!r} escapes the project folder", mf)
            if not p.exists():
                raise InputError(f"file {rel!r} listed in the manifest is missing", mf)
            return p

        proj = cls(name=str(manifest.get("name", root.name)), path=root)
        items = list(manifest.get("volumes", {}).items())
        total = max(1, len(items) + len(manifest.get("labelmaps", {})) + len(manifest.get("meshes", {})))
        n = 0
        for key, entry in items:
            vol = read_image(resolve(entry["path"]))
            meta = dict(entry.get("metadata", {}))
            proj.volumes[key] = Volume(vol.array, vol.geometry, entry.get("modality", vol.modality),
                                       entry.get("units", vol.units), key, meta)
            n += 1
            prog.update(n / total, f"loaded {key}")
        for key, entry in manifest.get("labelmaps", {}).items():
            lm = read_labelmap(resolve(entry["path"]))
            if "segments" in entry and len(lm.layers) == 1:
                from twin.labelmap import Segment

                lm.segments = [Segment.from_dict(d) for d in entry["segments"]]
                lm.__post_init__()
            lm.name = key
            proj.labelmaps[key] = lm
            n += 1
            prog.update(n / total, f"loaded {key}")
        if manifest.get("surfaces"):
            import pyvista as pv

            for key, entry in manifest["surfaces"].items():
                poly = pv.read(str(resolve(entry["path"])))
                proj.surfaces[key] = SurfaceModel.from_pyvista(
                    poly, name=entry.get("name", key), color=tuple(entry.get("color", (0.8, 0.8, 0.8))),
                    keep_arrays=tuple(poly.point_data.keys()))
        if manifest.get("meshes"):
            import pyvista as pv

            for key, entry in manifest["meshes"].items():
                mesh = TetMesh.from_pyvista(pv.read(str(resolve(entry["path"]))))
                names = {int(k): v for k, v in entry.get("region_names", {}).items()}
                proj.meshes[key] = TetMesh(mesh.points_lps, mesh.cells, mesh.region, names,
                                           mesh.point_data, mesh.cell_data)
                n += 1
                prog.update(n / total, f"loaded {key}")
        if manifest.get("plan"):
            try:
                proj.plan = json.loads(resolve(manifest["plan"]).read_text(encoding="utf-8"))
            except ValueError as exc:
                raise InputError(f"plan.json is not valid JSON ({exc})", root) from None
        for key, rel in manifest.get("documents", {}).items():
            try:
                proj.documents[key] = json.loads(resolve(rel).read_text(encoding="utf-8"))
            except ValueError as exc:
                raise InputError(f"document {rel!r} is not valid JSON ({exc})", root) from None
        proj.undo_stack.set_clean()
        prog.update(1.0, "project loaded")
        return proj

    def on_change(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` whenever the undo stack changes."""
        self.undo_stack.subscribe(callback)


def _jsonable(meta: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in meta.items():
        try:
            json.dumps(v)
            out[k] = v
        except TypeError:
            out[k] = str(v)
    return out
