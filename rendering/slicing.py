"""Reslicing a volume along a plane in physical space (patient LPS, mm).

A slice view shows a plane through the patient. Its screen axes are two
orthonormal LPS vectors: ``col_dir`` points to the screen right, ``row_dir``
to the screen bottom. The standard planes follow the radiological convention
used by 3D Slicer and ITK-SNAP:

* axial: screen right = patient left (+L), screen down = posterior (+P), seen from the feet;
* coronal: screen right = patient left (+L), screen down = inferior (-S);
* sagittal: screen right = posterior (+P), screen down = inferior (-S) (anterior on the left).

Any other orthonormal pair (``col_dir``, ``row_dir``) is an oblique plane:
:meth:`SlicePlane.rotated` turns one about an axis through its point,
:func:`trajectory_planes` gives the planes along and across a tool path,
:func:`preset_of` / :func:`obliquity` tell which standard plane one is closest to.

When the plane is parallel to the image axes (the usual case), the slice is a
view of the voxel array at the native in-plane spacing (no interpolation, no
copy): pixels may be anisotropic and the display scales them by
``pixel_spacing_mm``. Oblique planes are sampled with trilinear (or nearest,
for labels) interpolation on an isotropic grid.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from twin.geometry import ImageGeometry

ORIENTATIONS = ("axial", "coronal", "sagittal")

_AXES: dict[str, tuple[tuple[float, float, float], tuple[float, float, float]]] = {
    # orientation: (col_dir = screen right, row_dir = screen down), LPS unit vectors
    "axial": ((1.0, 0.0, 0.0), (0.0, 1.0, 0.0)),
    "coronal": ((1.0, 0.0, 0.0), (0.0, 0.0, -1.0)),
    "sagittal": ((0.0, 1.0, 0.0), (0.0, 0.0, -1.0)),
}

_LETTERS = (("L", "R"), ("P", "A"), ("S", "I"))


@dataclass(frozen=True)
class SlicePlane:
    """An oriented plane in LPS mm.

    Parameters
    ----------
    point_lps : ndarray (3,)
        Any point on the plane (e.g. the crosshair position), mm.
    col_dir : ndarray (3,)
        Unit LPS vector pointing to the screen right.
    row_dir : ndarray (3,)
        Unit LPS vector pointing to the screen bottom (orthogonal to ``col_dir``).
    """

    point_lps: NDArray[np.float64]
    col_dir: NDArray[np.float64]
    row_dir: NDArray[np.float64]

    def __post_init__(self) -> None:
        c = np.asarray(self.col_dir, float)
        c = c / np.sqrt(float(c @ c))
        r = np.asarray(self.row_dir, float)
        r = r - c * float(r @ c)
        rr = float(r @ r)
        if not (np.isfinite(rr) and rr > 1e-18 and np.all(np.isfinite(c))):
            raise ValueError(f"a plane needs two independent directions, got {self.col_dir} and {self.row_dir}")
        r = r / np.sqrt(rr)
        object.__setattr__(self, "col_dir", c)
        object.__setattr__(self, "row_dir", r)
        object.__setattr__(self, "point_lps", np.array(self.point_lps, float).reshape(3))
        # cached: views ask for the normal hundreds of times per repaint (np.cross is slow on 3-vectors)
        n = np.array([c[1] * r[2] - c[2] * r[1], c[2] * r[0] - c[0] * r[2], c[0] * r[1] - c[1] * r[0]])
        object.__setattr__(self, "_normal", n)
        for a in (self.point_lps, c, r, n):  # frozen means frozen: views share their (cached) plane
            a.setflags(write=False)

    @property
    def normal(self) -> NDArray[np.float64]:
        """Unit normal ``col_dir x row_dir`` (scrolling direction: +1 slice moves along it)."""
        return self._normal.copy()

    @property
    def offset_mm(self) -> float:
        """Signed distance of the plane from the LPS origin along :attr:`normal`, mm."""
        return float(self.point_lps @ self.normal)

    def moved_to(self, point_lps: ArrayLike) -> SlicePlane:
        """Same orientation through another point."""
        return SlicePlane(np.asarray(point_lps, float), self.col_dir, self.row_dir)

    def rotated(self, axis_lps: ArrayLike, angle_rad: float) -> SlicePlane:
        """The plane turned by ``angle_rad`` (right-handed) about ``axis_lps`` through :attr:`point_lps`."""
        r = rotation_matrix(axis_lps, angle_rad)
        return SlicePlane(self.point_lps, r @ self.col_dir, r @ self.row_dir)

    def to_plane_coords(self, points_lps: ArrayLike) -> NDArray[np.float64]:
        """LPS points ``(n, 3)`` -> in-plane coordinates ``(n, 2)`` = (along col_dir, along row_dir), mm."""
        p = np.asarray(points_lps, float).reshape(-1, 3)
        return np.stack([p @ self.col_dir, p @ self.row_dir], axis=1)

    def from_plane_coords(self, uv_mm: ArrayLike) -> NDArray[np.float64]:
        """In-plane coordinates ``(n, 2)`` (mm) -> LPS points ``(n, 3)`` on this plane."""
        uv = np.asarray(uv_mm, float).reshape(-1, 2)
        return self.offset_mm * self.normal + uv[:, :1] * self.col_dir + uv[:, 1:] * self.row_dir

    @classmethod
    def standard(cls, orientation: str, point_lps: ArrayLike) -> SlicePlane:
        """Axial, coronal or sagittal plane through ``point_lps`` (radiological convention)."""
        if orientation not in _AXES:
            raise ValueError(f"orientation must be one of {ORIENTATIONS} or an oblique SlicePlane, got {orientation!r}")
        col, row = _AXES[orientation]
        return cls(np.asarray(point_lps, float), np.array(col), np.array(row))

    @classmethod
    def oblique(cls, point_lps: ArrayLike, normal: ArrayLike, up_hint: ArrayLike = (0.0, 0.0, 1.0)) -> SlicePlane:
        """A plane through ``point_lps`` with a given normal; screen up follows ``up_hint`` as far as possible."""
        n = np.asarray(normal, float)
        n = n / np.linalg.norm(n)
        up = np.asarray(up_hint, float)
        if abs(float(up @ n)) > 0.95:
            up = np.array([0.0, -1.0, 0.0]) if abs(n[1]) < 0.95 else np.array([0.0, 0.0, 1.0])
        down = -(up - n * float(up @ n))
        down /= np.linalg.norm(down)
        col = np.cross(down, n)  # so that col x down = n
        return cls(np.asarray(point_lps, float), col, down)


def rotation_matrix(axis_lps: ArrayLike, angle_rad: float) -> NDArray[np.float64]:
    """3x3 right-handed rotation by ``angle_rad`` about the unit vector ``axis_lps`` (Rodrigues)."""
    k = np.asarray(axis_lps, float)
    k = k / np.linalg.norm(k)
    kx = np.array([[0.0, -k[2], k[1]], [k[2], 0.0, -k[0]], [-k[1], k[0], 0.0]])
    return np.eye(3) + np.sin(angle_rad) * kx + (1.0 - np.cos(angle_rad)) * (kx @ kx)


def preset_of(plane: SlicePlane, tol_deg: float = 0.05) -> str | None:
    """``"axial"``, ``"coronal"`` or ``"sagittal"`` when the plane's screen axes are those of the preset
    (within ``tol_deg``), else None (an oblique plane)."""
    cos_tol = np.cos(np.deg2rad(tol_deg))
    for name, (col, row) in _AXES.items():
        if plane.col_dir @ np.array(col) >= cos_tol and plane.row_dir @ np.array(row) >= cos_tol:
            return name
    return None


def obliquity(plane: SlicePlane) -> tuple[str, float]:
    """The standard plane whose normal is closest to this plane's and the angle between the normals (degrees)."""
    best, best_cos = "axial", -1.0
    for name in ORIENTATIONS:
        c = abs(float(SlicePlane.standard(name, plane.point_lps).normal @ plane.normal))
        if c > best_cos:
            best, best_cos = name, c
    return best, float(np.degrees(np.arccos(np.clip(best_cos, -1.0, 1.0))))


