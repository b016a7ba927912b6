"""A small synthetic torso CT with ground-truth segments (LPS mm), used until/unless the demo phantom is available.

Anatomy is placed in the patient frame so that orientation errors show:
the liver on the patient's right (-L), the spleen on the left (+L), the spine
posterior (+P), the tumour in the liver. Voxels are anisotropic (0.8 x 0.8 x 2.5 mm).
"""

from __future__ import annotations

import numpy as np

from twin.geometry import ImageGeometry
from twin.labelmap import LabelMap
from twin.volume import Volume


def synthetic_case(shape: tuple[int, int, int] = (160, 128, 48), seed: int = 0) -> tuple[Volume, LabelMap]:
    """(Volume in HU, LabelMap with body, liver, tumour, spleen, spine) on an anisotropic grid."""
    spacing = np.array([0.8 * 160 / shape[0], 0.8 * 128 / shape[1], 2.5 * 48 / shape[2]])
    extent = spacing * (np.asarray(shape) - 1)
    g = ImageGeometry(shape, spacing, -extent / 2)
    x, y, z = (g.origin[a] + spacing[a] * np.arange(shape[a]) for a in range(3))
    X, Y, Z = np.meshgrid(x, y, z, indexing="ij")
    body = (X / 58) ** 2 + (Y / 44) ** 2 < 1
    liver = body & (((X + 22) / 30) ** 2 + ((Y + 2) / 24) ** 2 + ((Z - 5) / 40) ** 2 < 1)
    tumour = ((X + 26) ** 2 + (Y + 6) ** 2 + (Z - 10) ** 2) < 8**2
    spleen = body & (((X - 32) / 12) ** 2 + ((Y - 14) / 10) ** 2 + ((Z - 10) / 22) ** 2 < 1)
    spine = ((X / 9) ** 2 + ((Y - 28) / 9) ** 2 < 1)
    rng = np.random.default_rng(seed)
    ct = np.full(shape, -1000.0)
    ct[body] = -90.0  # fat
    ct[body & ((X / 52) ** 2 + (Y / 38) ** 2 < 1)] = 40.0  # muscle / soft tissue
    ct[liver] = 60.0
    ct[spleen] = 50.0
    ct[liver & tumour] = 100.0
    ct[spine] = 700.0
    ct += rng.normal(0.0, 8.0, shape)
    vol = Volume(np.round(ct).astype(np.int16), g, "CT", "HU", "synthetic_ct",
                 {"SeriesDescription": "synthetic torso", "PatientName": "Phantom^Synthetic", "PatientID": "SYN-0"})
    lab = np.zeros(shape, np.uint8)
    lab[body] = 1
    lab[liver] = 2
    lab[spleen] = 4
    lab[spine] = 5
    lab[liver & tumour] = 3
    lm = LabelMap.from_array(lab, g, {1: "body", 2: "liver", 3: "tumor", 4: "spleen", 5: "spine"}, name="ground_truth")
    return vol, lm
