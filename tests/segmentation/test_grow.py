"""Region growing with leak control and competitive grow-from-seeds."""

from __future__ import annotations

import numpy as np
import pytest

from segmentation import grow
from segmentation._common import dice
from tests.segmentation.conftest import sphere_volume
from twin.errors import InputError
from twin.geometry import ImageGeometry
from twin.volume import Volume


def _two_balls_with_bridge(noise: float = 0.0):
    g = ImageGeometry((80, 40, 40), (1.0, 1.0, 1.0))
    ijk = np.indices(g.shape).transpose(1, 2, 3, 0).astype(float)
    a = np.linalg.norm(ijk - [20, 20, 20], axis=-1) <= 12
    b = np.linalg.norm(ijk - [60, 20, 20], axis=-1) <= 12
    bridge = (np.abs(ijk[..., 1] - 20) <= 1) & (np.abs(ijk[..., 2] - 20) <= 1) & (ijk[..., 0] > 20) & (ijk[..., 0] < 60)
    img = np.where(a | b | bridge, 100.0, 0.0)
    if noise:
        img += np.random.default_rng(1).normal(0, noise, g.shape)
    return Volume(img.astype(np.float32), g, modality="CT", units="HU"), a, b, bridge


def test_region_grow_leaks_without_control_and_not_with_it():
    vol, a, b, _ = _two_balls_with_bridge()
    seed = vol.geometry.index_to_lps(np.array([[20, 20, 20]]))
    leaky = grow.region_grow(vol, seed, 50, 150)
    assert leaky[b].all(), "plain connected threshold leaks through the bridge"
    cut = grow.region_grow(vol, seed, 50, 150, bridge_radius_mm=3.0)
    assert dice(cut, a) > 0.97 and not cut[b].any()
    bounded = grow.region_grow(vol, seed, 50, 150, max_distance_mm=15.0)
    assert bounded[a].all() and not bounded[b].any()
    idx = np.argwhere(bounded)
    assert idx[:, 0].max() <= 20 + 15


def test_region_grow_rejects_bad_seeds():
    vol, _, _, _ = _two_balls_with_bridge()
    with pytest.raises(InputError, match="outside"):
        grow.region_grow(vol, [[500.0, 0, 0]], 50, 150)
    with pytest.raises(InputError, match="outside"):
        grow.region_grow(vol, vol.geometry.index_to_lps(np.array([[0, 0, 0]])), 50, 150)


def test_grow_from_seeds_competing_background_stops_the_leak():
    vol, a, b, bridge = _two_balls_with_bridge(noise=5.0)
    g = vol.geometry
    sets = [grow.SeedSet("left", g.index_to_lps(np.array([[20, 20, 20], [15, 20, 20]]))),
            grow.SeedSet("background", g.index_to_lps(np.array([[60, 20, 20], [5, 5, 5], [75, 35, 35]])))]
    seeds = grow.seed_image(g, sets)
    out = grow.grow_from_seeds(vol, seeds, background=[2])
    left = out == 1
    assert left[a].mean() > 0.85, "the seeded ball is found (its blurred rim is outside the intensity window)"
    assert not left[b].any(), "the competing background seed stops the leak in the bridge"
    assert left[bridge & ~a].mean() < 0.75
    assert set(np.unique(out)) <= {0, 1}


def test_grow_from_seeds_two_objects_on_sphere():
    vol, truth, centre = sphere_volume(noise=8.0)
    g = vol.geometry
    sets = [grow.SeedSet("ball", centre[None]), grow.SeedSet("background", g.index_to_lps(np.array([[1, 1, 1]])))]
    out = grow.grow_from_seeds(vol, grow.seed_image(g, sets, radius_mm=2.0), background=[2])
    assert dice(out == 1, truth) > 0.93
    limited = grow.grow_from_seeds(vol, grow.seed_image(g, sets), background=[2], max_distance_mm=5.0)
    pts = g.index_to_lps(np.argwhere(limited == 1))
    seed_voxel = g.index_to_lps(np.rint(g.lps_to_index(centre[None])))[0]  # seeds snap to voxel centres
    assert np.linalg.norm(pts - seed_voxel, axis=1).max() <= 5.0 + 1e-6
    assert (limited == 1).sum() > 0.5 * 4 / 3 * np.pi * 125 / g.voxel_volume_mm3


