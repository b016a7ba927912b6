"""Read speed: ``twin.io.images.read_image`` versus raw SimpleITK on the same files.

Generates a 512x512x400 int16 CT-like volume in a temporary folder as ``.nii.gz``, raw
``.nrrd`` and a 400-file DICOM series, then times (median of N, interleaved runs):

* ours: ``read_image(path)`` -> ``Volume`` (voxels as a NumPy array, geometry in LPS,
  all validation: header checks, truncation checks, rescale, NaN check);
* raw:  ``SimpleITK.ReadImage(path)`` (files) or ``ImageSeriesReader`` with
  ``GetGDCMSeriesFileNames`` (DICOM) -> ``sitk.Image`` (no NumPy array at all).

Goal: ratio ours/raw <= 1.2. The headline ratio compares the fastest of N runs (least
disturbed by other processes, as ``timeit`` does); the ratio of medians is printed too.
Run: ``nice python benchmarks/bench_read.py [--repeat 5]``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

SHAPE = (512, 512, 400)  # i, j, k


def _phantom_slice(k: int, rng: np.random.Generator) -> np.ndarray:
    """One CT-like axial slice [j, i] in HU: air, a body ellipse, a spine, noise."""
    j, i = np.mgrid[0:SHAPE[1], 0:SHAPE[0]]
    body = ((i - 256) / 200.0) ** 2 + ((j - 256) / (150.0 + 20 * np.sin(k / 60))) ** 2 < 1
    bone = ((i - 256) / 25.0) ** 2 + ((j - 350) / 25.0) ** 2 < 1
    out = np.full((SHAPE[1], SHAPE[0]), -1000, np.int16)
    out[body] = 40
    out[bone] = 700
    return np.clip(out + rng.normal(0, 15, out.shape), -1024, 3000).astype(np.int16)


def make_data(folder: Path) -> dict[str, Path]:
    """Write the three test inputs; returns {label: path}."""
    import SimpleITK as sitk

    from tests.twin.dicom_factory import write_series

    rng = np.random.default_rng(0)
    vol_kji = np.stack([_phantom_slice(k, rng) for k in range(SHAPE[2])])
    image = sitk.GetImageFromArray(vol_kji)
    image.SetSpacing((0.75, 0.75, 1.25))
    image.SetOrigin((-192.0, -192.0, -500.0))
    paths = {"nii.gz": folder / "ct.nii.gz", "nrrd": folder / "ct.nrrd"}
    sitk.WriteImage(image, str(paths["nii.gz"]), True)
    sitk.WriteImage(image, str(paths["nrrd"]), False)
    positions = np.array([[-192.0, -192.0, -500.0 + 1.25 * k] for k in range(SHAPE[2])])
    write_series(folder / "dicom", vol_kji.transpose(2, 1, 0), positions, pixel_spacing_ij=(0.75, 0.75),
                 intercept=-1024.0, bits_stored=12)
    paths["dicom (400 files)"] = folder / "dicom"
    return paths


def _time(fn: Callable[[], object]) -> float:
    t0 = time.perf_counter()
    result = fn()
    dt = time.perf_counter() - t0
    del result
    return dt


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    import SimpleITK as sitk

    from twin.io.images import read_image

    def raw_dicom(folder: Path) -> sitk.Image:
        reader = sitk.ImageSeriesReader()
        reader.SetFileNames(reader.GetGDCMSeriesFileNames(str(folder)))
        return reader.Execute()

    with tempfile.TemporaryDirectory(prefix="vht_bench_read_") as tmp:
        t0 = time.perf_counter()
        paths = make_data(Path(tmp))
        print(f"generated {SHAPE[0]}x{SHAPE[1]}x{SHAPE[2]} int16 inputs in {time.perf_counter() - t0:.1f} s")
        print(f"{'input':<20s}{'ours s':>9s}{'raw sitk s':>12s}{'ratio':>8s}{'median ratio':>14s}   check")
        worst = 0.0
        for label, path in paths.items():
            if label.startswith("dicom"):
                raw: Callable[[], object] = lambda p=path: raw_dicom(p)  # noqa: E731
            else:
                raw = lambda p=path: sitk.ReadImage(str(p))  # noqa: E731
            ours = lambda p=path: read_image(p)  # noqa: E731
            ours()  # warm the page cache and imports once
            raw()
            t_ours, t_raw = [], []
            for _ in range(args.repeat):
                t_ours.append(_time(ours))
                t_raw.append(_time(raw))
            vol = read_image(path)
            ref_image = raw()  # keep it alive while its array view is used
            ref = sitk.GetArrayViewFromImage(ref_image).transpose(2, 1, 0)  # type: ignore[arg-type]
            same = "identical" if np.array_equal(vol.array, ref) else "DIFFERENT"
            bo, br = min(t_ours), min(t_raw)
            mo, mr = statistics.median(t_ours), statistics.median(t_raw)
            worst = max(worst, bo / br)
            print(f"{label:<20s}{bo:9.3f}{br:12.3f}{bo / br:8.2f}{mo / mr:14.2f}   voxels {same}")
        from twin.io import compression

        accel = "ISA-L (isal)" if compression._igzip is not None else "zlib (install isal for ~2x faster .nii.gz)"
        print(f"worst ratio {worst:.2f} (goal <= 1.2); gzip decoder: {accel}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
