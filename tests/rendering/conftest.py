"""Fixtures for rendering tests: small phantoms in LPS mm on chosen grids."""

from __future__ import annotations

import os

import numpy as np
import pytest

os.environ.setdefault("VTK_DEFAULT_OPENGL_WINDOW", "vtkEGLRenderWindow")

from twin.geometry import ImageGeometry  # noqa: E402
from twin.labelmap import LabelMap  # noqa: E402
from twin.volume import Volume  # noqa: E402


def voxel_centres_lps(g: ImageGeometry) -> np.ndarray:
    """LPS mm of every voxel centre, shape (ni, nj, nk, 3)."""
    idx = np.stack(np.meshgrid(*[np.arange(n) for n in g.shape], indexing="ij"), axis=-1).reshape(-1, 3)
    return g.index_to_lps(idx).reshape(*g.shape, 3)


def phantom_on(g: ImageGeometry) -> tuple[Volume, LabelMap]:
    """A body with a 'liver' ball on the patient's right (x < 0) and a 'spleen' ball on the left, any grid."""
    p = voxel_centres_lps(g)
    body = (p[..., 0] / 40) ** 2 + (p[..., 1] / 30) ** 2 < 1
    liver = np.linalg.norm(p - [-20.0, 0.0, 0.0], axis=-1) < 12
    spleen = np.linalg.norm(p - [25.0, 5.0, 0.0], axis=-1) < 7
    ct = np.where(body, 40, -1000).astype(np.int16)
    ct[liver] = 90
    ct[spleen] = 120
    lab = np.zeros(g.shape, np.uint8)
    lab[liver] = 1
    lab[spleen] = 2
    vol = Volume(ct, g, "CT", "HU", "phantom")
    lm = LabelMap.from_array(lab, g, {1: "liver", 2: "spleen"}, colors={1: (1.0, 0.0, 0.0), 2: (0.0, 0.0, 1.0)})
    return vol, lm


@pytest.fixture
def phantom() -> tuple[Volume, LabelMap]:
    """Phantom on an identity-direction, anisotropic grid (1 x 1 x 2.5 mm)."""
    n = (90, 70, 24)
    sp = np.array([1.0, 1.0, 2.5])
    return phantom_on(ImageGeometry(n, sp, -sp * (np.array(n) - 1) / 2))
