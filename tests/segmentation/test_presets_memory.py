"""Memory bound of the CT presets (issue 3: peak <= 3x the volume's size), frame LPS.

tracemalloc sees every numpy allocation (not ITK's buffers, which the benchmark measures
with the process's peak RSS): a deterministic count, so the bound cannot be flaky.
"""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from segmentation import presets


def _ct(shape=(256, 256, 100)):
    """Body ellipse (40 HU) with a fat rim, two lungs, a dense rod with marrow, a table, noise (int16 HU)."""
    from twin.geometry import ImageGeometry
    from twin.volume import Volume

    ni, nj, nk = shape
    i = np.arange(ni)[:, None] - ni / 2
    j = np.arange(nj)[None, :] - nj / 2
    body = (i / (0.42 * ni)) ** 2 + (j / (0.32 * nj)) ** 2 <= 1
    sl = np.full((ni, nj), -1000, np.int16)
    sl[body] = 40
    sl[body & ((i / (0.40 * ni)) ** 2 + (j / (0.30 * nj)) ** 2 > 1)] = -100
    sl[body & (((np.abs(i) - 0.18 * ni) / (0.12 * ni)) ** 2 + ((j + 0.05 * nj) / (0.15 * nj)) ** 2 <= 1)] = -850
    sl[(i / (0.04 * ni)) ** 2 + ((j - 0.2 * nj) / (0.04 * nj)) ** 2 <= 1] = 700
    sl[(i / (0.025 * ni)) ** 2 + ((j - 0.2 * nj) / (0.025 * nj)) ** 2 <= 1] = 150
    sl[:, int(0.86 * nj):int(0.88 * nj)] = 300  # table
    arr = np.repeat(sl[:, :, None], nk, axis=2)
    arr += np.random.default_rng(0).normal(0, 15, (ni, nj, nk)).astype(np.int16)
    g = ImageGeometry(shape, (0.8, 0.8, 1.0), (-100.0, -100.0, 0.0))
    return Volume(np.asfortranarray(arr), g, modality="CT", units="HU")  # SimpleITK memory order


@pytest.fixture(scope="module")
def ct():
    return _ct()


@pytest.mark.parametrize("name", presets.PRESETS)
def test_preset_numpy_peak_within_3x_volume(ct, name):
    _check_peak(ct, name)


@pytest.mark.parametrize("name", ["body", "bone"])
def test_preset_numpy_peak_on_a_coarse_ct(ct, name):
    """At 1.6 mm the presets' coarse grids are the CT's own: distance maps run slab by slab."""
    from twin.geometry import ImageGeometry
    from twin.volume import Volume

    coarse = Volume(ct.array, ImageGeometry(ct.shape, (1.6, 1.6, 2.0), (-200.0, -200.0, 0.0)),
                    modality="CT", units="HU")
    _check_peak(coarse, name)


def _check_peak(ct, name):
    presets.run_preset(_ct((24, 24, 12)), name)  # imports and caches outside the measurement
    tracemalloc.start()
    try:
        mask = presets.run_preset(ct, name)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    ratio = peak / ct.array.nbytes
    print(f"{name}: numpy peak {ratio:.2f}x the volume ({int(mask.sum())} voxels)")
    assert mask.any(), f"{name} found nothing on the synthetic CT"
    assert ratio <= 3.0
    if name == "bone" and ct.geometry.spacing[0] < 1.0:  # measured 1.2x
        assert ratio <= 1.5
