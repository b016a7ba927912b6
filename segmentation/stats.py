"""Per-segment statistics (frame LPS, mm): voxel volume, mesh volume and area, intensity summary."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from twin.errors import InputError
from twin.labelmap import LabelMap
from twin.progress import Progress, ensure_progress
from twin.volume import Volume


@dataclass(frozen=True)
class SegmentStats:
    """Statistics of one segment; intensity fields are ``None`` without an image or for empty segments."""

    name: str
    value: int
    voxel_count: int
    voxel_volume_mm3: float
    mesh_volume_mm3: float | None
    surface_area_mm2: float | None
    watertight: bool | None
    mean: float | None
    std: float | None
    min: float | None
    max: float | None
    units: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return asdict(self)


def segment_statistics(labelmap: LabelMap, volume: Volume | None = None, with_mesh: bool = True,
                       progress: Progress | None = None) -> list[SegmentStats]:
    """Statistics of every segment.

    Parameters
    ----------
    volume : Volume, optional
        Image on the same grid, for the intensity (HU) summary.
    with_mesh : bool
        Also compute the unsmoothed marching-cubes surface (volume, area, watertightness).
    """
    p = ensure_progress(progress)
    if volume is not None and not volume.geometry.is_same_grid(labelmap.geometry):
        raise InputError("the image and the segmentation are not on the same grid")
    meshes = {}
    if with_mesh and labelmap.segments:
        from segmentation.surfaces import labelmap_to_surfaces

        for r in labelmap_to_surfaces(labelmap, smoothing=0.0, normals=False, progress=None):
            meshes[r.segment.name] = r
    out = []
    for n, s in enumerate(labelmap.segments):
        p.update(n / max(len(labelmap.segments), 1), f"statistics {s.name}")
        m = labelmap.mask(s)
        count = int(np.count_nonzero(m))
        mean = std = lo = hi = None
        if volume is not None and count:
            vals = np.asarray(volume.array[m], dtype=np.float64)
            mean, std, lo, hi = float(vals.mean()), float(vals.std()), float(vals.min()), float(vals.max())
        r = meshes.get(s.name)
        out.append(SegmentStats(
            s.name, s.value, count, count * labelmap.geometry.voxel_volume_mm3,
            None if r is None else r.volume_mm3, None if r is None else r.area_mm2,
            None if r is None else r.watertight, mean, std, lo, hi, "" if volume is None else volume.units,
        ))
    p.update(1.0, "statistics")
    return out
