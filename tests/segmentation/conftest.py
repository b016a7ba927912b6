"""Shared fixtures for segmentation tests (real data beside the checkout, synthetic volumes)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"


def data_dir(sub: str) -> Path:
    """Folder of ../shared/data or a clean skip."""
    p = DATA / sub
    if not p.exists():
        pytest.skip("../shared/data not present")
    return p


@pytest.fixture(scope="session")
def totalseg():
    """(CT volume, TotalSegmentator label array, label names) of totalseg_example/example_ct."""
    import json

    from twin.io.images import read_image

    d = data_dir("totalseg_example")
    ct = read_image(d / "example_ct.nii.gz")
    seg = read_image(d / "example_seg_fast_force_split.nii.gz").array
    names = {int(k): v for k, v in json.loads((d / "labels_total_and_total_mr.json").read_text())["total"].items()}
    return ct, np.asarray(seg), names


def sphere_volume(shape=(48, 44, 40), spacing=(0.8, 0.9, 1.5), radius_mm=12.0, value=100.0, noise=0.0, seed=0):
    """A bright ball in a dark box: (Volume, truth mask, centre LPS)."""
    from twin.geometry import ImageGeometry
    from twin.volume import Volume

    g = ImageGeometry(shape, spacing, (-10.0, 5.0, 20.0))
    ijk = np.indices(shape).reshape(3, -1).T
    lps = g.index_to_lps(ijk).reshape(*shape, 3)
    centre = g.index_to_lps(np.array([[(s - 1) / 2 for s in shape]]))[0]
    truth = np.linalg.norm(lps - centre, axis=-1) <= radius_mm
    img = np.where(truth, value, 0.0)
    if noise:
        img = img + np.random.default_rng(seed).normal(0, noise, shape)
    return Volume(img.astype(np.float32), g, modality="CT", units="HU"), truth, centre
