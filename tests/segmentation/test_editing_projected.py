"""3-D scissors (:func:`segmentation.editing.projected_polygon_mask`) with analytic cameras.

Parallel and perspective cameras are written down by hand as homogeneous world -> pixel
matrices; expected selections are counted with the camera formulas directly (not with the
matrix) or by hand. Frame: LPS mm.
"""

from __future__ import annotations

import numpy as np
import pytest
from skimage.measure import points_in_poly

from segmentation.editing import projected_polygon_mask
from twin.errors import InputError
from twin.geometry import ImageGeometry
from twin.labelmap import mask_bbox

S, CX, CY = 4.0, 300.0, 200.0  # px per mm, image centre


def anterior_parallel() -> np.ndarray:
    """Anterior parallel view: screen x = CX + S * L, screen y (down) = CY - S * S_axis."""
    return np.array([[S, 0, 0, CX], [0, 0, -S, CY], [0, 1, 0, 0], [0, 0, 0, 1]], float)


def anterior_perspective(cam_y: float, f: float = 500.0) -> np.ndarray:
    """Pinhole at (0, cam_y, 0) looking towards +P, focal ``f`` px: x = CX + f L / d, d = P - cam_y."""
    return np.array([[f, CX, 0, -CX * cam_y], [0, CY, -f, -CY * cam_y], [0, 1, 0, -cam_y], [0, 1, 0, -cam_y]], float)


def rect(x0, x1, y0, y1):
    return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], float)


@pytest.fixture
def box():
    """A 20^3 voxel cube (1 mm voxels) at i, j, k in [10, 30) of a 40^3 grid with origin 0."""
    g = ImageGeometry((40, 40, 40))
    seg = np.zeros(g.shape, bool)
    seg[10:30, 10:30, 10:30] = True
    return g, seg


def test_parallel_rectangle_exact_count(box):
    g, seg = box
    # L in (14.5, 20.5) -> i = 15..20 (6 columns); S in (9.5, 12.5) -> k = 10..12 (3 rows); through all 20 j
    poly = rect(CX + S * 14.5, CX + S * 20.5, CY - S * 12.5, CY - S * 9.5)
    m = projected_polygon_mask(g, anterior_parallel(), poly) & seg
    assert m.sum() == 6 * 3 * 20
    assert m[15:21, 10:30, 10:13].all()
    out = projected_polygon_mask(g, anterior_parallel(), poly, inside=False) & seg
    assert out.sum() == 20 ** 3 - 360 and not (out & m).any()


def test_perspective_frustum_exact_count(box):
    g, seg = box
    cam_y, f = -100.0, 500.0
    # a square of half-width 60.3 px around the centre: |L| < 0.1206 * (P + 100) and |S| < same
    poly = rect(CX - 60.3, CX + 60.3, CY - 60.3, CY + 60.3)
    m = projected_polygon_mask(g, anterior_perspective(cam_y, f), poly) & seg
    expected = 0
    for j in range(10, 30):
        half = 60.3 / f * (j - cam_y)  # mm at this depth
        n = sum(1 for i in range(10, 30) if abs(i) < half)  # the box starts at L = 10 mm
        nk = sum(1 for k in range(10, 30) if abs(k) < half)
        expected += n * nk
    assert m.sum() == expected > 0
    # the frustum widens with depth: the far slice has more voxels than the near one
    assert m[:, 29, :].sum() > m[:, 10, :].sum()
    # a parallel prism of the same screen square selects a constant cross-section
    par = projected_polygon_mask(g, anterior_parallel(), poly) & seg
    assert len({int(par[:, j, :].sum()) for j in range(10, 30)}) == 1