def test_seed_json_parsing():
    sets = grow.seed_sets_from_json({"segments": [{"name": "liver", "points_lps": [[1, 2, 3]]},
                                                  {"name": "background", "points_lps": [[0, 0, 0], [1, 1, 1]]}]})
    assert [s.name for s in sets] == ["liver", "background"] and sets[1].is_background
    for bad in ({}, {"segments": []}, {"segments": [{"name": "x"}]},
                {"segments": [{"name": "background", "points_lps": [[0, 0, 0]]}]},
                {"segments": [{"name": "a", "points_lps": [[0, 0]]}]},
                {"segments": [{"name": "a", "points_lps": [[0, 0, 0]], "options": {"rim_layers": -1}}]},
                {"segments": [{"name": "a", "points_lps": [[0, 0, 0]], "options": {"radius": 1}}]},
                {"segments": [{"name": "a", "points_lps": [[0, 0, 0]], "options": [1]}]}):
        with pytest.raises(InputError):
            grow.seed_sets_from_json(bad)
    # per-segment grow options (Slicer-like): label n + 1 gets the options of the n-th set
    sets = grow.seed_sets_from_json({"segments": [
        {"name": "muscle", "points_lps": [[1, 2, 3]], "options": {"bridge_radius_mm": 0, "rim_layers": 2}},
        {"name": "liver", "points_lps": [[4, 5, 6]]}]})
    assert grow.label_options_of(sets) == {1: {"bridge_radius_mm": 0, "rim_layers": 2}}


def _blurred_ball_in_tissues(noise: float = 6.0):
    """A 100 HU ball (r 12 mm) in -100 HU fat with a 40 HU slab of muscle beside it, blurred (partial volume)."""
    from scipy import ndimage as ndi

    g = ImageGeometry((64, 48, 48), (1.0, 1.0, 1.0))
    ijk = np.indices(g.shape).transpose(1, 2, 3, 0).astype(float)
    ball = np.linalg.norm(ijk - [24, 24, 24], axis=-1) <= 12
    img = np.where(ball, 100.0, -100.0)
    img[ijk[..., 0] >= 44] = 40.0
    img = ndi.gaussian_filter(img, 0.6) + np.random.default_rng(3).normal(0, noise, g.shape)
    return Volume(img.astype(np.float32), g, modality="CT", units="HU"), ball


def test_grow_from_seeds_partial_volume_rim_and_dead_zone():
    vol, ball = _blurred_ball_in_tissues()
    g = vol.geometry
    sets = [grow.SeedSet("ball", g.index_to_lps(np.array([[24, 24, 24], [20, 24, 24]]))),
            grow.SeedSet("background", g.index_to_lps(np.array([[4, 4, 4], [55, 24, 24], [24, 4, 44]])))]
    seeds = grow.seed_image(g, sets)
    auto = grow.grow_from_seeds(vol, seeds, background=[2]) == 1
    plain = grow.grow_from_seeds(vol, seeds, background=[2], dead_zone=0.0, boundary_refinement=False) == 1
    # the ball is unlike fat and muscle: its partial-volume rim is placed half-way up the edge
    # (measured 0.937 against 0.866 without; the window alone stops 1-2 voxels inside the blurred edge)
    assert dice(auto, ball) > 0.92
    assert dice(auto, ball) > dice(plain, ball) + 0.05
    assert not auto[44:].any()


def test_grow_from_seeds_region():
    # (per-click models of multi-tissue labels are checked on the phantom's kidneys and stomach in
    # test_phantom_accuracy: kidney_left 0.947 -> 0.99)
    vol, ball = _blurred_ball_in_tissues(noise=3.0)
    g = vol.geometry
    sets = [grow.SeedSet("ball", g.index_to_lps(np.array([[24, 24, 24], [24, 10, 24]]))),
            grow.SeedSet("background", g.index_to_lps(np.array([[4, 4, 4], [24, 4, 44]])))]
    seeds = grow.seed_image(g, sets)
    # the region restricts growth; seeds outside it stay seeds
    region = np.zeros(g.shape, bool)
    region[:, :24] = True
    half = grow.grow_from_seeds(vol, seeds, background=[2], region=region) == 1
    full = grow.grow_from_seeds(vol, seeds, background=[2]) == 1
    assert half[:, 24].any() and not half[:, 25:].any(), "only the seed voxel lies outside the region"
    assert dice(half[:, :24], ball[:, :24]) > 0.92 and np.array_equal(half[:, :24], full[:, :24])


