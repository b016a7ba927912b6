"""Benchmark: demo-phantom generation and cached loading vs raw library calls on the same data.

Prints (medians of ``--repeat`` runs, measured in this run):

* generation of the default phantom (192 x 160 x 96, 2 x 2 x 2.5 mm): wall and CPU seconds, and the
  ratio to one raw ``scipy.ndimage.gaussian_filter`` of the same float32 grid (the PSF blur alone);
* cached ``load_demo_case`` vs raw ``SimpleITK.ReadImage`` of the same two NIfTI files (ours adds the
  JSON key check and a writable copy of the labels, which a ``LabelMap`` needs).

Frame: LPS mm (the phantom grid). Run: ``nice python benchmarks/bench_phantom.py [--repeat 3]``.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np


def _median_time(fn, repeat: int) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    walls, cpus = [], []
    for _ in range(repeat):
        t, c = time.perf_counter(), time.process_time()
        fn()
        walls.append(time.perf_counter() - t)
        cpus.append(time.process_time() - c)
    return statistics.median(walls), statistics.median(cpus)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    import SimpleITK as sitk
    from scipy import ndimage

    from twin.phantom import load_demo_case, make_abdomen_phantom
    from twin.phantom._generate import DEFAULT_SHAPE, DEFAULT_SPACING_MM, PSF_SIGMA_MM

    gen_wall, gen_cpu = _median_time(make_abdomen_phantom, args.repeat)
    grid = np.random.default_rng(0).standard_normal(DEFAULT_SHAPE, dtype=np.float32)
    sigma = np.asarray(PSF_SIGMA_MM) / np.asarray(DEFAULT_SPACING_MM)
    blur_wall, _ = _median_time(lambda: ndimage.gaussian_filter(grid, sigma, truncate=3.0), args.repeat)
    print(f"generate default phantom: {gen_wall:.2f} s wall, {gen_cpu:.2f} s CPU; "
          f"raw gaussian_filter of the grid {blur_wall:.3f} s; ratio {gen_wall / blur_wall:.1f}x")

    with tempfile.TemporaryDirectory() as tmp:
        load_demo_case(tmp)  # fill the cache
        folder = next(Path(tmp).glob("abdomen-*"))
        ours, _ = _median_time(lambda: load_demo_case(tmp), args.repeat)

        def raw() -> None:
            for name in ("ct.nii", "labels.nii"):
                sitk.GetArrayFromImage(sitk.ReadImage(str(folder / name)))

        raw_t, _ = _median_time(raw, args.repeat)
    print(f"cached load_demo_case: {ours:.3f} s; raw SimpleITK read of both files {raw_t:.3f} s; "
          f"ratio {ours / raw_t:.2f}x")


if __name__ == "__main__":
    main()
