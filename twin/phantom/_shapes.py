"""Implicit-shape primitives evaluated on an axis-aligned grid or on points.

Frame: all coordinates are millimetres in the phantom's *local* frame, which is
patient LPS translated so that the torso centre is at the origin (x to patient
left, y posterior, z superior). Functions take broadcastable coordinate arrays
``x, y, z`` (e.g. ``(ni, 1, 1)``, ``(1, nj, 1)``, ``(1, 1, nk)`` for a grid, or
three ``(n,)`` arrays for points) and return float32 "field" values that are
negative inside a shape and approximately a signed distance in mm near its
surface.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

F32 = np.float32
Array = NDArray[np.float32]


@dataclass(frozen=True)
class AxisGrid:
    """Voxel-centre coordinates of an axis-aligned grid in the local frame (mm).

    Parameters
    ----------
    x, y, z : ndarray
        1-D coordinates (mm) of the voxel centres along i, j, k (increasing).
    """

    x: NDArray[np.float64]
    y: NDArray[np.float64]
    z: NDArray[np.float64]

    @property
    def shape(self) -> tuple[int, int, int]:
        """Voxels along i, j, k."""
        return (self.x.size, self.y.size, self.z.size)

    @property
    def spacing(self) -> NDArray[np.float64]:
        """Voxel size (mm) along i, j, k."""
        return np.array([_step(self.x), _step(self.y), _step(self.z)])

    def axes(self) -> tuple[Array, Array, Array]:
        """Broadcastable float32 coordinate arrays ``(ni,1,1)``, ``(1,nj,1)``, ``(1,1,nk)``."""
        return (
            self.x.astype(F32)[:, None, None],
            self.y.astype(F32)[None, :, None],
            self.z.astype(F32)[None, None, :],
        )

    def index_box(self, lo: ArrayLike, hi: ArrayLike) -> tuple[slice, slice, slice] | None:
        """Index slices covering the mm box ``[lo, hi]`` (clipped), or ``None`` if outside."""
        lo = np.asarray(lo, float)
        hi = np.asarray(hi, float)
        out = []
        for axis, a, b in zip((self.x, self.y, self.z), lo, hi):
            i0 = int(np.searchsorted(axis, a, side="left"))
            i1 = int(np.searchsorted(axis, b, side="right"))
            if i1 <= i0:
                return None
            out.append(slice(i0, i1))
        return (out[0], out[1], out[2])


def _step(axis: NDArray[np.float64]) -> float:
    return float(axis[1] - axis[0]) if axis.size > 1 else 1.0


def ellipsoid(x: ArrayLike, y: ArrayLike, z: ArrayLike, centre: Sequence[float], semi_axes: Sequence[float],
              rotation: NDArray[np.float64] | None = None) -> Array:
    """Approximate signed distance (mm) to an ellipsoid.

    Parameters
    ----------
    centre : (3,) mm
    semi_axes : (3,) mm
        Along the local axes of the ellipsoid.
    rotation : (3, 3), optional
        Columns are the ellipsoid's axes in the frame (default: identity).
    """
    dx = np.asarray(x, F32) - F32(centre[0])
    dy = np.asarray(y, F32) - F32(centre[1])
    dz = np.asarray(z, F32) - F32(centre[2])
    if rotation is not None:
        r = np.asarray(rotation, float)
        u = F32(r[0, 0]) * dx + F32(r[1, 0]) * dy + F32(r[2, 0]) * dz
        v = F32(r[0, 1]) * dx + F32(r[1, 1]) * dy + F32(r[2, 1]) * dz
        w = F32(r[0, 2]) * dx + F32(r[1, 2]) * dy + F32(r[2, 2]) * dz
        dx, dy, dz = u, v, w
    a, b, c = (F32(s) for s in semi_axes)
    q = np.sqrt((dx / a) ** 2 + (dy / b) ** 2 + (dz / c) ** 2)
    return ((q - F32(1.0)) * min(a, b, c)).astype(F32, copy=False)


def smooth_union(a: ArrayLike, b: ArrayLike, k: float) -> Array:
    """Polynomial smooth minimum of two fields with blend radius ``k`` mm."""
    a = np.asarray(a, F32)
    b = np.asarray(b, F32)
    h = np.clip(F32(0.5) + F32(0.5 / k) * (b - a), 0.0, 1.0).astype(F32)
    return (b * (F32(1.0) - h) + a * h - F32(k) * h * (F32(1.0) - h)).astype(F32, copy=False)


def rotation_z(angle_rad: float) -> NDArray[np.float64]:
    """Rotation matrix about the z (superior) axis."""
    c, s = np.cos(angle_rad), np.sin(angle_rad)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


def rotation_x(angle_rad: float) -> NDArray[np.float64]:
    """Rotation matrix about the x (left) axis."""
    c, s = np.cos(angle_rad), np.sin(angle_rad)
    return np.array([[1.0, 0.0, 0.0], [0.0, c, -s], [0.0, s, c]])


def rotation_y(angle_rad: float) -> NDArray[np.float64]:
    """Rotation matrix about the y (posterior) axis."""
    c, s = np.cos(angle_rad), np.sin(angle_rad)
    return np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])


@dataclass(frozen=True)
class Tube:
    """A straight capsule with linearly varying radius: the unit piece of vessels and ribs.

    Parameters
    ----------
    p0, p1 : (3,) mm
        End points (local frame).
    r0, r1 : float
        Radii (mm) at ``p0`` and ``p1``.
    """

    p0: tuple[float, float, float]
    p1: tuple[float, float, float]
    r0: float
    r1: float

    def distance(self, points: NDArray[np.float64]) -> NDArray[np.float64]:
        """Signed distance-like value (mm): distance to the axis minus the local radius, ``(n,)``."""
        p0 = np.asarray(self.p0)
        d = np.asarray(self.p1) - p0
        dd = float(d @ d) or 1e-12
        t = np.clip((points - p0) @ d / dd, 0.0, 1.0)
        closest = p0 + t[:, None] * d
        return np.linalg.norm(points - closest, axis=1) - (self.r0 + t * (self.r1 - self.r0))


def polyline_tubes(points: NDArray[np.float64], radii: ArrayLike) -> list[Tube]:
    """Tubes along a polyline ``(n, 3)`` mm with radii ``(n,)`` mm at its vertices."""
    pts = np.asarray(points, float)
    rad = np.broadcast_to(np.asarray(radii, float), (len(pts),))
    return [Tube(tuple(pts[i]), tuple(pts[i + 1]), float(rad[i]), float(rad[i + 1]))  # type: ignore[arg-type]
            for i in range(len(pts) - 1)]


def paint_tubes(mask: NDArray[np.bool_], grid: AxisGrid, tubes: Sequence[Tube]) -> None:
    """Set ``mask`` True inside every tube (in place), working on each tube's bounding box only."""
    for tube in tubes:
        p0 = np.asarray(tube.p0, float)
        p1 = np.asarray(tube.p1, float)
        rmax = max(tube.r0, tube.r1)
        box = grid.index_box(np.minimum(p0, p1) - rmax, np.maximum(p0, p1) + rmax)
        if box is None:
            continue
        x = grid.x[box[0]][:, None, None]
        y = grid.y[box[1]][None, :, None]
        z = grid.z[box[2]][None, None, :]
        d = p1 - p0
        dd = float(d @ d) or 1e-12
        t = np.clip(((x - p0[0]) * d[0] + (y - p0[1]) * d[1] + (z - p0[2]) * d[2]) / dd, 0.0, 1.0)
        dist2 = (x - p0[0] - t * d[0]) ** 2 + (y - p0[1] - t * d[1]) ** 2 + (z - p0[2] - t * d[2]) ** 2
        radius = tube.r0 + t * (tube.r1 - tube.r0)
        mask[box] |= dist2 <= radius**2


def tubes_distance(points: NDArray[np.float64], tubes: Sequence[Tube]) -> NDArray[np.float64]:
    """Minimum over ``tubes`` of :meth:`Tube.distance` at ``points (n, 3)`` mm; ``+inf`` if no tubes."""
    pts = np.atleast_2d(np.asarray(points, float))
    out = np.full(len(pts), np.inf)
    for tube in tubes:
        np.minimum(out, tube.distance(pts), out=out)
    return out
