"""Segmentation speed against raw SimpleITK / VTK on a 512x512x400 CT-like volume (frame LPS).

Prints our time / raw time ratios measured in the same run (goals from issue 3):
bone preset <= 2x raw BinaryThreshold + ConnectedComponent + RelabelComponent;
label -> surfaces for 20 segments <= 1.5x raw vtkDiscreteFlyingEdges3D (same labels, one pass);
peak memory <= 3x the volume's size, measured for every preset (the bone preset also on a
contrast-enhanced variant of the CT, ``*_contrast``: its contrast path) and the surface path in a fresh
process each: peak RSS above the loaded volume (the kernel's high-water mark, reset before the
call: numpy, ITK and VTK buffers all count) and tracemalloc's numpy peak.

Run: ``nice python benchmarks/bench_segmentation.py [--small] [--memory-only]``.
"""

from __future__ import annotations

import argparse
import time
import tracemalloc

import numpy as np


def ct_like(shape: tuple[int, int, int], contrast: bool = False):
    """:func:`twin.phantom.synthetic_ct.ct_like` with one noise image repeated along k (cheap at 512x512x400).

    ``contrast``: the portal-venous variant (the bone preset's contrast path) with ribs round the body.
    """
    from twin.phantom.synthetic_ct import ct_like as make

    return make(shape, contrast=contrast, noise_per_voxel=False)


def raw_bone(vol) -> float:
    import SimpleITK as sitk

    img = vol.to_sitk()
    t = time.perf_counter()
    m = sitk.BinaryThreshold(img, 200, 3071, 1, 0)
    cc = sitk.RelabelComponent(sitk.ConnectedComponent(m), sortByObjectSize=True)
    sitk.GetArrayViewFromImage(cc).max()
    return time.perf_counter() - t


def labels_20(shape):
    lab = np.zeros(shape, np.uint8)
    rng = np.random.default_rng(1)
    for v in range(1, 21):
        c = rng.uniform(0.2, 0.8, 3) * np.array(shape)
        r = rng.uniform(0.04, 0.1) * min(shape)
        sl = tuple(slice(max(int(cc - r), 0), min(int(cc + r) + 1, n)) for cc, n in zip(c, shape))
        grid = np.ogrid[sl]
        ball = sum(((gg - cc) / r) ** 2 for gg, cc in zip(grid, c)) <= 1
        lab[sl][ball] = v
    return lab


def raw_surfaces(lab, spacing) -> float:
    import vtk
    from vtk.util import numpy_support

    t = time.perf_counter()
    img = vtk.vtkImageData()
    img.SetDimensions(*lab.shape)
    img.SetSpacing(*spacing)
    img.GetPointData().SetScalars(numpy_support.numpy_to_vtk(np.ascontiguousarray(lab.transpose(2, 1, 0)).ravel()))
    f = vtk.vtkDiscreteFlyingEdges3D()
    for v in range(1, 21):
        f.SetValue(v - 1, v)
    f.SetInputData(img)
    f.Update()
    f.GetOutput().GetNumberOfCells()
    return time.perf_counter() - t


def _rss_bytes(key: str) -> int:
    import re

    with open("/proc/self/status") as f:
        return int(re.search(key + r":\s+(\d+)", f.read()).group(1)) * 1024  # type: ignore[union-attr]


def measure_child(what: str, shape: tuple[int, int, int]) -> None:
    """In a fresh process: peak RSS above the loaded volume (numpy + ITK + VTK), and the numpy peak.

    Prints ``what seconds rss_peak_bytes numpy_peak_bytes volume_bytes``. The kernel's peak-RSS
    counter is reset (``/proc/self/clear_refs`` 5) after the volume is built and the code warmed up
    on a small volume, so only the measured call's allocations count.
    """
    import gc

    from segmentation import presets
    from segmentation.surfaces import labelmap_to_surfaces
    from twin.labelmap import LabelMap

    contrast = what.endswith("_contrast")
    vol = ct_like(shape, contrast=contrast)
    lab = labels_20(shape) if what.startswith("surf") else None

    def run(v, lab_arr):
        if what.startswith("raw_bone"):
            import SimpleITK as sitk

            img = v.to_sitk()
            cc = sitk.RelabelComponent(sitk.ConnectedComponent(sitk.BinaryThreshold(img, 200, 3071, 1, 0)),
                                       sortByObjectSize=True)
            return sitk.GetArrayViewFromImage(cc).max()
        if what == "surfaces":
            return labelmap_to_surfaces(LabelMap.from_array(lab_arr, v.geometry), smoothing=0.0, normals=False)
        if what == "surfaces_raw":
            return raw_surfaces(lab_arr, v.geometry.spacing)
        if what == "bone_contrast":
            return presets.run_preset(v, "bone")  # main() checks that detection picks the contrast path
        return presets.run_preset(v, what)

    small = ct_like((48, 48, 24), contrast=contrast)
    run(small, labels_20(small.shape) if lab is not None else None)  # imports, lazy library pages
    gc.collect()
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    base = _rss_bytes("VmRSS")
    tracemalloc.start()
    t = time.perf_counter()
    run(vol, lab)
    dt = time.perf_counter() - t
    _, numpy_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(what, dt, _rss_bytes("VmHWM") - base, numpy_peak, vol.array.nbytes)


