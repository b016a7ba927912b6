"""Morphology in mm on anisotropic grids, against analytic volumes and edge cases."""

from __future__ import annotations

import numpy as np
import pytest

from segmentation import morphology as morph
from twin.geometry import ImageGeometry

G = ImageGeometry((60, 50, 30), (0.5, 0.7, 2.0))


def _point_mask():
    m = np.zeros(G.shape, bool)
    m[30, 25, 15] = True
    return m


def test_dilate_point_gives_ellipsoid_of_radius_in_mm():
    r = 6.0
    d = morph.dilate(_point_mask(), G, r)
    ijk = np.argwhere(d)
    dist = np.linalg.norm((ijk - [30, 25, 15]) * G.spacing, axis=1)
    assert dist.max() <= r + 1e-6
    # analytic ball volume, voxelised: within 5 %
    assert d.sum() * G.voxel_volume_mm3 == pytest.approx(4 / 3 * np.pi * r**3, rel=0.05)
    # extent along each axis is the radius in mm, not in voxels
    for axis, s in enumerate(G.spacing):
        assert (np.ptp(ijk[:, axis]) / 2) * s == pytest.approx(r, abs=s)


def test_erode_inverts_dilate_and_margin_sign():
    box = np.zeros(G.shape, bool)
    box[10:50, 10:40, 5:25] = True
    e = morph.margin(box, G, -2.0)
    # a voxel survives if its centre is > 2 mm from every background centre:
    # i (0.5 mm): 4 voxels go; j (0.7 mm): 2 voxels go (3rd is 2.1 mm away); k (2 mm): 1 voxel goes
    assert e[14:46, 12:38, 6:24].all()
    assert not e[13, 20, 15] and not e[20, 11, 15] and not e[20, 20, 5]
    assert e.sum() == 32 * 26 * 18
    grown = morph.margin(box, G, 2.0)
    assert grown[6, 20, 15] and not grown[5, 20, 15]
    assert morph.erode(morph.dilate(box, G, 3.0), G, 3.0).sum() == box.sum()


def test_closing_fills_a_gap_and_opening_cuts_a_bridge():
    a = np.zeros(G.shape, bool)
    a[10:28, 10:40, 5:25] = True
    a[30:50, 10:40, 5:25] = True  # gap of 2 voxels = 1 mm along i
    closed = morph.closing(a, G, 1.5)
    assert closed[28:30, 20, 15].all()
    bridge = np.zeros(G.shape, bool)
    bridge[5:24, 10:40, 5:25] = True
    bridge[36:55, 10:40, 5:25] = True
    bridge[20:40, 24:26, 14:16] = True  # 6 mm long, 1.4 mm x 4 mm cross-section
    opened = morph.opening(bridge, G, 2.5)
    labels, n = morph.label_components(opened)
    assert n == 2


def test_fill_holes_3d_and_slice_wise():
    shell = np.zeros(G.shape, bool)
    shell[10:40, 10:40, 5:25] = True
    shell[15:35, 15:35, 10:20] = False  # closed cavity
    assert morph.fill_holes(shell, "3d")[20, 20, 15]
    tube = np.zeros(G.shape, bool)
    tube[10:40, 10:40, :] = True
    tube[15:35, 15:35, :] = False  # open along k: no 3-D cavity, but holes in every k slice
    assert not morph.fill_holes(tube, "3d")[20, 20, 15]
    assert morph.fill_holes(tube, "slice", axes=(2,))[20, 20, 15]
    assert not morph.fill_holes(tube, "slice", axes=(0,))[20, 20, 15]


def test_islands_largest_and_point():
    m = np.zeros(G.shape, bool)
    m[5:15, 5:15, 5:10] = True  # 500 voxels = 350 mm^3
    m[30:34, 30:34, 20:22] = True  # 32 voxels = 22.4 mm^3
    assert morph.keep_largest(m).sum() == 500
    assert morph.remove_small_islands(m, G, 30.0).sum() == 500
    assert morph.remove_small_islands(m, G, 20.0).sum() == 532
    p = G.index_to_lps(np.array([[31, 31, 21]]))[0]
    assert morph.keep_island_at(m, G, p).sum() == 32
    assert morph.keep_island_at(m, G, G.index_to_lps(np.array([[0, 0, 0]]))[0]).sum() == 0


def test_hollow_and_smooth_and_logical():
    box = np.zeros(G.shape, bool)
    box[10:50, 10:40, 5:25] = True
    shell = morph.hollow(box, G, 1.0)
    assert shell[10, 20, 15] and shell[11, 20, 15] and not shell[12, 20, 15] and not shell[30, 25, 15]
    noisy = box.copy()
    noisy[30, 25, 15] = False
    noisy[2, 2, 2] = True
    sm = morph.smooth(noisy, G, "median", 1.0)
    assert sm[30, 25, 15] and not sm[2, 2, 2]
    g = morph.smooth(box, G, "gaussian", 1.0)
    assert abs(int(g.sum()) - int(box.sum())) < 0.05 * box.sum()
    other = np.zeros(G.shape, bool)
    other[40:60] = True
    assert morph.logical("subtract", box, other).sum() == box[:40].sum()
    assert morph.logical("intersect", box, other).sum() == box[40:].sum()
    with pytest.raises(Exception, match="unknown"):
        morph.logical("nand", box, other)


@pytest.mark.parametrize("case", ["empty", "single", "border", "full"])
def test_edge_cases_do_not_crash(case):
    m = np.zeros(G.shape, bool)
    if case == "single":
        m[5, 5, 5] = True
    elif case == "border":
        m[0:10, 0:50, 0:30] = True
    elif case == "full":
        m[:] = True
    for fn in (lambda x: morph.dilate(x, G, 2.0), lambda x: morph.erode(x, G, 2.0),
               lambda x: morph.closing(x, G, 2.0), lambda x: morph.opening(x, G, 2.0),
               lambda x: morph.hollow(x, G, 1.0), lambda x: morph.smooth(x, G, "median", 1.0),
               lambda x: morph.fill_holes(x, "slice", (0, 1, 2)), lambda x: morph.fill_holes(x),
               morph.keep_largest, lambda x: morph.remove_small_islands(x, G, 5.0)):
        out = fn(m)
        assert out.shape == G.shape and out.dtype == bool
    if case == "border":
        assert morph.erode(m, G, 1.0, border_is_outside=True)[0].sum() == 0
        assert morph.erode(m, G, 1.0)[0, 10, 10]
