"""The demo case: a generated abdominal CT phantom with ground truth, cached on disk.

Frame: patient LPS, millimetres. The CT is an axial series on an axis-aligned
grid (i -> patient left, j -> posterior, k -> superior), int16 HU; the label
map shares its grid exactly.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
from pathlib import Path
from typing import Any

import numpy as np

from twin.errors import InputError
from twin.geometry import FRAME, ImageGeometry
from twin.labelmap import LabelMap
from twin.phantom import _generate as G
from twin.phantom.landmarks import DEMO_LANDMARKS
from twin.phantom.segments import DEMO_SEGMENTS
from twin.progress import Progress, SubProgress, ensure_progress
from twin.volume import Volume

_log = logging.getLogger(__name__)

PHANTOM_VERSION = "1.0"
"""Bumped by hand for deliberate anatomy changes; the cache key also hashes the generator's source."""
MAX_VOXELS = 64_000_000
DEMO_CT_NAME = "demo_abdomen_ct"
DEMO_LABELS_NAME = "demo_abdomen_truth"


def make_abdomen_phantom(
    shape: tuple[int, int, int] = G.DEFAULT_SHAPE,
    spacing_mm: tuple[float, float, float] = G.DEFAULT_SPACING_MM,
    seed: int = 0,
    progress: Progress | None = None,
    noise_sd_hu: float = G.NOISE_SD_HU,
) -> tuple[Volume, LabelMap]:
    """Generate the abdominal CT phantom and its ground-truth label map.

    Parameters
    ----------
    shape : (3,) int
        Voxels along i (patient left), j (posterior), k (superior). The default
        (192, 160, 96) at (2.0, 2.0, 2.5) mm covers 384 x 320 x 240 mm: the
        torso from the lung bases (T10) to L4, and the CT table.
    spacing_mm : (3,) float
        Voxel size in mm. The anatomy is fixed in LPS space; the grid is
        centred on it, so other shapes/spacings crop or resample the same body.
    seed : int
        Seeds the image noise and the bowel texture only; anatomy, labels and
        :data:`DEMO_LANDMARKS` do not depend on it.
    progress : Progress, optional
        Progress sink (checked for cancellation between stages).
    noise_sd_hu : float
        Standard deviation of the (slightly in-plane correlated) noise, HU.

    Returns
    -------
    volume : Volume
        int16 CT in HU, modality ``"CT"``, ``(ni, nj, nk)``.
    labels : LabelMap
        One layer with the segments of :data:`DEMO_SEGMENTS` (no overlaps).

    Raises
    ------
    InputError
        Non-positive or too large shape, non-positive spacing, negative noise.
    """
    shape_t = _check_shape(shape)
    spacing = np.asarray(spacing_mm, float).reshape(-1)
    if spacing.shape != (3,) or not np.all(np.isfinite(spacing)) or np.any(spacing <= 0):
        raise InputError(f"phantom spacing must be 3 positive numbers (mm), got {spacing_mm}")
    if not np.isfinite(noise_sd_hu) or noise_sd_hu < 0:
        raise InputError(f"noise standard deviation must be >= 0 HU, got {noise_sd_hu}")
    prog = ensure_progress(progress)
    geometry = G.phantom_geometry(shape_t, tuple(spacing))  # type: ignore[arg-type]
    labels, hu = G.paint_anatomy(G.local_grid(geometry), seed, SubProgress(prog, 0.0, 0.8, "phantom: "))
    prog.update(0.85, "phantom: partial volume and noise")
    prog.raise_if_cancelled()
    ct = G.synthesize_ct(hu, geometry.spacing, seed, noise_sd_hu)
    del hu
    metadata: dict[str, Any] = {
        "synthetic": True,
        "generator": "twin.phantom.make_abdomen_phantom",
        "phantom_version": PHANTOM_VERSION,
        "seed": int(seed),
        "noise_sd_hu": float(noise_sd_hu),
        "psf_sigma_mm": list(G.PSF_SIGMA_MM),
        "frame": FRAME,
        "description": "generated abdominal CT phantom (portal venous phase) with ground-truth labels",
    }
    volume = Volume(ct, geometry, modality="CT", units="HU", name=DEMO_CT_NAME, metadata=metadata)
    labelmap = LabelMap([labels], geometry, list(DEMO_SEGMENTS), name=DEMO_LABELS_NAME)
    prog.update(1.0, "phantom: done")
    return volume, labelmap


