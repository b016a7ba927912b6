"""``LabelMap``: integer segments on a volume's grid, with a segment table.

Overlapping segments are stored in *layers*, as 3D Slicer's ``.seg.nrrd``
does: each layer is an integer array on the shared grid and each segment is a
``(layer, value)`` pair. A voxel may belong to one segment per layer.

A label map is the one mutable twin object (painting must be cheap); change it
only through commands (:mod:`twin.commands`, :mod:`twin.labelmap_commands`) so
that every edit can be undone. ``revision`` increases with every change so that
views can tell when to redraw.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from twin.errors import GeometryError, InputError
from twin.geometry import ImageGeometry

RGB = tuple[float, float, float]


@dataclass(frozen=True)
class Segment:
    """One row of the segment table.

    Parameters
    ----------
    value : int
        Label value in its layer, >= 1 (0 is background).
    name : str
        Unique name, e.g. ``"liver"``.
    color : tuple of float
        Default display colour, RGB in [0, 1].
    layer : int
        Index of the layer array that holds it.
    terminology : dict, optional
        Coded concept, e.g. ``{"scheme": "SCT", "code": "10200004", "meaning": "Liver"}``.
    """

    value: int
    name: str
    color: RGB = (0.8, 0.8, 0.2)
    layer: int = 0
    terminology: dict[str, str] | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        d: dict[str, Any] = {"value": self.value, "name": self.name, "color": list(self.color), "layer": self.layer}
        if self.terminology:
            d["terminology"] = dict(self.terminology)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Segment:
        """Inverse of :meth:`to_dict`."""
        return cls(
            value=int(d["value"]),
            name=str(d["name"]),
            color=tuple(float(c) for c in d.get("color", (0.8, 0.8, 0.2))),  # type: ignore[arg-type]
            layer=int(d.get("layer", 0)),
            terminology=d.get("terminology"),
        )


def mask_bbox(mask: NDArray[Any], margin: int = 0) -> tuple[slice, slice, slice] | None:
    """Bounding box of the nonzero voxels of a 3-D array, grown by ``margin`` voxels and clipped.

    Returns
    -------
    tuple of slice or None
        ``(si, sj, sk)`` indexing ``array[i, j, k]``; None when the mask is empty.
    """
    if not mask.any():
        return None
    out = []
    for axis in range(3):
        other = tuple(a for a in range(3) if a != axis)
        nz = np.flatnonzero(mask.any(axis=other))
        out.append(slice(max(int(nz[0]) - margin, 0), min(int(nz[-1]) + 1 + margin, mask.shape[axis])))
    return out[0], out[1], out[2]


def place_in_layers(layers: list[NDArray[Any]], segment_layers: list[int], mask: NDArray[np.bool_],
                    ) -> tuple[int, int]:
    """Write ``mask`` into the first layer where it overlaps no labelled voxel (else a new layer).

    For building a multi-layer label map segment by segment (importers): ``layers`` are ``uint16``
    arrays ``(ni, nj, nk)`` (appended to in place), ``segment_layers`` the layer of every segment
    placed so far. At most 65535 segments share a layer. Returns ``(layer, value)`` of the new
    segment; :func:`compact_layers` narrows the layers afterwards.
    """
    counts = [segment_layers.count(i) for i in range(len(layers))]
    for li, layer in enumerate(layers):
        if counts[li] < 65535 and not np.any(layer[mask]):
            break
    else:
        layers.append(np.zeros(mask.shape, np.uint16))
        li = len(layers) - 1
        counts.append(0)
    value = counts[li] + 1
    layers[li][mask] = value
    return li, value


def compact_layers(layers: list[NDArray[Any]]) -> list[NDArray[Any]]:
    """Layers in the narrowest label dtype of their largest value (uint8 when < 256)."""
    return [layer.astype(_label_dtype(int(layer.max(initial=0)))) for layer in layers]


def _label_dtype(max_value: int) -> np.dtype[Any]:
    return np.dtype(np.uint8) if max_value < 256 else np.dtype(np.uint16)


@dataclass(eq=False)
class LabelMap:
    """Segments on an image grid.

    Parameters
    ----------
    layers : list of ndarray, each (ni, nj, nk), unsigned int
        Label arrays indexed ``[i, j, k]`` on ``geometry``.
    geometry : ImageGeometry
        Grid shared with the source volume (LPS mm).
    segments : list of Segment
        Segment table; ``(layer, value)`` pairs are unique, names are unique.
    name : str
        Display name.
    """

    layers: list[NDArray[Any]]
    geometry: ImageGeometry
    segments: list[Segment] = field(default_factory=list)
    name: str = "segmentation"
    revision: int = 0

    def __post_init__(self) -> None:
        if not self.layers:
            self.layers = [np.zeros(self.geometry.shape, dtype=np.uint8)]
        for n, layer in enumerate(self.layers):
            if tuple(layer.shape) != self.geometry.shape:
                raise GeometryError(f"layer {n} shape {layer.shape} does not match grid {self.geometry.shape}")
            if layer.dtype.kind not in "ui":
                raise InputError(f"label layer {n} must hold integers, got {layer.dtype}")
        names = [s.name for s in self.segments]
        if len(set(names)) != len(names):
            raise InputError(f"segment names must be unique: {names}")
        keys = [(s.layer, s.value) for s in self.segments]
        if len(set(keys)) != len(keys):
            raise InputError("two segments share the same (layer, value)")
        for s in self.segments:
            if s.value < 1 or not 0 <= s.layer < len(self.layers):
                raise InputError(f"segment {s.name!r} has invalid value {s.value} or layer {s.layer}")

    # ---------------------------------------------------------------- build
    @classmethod
    def empty(cls, geometry: ImageGeometry, name: str = "segmentation") -> LabelMap:
        """A label map with one empty layer and no segments."""
        return cls([np.zeros(geometry.shape, dtype=np.uint8)], geometry, [], name)

    @classmethod
    def from_array(
        cls,
        array: NDArray[Any],
        geometry: ImageGeometry,
        names: dict[int, str] | None = None,
        colors: dict[int, RGB] | None = None,
        name: str = "segmentation",
    ) -> LabelMap:
        """A single-layer label map from an integer array; one segment per nonzero value present.

        Parameters
        ----------
        array : ndarray (ni, nj, nk)
            Integer labels, 0 = background.
        names, colors : dict, optional
            Per value; missing names become ``"label_<v>"`` and colours come from
            :func:`twin.colors.default_color`.
        """
        from twin.colors import color_for_name

        arr = np.asarray(array)
        if arr.dtype.kind == "f":
            if not np.all(np.isfinite(arr)) or np.any(arr != np.round(arr)):
                raise InputError("label map has non-integer values")
        if arr.size and arr.min() < 0:
            raise InputError("label map has negative values")
        values = [int(v) for v in np.unique(arr) if v != 0]
        if names:
            values = sorted(set(values) | {int(v) for v in names})
        top = max(values, default=0)
        arr = arr.astype(_label_dtype(top), copy=False)
        segs = []
        for v in values:
            nm = (names or {}).get(v, f"label_{v}")
            segs.append(Segment(v, nm, (colors or {}).get(v, color_for_name(nm, v)), 0))
        return cls([np.array(arr)], geometry, segs, name)

    def copy(self) -> LabelMap:
        """Deep copy (arrays copied)."""
        return LabelMap([a.copy() for a in self.layers], self.geometry, list(self.segments), self.name, self.revision)

    # -------------------------------------------------------------- queries
    @property
    def shape(self) -> tuple[int, int, int]:
        """Voxels along i, j, k."""
        return self.geometry.shape

    def segment(self, key: int | str) -> Segment:
        """Look up a segment by name or by label value (first layer holding it).

        Raises
        ------
        InputError
            If there is no such segment.
        """
        for s in self.segments:
            if (isinstance(key, str) and s.name == key) or (not isinstance(key, str) and s.value == int(key)):
                return s
        if isinstance(key, str) and key.isdigit():
            return self.segment(int(key))
        listed = [f"{s.value}={s.name}" for s in self.segments[:12]]  # one readable line, not 100 labels
        if len(self.segments) > 12:
            listed.append(f"... {len(self.segments) - 12} more")
        raise InputError(f"no segment {key!r} (segments: {', '.join(listed) or 'none'})")

    def mask(self, key: int | str | Segment) -> NDArray[np.bool_]:
        """Boolean mask ``(ni, nj, nk)`` of one segment."""
        s = key if isinstance(key, Segment) else self.segment(key)
        return self.layers[s.layer] == s.value

    def voxel_count(self, key: int | str | Segment) -> int:
        """Number of voxels in a segment."""
        return int(np.count_nonzero(self.mask(key)))

    def volume_mm3(self, key: int | str | Segment) -> float:
        """Voxel-count volume of a segment in mm^3."""
        return self.voxel_count(key) * self.geometry.voxel_volume_mm3

    def to_single_layer(self) -> NDArray[Any]:
        """Flatten to one array (later segments win where layers overlap); values unchanged if unique."""
        values = [s.value for s in self.segments]
        out = np.zeros(self.shape, dtype=_label_dtype(max(values, default=0)))
        if len(set(values)) != len(values):
            raise InputError("segments in different layers share a value; cannot flatten without relabelling")
        for s in self.segments:
            out[self.layers[s.layer] == s.value] = s.value
        return out

    def next_free_value(self, layer: int = 0) -> int:
        """Smallest unused label value in ``layer``."""
        used = {s.value for s in self.segments if s.layer == layer}
        v = 1
        while v in used:
            v += 1
        return v

    # ----------------------------------------------------- raw table changes
    # (used by commands; they bump ``revision``)
    def _set_segments(self, segments: list[Segment]) -> None:
        self.segments = list(segments)
        self.revision += 1

    def _ensure_layer_dtype(self, layer: int, value: int) -> None:
        if value > np.iinfo(self.layers[layer].dtype).max:
            self.layers[layer] = self.layers[layer].astype(np.uint16)

    def with_segment_renamed(self, old: str, new: str) -> list[Segment]:
        """Segment table with one name changed (helper for commands)."""
        return [replace(s, name=new) if s.name == old else s for s in self.segments]

    def table(self) -> list[dict[str, Any]]:
        """The segment table as JSON-ready dicts."""
        return [s.to_dict() for s in self.segments]
