"""Grow-from-seeds on real data and on the phantom with a handful of deterministic seeds.

Seeds are what a user would click, placed deterministically from the reference mask:
8 points inside each organ (farthest-point sampling of the voxels at least 30 % of the
maximal depth inside the organ, starting at the deepest voxel) and, around each organ,
12 background points 6-9 mm outside it (farthest-point sampling of the shell between 6 and
9 mm from the organ closed by 10 mm and hole-filled, at least 6 mm from every other organ,
so no background point lands in a vessel running through the organ). All organs and the
background (48 points) compete in one run, with the default parameters (no per-organ tuning).
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage as ndi

from segmentation import grow
from segmentation._common import dice

ORGANS = {"liver": 5, "spleen": 1, "kidney_right": 2, "kidney_left": 3}


def _fps(cands: np.ndarray, n: int) -> np.ndarray:
    pts = [cands[0]]
    d = np.linalg.norm(cands - cands[0], axis=1)
    for _ in range(n - 1):
        i = int(np.argmax(d))
        pts.append(cands[i])
        d = np.minimum(d, np.linalg.norm(cands - cands[i], axis=1))
    return np.array(pts)


def _seed_sets(masks: dict[str, np.ndarray], geometry, n_in: int = 8, n_out: int = 12,
               depth_fraction: float = 0.3) -> list[grow.SeedSet]:
    from segmentation import morphology as morph

    sets, bg = [], []
    closed = {n: morph.fill_holes(morph.closing(m, geometry, 10.0), "3d") for n, m in masks.items()}
    union = np.logical_or.reduce(list(closed.values()))
    d_all = ndi.distance_transform_edt(~union, sampling=geometry.spacing)
    for name, ref in masks.items():
        dt = ndi.distance_transform_edt(ref, sampling=geometry.spacing)
        deep = np.vstack([np.unravel_index(np.argmax(dt), ref.shape),
                          np.argwhere(dt >= max(4.0, depth_fraction * dt.max()))])
        sets.append(grow.SeedSet(name, geometry.index_to_lps(_fps(deep, n_in))))
        d_own = ndi.distance_transform_edt(~closed[name], sampling=geometry.spacing)
        bg.append(geometry.index_to_lps(_fps(np.argwhere((d_all >= 6) & (d_own <= 9)), n_out)))
    sets.append(grow.SeedSet("background", np.vstack(bg)))
    return sets


@pytest.mark.slow
def test_grow_from_seeds_abdominal_organs_real_ct(totalseg):
    ct, seg, _ = totalseg
    masks = {n: seg == v for n, v in ORGANS.items()}
    sets = _seed_sets(masks, ct.geometry)
    out = grow.grow_from_seeds(ct, grow.seed_image(ct.geometry, sets), background=[len(sets)])
    scores = {n: dice(out == i + 1, m) for i, (n, m) in enumerate(masks.items())}
    print("grow-from-seeds Dice (real CT):", {k: round(v, 3) for k, v in scores.items()})
    # issue target: >= 0.85 for each (measured 0.878 / 0.862 / 0.874 / 0.953 on this non-contrast 3 mm CT)
    for name in ORGANS:
        assert scores[name] >= 0.85, name


@pytest.mark.slow
def test_grow_from_seeds_phantom():
    phantom = pytest.importorskip("twin.phantom")
    if not hasattr(phantom, "make_abdomen_phantom"):
        pytest.skip("phantom not available")
    vol, lm = phantom.make_abdomen_phantom()
    masks = {n: lm.mask(n) for n in ORGANS}
    sets = _seed_sets(masks, vol.geometry)
    out = grow.grow_from_seeds(vol, grow.seed_image(vol.geometry, sets), background=[len(sets)])
    scores = {n: dice(out == i + 1, m) for i, (n, m) in enumerate(masks.items())}
    print("grow-from-seeds Dice (phantom):", {k: round(v, 3) for k, v in scores.items()})
    # measured 0.975 / 0.963 / 0.998 / 0.996 (phantom liver 100 HU, portal venous phase; before the automatic
    # dead zone, partial-volume rim, per-blob object and background models: 0.794 / 0.935 / 0.973 / 0.909)
    assert scores["kidney_right"] >= 0.98 and scores["kidney_left"] >= 0.98
    assert scores["spleen"] >= 0.95
    assert scores["liver"] >= 0.95
    # background seeds with their own local intensity models keep the abdominal wall out of the liver;
    # not the default: on the real CT the kidneys then leak (0.95 -> 0.20)
    out = grow.grow_from_seeds(vol, grow.seed_image(vol.geometry, sets), background=[len(sets)],
                               local_background=True)
    liver = dice(out == 1, masks["liver"])
    print(f"phantom liver with local_background: {liver:.3f}")  # measured 0.967
    assert liver >= 0.95


@pytest.mark.slow
def test_grow_from_seeds_phantom_vessels():
    phantom = pytest.importorskip("twin.phantom")
    if not hasattr(phantom, "make_abdomen_phantom"):
        pytest.skip("phantom not available")
    vol, lm = phantom.make_abdomen_phantom()
    masks = {n: lm.mask(n) for n in ("aorta", "inferior_vena_cava")}
    sets = _seed_sets(masks, vol.geometry)
    out = grow.grow_from_seeds(vol, grow.seed_image(vol.geometry, sets), background=[len(sets)])
    scores = {n: dice(out == i + 1, m) for i, (n, m) in enumerate(masks.items())}
    print("grow-from-seeds Dice (phantom vessels):", {k: round(v, 3) for k, v in scores.items()})
    # measured 0.960 / 0.868 (the IVC runs through the liver at 150 HU next to 165-180 HU hepatic veins)
    assert scores["aorta"] >= 0.95
    assert scores["inferior_vena_cava"] >= 0.84