def _check_shape(shape: tuple[int, int, int]) -> tuple[int, int, int]:
    try:
        values = [int(s) for s in shape]
    except (TypeError, ValueError):
        raise InputError(f"phantom shape must be 3 positive integers, got {shape!r}") from None
    if len(values) != 3 or any(v < 4 for v in values) or any(v != s for v, s in zip(values, shape)):
        raise InputError(f"phantom shape must be 3 integers >= 4, got {shape!r}")
    if int(np.prod(values, dtype=np.int64)) > MAX_VOXELS:
        raise InputError(f"phantom shape {tuple(values)} exceeds {MAX_VOXELS} voxels")
    return (values[0], values[1], values[2])


# ---------------------------------------------------------------- cache
def demo_cache_dir() -> Path:
    """Folder of the cached demo case: ``$VHT_CACHE_DIR/demo`` or ``~/.cache/vht-planner/demo``."""
    root = os.environ.get("VHT_CACHE_DIR")
    base = Path(root).expanduser() if root else Path.home() / ".cache" / "vht-planner"
    return base / "demo"


def generator_key() -> str:
    """Cache key: phantom version + hash of the generator's source files (any code change invalidates)."""
    h = hashlib.sha256(PHANTOM_VERSION.encode())
    for path in sorted(Path(__file__).parent.glob("*.py")):
        h.update(path.name.encode())
        h.update(path.read_bytes())
    h.update(repr((G.DEFAULT_SHAPE, G.DEFAULT_SPACING_MM, G.NOISE_SD_HU)).encode())
    return f"v{PHANTOM_VERSION}-{h.hexdigest()[:12]}"


def load_demo_case(cache_dir: str | Path | None = None,
                   progress: Progress | None = None) -> tuple[Volume, LabelMap]:
    """The demo case (default phantom, seed 0), generated on first use and cached.

    Files live in ``<cache_dir>/abdomen-<key>/`` (``ct.nii``, ``labels.nii``
    + ``labels.segments.json``, ``phantom.json`` with the landmarks; uncompressed for speed). The folder is
    written atomically; a changed generator gives a new key, and older cache
    folders are removed. A damaged cache is regenerated.

    Parameters
    ----------
    cache_dir : str or Path, optional
        Folder for the cache (default :func:`demo_cache_dir`).
    progress : Progress, optional
        Progress sink.

    Returns
    -------
    volume, labels : Volume, LabelMap
        As :func:`make_abdomen_phantom` (``volume.metadata["cache_path"]`` names the folder).
    """
    from twin.io.images import read_image

    prog = ensure_progress(progress)
    root = Path(cache_dir) if cache_dir is not None else demo_cache_dir()
    key = generator_key()
    folder = root / f"abdomen-{key}"
    geometry = G.phantom_geometry()
    if (folder / "phantom.json").is_file():
        try:
            info = json.loads((folder / "phantom.json").read_text(encoding="utf-8"))
            if info.get("key") == key:
                prog.update(0.1, "reading cached demo case")
                vol = read_image(folder / "ct.nii")
                lab = read_image(folder / "labels.nii")  # the segment table is ours: no need to parse it
                if vol.geometry.is_same_grid(geometry, tol_mm=1e-6) and lab.geometry.is_same_grid(geometry, 1e-6):
                    prog.update(1.0, "demo case loaded")
                    return _wrap(vol.array, lab.array, geometry, info.get("metadata", {}), folder)
        except (OSError, ValueError, InputError):
            pass  # damaged or partial cache: regenerate below
    volume, labels = make_abdomen_phantom(progress=SubProgress(prog, 0.0, 0.85, "generating demo case: "))
    prog.update(0.9, "writing demo case cache")
    try:
        _write_cache(folder, key, volume, labels)
        _remove_stale(root, folder)
    except OSError as exc:  # read-only or full disk: still usable, just not cached
        _log.warning("could not cache the demo case in %s (%s); it will be regenerated next time", root, exc)
    prog.update(1.0, "demo case ready")
    return _wrap(volume.array, labels.layers[0], geometry, volume.metadata, folder)


