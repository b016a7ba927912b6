"""Import segmentations made elsewhere (frame LPS, mm): a TotalSegmentator output folder
(one binary NIfTI per structure), a multilabel image plus a label table (TotalSegmentator's
``class_map`` JSON, a ``value name`` text table, or a 3D Slicer / ITK-SNAP colour table),
and a Slicer ``.seg.nrrd``. Names are kept and colours come from the table when it has
them, otherwise from :mod:`twin.colors` (standard anatomy colours).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from twin.colors import color_for_name
from twin.errors import InputError
from twin.io.images import read_image, read_labelmap
from twin.labelmap import RGB, LabelMap, Segment, compact_layers, place_in_layers
from twin.progress import Progress, ensure_progress


def read_label_table(path: str | Path, task: str | None = None) -> tuple[dict[int, str], dict[int, RGB]]:
    """Read a label table: JSON ``{value: name}`` (optionally nested by task, as TotalSegmentator's
    ``labels_total_and_total_mr.json``), or text lines ``value name [r g b [a]]`` (Slicer ``.ctbl``/``.txt``
    with 0-255 colours, ITK-SNAP label descriptions with quoted names).

    Returns
    -------
    names, colors : dict
        Value -> name and value -> RGB in [0, 1] (only for rows that give a colour).
    """
    p = Path(path)
    if not p.exists():
        raise InputError("no such label table", p)
    text = p.read_text(encoding="utf-8", errors="replace")
    names: dict[int, str] = {}
    colors: dict[int, RGB] = {}
    if p.suffix.lower() == ".json":
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise InputError(f"label table is not valid JSON ({exc})", p) from None
        if task is not None:
            if task not in data:
                raise InputError(f"label table has no task {task!r} (has {', '.join(data)})", p)
            data = data[task]
        elif data and all(isinstance(v, dict) for v in data.values()):
            data = next(iter(data.values()))
        for k, v in data.items():
            try:
                names[int(k)] = str(v["name"] if isinstance(v, dict) else v)
            except (ValueError, TypeError, KeyError):
                raise InputError(f"label table entry {k!r} is not 'value: name'", p) from None
        return names, colors
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if '"' in line:  # ITK-SNAP: value r g b a vis mesh "name"
            head, name = line.split('"', 1)[0].split(), line.split('"')[1]
            nums = head
        else:
            parts = line.split()
            head, name = parts, parts[1] if len(parts) > 1 else ""
            nums = [parts[0], *parts[2:]]
        try:
            value = int(nums[0])
        except (ValueError, IndexError):
            continue
        if value == 0 or not name:
            continue
        names[value] = name
        try:
            rgb = [float(v) for v in nums[1:4]]
            if len(rgb) == 3:
                colors[value] = tuple(c / 255.0 if max(rgb) > 1 else c for c in rgb)  # type: ignore[assignment]
        except ValueError:
            pass
    if not names:
        raise InputError("label table has no entries", p)
    return names, colors


def import_multilabel(image_path: str | Path, table_path: str | Path | None = None, task: str | None = None,
                      progress: Progress | None = None) -> LabelMap:
    """A multilabel image (NIfTI/NRRD) with an optional label table; values absent from the image are dropped."""
    lm = read_labelmap(image_path, progress=progress)
    if table_path is None:
        return lm
    names, colors = read_label_table(table_path, task)
    present = {s.value for s in lm.segments}
    segs = [Segment(v, names.get(v, f"label_{v}"), colors.get(v, color_for_name(names.get(v, ""), v)), 0)
            for v in sorted(present)]
    return LabelMap(lm.layers, lm.geometry, segs, name=lm.name)


def import_totalsegmentator_folder(folder: str | Path, include_empty: bool = False,
                                   progress: Progress | None = None) -> LabelMap:
    """A TotalSegmentator output folder (``<structure>.nii.gz`` binary masks on one grid).

    Structures are numbered in alphabetical order; masks that overlap go to extra layers.
    Empty masks are skipped unless ``include_empty``.
    """
    p = Path(folder)
    if not p.is_dir():
        raise InputError("not a folder", p)
    files = sorted(f for f in p.iterdir() if f.name.endswith((".nii.gz", ".nii", ".nrrd"))
                   and not f.name.endswith(".seg.nrrd"))
    if not files:
        raise InputError("folder holds no NIfTI/NRRD masks", p)
    prog = ensure_progress(progress)
    geometry = None
    layers: list[np.ndarray] = []
    segs: list[Segment] = []
    for n, f in enumerate(files):
        prog.update(n / len(files), f"importing {f.name}")
        prog.raise_if_cancelled()
        vol = read_image(f)
        if geometry is None:
            geometry = vol.geometry
        elif not geometry.is_same_grid(vol.geometry):
            raise InputError("mask is not on the same grid as the others", f)
        mask = vol.array != 0
        if not mask.any() and not include_empty:
            continue
        name = f.name.split(".")[0]
        layer_index, value = place_in_layers(layers, [s.layer for s in segs], mask)
        segs.append(Segment(value, name, color_for_name(name, len(segs) + 1), layer_index))
    assert geometry is not None
    layers = compact_layers(layers) if layers else [np.zeros(geometry.shape, np.uint8)]
    prog.update(1.0, "imported")
    return LabelMap(layers, geometry, segs, name=p.name)


def import_segmentation(path: str | Path, table_path: str | Path | None = None, task: str | None = None,
                        progress: Progress | None = None) -> LabelMap:
    """Import any supported segmentation: folder (TotalSegmentator), ``.seg.nrrd``, or a multilabel image."""
    p = Path(path)
    if p.is_dir():
        return import_totalsegmentator_folder(p, progress=progress)
    if p.name.lower().endswith(".seg.nrrd"):
        from segmentation.slicer_io import read_seg_nrrd

        return read_seg_nrrd(p)
    return import_multilabel(p, table_path, task, progress)