def test_bridge_cut_keeps_thin_objects_on_thick_slices():
    # a 3-slice-high disc (7.5 mm on 2.5 mm slices): the 4.5 mm opening ball rounds to 3 slices and
    # used to erase it
    g = ImageGeometry((40, 40, 12), (1.0, 1.0, 2.5))
    ijk = np.indices(g.shape).transpose(1, 2, 3, 0).astype(float)
    disc = (np.hypot(ijk[..., 0] - 20, ijk[..., 1] - 20) <= 12) & (np.abs(ijk[..., 2] - 6) <= 1)
    img = np.where(disc, 90.0, -100.0) + np.random.default_rng(4).normal(0, 4.0, g.shape)
    vol = Volume(img.astype(np.float32), g, modality="CT", units="HU")
    sets = [grow.SeedSet("disc", g.index_to_lps(np.array([[20, 20, 6]]))),
            grow.SeedSet("background", g.index_to_lps(np.array([[2, 2, 1], [38, 38, 11]])))]
    out = grow.grow_from_seeds(vol, grow.seed_image(g, sets), background=[2]) == 1
    assert dice(out, disc) > 0.95


def test_grow_from_seeds_edge_cases():
    vol, truth, centre = sphere_volume(noise=4.0)
    g = vol.geometry
    corner = g.index_to_lps(np.array([[0, 0, 0]]))
    far = g.index_to_lps(np.array([[g.shape[0] - 1, g.shape[1] - 1, g.shape[2] - 1]]))
    sets = [grow.SeedSet("ball", centre[None]), grow.SeedSet("edge", far), grow.SeedSet("background", corner)]
    seeds = grow.seed_image(g, sets)
    # nothing may be entered: every label keeps only its seed voxels
    out = grow.grow_from_seeds(vol, seeds, background=[3], region=np.zeros(g.shape, bool))
    assert (out > 0).sum() == 2 and out[tuple(np.rint(g.lps_to_index(far)).astype(int)[0])] == 2
    # a seed on the image border (a label touching the border) and a one-voxel label do not crash
    out = grow.grow_from_seeds(vol, seeds, background=[3], fill_holes=True, boundary_refinement=True)
    assert dice(out == 1, truth) > 0.9 and (out == 2).any()
    with pytest.raises(InputError, match="dead_zone"):
        grow.grow_from_seeds(vol, seeds, background=[3], dead_zone="big")
    with pytest.raises(InputError, match="local_models"):
        grow.grow_from_seeds(vol, seeds, background=[3], local_models="some")
    with pytest.raises(InputError, match="region"):
        grow.grow_from_seeds(vol, seeds, background=[3], region=np.zeros((3, 3, 3), bool))


def _disc_between_plates():
    """A 4-slice disc (85 HU) between two 1000 HU plates, blurred along z (sigma 1.5 mm, 2.5 mm slices)."""
    from scipy import ndimage as ndi

    g = ImageGeometry((40, 40, 16), (1.0, 1.0, 2.5))
    ijk = np.indices(g.shape).transpose(1, 2, 3, 0).astype(float)
    inside = np.ones(g.shape, bool)  # slabs across the image: only the z edges count
    disc = inside & (ijk[..., 2] >= 6) & (ijk[..., 2] <= 9)
    plate = inside & ((ijk[..., 2] == 5) | (ijk[..., 2] == 10))
    hu = np.where(disc, 85.0, -100.0)
    hu[plate] = 1000.0
    img = ndi.gaussian_filter(hu, (0.5, 0.5, 0.6), mode="nearest") + np.random.default_rng(2).normal(0, 5.0, g.shape)
    vol = Volume(img.astype(np.float32), g, modality="CT", units="HU")
    region = ~(inside & ((ijk[..., 2] <= 5) | (ijk[..., 2] >= 10)))  # the bone (plates) is not grown into
    sets = [grow.SeedSet("disc", g.index_to_lps(np.array([[20, 20, 7], [20, 20, 8]]))),
            grow.SeedSet("background", g.index_to_lps(np.array([[20, 20, 1], [20, 20, 14], [5, 30, 2]])))]
    return vol, disc, region, grow.seed_image(g, sets)


