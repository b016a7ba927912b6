"""Window/level mapping and label overlays (colours where the labels are, outline mode, visibility)."""

from __future__ import annotations

import numpy as np

from rendering.mpr import render_slice
from rendering.overlay import OverlayStyle, SegmentStyle, composite, label_rgba
from rendering.slicing import SlicePlane
from rendering.windowing import CT_PRESETS, WindowLevel, apply_window, auto_window, presets_for


def test_lookup_table_matches_the_linear_ramp():
    rng = np.random.default_rng(1)
    wl = WindowLevel(400, 40)
    for dtype in (np.int16, np.uint16, np.uint8, np.int8, np.float32):
        info = np.iinfo(dtype) if np.dtype(dtype).kind in "iu" else None
        lo, hi = (info.min, info.max) if info else (-3000, 3000)
        v = rng.integers(lo, hi, size=(64, 64), endpoint=True).astype(dtype)
        expected = np.clip(np.rint((v.astype(np.float64) - (40 - 200)) * 255 / 400), 0, 255).astype(np.uint8)
        got = apply_window(v, wl)
        assert np.max(np.abs(got.astype(int) - expected)) <= 1, dtype
    assert apply_window(np.array([-160, 240], np.int16), wl).tolist() == [0, 255]


def test_presets_and_auto_window():
    assert set(CT_PRESETS) == {"soft tissue", "lung", "bone", "brain", "liver"}
    assert CT_PRESETS["lung"].level < -400 and CT_PRESETS["bone"].width > 1000
    assert "auto" in presets_for("MR") and "bone" not in presets_for("MR")
    mr = np.zeros((50, 50, 10))
    mr[10:40, 10:40] = np.linspace(100, 900, 30 * 30 * 10).reshape(30, 30, 10)
    w = auto_window(mr)
    assert 100 <= w.low < 120 and 880 < w.high <= 900  # percentiles of the non-background voxels


def test_overlay_colour_appears_exactly_where_the_label_is(phantom):
    vol, lm = phantom
    plane = SlicePlane.standard("axial", [0, 0, 0])
    style = OverlayStyle(opacity=1.0, mode="fill")
    rs = render_slice(vol, plane, CT_PRESETS["soft tissue"], lm, style)
    liver = rs.slice.pixels == 90
    rgb = rs.rgb.astype(int)
    assert np.all(rgb[liver] == [255, 0, 0])  # liver colour, fully opaque
    assert np.all(rgb[rs.slice.pixels == 120] == [0, 0, 255])
    other = ~liver & (rs.slice.pixels != 120)
    assert np.all(rgb[other][:, 0] == rgb[other][:, 1])  # grey elsewhere
    # hidden segment -> grey
    style.segments["liver"] = SegmentStyle(visible=False)
    rs2 = render_slice(vol, plane, CT_PRESETS["soft tissue"], lm, style)
    assert np.all(rs2.rgb[liver][:, 0] == rs2.rgb[liver][:, 1])


def test_outline_mode_colours_only_the_boundary():
    lab = np.zeros((20, 20), np.uint8)
    lab[5:15, 5:15] = 1
    from twin.geometry import ImageGeometry
    from twin.labelmap import LabelMap

    lm = LabelMap.from_array(lab[:, :, None], ImageGeometry((20, 20, 1)), {1: "x"}, colors={1: (0.0, 1.0, 0.0)})
    rgba = label_rgba([lab], lm, OverlayStyle(opacity=0.4, mode="outline"))
    coloured = rgba[..., 3] > 0
    assert coloured.sum() == 36  # perimeter of a 10x10 square
    assert not coloured[7:13, 7:13].any()
    both = label_rgba([lab], lm, OverlayStyle(opacity=0.4, mode="fill+outline"))
    assert np.isclose(both[10, 10, 3], 0.4) and both[5, 10, 3] == 1.0
    out = composite(np.full((20, 20), 100, np.uint8), both)
    assert tuple(out[10, 10]) == (60, 162, 60)  # 0.6 * 100 + 0.4 * (0, 255, 0)


def test_fast_integer_blend_matches_the_float_reference():
    from rendering.overlay import blend_labels
    from twin.geometry import ImageGeometry
    from twin.labelmap import LabelMap, Segment

    rng = np.random.default_rng(3)
    gray = rng.integers(0, 256, (40, 50), dtype=np.uint8)
    l0 = np.zeros((40, 50), np.uint8)
    l0[5:30, 5:25] = 1
    l0[10:20, 30:45] = 3
    l1 = np.zeros((40, 50), np.uint8)
    l1[15:35, 15:40] = 1  # overlaps layer 0
    segs = [Segment(1, "a", (1.0, 0.2, 0.1), 0), Segment(3, "b", (0.1, 0.4, 1.0), 0),
            Segment(1, "c", (0.2, 1.0, 0.3), 1)]
    lm = LabelMap([l0[:, :, None], l1[:, :, None]], ImageGeometry((40, 50, 1)), segs)
    for mode in ("fill", "outline", "fill+outline"):
        style = OverlayStyle(opacity=0.45, mode=mode, segments={"b": SegmentStyle(opacity=0.8)})
        ref = composite(gray, label_rgba([l0, l1], lm, style)).astype(int)
        fast = blend_labels(gray, [l0, l1], lm, style).astype(int)
        assert np.max(np.abs(ref - fast)) <= 2, mode
    style.visible = False
    assert np.array_equal(blend_labels(gray, [l0, l1], lm, style), np.repeat(gray[..., None], 3, axis=2))