def test_perspective_centred_box():
    g = ImageGeometry((41, 41, 41), origin=(-20.0, -20.0, -20.0))
    cam_y, f = -60.0, 400.0
    poly = rect(CX - 40.3, CX + 40.3, CY - 40.3, CY + 40.3)
    m = projected_polygon_mask(g, anterior_perspective(cam_y, f), poly)
    expected = 0
    for y in range(-20, 21):
        half = 40.3 / f * (y - cam_y)
        n = sum(1 for x in range(-20, 21) if abs(x) < half)
        expected += n * n
    assert m.sum() == expected


def test_behind_camera_never_inside():
    g = ImageGeometry((31, 31, 31), origin=(-15.0, -15.0, -15.0))
    cam_y = 0.5  # inside the grid, between j = 15 and 16
    poly = rect(CX - 60, CX + 60, CY - 60, CY + 60)
    m = projected_polygon_mask(g, anterior_perspective(cam_y), poly)
    assert not m[:, :16, :].any()  # P <= 0: behind (their mirrored projection would fall inside)
    assert m[15, 20, 15] and m[:, 16:, :].any()
    out = projected_polygon_mask(g, anterior_perspective(cam_y), poly, inside=False)
    assert out[:, :16, :].all() and not (out & m).any()


def test_oblique_camera_free_polygon_matches_independent_pip():
    rng = np.random.default_rng(3)
    rot, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    g = ImageGeometry((30, 28, 26), spacing=(0.8, 0.9, 1.7), origin=(-12.0, 5.0, 30.0), direction=rot)
    # random perspective camera looking at the grid centre
    centre = g.index_to_lps(np.array([[14.5, 13.5, 12.5]]))[0]
    view_dir = rng.normal(size=3)
    view_dir /= np.linalg.norm(view_dir)
    up = np.cross(view_dir, rng.normal(size=3))
    up /= np.linalg.norm(up)
    right = np.cross(view_dir, up)
    eye = centre - 80.0 * view_dir
    f = 600.0
    view = np.eye(4)
    view[:3, :3] = np.stack([right, -up, view_dir])  # screen x right, y down, depth forward
    view[:3, 3] = -view[:3, :3] @ eye
    m = np.array([[f, 0, CX, 0], [0, f, CY, 0], [0, 0, 1, 0], [0, 0, 1, 0]]) @ view
    t = np.linspace(0, 2 * np.pi, 37, endpoint=False)
    r = 60 + 35 * np.sin(3 * t) + rng.uniform(-4, 4, t.size)
    poly = np.c_[CX + r * np.cos(t), CY + r * np.sin(t)]
    got = projected_polygon_mask(g, m, poly)
    # independent: project each voxel centre with the pinhole formula, skimage's point-in-polygon
    ijk = np.stack(np.meshgrid(*[np.arange(n) for n in g.shape], indexing="ij"), -1).reshape(-1, 3)
    p = g.index_to_lps(ijk) - eye
    d = p @ view_dir
    px = np.c_[CX + f * (p @ right) / d, CY + f * (p @ -up) / d]
    expected = (points_in_poly(px, poly) & (d > 0)).reshape(g.shape)
    assert 1000 < expected.sum() < expected.size - 1000
    assert np.array_equal(got, expected)


def test_self_intersecting_lasso_even_odd(box):
    g, seg = box
    # a bow tie in the parallel view (L, S mm -> px); the crossing point region is even-odd
    pts_mm = np.array([[10.2, 10.3], [29.7, 29.6], [29.7, 10.3], [10.2, 29.6]])
    poly = np.c_[CX + S * pts_mm[:, 0], CY - S * pts_mm[:, 1]]
    got = projected_polygon_mask(g, anterior_parallel(), poly)
    ii, kk = np.meshgrid(np.arange(40), np.arange(40), indexing="ij")
    px = np.c_[CX + S * ii.ravel(), CY - S * kk.ravel()]
    col = points_in_poly(px, poly).reshape(40, 40)
    assert np.array_equal(got, np.repeat(col[:, None, :], 40, axis=1))
    assert got[13, 5, 20] and got[27, 5, 20] and not got[20, 5, 13] and not got[20, 5, 27]  # lobes in, gaps out