def test_label_options_rim_layers_take_the_partial_volume_slices():
    vol, disc, region, seeds = _disc_between_plates()
    # a window learned at the disc's centre (tolerance 1.5 sd) stops before the slices next to the plates,
    # which the plates' blur brightens to ~240 HU (in the phantom most disc voxels are such slices)
    kw = dict(background=[2], region=region, intensity_tolerance=1.5)
    plain = grow.grow_from_seeds(vol, seeds, boundary_refinement=False, **kw) == 1
    opts = {1: {"boundary_refinement": True, "rim_layers": 2}}
    rim = grow.grow_from_seeds(vol, seeds, label_options=opts, **kw) == 1
    assert dice(plain, disc) < 0.7
    assert dice(rim, disc) > 0.9
    assert not (rim & ~region).any()


def test_label_options_validation_and_bridge_override():
    vol, disc, region, seeds = _disc_between_plates()
    for bad in ({1: {"rim_layer": 2}}, {1: {"rim_layers": 1.5}}, {1: {"bridge_radius_mm": -1}},
                {1: {"boundary_refinement": "yes"}}, {1: 3}):
        with pytest.raises(InputError):
            grow.grow_from_seeds(vol, seeds, background=[2], label_options=bad)
    a = grow.grow_from_seeds(vol, seeds, background=[2], region=region, bridge_radius_mm=0.0)
    b = grow.grow_from_seeds(vol, seeds, background=[2], region=region, label_options={1: {"bridge_radius_mm": 0.0}})
    assert np.array_equal(a, b)


def _disc_in_fat(noise: float = 8.0):
    """A disc (85 HU, 4 slices of 2.5 mm, radius 20 mm) between vertebral bodies (280 HU, 1000 HU endplates), in fat,
    with a psoas-like muscle (50 HU) beside it; one click at the disc's centre, two on the muscle, background clicks in
    the fat 6 mm around the disc at its height (the phantom's layout)."""
    from scipy import ndimage as ndi

    g = ImageGeometry((40, 40, 16), (2.0, 2.0, 2.5))
    i, j, k = np.indices(g.shape)
    r = np.hypot(i - 19.5, j - 19.5) * 2.0
    column = r <= 20.0
    disc = column & (k >= 6) & (k <= 9)
    bone = column & ~disc
    muscle = (np.hypot(i - 19.5, j - 5.5) * 2.0 <= 7.0) & ~column
    hu = np.where(column, 280.0, -100.0)
    hu[muscle] = 50.0
    hu[disc] = 85.0
    hu[column & ((k == 5) | (k == 10))] = 1000.0
    img = ndi.gaussian_filter(hu, (0.45, 0.45, 0.6), mode="nearest")
    img += ndi.gaussian_filter(np.random.default_rng(3).normal(0, 1, g.shape), (0.4, 0.4, 0)) * noise * 2.3
    vol = Volume(img.astype(np.float32), g, modality="CT", units="HU")
    ang = np.linspace(0, 2 * np.pi, 8, endpoint=False)
    bg = np.stack([19.5 + 13 * np.cos(ang), 19.5 + 13 * np.sin(ang), np.full(8, 7.5)], axis=1)
    bg = bg[np.hypot(bg[:, 0] - 19.5, bg[:, 1] - 5.5) * 2.0 > 9.0]
    sets = [grow.SeedSet("disc", g.index_to_lps(np.array([[19.5, 19.5, 7.5]]))),
            grow.SeedSet("muscle", g.index_to_lps(np.array([[19.5, 5.5, 3.0], [19.5, 5.5, 12.0]]))),
            grow.SeedSet("background", g.index_to_lps(bg))]
    return vol, disc, ~bone, grow.seed_image(g, sets)


def test_directional_edges_fill_a_thin_blurred_disc_from_one_click():
    vol, disc, region, seeds = _disc_in_fat()
    kw = dict(background=[3], region=region)
    plain = grow.grow_from_seeds(vol, seeds, directional_edges=False, **kw) == 1
    auto = grow.grow_from_seeds(vol, seeds, **kw) == 1  # "auto" recognises the blurred seeds
    opt = grow.grow_from_seeds(vol, seeds, directional_edges=False, label_options={1: {"directional_edges": True}},
                               **kw) == 1
    print("disc Dice plain / directional:", round(dice(plain, disc), 3), round(dice(auto, disc), 3))
    assert dice(plain, disc) < 0.7  # the background, free in the fat, wins the disc's periphery
    assert dice(auto, disc) > 0.88
    assert np.array_equal(auto, opt)
    with pytest.raises(InputError, match="directional"):
        grow.grow_from_seeds(vol, seeds, directional_edges="sometimes", **kw)
    with pytest.raises(InputError):
        grow.grow_from_seeds(vol, seeds, label_options={1: {"directional_edges": 1}}, **kw)