def intersection_direction(a: SlicePlane, b: SlicePlane) -> NDArray[np.float64] | None:
    """Unit LPS direction of the line where two planes meet (None when they are parallel)."""
    d = np.cross(a.normal, b.normal)
    n = float(np.linalg.norm(d))
    return None if n < 1e-6 else d / n


def trajectory_planes(entry_lps: ArrayLike, target_lps: ArrayLike,
                      col_hint: ArrayLike = (1.0, 0.0, 0.0)) -> dict[str, SlicePlane]:
    """Planes along and across a straight tool path (e.g. a planned needle), through its target.

    Returns
    -------
    dict
        ``"along"``: contains the path, which runs down the screen's vertical centre line (entry at the top,
        target below); screen right is ``col_hint`` made perpendicular to the path (patient left by default,
        so a roughly cranio-caudal path looks like a coronal view; a path along the hint falls back to P).
        ``"along_ortho"``: the other plane containing the path (rotated 90 degrees about it).
        ``"across"``: perpendicular to the path at the target (the "probe's eye" plane), seen from the entry.
    """
    e = np.asarray(entry_lps, float).reshape(3)
    t = np.asarray(target_lps, float).reshape(3)
    d = t - e
    length = float(np.linalg.norm(d))
    if length < 1e-9:
        raise ValueError("entry and target are the same point")
    d /= length
    hint = np.asarray(col_hint, float)
    col = hint - d * float(hint @ d)
    if np.linalg.norm(col) < 0.2 * np.linalg.norm(hint):
        alt = np.array([0.0, 1.0, 0.0]) if abs(d[1]) < 0.9 else np.array([0.0, 0.0, -1.0])
        col = alt - d * float(alt @ d)
    col /= np.linalg.norm(col)
    along = SlicePlane(t, col, d)
    ortho_col = np.cross(d, col)  # perpendicular to the path and to the first plane
    if ortho_col @ np.array([0.0, 1.0, 0.0]) < 0:  # keep screen right towards posterior when possible
        ortho_col = -ortho_col
    along_ortho = SlicePlane(t, ortho_col, d)
    across = SlicePlane(t, col, np.cross(d, col))  # normal = col x (d x col) = d: looking down the path
    return {"along": along, "along_ortho": along_ortho, "across": across}


