"""Hollow organs in grow-from-seeds: the per-label option ``wall_mm`` (a wall of given thickness around
the lumen contents unlike it), on a small synthetic gas-filled organ (frame LPS, mm)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage as ndi

from segmentation import grow
from segmentation._common import dice
from twin.errors import InputError
from twin.geometry import ImageGeometry
from twin.volume import Volume


def _hollow_organ(lumen_hu: float, outside_soft: float, noise_seed: int):
    """A 14 mm lumen (``lumen_hu``) in a 4 mm wall (45 HU) on 2 x 2 x 2.5 mm voxels, half in fat (-95 HU) and
    half against soft tissue (``outside_soft`` HU); blurred (sigma 0.9 mm) with 12 HU noise. Seeds: 4 in the
    lumen (label 1), 8 background clicks in the fat and the soft tissue (label 2)."""
    g = ImageGeometry((48, 48, 40), (2.0, 2.0, 2.5))
    xyz = np.indices(g.shape).transpose(1, 2, 3, 0) * g.spacing
    centre = np.array([48.0, 48.0, 50.0])
    r = np.linalg.norm(xyz - centre, axis=-1)
    organ, lumen = r <= 18.0, r <= 14.0
    img = np.where(xyz[..., 0] > 50.0, outside_soft, -95.0)
    img[organ] = 45.0
    img[lumen] = lumen_hu
    img = ndi.gaussian_filter(img, 0.9 / g.spacing) + np.random.default_rng(noise_seed).normal(0, 12.0, g.shape)
    pts = {1: [centre + [6, 0, 0], centre - [6, 0, 0], centre + [0, 6, 0], centre + [0, 0, -6]],
           2: [centre + [-28, 0, 0], centre + [0, -28, 0], centre + [0, 0, 28], centre + [-20, 20, 0],
               centre + [28, 0, 0], centre + [24, 16, 0], centre + [24, -16, 0], centre + [26, 0, -20]]}
    seeds = np.zeros(g.shape, np.uint16)
    for v, p in pts.items():
        seeds[tuple(np.rint(np.array(p) / g.spacing).astype(int).T)] = v
    return Volume(img.astype(np.float32), g, modality="CT", units="HU"), organ, seeds


def _gas_organ():
    """A gas lumen (-1000 HU), the outside soft tissue bowel-like (30 HU); see :func:`_hollow_organ`."""
    return _hollow_organ(-1000.0, 30.0, 3)


def test_wall_option_adds_the_wall_around_gas_and_stops_at_its_thickness():
    vol, organ, seeds = _gas_organ()
    plain = grow.grow_from_seeds(vol, seeds, background=[2]) == 1
    hollow = grow.grow_from_seeds(vol, seeds, background=[2], label_options={1: {"wall_mm": 4.0}}) == 1
    print("gas organ Dice plain / wall_mm=4:", round(dice(plain, organ), 3), round(dice(hollow, organ), 3))
    assert dice(plain, organ) < 0.75  # the gas model stops at the wall
    assert dice(hollow, organ) > 0.95
    # the wall stops at its thickness (within a voxel) in the soft tissue like it, which is not taken beyond
    d = ndi.distance_transform_edt(~organ, sampling=vol.geometry.spacing)
    soft = np.indices(organ.shape)[0] * vol.geometry.spacing[0] > 50.0
    assert (hollow & soft & (d > 2.6)).sum() <= 5
    assert not (hollow & (d > 4.5)).any()


def test_wall_option_validation():
    vol, _, seeds = _gas_organ()
    with pytest.raises(InputError, match="wall_mm"):
        grow.grow_from_seeds(vol, seeds, background=[2], label_options={1: {"wall_mm": -1.0}})
    parsed = grow.seed_sets_from_json({"segments": [{"name": "stomach", "points_lps": [[0, 0, 0]],
                                                     "options": {"wall_mm": 4}}]})
    assert parsed[0].options == {"wall_mm": 4.0}


def _fluid_organ(outside_soft: float = 50.0):
    """A fluid lumen (12 HU), the outside soft tissue muscle-like; see :func:`_hollow_organ`. The fluid is too
    close to the wall for a voxel-wise decision (33 HU under 12 HU of noise)."""
    return _hollow_organ(12.0, outside_soft, 5)


def test_wall_option_completes_the_wall_around_fluid_from_profiles():
    vol, organ, seeds = _fluid_organ()
    plain = grow.grow_from_seeds(vol, seeds, background=[2]) == 1
    hollow = grow.grow_from_seeds(vol, seeds, background=[2], label_options={1: {"wall_mm": 4.0}}) == 1
    print("fluid organ Dice plain / wall_mm=4:", round(dice(plain, organ), 3), round(dice(hollow, organ), 3),
          "voxels", organ.sum(), plain.sum(), hollow.sum())
    assert dice(hollow, organ) > dice(plain, organ) + 0.03
    assert dice(hollow, organ) > 0.93
    # the wall stops at its thickness in the muscle-like tissue (no edge there): within a voxel
    d = ndi.distance_transform_edt(~organ, sampling=vol.geometry.spacing)
    assert not (hollow & (d > 4.5)).any()


def test_profile_wall_leaves_a_complete_wall_alone():
    """A label that already holds lumen and wall (a fluid organ in fat) is not grown further."""
    from segmentation._hollow import complete_wall

    vol, organ, _ = _fluid_organ(outside_soft=-95.0)
    result = organ.astype(np.uint16)
    added = complete_wall(result, 1, vol.array, vol.geometry, 4.0, noise_sd=12.0)
    assert added <= 0.01 * organ.sum()


def test_stray_mixtures_between_gas_and_fluid_leave_the_label():
    """Values between gas and fluid are a partial-volume mix on the gas edge, fat elsewhere."""
    from segmentation._hollow import drop_stray_mixtures

    g = ImageGeometry((30, 30, 20), (2.0, 2.0, 2.5))
    img = np.full(g.shape, 12.0, np.float32)  # fluid
    img[:, :12] = -900.0  # gas above the air-fluid level
    img[:, 12] = -450.0  # the level: half gas, half fluid
    img[25:, 20:] = -95.0  # fat the fluid model grew into, far from the gas
    result = np.ones(g.shape, np.uint16)
    removed = drop_stray_mixtures(result, 1, img, g, [-900.0, 12.0], [-900.0], 12.0)
    assert removed == 5 * 10 * 20
    assert (result[25:, 20:] == 0).all() and (result[:, 12] == 1).all()