def test_leak_cutting_measures_thickness_near_the_clicks():
    """A thin disc whose label leaked into a thick block of like tissue (mediastinum beside a vertebra): the
    leak-cutting radius follows the disc's thickness near its click, not the leak's (on the phantom with noise
    seed 1 the discs fell to Dice 0.21 when the leak set the radius)."""
    from segmentation._grow_models import _bridge_radius

    vol, disc, region, seeds = _disc_in_fat()
    g = vol.geometry
    i, j, k = np.indices(g.shape)
    leak = (i >= 30) & (i < 40) & (j >= 12) & (j < 28)  # 20 x 32 mm, all 16 slices, touching the disc's edge
    label = disc | leak
    click = seeds == 1
    from segmentation import morphology as morph

    near, whole = _bridge_radius(label, g, 4.5, click), _bridge_radius(label, g, 4.5)
    assert near < whole  # measured over the whole label, the leak's thickness decides
    assert near <= 0.4 * 5.0  # 0.4 x the disc's half height (4 slices of 2.5 mm)
    assert (morph.opening(label, g, near) & disc).sum() > 0.9 * disc.sum()  # the disc survives the cut
    assert _bridge_radius(leak, g, 4.5, leak & (i == 35) & (j == 20) & (k == 8)) >= 2 * near  # a click in the leak


def test_background_around_a_directional_label_competes_directionally():
    """The background clicked around a directional label (the disc) is priced by directional edges too: along the
    blurred endplates it no longer pays the full gradient magnitude where the disc does not (0.90 before)."""
    vol, disc, region, seeds = _disc_in_fat()
    out = grow.grow_from_seeds(vol, seeds, background=[3], region=region) == 1
    assert dice(out, disc) > 0.94
    from segmentation._grow_models import _directional_background

    g = vol.geometry
    sets = [grow.SeedSet("disc", g.index_to_lps(np.array([[19.5, 19.5, 7.5]]))),
            grow.SeedSet("ball", g.index_to_lps(np.array([[3.0, 3.0, 3.0]]))),
            grow.SeedSet("background", g.index_to_lps(np.array([[19.5, 33.0, 7.5], [3.0, 6.0, 3.0]])))]
    img = grow.seed_image(g, sets)
    work = img.copy()
    work[tuple(np.rint(g.lps_to_index(sets[2].points_lps[1:])).astype(int)[0])] = 4  # second click: its own part
    owner = {1: 1, 2: 2, 3: 3, 4: 3}
    # only the click nearest the directional disc is priced directionally, none when no label is
    assert _directional_background(work, img, [1, 2, 3, 4], owner, [3], {1}, g) == {3}
    assert _directional_background(work, img, [1, 2, 3, 4], owner, [3], set(), g) == set()


def test_label_option_max_distance_clears_a_leak_beyond_the_reach_of_the_clicks():
    vol, a, b, _ = _two_balls_with_bridge(noise=2.0)
    g = vol.geometry
    sets = [grow.SeedSet("ball", g.index_to_lps(np.array([[20, 20, 20]]))),
            grow.SeedSet("background", g.index_to_lps(np.array([[2, 2, 2], [78, 38, 38]])))]
    seeds = grow.seed_image(g, sets)
    kw = dict(background=[2], bridge_radius_mm=0.0)
    leaky = grow.grow_from_seeds(vol, seeds, **kw) == 1
    assert leaky[b].mean() > 0.5  # like tissue through the bridge: the label runs on into the second ball
    reach = grow.grow_from_seeds(vol, seeds, label_options={1: {"max_distance_mm": 15.0}}, **kw) == 1
    assert dice(reach, a) > 0.95 and not reach[b].any()
    assert np.argwhere(reach)[:, 0].max() <= 20 + 15
    assert np.array_equal(reach, grow.grow_from_seeds(vol, seeds, max_distance_mm=15.0, **kw) == 1)
    with pytest.raises(InputError):
        grow.grow_from_seeds(vol, seeds, label_options={1: {"max_distance_mm": "far"}}, **kw)