def measure(what: str, shape: tuple[int, int, int]) -> tuple[float, float, float]:
    """(seconds, peak RSS / volume bytes, numpy peak / volume bytes) of ``what`` in a subprocess."""
    import subprocess
    import sys

    out = subprocess.run([sys.executable, __file__, "--child", what, "--shape", *map(str, shape)],
                         check=True, capture_output=True, text=True).stdout.split()
    dt, rss, npk, nbytes = float(out[1]), float(out[2]), float(out[3]), float(out[4])
    return dt, rss / nbytes, npk / nbytes


def main() -> None:
    """Run the comparisons and print the ratios."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--small", action="store_true", help="256x256x200 instead of 512x512x400")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--shape", nargs=3, type=int, help=argparse.SUPPRESS)
    ap.add_argument("--memory-only", action="store_true", help="only the per-preset memory table")
    args = ap.parse_args()
    shape = (256, 256, 200) if args.small else (512, 512, 400)
    if args.child:
        measure_child(args.child, tuple(args.shape))
        return
    from segmentation import presets
    from segmentation.surfaces import labelmap_to_surfaces
    from twin.labelmap import LabelMap

    vol = ct_like(shape)
    nbytes = vol.array.nbytes
    print(f"volume {shape} int16 = {nbytes / 1e6:.0f} MB")
    if not args.memory_only:
        def bone_vs_raw(v: object, repeats: int, label: str, goal: str = "") -> None:
            # interleaved, best of ``repeats`` each: the machine is shared, so a single run says little
            t_raw, t_ours = [], []
            for _ in range(repeats):
                t_raw.append(raw_bone(v))
                t = time.perf_counter()
                bone = presets.bone(v)
                t_ours.append(time.perf_counter() - t)
            print(f"{label} {min(t_ours):.2f} s vs raw threshold+CC {min(t_raw):.2f} s: ratio "
                  f"{min(t_ours) / min(t_raw):.2f} ({goal}pairs {[round(a / b, 2) for a, b in zip(t_ours, t_raw)]}), "
                  f"{int(bone.sum())} voxels")

        bone_vs_raw(vol, 3, "bone preset", "goal <= 2; ")
        # the contrast-enhanced path (smoothed 230 HU tied to 400 HU cortex, partial-volume edge test)
        cvol = ct_like(shape, contrast=True)
        assert presets.contrast_enhanced(cvol), "the contrast CT must take the bone preset's contrast path"
        bone_vs_raw(cvol, 2, "bone preset, contrast path")
        del cvol
        lab = labels_20(shape)
        lm = LabelMap.from_array(lab, vol.geometry)
        t_raw_s, t_s = float("inf"), float("inf")
        for _ in range(2):
            t_raw_s = min(t_raw_s, raw_surfaces(lab, vol.geometry.spacing))
            t = time.perf_counter()
            res = labelmap_to_surfaces(lm, smoothing=0.0, normals=False)
            t_s = min(t_s, time.perf_counter() - t)
        print(f"20 segments -> surfaces {t_s:.2f} s vs raw vtkDiscreteFlyingEdges3D {t_raw_s:.2f} s: "
              f"ratio {t_s / t_raw_s:.2f} (goal <= 1.5); watertight {sum(r.watertight for r in res)}/{len(res)}")
        del lab, lm, res
    del vol
    print("peak memory above the loaded volume, one fresh process each (goal <= 3x the volume):")
    print(f"{'':14s} {'time s':>7s} {'RSS peak':>9s} {'numpy peak':>11s}")
    for what in ("raw_bone", *presets.PRESETS, "raw_bone_contrast", "bone_contrast", "surfaces_raw", "surfaces"):
        dt, rss, npk = measure(what, shape)
        print(f"{what:14s} {dt:7.2f} {rss:8.2f}x {npk:10.2f}x")


if __name__ == "__main__":
    main()
