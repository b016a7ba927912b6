"""Manual editing masks: brush (sphere or in-slice disc), scissors, 3-D scissors (frame LPS, mm).

:func:`projected_polygon_mask` is the 3-D view's scissors: voxels whose centre projects,
through a camera's homogeneous world -> display matrix, inside a lasso drawn on the view.

These functions only compute boolean masks on the label map's grid; apply them with
:func:`segmentation.commands.apply_mask` (paint / erase one segment) or
:func:`segmentation.commands.erase_everywhere` (scissors on all segments), so that a
brush stroke or a cut is one undo step.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from segmentation._common import Mask
from twin.errors import InputError
from twin.geometry import ImageGeometry
from twin.progress import Progress, ensure_progress


def _stroke_samples(points_lps: NDArray[np.float64], step_mm: float) -> NDArray[np.float64]:
    """Points along the polyline, at most ``step_mm`` apart."""
    if len(points_lps) < 2:
        return points_lps
    out = [points_lps[:1]]
    for a, b in zip(points_lps[:-1], points_lps[1:]):
        n = max(int(np.ceil(np.linalg.norm(b - a) / step_mm)), 1)
        t = np.linspace(0.0, 1.0, n + 1)[1:, None]
        out.append(a + t * (b - a))
    return np.vstack(out)


def brush_mask(
    geometry: ImageGeometry,
    points_lps: ArrayLike,
    radius_mm: float,
    shape: str = "sphere",
    slice_axis: int = 2,
) -> Mask:
    """Voxels painted by a brush of ``radius_mm`` dragged through ``points_lps``.

    Parameters
    ----------
    geometry : ImageGeometry
        Grid of the label map.
    points_lps : array_like, (n, 3) or (3,)
        Brush centres in LPS mm (consecutive points are joined: a stroke).
    radius_mm : float
        Brush radius in mm (a voxel is painted when its centre is within the radius).
    shape : {"sphere", "disc"}
        ``sphere``: 3-D ball; ``disc``: only in the slice (normal to voxel axis ``slice_axis``)
        containing each centre, as painting on a 2-D view.
    slice_axis : int
        0, 1 or 2 (i, j, k) for ``disc``.

    Returns
    -------
    ndarray of bool, (ni, nj, nk)
        May be empty if the stroke lies outside the image.
    """
    if radius_mm <= 0:
        raise InputError("brush radius must be positive")
    if shape not in ("sphere", "disc"):
        raise InputError(f"unknown brush shape {shape!r} (sphere or disc)")
    if slice_axis not in (0, 1, 2):
        raise InputError("slice_axis must be 0, 1 or 2")
    pts = np.asarray(points_lps, dtype=float).reshape(-1, 3)
    out = np.zeros(geometry.shape, bool)
    if len(pts) == 0:
        return out
    sp = geometry.spacing
    samples = _stroke_samples(pts, max(0.5 * float(sp.min()), 0.25 * radius_mm))
    centres = geometry.lps_to_index(samples)
    r_vox = np.ceil(radius_mm / sp).astype(int)
    if shape == "disc":
        r_vox[slice_axis] = 0
    lin = geometry.direction * sp[None, :]
    shape_arr = np.array(geometry.shape)
    for c in centres:
        if shape == "disc":
            c = c.copy()
            c[slice_axis] = np.rint(c[slice_axis])
        lo = np.maximum(np.floor(c).astype(int) - r_vox, 0)
        hi = np.minimum(np.ceil(c).astype(int) + r_vox + 1, shape_arr)
        if np.any(hi <= lo):
            continue
        grid = np.stack(np.meshgrid(*[np.arange(a, b) for a, b in zip(lo, hi)], indexing="ij"), -1)
        d_mm = (grid - c) @ lin.T
        inside = np.einsum("...i,...i->...", d_mm, d_mm) <= radius_mm * radius_mm + 1e-9
        out[lo[0]:hi[0], lo[1]:hi[1], lo[2]:hi[2]] |= inside
    return out


def scissors_mask(
    geometry: ImageGeometry,
    polygon_lps: ArrayLike,
    direction_lps: ArrayLike,
    inside: bool = True,
    depth_mm: float | None = None,
) -> Mask:
    """Voxels inside (or outside) a polygon extruded along a view direction.

    Parameters
    ----------
    polygon_lps : array_like, (n >= 3, 3)
        Polygon vertices in LPS mm, as drawn on a view (need not be exactly planar).
    direction_lps : array_like, (3,)
        Viewing direction (extrusion axis) in LPS; normalised here.
    inside : bool
        True: the voxels inside the extruded polygon; False: those outside it.
    depth_mm : float, optional
        Limit the extrusion to a slab of ``depth_mm`` total thickness centred on the
        polygon's mean plane (default: through the whole image).

    Returns
    -------
    ndarray of bool, (ni, nj, nk)
    """
    from skimage.measure import points_in_poly

    poly = np.asarray(polygon_lps, dtype=float).reshape(-1, 3)
    if len(poly) < 3:
        raise InputError("scissors need a polygon of at least 3 points")
    d = np.asarray(direction_lps, dtype=float).reshape(3)
    norm = np.linalg.norm(d)
    if not np.isfinite(norm) or norm == 0:
        raise InputError("scissors direction must be a non-zero vector")
    d = d / norm
    helper = np.eye(3)[int(np.argmin(np.abs(d)))]
    u = np.cross(d, helper)
    u /= np.linalg.norm(u)
    v = np.cross(d, u)
    poly2 = np.stack([poly @ u, poly @ v], -1)
    centre_depth = float(np.mean(poly @ d))
    lo2, hi2 = poly2.min(0), poly2.max(0)
    out = np.zeros(geometry.shape, bool)
    m = geometry.ijk_to_lps
    ni, nj, nk = geometry.shape
    ii, jj = np.meshgrid(np.arange(ni), np.arange(nj), indexing="ij")
    base = np.stack([ii.ravel(), jj.ravel(), np.zeros(ii.size)], -1) @ m[:3, :3].T + m[:3, 3]
    step_k = m[:3, 2]
    for k in range(nk):
        pts = base + k * step_k
        a = pts @ u
        b = pts @ v
        cand = (a >= lo2[0]) & (a <= hi2[0]) & (b >= lo2[1]) & (b <= hi2[1])
        if depth_mm is not None:
            cand &= np.abs(pts @ d - centre_depth) <= 0.5 * depth_mm
        if not cand.any():
            continue
        sel = np.zeros(ii.size, bool)
        sel[cand] = points_in_poly(np.stack([a[cand], b[cand]], -1), poly2)
        out[:, :, k] = sel.reshape(ni, nj)
    return out if inside else ~out


# ---------------------------------------------------------------------------------------------
# 3-D scissors: voxels whose projection through a camera falls inside a lasso drawn on the view
# ---------------------------------------------------------------------------------------------

_BLOCK = 64


class _Lasso:
    """An even-odd polygon in display pixels, prepared for fast exact point tests.

    The polygon's bounding box is cut into 1-pixel cells: cells no edge passes near are wholly
    inside or outside (their centre is classified once by a scanline), the others ("boundary")
    get the exact even-odd crossing test, done against only the edges spanning the point's
    1-pixel row band (edges bucketed by row, as a CSR table).
    """

    def __init__(self, polygon_px: NDArray[np.float64]) -> None:
        p = polygon_px
        self.a = p
        self.b = np.roll(p, -1, axis=0)
        keep = self.a[:, 1] != self.b[:, 1]  # horizontal edges never cross a horizontal ray
        self.a, self.b = self.a[keep], self.b[keep]
        self.x0 = float(np.floor(p[:, 0].min())) - 1.0
        self.y0 = float(np.floor(p[:, 1].min())) - 1.0
        self.nx = int(np.ceil(p[:, 0].max() - self.x0)) + 2
        self.ny = int(np.ceil(p[:, 1].max() - self.y0)) + 2
        # edges of each row band r = floor(y - y0)
        lo = np.floor(np.minimum(self.a[:, 1], self.b[:, 1]) - self.y0).astype(np.int64)
        hi = np.floor(np.maximum(self.a[:, 1], self.b[:, 1]) - self.y0).astype(np.int64)
        span = hi - lo + 1
        edge_ids = np.repeat(np.arange(len(lo)), span)
        rows = np.repeat(lo, span) + (np.arange(span.sum()) - np.repeat(np.cumsum(span) - span, span))
        order = np.argsort(rows, kind="stable")
        self.band_edges = edge_ids[order]
        self.band_start = np.searchsorted(rows[order], np.arange(self.ny + 1))
        self.cells = self._classify_cells(polygon_px)

    def _crossings_right(
        self, x: NDArray[np.float64], y: NDArray[np.float64], e: NDArray[np.int64]
    ) -> NDArray[np.bool_]:
        """Whether edge ``e`` crosses the ray from ``(x, y)`` towards +x (half-open in y: pnpoly)."""
        ax, ay = self.a[e, 0], self.a[e, 1]
        bx, by = self.b[e, 0], self.b[e, 1]
        straddle = (ay > y) != (by > y)
        with np.errstate(divide="ignore", invalid="ignore"):
            xc = ax + (y - ay) * (bx - ax) / (by - ay)
        return straddle & (x < xc)

    def contains_exact(self, x: NDArray[np.float64], y: NDArray[np.float64]) -> NDArray[np.bool_]:
        """Even-odd test of points (already known to lie inside the cell grid)."""
        r = np.floor(y - self.y0).astype(np.int64)
        start, stop = self.band_start[r], self.band_start[r + 1]
        count = stop - start
        total = int(count.sum())
        if total == 0:
            return np.zeros(len(x), bool)
        pt = np.repeat(np.arange(len(x)), count)
        offs = np.arange(total) - np.repeat(np.cumsum(count) - count, count)
        e = self.band_edges[np.repeat(start, count) + offs]
        hits = self._crossings_right(x[pt], y[pt], e)
        return (np.bincount(pt, weights=hits, minlength=len(x)).astype(np.int64) % 2) == 1

    def _classify_cells(self, p: NDArray[np.float64]) -> NDArray[np.uint8]:
        """0 outside, 1 inside, 2 boundary, for every cell ``[row, col]``."""
        yc = self.y0 + np.arange(self.ny) + 0.5
        xc = self.x0 + np.arange(self.nx) + 0.5
        gy, gx = np.meshgrid(yc, xc, indexing="ij")
        cells = self.contains_exact(gx.ravel(), gy.ravel()).reshape(self.ny, self.nx).astype(np.uint8)
        # cells an edge passes through (samples every 0.5 px), grown by one cell: exact test there
        seg = np.linalg.norm(np.roll(p, -1, axis=0) - p, axis=1)
        n = np.maximum(np.ceil(seg / 0.5).astype(np.int64), 1)
        t = np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n)
        frac = (t / np.repeat(n, n))[:, None]
        a = np.repeat(p, n, axis=0)
        b = np.repeat(np.roll(p, -1, axis=0), n, axis=0)
        s = np.vstack([a + frac * (b - a), p])
        ci = np.floor(s[:, 0] - self.x0).astype(np.int64)
        ri = np.floor(s[:, 1] - self.y0).astype(np.int64)
        edge = np.zeros((self.ny + 2, self.nx + 2), bool)
        for dr in (0, 1, 2):
            for dc in (0, 1, 2):
                edge[ri + dr, ci + dc] = True
        cells[edge[1:-1, 1:-1]] = 2
        return cells

    def contains(self, x: NDArray[np.float64], y: NDArray[np.float64]) -> NDArray[np.bool_]:
        """Even-odd inside test of points ``(x, y)`` in pixels (NaN = outside)."""
        out = np.zeros(x.shape, bool)
        with np.errstate(invalid="ignore"):
            cx = np.floor(x - self.x0)
            cy = np.floor(y - self.y0)
            ok = (cx >= 0) & (cx < self.nx) & (cy >= 0) & (cy < self.ny)
        idx = np.flatnonzero(ok)
        if len(idx) == 0:
            return out
        cls = self.cells[cy[idx].astype(np.int64), cx[idx].astype(np.int64)]
        out[idx[cls == 1]] = True
        b = idx[cls == 2]
        if len(b):
            out[b] = self.contains_exact(x[b], y[b])
        return out


def _clip_to_rect(poly: NDArray[np.float64], w: float, h: float) -> NDArray[np.float64]:
    """Sutherland-Hodgman clip of a polygon to ``[0, w] x [0, h]``."""
    out = poly
    for axis, bound, keep_below in ((0, 0.0, False), (0, w, True), (1, 0.0, False), (1, h, True)):
        if len(out) == 0:
            break
        src, out_pts = out, []
        for i in range(len(src)):
            cur, prev = src[i], src[i - 1]
            cur_in = cur[axis] <= bound if keep_below else cur[axis] >= bound
            prev_in = prev[axis] <= bound if keep_below else prev[axis] >= bound
            if cur_in != prev_in:
                t = (bound - prev[axis]) / (cur[axis] - prev[axis])
                out_pts.append(prev + t * (cur - prev))
            if cur_in:
                out_pts.append(cur)
        out = np.array(out_pts, float).reshape(-1, 2)
    return out


def projected_polygon_mask(
    geometry: ImageGeometry,
    world_to_display: ArrayLike,
    polygon_px: ArrayLike,
    viewport_px: tuple[float, float] | None = None,
    *,
    inside: bool = True,
    slab: tuple[ArrayLike, ArrayLike, float] | None = None,
    bbox: tuple[slice, slice, slice] | None = None,
    progress: Progress | None = None,
) -> Mask:
    """Voxels whose centre projects inside (or outside) a polygon drawn on a 3-D view (3-D scissors).

    The polygon is extruded along the camera rays through the whole depth: a frustum for a
    perspective camera, a prism for a parallel one. Voxel centres (LPS mm) are projected with the
    homogeneous matrix; points behind a perspective camera (``w <= 0``) are never inside.

    Parameters
    ----------
    geometry : ImageGeometry
        Grid of the label map.
    world_to_display : array_like, (4, 4)
        Homogeneous LPS mm -> display pixels: ``q = M @ [x, y, z, 1]``, pixel ``(q0/q3, q1/q3)``
        (e.g. :meth:`app.gui.view3d.View3D.world_to_display`).
    polygon_px : array_like, (n >= 3, 2)
        Lasso vertices in the same display pixels; closed implicitly; even-odd rule when it
        crosses itself.
    viewport_px : (w, h), optional
        When given, the polygon is clipped to ``[0, w] x [0, h]``: nothing off-screen is inside.
    inside : bool
        True: voxels inside the extruded polygon; False: voxels outside it (and those behind the camera).
    slab : (centre_lps (3,), direction (3,), thickness_mm), optional
        Only voxels within ``thickness_mm / 2`` of the plane through ``centre_lps`` normal to
        ``direction`` (e.g. the crosshair and the view direction) can be selected, for either ``inside``.
    bbox : tuple of 3 slices, optional
        Only voxels of this index box are considered (e.g. :func:`twin.labelmap.mask_bbox` of the
        segment being cut); the result is False elsewhere.
    progress : Progress, optional

    Returns
    -------
    ndarray of bool, (ni, nj, nk)
    """
    m = np.asarray(world_to_display, dtype=float)
    if m.shape != (4, 4) or not np.all(np.isfinite(m)):
        raise InputError("world_to_display must be a finite 4x4 matrix")
    poly = np.asarray(polygon_px, dtype=float).reshape(-1, 2)
    if len(poly) < 3 or not np.all(np.isfinite(poly)):
        raise InputError("the lasso needs at least 3 finite points")
    if viewport_px is not None:
        poly = _clip_to_rect(poly, float(viewport_px[0]), float(viewport_px[1]))
    prog = ensure_progress(progress)
    out = np.zeros(geometry.shape, bool)
    box = bbox if bbox is not None else tuple(slice(0, n) for n in geometry.shape)
    box = tuple(slice(*s.indices(n)[:2]) for s, n in zip(box, geometry.shape))
    if any(s.stop <= s.start for s in box):
        return out
    lasso = _Lasso(poly) if len(poly) >= 3 else None
    a = m @ geometry.ijk_to_lps  # ijk -> homogeneous display
    slab_row = None
    if slab is not None:
        centre = np.asarray(slab[0], float).reshape(3)
        d = np.asarray(slab[1], float).reshape(3)
        nrm = np.linalg.norm(d)
        if not np.isfinite(nrm) or nrm == 0 or not float(slab[2]) > 0:
            raise InputError("slab needs a non-zero direction and a positive thickness")
        d = d / nrm
        slab_row = (d @ geometry.ijk_to_lps[:3, :], float(d @ centre), 0.5 * float(slab[2]))
    blocks = [(i, j, k) for i in range(box[0].start, box[0].stop, _BLOCK)
              for j in range(box[1].start, box[1].stop, _BLOCK)
              for k in range(box[2].start, box[2].stop, _BLOCK)]
    stops = tuple(b.stop for b in box)
    for n, (i0, j0, k0) in enumerate(blocks):
        if n % 16 == 0:
            prog.raise_if_cancelled()
            prog.update(n / len(blocks), "scissors")
        i1, j1, k1 = (min(v + _BLOCK, e) for v, e in zip((i0, j0, k0), stops))
        out[i0:i1, j0:j1, k0:k1] = _block_selection(a, lasso, inside, slab_row, (i0, j0, k0), (i1, j1, k1))
    prog.update(1.0, "scissors")
    return out


def _block_selection(
    a: NDArray[np.float64],
    lasso: _Lasso | None,
    inside: bool,
    slab_row: tuple[NDArray[np.float64], float, float] | None,
    lo: tuple[int, int, int],
    hi: tuple[int, int, int],
) -> NDArray[np.bool_] | bool:
    """Selection of the voxel block ``[lo, hi)`` (or a constant when the whole block is decided at once).

    A block whose 8 corners are in front of the camera projects inside the convex hull of their
    projections (perspective maps segments to segments there): when that box misses the lasso's
    bounding box, no voxel of the block is inside. A block entirely outside the slab is unselected.
    """
    corners = np.array([[x, y, z, 1.0] for x in (lo[0], hi[0] - 1) for y in (lo[1], hi[1] - 1)
                        for z in (lo[2], hi[2] - 1)])
    if slab_row is not None:
        r, c, half = slab_row
        dc = corners @ r - c
        if np.all(dc > half) or np.all(dc < -half):
            return False
    eps = 1e-9 * float(np.abs(a[3]).max())
    if lasso is None:
        if slab_row is None and inside:
            return False
    else:
        qc = corners @ a.T
        if slab_row is None and np.all(qc[:, 3] > eps):
            xc, yc = qc[:, 0] / qc[:, 3], qc[:, 1] / qc[:, 3]
            if (xc.max() < lasso.x0 or xc.min() > lasso.x0 + lasso.nx
                    or yc.max() < lasso.y0 or yc.min() > lasso.y0 + lasso.ny):
                return not inside
    ii = np.arange(lo[0], hi[0], dtype=float)[:, None, None]
    jj = np.arange(lo[1], hi[1], dtype=float)[None, :, None]
    kk = np.arange(lo[2], hi[2], dtype=float)[None, None, :]
    shape = (hi[0] - lo[0], hi[1] - lo[1], hi[2] - lo[2])
    if lasso is None:
        sel = np.zeros(shape, bool)
    else:
        w = a[3, 0] * ii + a[3, 1] * jj + (a[3, 2] * kk + a[3, 3])
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            x = (a[0, 0] * ii + a[0, 1] * jj + (a[0, 2] * kk + a[0, 3])) / w
            y = (a[1, 0] * ii + a[1, 1] * jj + (a[1, 2] * kk + a[1, 3])) / w
        sel = lasso.contains(x.ravel(), y.ravel()).reshape(shape) & (w > eps)
    if not inside:
        sel = ~sel
    if slab_row is not None:
        r, c, half = slab_row
        depth = r[0] * ii + r[1] * jj + (r[2] * kk + r[3])
        sel &= np.abs(depth - c) <= half
    return sel