def test_slab_bbox_viewport(box):
    g, seg = box
    poly = rect(CX + S * 14.5, CX + S * 20.5, CY - S * 12.5, CY - S * 9.5)
    full = projected_polygon_mask(g, anterior_parallel(), poly)
    # slab 5 mm thick around P = 20 along the view direction: j = 18..22
    slab = projected_polygon_mask(g, anterior_parallel(), poly, slab=((0, 20.0, 0), (0, 2.0, 0), 5.0))
    assert np.array_equal(slab, full & (np.arange(40) >= 18)[None, :, None] & (np.arange(40) <= 22)[None, :, None])
    # restricted to the segment's bounding box: identical inside the box, False outside
    bb = mask_bbox(seg)
    boxed = projected_polygon_mask(g, anterior_parallel(), poly, bbox=bb)
    assert np.array_equal(boxed[bb], full[bb]) and boxed.sum() == full[bb].sum()
    outside_boxed = projected_polygon_mask(g, anterior_parallel(), poly, inside=False, bbox=bb)
    assert outside_boxed.sum() == seg.sum() - full[bb].sum()
    # viewport clipping: a lasso reaching beyond the widget's right edge (x = 370 px = L 17.5 mm) stops there
    clipped = projected_polygon_mask(g, anterior_parallel(), poly, (370.0, 400.0))
    assert np.array_equal(clipped, full & (np.arange(40) <= 17)[:, None, None])
    # entirely off-screen: nothing
    assert not projected_polygon_mask(g, anterior_parallel(), poly + 1000.0, (600.0, 400.0)).any()


def test_bad_input(box):
    g, _ = box
    with pytest.raises(InputError):
        projected_polygon_mask(g, np.eye(3), rect(0, 1, 0, 1))
    with pytest.raises(InputError):
        projected_polygon_mask(g, anterior_parallel(), [[0, 0], [1, 1]])
    with pytest.raises(InputError):
        projected_polygon_mask(g, anterior_parallel(), rect(0, 1, 0, 1), slab=((0, 0, 0), (0, 0, 0), 2.0))


@pytest.mark.parametrize("inside", [True, False])
def test_large_grid_blocks_culled_exactly(inside):
    """A grid of several 64^3 blocks, a perspective camera inside it (blocks behind, across and in front):
    block culling must not change the answer (expected from the pinhole formula, voxel by voxel)."""
    g = ImageGeometry((150, 140, 130), spacing=(1.0, 1.5, 1.2), origin=(-75.0, -60.0, -70.0))
    cam_y, f = -10.0, 300.0
    x0, x1, y0, y1 = CX - 37.3, CX + 81.7, CY - 55.1, CY + 12.9
    m = projected_polygon_mask(g, anterior_perspective(cam_y, f), rect(x0, x1, y0, y1), inside=inside)
    p = g.index_to_lps(np.argwhere(np.ones(g.shape, bool)))
    d = p[:, 1] - cam_y
    with np.errstate(divide="ignore", invalid="ignore"):
        px, py = CX + f * p[:, 0] / d, CY - f * p[:, 2] / d
    hit = (d > 0) & (px > x0) & (px < x1) & (py > y0) & (py < y1)
    expected = (hit if inside else ~hit).reshape(g.shape)
    assert 10_000 < expected.sum() < expected.size - 10_000
    assert np.array_equal(m, expected)
    # slab culling: 10 mm around P = 40 (j = 66 .. 72 are within 5 mm)
    ms = projected_polygon_mask(g, anterior_perspective(cam_y, f), rect(x0, x1, y0, y1), inside=inside,
                                slab=((0.0, 40.0, 0.0), (0.0, -1.0, 0.0), 10.0))
    in_slab = (np.abs(p[:, 1] - 40.0) <= 5.0).reshape(g.shape)
    assert np.array_equal(ms, expected & in_slab)