def _wrap(ct: np.ndarray, labels: np.ndarray, geometry: ImageGeometry, metadata: dict[str, Any],
          folder: Path) -> tuple[Volume, LabelMap]:
    meta = dict(metadata)
    meta["cache_path"] = str(folder)
    vol = Volume(np.asarray(ct, dtype=np.int16), geometry, modality="CT", units="HU", name=DEMO_CT_NAME, metadata=meta)
    layer = np.array(labels, dtype=np.uint8)
    return vol, LabelMap([layer], geometry, list(DEMO_SEGMENTS), name=DEMO_LABELS_NAME)


def _write_cache(folder: Path, key: str, volume: Volume, labels: LabelMap) -> None:
    from twin.io.atomic import atomic_directory
    from twin.io.images import write_image, write_labelmap

    with atomic_directory(folder) as tmp:
        write_image(volume, tmp / "ct.nii")  # uncompressed: 3x faster to load, 9 MB
        write_labelmap(labels, tmp / "labels.nii")
        info = _description(volume, labels)
        info["key"] = key
        (tmp / "phantom.json").write_text(json.dumps(info, indent=2), encoding="utf-8")  # last: marks complete


def _description(volume: Volume, labels: LabelMap) -> dict[str, Any]:
    meta = {k: v for k, v in volume.metadata.items() if k != "cache_path"}
    return {
        "frame": FRAME,
        "units": "mm",
        "geometry": volume.geometry.to_dict(),
        "metadata": meta,
        "landmarks_lps_mm": {k: list(v) for k, v in DEMO_LANDMARKS.items()},
        "segments": labels.table(),
    }


def landmarks_markups(landmarks: dict[str, tuple[float, float, float]] | None = None) -> dict[str, Any]:
    """Landmark points as a 3D Slicer markups point list (``.mrk.json`` content, LPS mm).

    Direction entries (``*_normal``) are not points and are left out.
    """
    items = dict(landmarks if landmarks is not None else DEMO_LANDMARKS)
    points = [
        {"id": str(n + 1), "label": name, "position": [float(c) for c in pos], "positionStatus": "defined"}
        for n, (name, pos) in enumerate(items.items()) if not name.endswith("_normal")
    ]
    return {
        "@schema": "https://raw.githubusercontent.com/Slicer/Slicer/main/Modules/Loadable/Markups/Resources/Schema/"
                   "markups-schema-v1.0.0.json#",
        "markups": [{"type": "Fiducial", "coordinateSystem": "LPS", "coordinateUnits": "mm",
                     "controlPoints": points}],
    }


def save_demo_case(out_dir: str | Path, progress: Progress | None = None) -> dict[str, Path]:
    """Write the demo case to a folder for other tools (e.g. ``vht demo --headless --out DIR``).

    Files (each written atomically): ``demo_ct.nii.gz`` (int16 HU), ``demo_labels.nii.gz`` +
    ``demo_labels.segments.json`` (segment table with terminology), ``demo_landmarks.mrk.json``
    (3D Slicer point list, LPS) and ``demo_phantom.json`` (geometry, metadata, landmarks incl. the
    resection-plane normal, frame LPS).

    Returns
    -------
    dict
        ``{"ct", "labels", "landmarks", "description"}`` -> written paths.
    """
    from twin.io.atomic import atomic_write_text
    from twin.io.images import write_image, write_labelmap

    prog = ensure_progress(progress)
    volume, labels = load_demo_case(progress=SubProgress(prog, 0.0, 0.8, ""))
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise InputError("output path exists and is not a folder", out)
    out.mkdir(parents=True, exist_ok=True)
    prog.update(0.85, "writing demo case")
    paths = {
        "ct": write_image(volume, out / "demo_ct.nii.gz"),
        "labels": write_labelmap(labels, out / "demo_labels.nii.gz"),
        "landmarks": out / "demo_landmarks.mrk.json",
        "description": out / "demo_phantom.json",
    }
    atomic_write_text(paths["landmarks"], json.dumps(landmarks_markups(), indent=2))
    atomic_write_text(paths["description"], json.dumps(_description(volume, labels), indent=2))
    prog.update(1.0, "demo case written")
    return paths


def _remove_stale(root: Path, keep: Path) -> None:
    for old in root.glob("abdomen-v*"):
        if old.is_dir() and old != keep:
            shutil.rmtree(old, ignore_errors=True)
