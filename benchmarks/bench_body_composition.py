"""Skeletal-muscle tool (``segmentation.body_composition``) speed and memory on a CT-like volume (frame LPS).

Prints our time / raw time measured in the same run, the raw baseline being the operations the tool is
built from: the Alberta threshold (numpy) and one float32 Gaussian of the CT (scipy.ndimage), and the
tool's peak memory: peak RSS above the inputs (``/proc/self/clear_refs`` reset before the call) and
tracemalloc's numpy peak, both as multiples of the CT's size.

Run: ``nice python benchmarks/bench_body_composition.py [--small]`` (512x512x400 by default, --small 256x256x200).
"""

from __future__ import annotations

import argparse
import time
import tracemalloc

import numpy as np


def _rss_bytes(field: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    return 0


def raw(vol, sigma_mm: float) -> float:
    from scipy import ndimage as ndi

    t = time.perf_counter()
    m = (vol.array >= -29) & (vol.array <= 150)
    ndi.gaussian_filter(vol.array.astype(np.float32), sigma_mm / vol.geometry.spacing, truncate=3.0)
    m.sum()
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--small", action="store_true")
    args = ap.parse_args()
    from segmentation import body_composition as bc
    from segmentation import presets
    from twin.phantom.synthetic_ct import ct_like

    shape = (256, 256, 200) if args.small else (512, 512, 400)
    vol = ct_like(shape, noise_per_voxel=False)
    body = presets.body(vol)
    bone = presets.bone(vol, body_mask=presets.body(vol, fill=False))
    lungs = presets.lungs(vol, body_mask=body)
    ni, nj, nk = shape
    click = vol.geometry.index_to_lps(np.array([[ni // 2, int(0.3 * nj), nk // 2]]))  # the 40 HU soft tissue
    t_raw = min(raw(vol, 3.0) for _ in range(2))
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    base = _rss_bytes("VmRSS")
    tracemalloc.start()
    t = time.perf_counter()
    m = bc.skeletal_muscle(vol, body, bone, lungs_mask=lungs, seeds_lps=click)
    t_ours = time.perf_counter() - t
    _, numpy_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss = _rss_bytes("VmHWM") - base
    nbytes = vol.array.nbytes
    print(f"CT {shape} ({nbytes / 1e6:.0f} MB), muscle {m.sum()} voxels")
    print(f"skeletal_muscle {t_ours:.2f} s vs raw threshold + Gaussian {t_raw:.2f} s: ratio {t_ours / t_raw:.1f}")
    print(f"peak memory: RSS +{rss / nbytes:.1f}x the CT, numpy {numpy_peak / nbytes:.1f}x the CT")


if __name__ == "__main__":
    main()