def dominant_letter(vec_lps: ArrayLike) -> str:
    """The single patient direction letter closest to a vector (as slice views label oblique edges)."""
    v = np.asarray(vec_lps, float)
    ax = int(np.argmax(np.abs(v)))
    return _LETTERS[ax][0] if v[ax] >= 0 else _LETTERS[ax][1]


def direction_letter(vec_lps: ArrayLike) -> str:
    """Patient direction letter(s) of a vector: ``L/R, P/A, S/I``; two letters when oblique (e.g. ``"LA"``)."""
    v = np.asarray(vec_lps, float)
    order = np.argsort(-np.abs(v))
    out = ""
    for ax in order[:2]:
        if abs(v[ax]) < 0.3 * abs(v[order[0]]) or abs(v[ax]) < 1e-6:
            break
        out += _LETTERS[ax][0] if v[ax] > 0 else _LETTERS[ax][1]
    return out


@dataclass(frozen=True)
class SliceImage:
    """A 2-D resampled slice with its placement in LPS.

    Attributes
    ----------
    pixels : ndarray (rows, cols)
        Sampled values (a view of the volume when the plane is axis-aligned).
    origin_lps : ndarray (3,)
        LPS mm of the centre of pixel ``[0, 0]`` (top-left on screen).
    col_dir, row_dir : ndarray (3,)
        Unit LPS vectors of increasing column (screen right) and row (screen down).
    pixel_spacing_mm : tuple (row_spacing, col_spacing)
        Pixel size in mm.
    inside : bool
        False when the plane misses the volume (pixels are then all ``fill``).
    """

    pixels: NDArray[Any]
    origin_lps: NDArray[np.float64]
    col_dir: NDArray[np.float64]
    row_dir: NDArray[np.float64]
    pixel_spacing_mm: tuple[float, float]
    inside: bool = True

    @property
    def shape(self) -> tuple[int, int]:
        """(rows, cols)."""
        return int(self.pixels.shape[0]), int(self.pixels.shape[1])

    def pixel_to_lps(self, rc: ArrayLike) -> NDArray[np.float64]:
        """Continuous pixel coordinates ``(n, 2)`` as (row, col) -> LPS mm ``(n, 3)``."""
        rc = np.asarray(rc, float).reshape(-1, 2)
        dr, dc = self.pixel_spacing_mm
        return self.origin_lps + rc[:, 1:] * dc * self.col_dir + rc[:, :1] * dr * self.row_dir

    def lps_to_pixel(self, points_lps: ArrayLike) -> NDArray[np.float64]:
        """LPS points ``(n, 3)`` -> continuous (row, col) ``(n, 2)`` (projected onto the plane)."""
        d = np.asarray(points_lps, float).reshape(-1, 3) - self.origin_lps
        dr, dc = self.pixel_spacing_mm
        return np.stack([d @ self.row_dir / dr, d @ self.col_dir / dc], axis=1)

    def extent_plane_mm(self) -> tuple[float, float, float, float]:
        """Pixel-edge extent in plane coordinates: ``(u0, u1, v0, v1)`` mm along (col_dir, row_dir)."""
        dr, dc = self.pixel_spacing_mm
        u0 = float(self.origin_lps @ self.col_dir) - 0.5 * dc
        v0 = float(self.origin_lps @ self.row_dir) - 0.5 * dr
        return u0, u0 + self.shape[1] * dc, v0, v0 + self.shape[0] * dr


