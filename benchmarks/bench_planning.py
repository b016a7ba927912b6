"""Planning metrics: our exact voxel-cube distances and resection volumes vs raw scipy calls.

Run: ``python benchmarks/bench_planning.py``. Prints our time / raw-library time
measured in the same run (medians of 3). Frame LPS, mm.
"""

from __future__ import annotations

import time

import numpy as np
from scipy import ndimage

from planning.distance import MaskDistance
from planning.resection import evaluate_resection
from planning.trajectories import evaluate_trajectory
from twin.geometry import ImageGeometry
from twin.labelmap import LabelMap
from twin.plan import CutPlane, Resection, Trajectory


def median_time(fn, n: int = 3) -> float:
    ts = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t)
    return float(np.median(ts))


def main() -> None:
    geom = ImageGeometry((256, 256, 200), (0.8, 0.8, 1.0), (0, 0, 0), np.eye(3))
    idx = np.indices(geom.shape, dtype=np.float32)
    c = np.array([102.0, 102.0, 100.0])
    r = np.sqrt(((idx[0] * 0.8 - c[0]) / 80) ** 2 + ((idx[1] * 0.8 - c[1]) / 60) ** 2 + ((idx[2] - c[2]) / 70) ** 2)
    liver = r <= 1.0
    vessel = (np.hypot(idx[0] * 0.8 - 100, idx[1] * 0.8 - 60) <= 4) & liver
    labels = np.zeros(geom.shape, np.uint8)
    labels[liver] = 1
    labels[vessel] = 2
    lm = LabelMap.from_array(labels, geom, names={1: "liver", 2: "vessel"})
    print(f"liver {liver.sum() * geom.voxel_volume_mm3 / 1000:.0f} mL on a {geom.shape} grid")

    traj = Trajectory(name="t", entry_lps=(200, 190, 100), target_lps=(110, 100, 100), diameter_mm=2.0)
    ours = median_time(lambda: evaluate_trajectory(traj, lm, ["vessel"]))
    raw = median_time(lambda: ndimage.distance_transform_edt(~vessel, sampling=geom.spacing))
    print(f"trajectory clearance (exact cube distance) {ours:.3f} s | raw scipy EDT of the grid {raw:.3f} s "
          f"| ratio {ours / raw:.2f}")

    md = MaskDistance(vessel, geom)
    pts = geom.index_to_lps(np.random.default_rng(0).uniform(0, 200, size=(20000, 3)))
    ours = median_time(lambda: md.distance_mm(pts))
    print(f"20k point distances {ours:.3f} s (EDT above is the raw baseline: ratio {ours / raw:.2f})")

    res = Resection(name="r", organ_segment="liver", planes=(CutPlane((110, 100, 100), (1, 0.3, 0.2)),))
    ours = median_time(lambda: evaluate_resection(res, lm))
    raw = median_time(lambda: np.count_nonzero(liver & (np.tensordot(idx, [0.8, 0.24, 0.2], axes=(0, 0)) > 0)))
    print(f"resection volumes (exact partial voxels) {ours:.3f} s | raw numpy voxel-centre count {raw:.3f} s "
          f"| ratio {ours / raw:.2f}")


if __name__ == "__main__":
    main()
