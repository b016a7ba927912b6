"""3-D scissors speed on a 512x512x400 grid (0.7 x 0.7 x 1 mm), liver-sized ellipsoid segment.

Ours: :func:`segmentation.editing.projected_polygon_mask` restricted to the segment's bounding
box (as the GUI does), a perspective camera and a 200-vertex free-hand lasso. Raw baseline in
the same run: project the same voxel centres with numpy and test them with
``skimage.measure.points_in_poly`` (C even-odd test); the two masks must be identical.
Also: the whole grid (no bbox), and ``twin.labelmap_commands.SetSegmentMask`` applying the cut.
Run: ``nice python benchmarks/bench_scissors3d.py``. Frame: LPS mm.
"""

from __future__ import annotations

import time

import numpy as np
from skimage.measure import points_in_poly

from segmentation.editing import projected_polygon_mask
from twin.geometry import ImageGeometry
from twin.labelmap import LabelMap, mask_bbox
from twin.labelmap_commands import SetSegmentMask


def timed(fn, repeat=3):
    best, out = np.inf, None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def main() -> None:
    g = ImageGeometry((512, 512, 400), spacing=(0.7, 0.7, 1.0), origin=(-179.0, -179.0, -200.0))
    centre = np.array([-40.0, 10.0, 0.0])
    semi = np.array([85.0, 60.0, 70.0])
    bb0 = np.floor(g.lps_to_index((centre - semi)[None])[0]).astype(int)
    bb1 = np.ceil(g.lps_to_index((centre + semi)[None])[0]).astype(int) + 1
    seg = np.zeros(g.shape, bool)
    sl = tuple(slice(a, b) for a, b in zip(bb0, bb1))
    sub = np.stack(np.meshgrid(*[np.arange(a, b) for a, b in zip(bb0, bb1)], indexing="ij"), -1)
    p = g.index_to_lps(sub.reshape(-1, 3)).reshape(sub.shape)
    seg[sl] = (((p - centre) / semi) ** 2).sum(-1) <= 1
    bbox = mask_bbox(seg)
    nbox = int(np.prod([s.stop - s.start for s in bbox]))
    print(f"grid {g.shape}, segment {seg.sum() / 1e6:.2f} M voxels, bbox {nbox / 1e6:.2f} M voxels")

    # perspective camera 500 mm anterior, 30 deg view angle on a 800x600 view
    w, h, f = 800.0, 600.0, 300.0 / np.tan(np.radians(15))
    eye = np.array([0.0, -500.0, 0.0])
    view = np.array([[1, 0, 0, -eye[0]], [0, 0, -1, eye[2]], [0, 1, 0, -eye[1]], [0, 0, 0, 1]], float)
    m = np.array([[f, 0, w / 2, 0], [0, f, h / 2, 0], [0, 0, 1, 0], [0, 0, 1, 0]]) @ view
    q = m @ np.r_[centre, 1.0]
    c2 = q[:2] / q[3]
    rng = np.random.default_rng(0)
    t = np.linspace(0, 2 * np.pi, 200, endpoint=False)
    r = 90 + 25 * np.sin(4 * t) + rng.uniform(-3, 3, t.size)
    poly = np.c_[c2[0] + r * np.cos(t), c2[1] + r * np.sin(t)]

    t_ours, ours = timed(lambda: projected_polygon_mask(g, m, poly, (w, h), bbox=bbox))

    def raw() -> np.ndarray:
        ijk = np.stack(np.meshgrid(*[np.arange(s.start, s.stop) for s in bbox], indexing="ij"), -1).reshape(-1, 3)
        hq = np.c_[g.index_to_lps(ijk), np.ones(len(ijk))] @ m.T
        px = hq[:, :2] / hq[:, 3:4]
        out = np.zeros(g.shape, bool)
        out[bbox] = (points_in_poly(px, poly) & (hq[:, 3] > 0)).reshape([s.stop - s.start for s in bbox])
        return out

    t_raw, ref = timed(raw, repeat=1)
    assert np.array_equal(ours, ref), "masks differ"
    print(f"bbox cut: ours {t_ours:.2f} s, raw numpy+skimage {t_raw:.2f} s, ratio {t_ours / t_raw:.2f}")
    t_full, full = timed(lambda: projected_polygon_mask(g, m, poly, (w, h)), repeat=1)
    assert np.array_equal(full[bbox], ours[bbox])
    print(f"whole grid ({np.prod(g.shape) / 1e6:.0f} M voxels): ours {t_full:.2f} s")
    lm = LabelMap.from_array(seg.astype(np.uint8), g, names={1: "liver"})
    t_cmd, cmd = timed(lambda: SetSegmentMask(lm, "liver", ours & seg, "erase"), repeat=1)
    t_do, _ = timed(cmd.do, repeat=1)
    print(f"SetSegmentMask(erase) build {t_cmd:.2f} s + do {t_do:.2f} s, {cmd.changed_voxels / 1e6:.2f} M voxels cut")

    # the GUI's whole worker job (app.gui.tools.scissors3d.lasso_cut_command): 8 segments, "all visible"
    from app.gui.tools.scissors3d import lasso_cut_command

    lab = np.zeros(g.shape, np.uint8)
    lab[seg] = 1
    for v in range(2, 9):
        c = centre + rng.uniform(-60, 60, 3)
        lo = np.clip(np.floor(g.lps_to_index((c - 25)[None])[0]).astype(int), 0, None)
        hi = np.ceil(g.lps_to_index((c + 25)[None])[0]).astype(int)
        lab[lo[0]:hi[0], lo[1]:hi[1], lo[2]:hi[2]] = v
    lm8 = LabelMap.from_array(lab, g, names={v: f"s{v}" for v in range(1, 9)})
    names = [s.name for s in lm8.segments]
    t_job, (cmd8, counts) = timed(lambda: lasso_cut_command(lm8, names, m, poly, (w, h)), repeat=1)
    t_push, _ = timed(cmd8.do, repeat=1)
    print(f"GUI job, 8 segments: worker {t_job:.2f} s, apply on the GUI thread {t_push:.3f} s, "
          f"{sum(counts.values()) / 1e6:.2f} M voxels cut")


if __name__ == "__main__":
    main()