def _axis_match(geometry: ImageGeometry, vec: NDArray[np.float64], tol: float = 1e-4) -> tuple[int, float] | None:
    """Image axis parallel to ``vec`` and the sign (+1/-1), or None."""
    dots = geometry.direction.T @ vec
    ax = int(np.argmax(np.abs(dots)))
    if abs(abs(dots[ax]) - 1.0) > tol:
        return None
    return ax, float(np.sign(dots[ax]))


def is_axis_aligned(geometry: ImageGeometry, plane: SlicePlane) -> bool:
    """Whether the plane's screen axes are image axes of ``geometry`` (then :func:`reslice` returns voxels)."""
    return all(_axis_match(geometry, v) is not None for v in (plane.col_dir, plane.row_dir, plane.normal))


def reslice(
    array: NDArray[Any],
    geometry: ImageGeometry,
    plane: SlicePlane,
    order: int = 1,
    fill: float = 0.0,
    spacing_mm: float | None = None,
    region_uv: tuple[float, float, float, float] | None = None,
) -> SliceImage:
    """Sample ``array`` (on ``geometry``) on ``plane``.

    Parameters
    ----------
    array : ndarray (ni, nj, nk)
        Voxels indexed ``[i, j, k]``.
    geometry : ImageGeometry
        Grid of ``array`` (LPS mm).
    plane : SlicePlane
        Where to cut; its point sets the slice position.
    order : int
        0 nearest (labels), 1 trilinear. Ignored on the axis-aligned fast path (nearest slice).
    fill : float
        Value outside the volume.
    spacing_mm : float, optional
        Pixel size for oblique planes (default: smallest voxel spacing). A view passes its screen pixel size
        when zoomed out, so that it never samples more pixels than it shows.
    region_uv : (u0, u1, v0, v1), optional
        Oblique planes only: sample only this part of the plane (plane coordinates, mm), e.g. the visible part
        of a zoomed-in view. Pixels stay on the same grid (step ``spacing_mm`` anchored at the plane coordinates'
        origin) whatever the region.

    Returns
    -------
    SliceImage
        Covering the whole projected volume (or ``region_uv`` of it), so that scrolling keeps the frame fixed.
    """
    cm = _axis_match(geometry, plane.col_dir)
    rm = _axis_match(geometry, plane.row_dir)
    nm = _axis_match(geometry, plane.normal)
    if cm is not None and rm is not None and nm is not None:
        return _reslice_aligned(array, geometry, plane, cm, rm, nm, fill)
    return _reslice_oblique(array, geometry, plane, order, fill, spacing_mm, region_uv)


