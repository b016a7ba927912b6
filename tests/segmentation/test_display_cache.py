"""Incremental display surfaces: after an edit only the edited segment is contoured again (frame LPS, mm)."""

from __future__ import annotations

import numpy as np

from segmentation import surfaces as surf_mod
from segmentation.surfaces import display_surfaces, mask_fingerprint
from twin.geometry import ImageGeometry
from twin.labelmap import LabelMap


def _labelmap() -> LabelMap:
    g = ImageGeometry((40, 36, 30), (1.0, 1.2, 1.5), (5.0, -3.0, 2.0))
    arr = np.zeros(g.shape, np.uint8)
    arr[5:15, 5:15, 5:15] = 1
    arr[20:32, 8:20, 10:22] = 2
    arr[8:12, 25:30, 20:26] = 3
    return LabelMap.from_array(arr, g, names={1: "a", 2: "b", 3: "c"})


def test_fingerprint_sees_any_voxel():
    lm = _labelmap()
    m = lm.mask("a")
    f0 = mask_fingerprint(m)
    m2 = m.copy()
    m2[0, 0, 0] = True
    assert mask_fingerprint(m2) != f0 and mask_fingerprint(m.copy()) == f0
    assert mask_fingerprint(m[:, :, :29]) != mask_fingerprint(np.zeros((40, 36, 30), bool))


def test_cache_recontours_only_changed_segments(monkeypatch):
    lm = _labelmap()
    calls: list[str] = []
    real = surf_mod.display_surface

    def counting(mask, affine, name="surface", *a, **k):  # noqa: ANN001, ANN002, ANN003
        calls.append(name)
        return real(mask, affine, name, *a, **k)

    monkeypatch.setattr(surf_mod, "display_surface", counting)
    cache: dict = {}
    first = display_surfaces(lm, cache=cache)
    assert sorted(calls) == ["a", "b", "c"] and set(cache) == {"a", "b", "c"}
    calls.clear()
    again = display_surfaces(lm, cache=cache)
    assert calls == [] and all(again[k] is first[k] for k in first)  # nothing contoured, same objects

    from twin.labelmap_commands import SetSegmentMask

    grown = lm.mask("b").copy()
    grown[18:20, 8:20, 10:22] = True
    SetSegmentMask(lm, "b", grown).do()
    calls.clear()
    after = display_surfaces(lm, cache=cache)
    assert calls == ["b"]
    assert after["a"] is first["a"] and after["c"] is first["c"] and after["b"] is not first["b"]
    # the new surface is the same as contouring from scratch
    fresh = display_surfaces(lm)["b"]
    assert np.allclose(after["b"].points_lps, fresh.points_lps)
    assert after["b"].volume_mm3() > first["b"].volume_mm3()

    from twin.labelmap_commands import RemoveSegment

    RemoveSegment(lm, "c").do()
    display_surfaces(lm, cache=cache)
    assert set(cache) == {"a", "b"}