def _reslice_aligned(
    array: NDArray[Any],
    geometry: ImageGeometry,
    plane: SlicePlane,
    cm: tuple[int, float],
    rm: tuple[int, float],
    nm: tuple[int, float],
    fill: float,
) -> SliceImage:
    cax, csign = cm
    rax, rsign = rm
    nax = nm[0]
    k = float(geometry.lps_to_index(plane.point_lps[None])[0][nax])
    ki = int(np.floor(k + 0.5))
    if abs(k - np.floor(k) - 0.5) < 1e-6:
        # exactly between two slices: take the one lower along the plane normal, whatever the storage order
        ki = int(np.floor(k)) if nm[1] > 0 else int(np.floor(k)) + 1
    n = geometry.shape
    inside = 0 <= ki < n[nax]
    index: list[Any] = [slice(None)] * 3
    index[nax] = min(max(ki, 0), n[nax] - 1)
    sl = array[tuple(index)]
    # remaining axes in increasing order; make rows = rax, cols = cax
    remaining = [a for a in range(3) if a != nax]
    if remaining.index(rax) != 0:
        sl = sl.T
    if rsign < 0:
        sl = sl[::-1, :]
    if csign < 0:
        sl = sl[:, ::-1]
    if not inside:
        sl = np.full(sl.shape, fill, dtype=array.dtype)
    corner = np.zeros(3)
    corner[nax] = ki
    corner[rax] = 0 if rsign > 0 else n[rax] - 1
    corner[cax] = 0 if csign > 0 else n[cax] - 1
    origin = geometry.index_to_lps(corner[None])[0]
    spacing = (float(geometry.spacing[rax]), float(geometry.spacing[cax]))
    return SliceImage(sl, origin, plane.col_dir, plane.row_dir, spacing, inside)


def _reslice_oblique(
    array: NDArray[Any],
    geometry: ImageGeometry,
    plane: SlicePlane,
    order: int,
    fill: float,
    spacing_mm: float | None,
    region_uv: tuple[float, float, float, float] | None = None,
) -> SliceImage:
    h = float(spacing_mm or geometry.spacing.min())
    lo, hi = _grid_box(geometry, plane, h, region_uv)
    ncols = int(round((hi[0] - lo[0]) / h)) + 1
    nrows = int(round((hi[1] - lo[1]) / h)) + 1
    origin = plane.from_plane_coords(lo[None])[0]
    grid = SliceImage(np.zeros((0, 0)), origin, plane.col_dir, plane.row_dir, (h, h))
    out = _sample_on(array, geometry, grid, (nrows, ncols), order, fill)
    inside = _plane_cuts_box(geometry, plane) and nrows > 0 and ncols > 0
    return SliceImage(out, origin, plane.col_dir, plane.row_dir, (h, h), inside)


def _grid_box(
    geometry: ImageGeometry, plane: SlicePlane, h: float, region_uv: tuple[float, float, float, float] | None
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Plane-coordinate corners (lo, hi) of the sampled pixel centres: the projected volume box on a grid of
    step ``h`` anchored at a fixed point (so scrolling and panning never shift the pixels), optionally cut
    to ``region_uv = (u0, u1, v0, v1)``."""
    corners = plane.to_plane_coords(geometry.corners_lps())
    lo = np.floor(corners.min(axis=0) / h) * h
    hi = np.ceil(corners.max(axis=0) / h) * h
    if region_uv is not None:
        u0, u1, v0, v1 = region_uv
        lo = np.maximum(lo, np.floor(np.array([u0, v0]) / h) * h)
        hi = np.minimum(hi, np.ceil(np.array([u1, v1]) / h) * h)
        hi = np.maximum(hi, lo)
    return lo, hi


def _index_steps(geometry: ImageGeometry, grid: SliceImage) -> tuple[NDArray[np.float64], ...]:
    """Continuous voxel index of pixel (0, 0) of ``grid`` and the index steps per row and per column."""
    dr, dc = grid.pixel_spacing_mm
    pts = np.stack([grid.origin_lps, grid.origin_lps + dr * grid.row_dir, grid.origin_lps + dc * grid.col_dir])
    ijk = geometry.lps_to_index(pts)
    return ijk[0], ijk[1] - ijk[0], ijk[2] - ijk[0]


def _sample_on(array: NDArray[Any], geometry: ImageGeometry, grid: SliceImage, shape: tuple[int, int],
               order: int, fill: float) -> NDArray[Any]:
    from rendering._plane_sampler import sample_plane_grid

    ijk0, d_row, d_col = _index_steps(geometry, grid)
    return sample_plane_grid(array, ijk0, d_row, d_col, shape, order, fill)


def _plane_cuts_box(geometry: ImageGeometry, plane: SlicePlane) -> bool:
    """Whether the plane passes through the volume (the voxel-centre box widened by half a voxel)."""
    c = geometry.corners_lps()
    centre = c.mean(axis=0)
    reach = float(np.abs((c - centre) @ plane.normal).max())
    reach += float(np.abs(plane.normal @ geometry.direction) @ (0.5 * geometry.spacing))
    return abs(float((plane.point_lps - centre) @ plane.normal)) <= reach + 1e-9


def resample_like(
    array: NDArray[Any], geometry: ImageGeometry, target: SliceImage, order: int = 0, fill: float = 0
) -> NDArray[Any]:
    """Sample ``array`` on the pixel grid of another slice (e.g. a label map on a different grid).

    Nearest (``order=0``, keeps the dtype) or trilinear (``order=1``, float32); ``fill`` outside the volume.
    """
    return _sample_on(array, geometry, target, target.shape, order, fill)


def plane_box_polygon(geometry: ImageGeometry, plane: SlicePlane) -> NDArray[np.float64]:
    """Where a plane cuts the image's box (voxel edges): the polygon's corners in LPS mm, ``(n, 3)``.

    ``n`` is 3 to 6, in order around the polygon (counter-clockwise seen from the normal's tip),
    or 0 when the plane misses the volume. Used to show the slice planes in a 3-D view.
    """
    n = np.asarray(geometry.shape, float)
    lo, hi = np.full(3, -0.5), n - 0.5
    corners_ijk = np.array([[(lo, hi)[a][0], (lo, hi)[b][1], (lo, hi)[c][2]]
                            for a in (0, 1) for b in (0, 1) for c in (0, 1)])
    corners = geometry.index_to_lps(corners_ijk)
    d = (corners - plane.point_lps) @ plane.normal
    pts = []
    for a in range(8):
        for b in range(a + 1, 8):
            if bin(a ^ b).count("1") != 1:  # box edges join corners differing in one index bit
                continue
            if abs(d[a]) < 1e-9:
                pts.append(corners[a])
            elif d[a] * d[b] < 0:
                t = d[a] / (d[a] - d[b])
                pts.append(corners[a] + t * (corners[b] - corners[a]))
    if len(pts) < 3:
        return np.zeros((0, 3))
    p = np.unique(np.round(np.array(pts), 9), axis=0)
    if len(p) < 3:
        return np.zeros((0, 3))
    uv = plane.to_plane_coords(p)
    ang = np.arctan2(uv[:, 1] - uv[:, 1].mean(), uv[:, 0] - uv[:, 0].mean())
    return p[np.argsort(ang)]


def slice_range_mm(geometry: ImageGeometry, plane: SlicePlane) -> tuple[float, float, float]:
    """(min offset, max offset, step) of the plane along its normal that still cuts the volume, mm."""
    offs = geometry.corners_lps() @ plane.normal
    m = _axis_match(geometry, plane.normal)
    step = float(geometry.spacing[m[0]]) if m is not None else float(geometry.spacing.min())
    return float(offs.min()), float(offs.max()), step
