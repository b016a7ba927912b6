"""Segmentation speed against raw SimpleITK / VTK on a 512x512x400 CT-like volume (frame LPS).

Prints our time / raw time ratios measured in the same run (goals from issue 3):
bone preset <= 2x raw BinaryThreshold + ConnectedComponent + RelabelComponent;
label -> surfaces for 20 segments <= 1.5x raw vtkDiscreteFlyingEdges3D (same labels, one pass);
peak extra memory of the bone preset <= 3x the volume's size.

Run: ``nice python benchmarks/bench_segmentation.py [--small]``.
"""

from __future__ import annotations

import argparse
import resource
import time
import tracemalloc

import numpy as np


def ct_like(shape: tuple[int, int, int]):
    """Body ellipse (40 HU) with fat rim, lungs, spine-like rods (700 HU) with marrow, a table, noise."""
    from twin.geometry import ImageGeometry
    from twin.volume import Volume

    g = ImageGeometry(shape, (0.8, 0.8, 1.0), (-200.0, -200.0, 0.0))
    ni, nj, nk = shape
    i = np.arange(ni)[:, None] - ni / 2
    j = np.arange(nj)[None, :] - nj / 2
    body = (i / (0.42 * ni)) ** 2 + (j / (0.32 * nj)) ** 2 <= 1
    fat = body & ((i / (0.40 * ni)) ** 2 + (j / (0.30 * nj)) ** 2 > 1)
    lung = ((np.abs(i) - 0.18 * ni) / (0.12 * ni)) ** 2 + ((j + 0.05 * nj) / (0.15 * nj)) ** 2 <= 1
    rod = (i / (0.04 * ni)) ** 2 + ((j - 0.2 * nj) / (0.04 * nj)) ** 2 <= 1
    marrow = (i / (0.025 * ni)) ** 2 + ((j - 0.2 * nj) / (0.025 * nj)) ** 2 <= 1
    sl = np.full((ni, nj), -1000, np.int16)
    sl[body] = 40
    sl[fat] = -100
    sl[lung & body] = -850
    sl[rod] = 700
    sl[marrow] = 150
    sl[:, int(0.86 * nj):int(0.88 * nj)] = 300  # table
    rng = np.random.default_rng(0)
    arr = np.repeat(sl[:, :, None], nk, axis=2)
    arr += rng.normal(0, 15, (ni, nj, 1)).astype(np.int16)  # cheap noise
    # memory order of a volume read from disk (twin.volume.sitk_to_array: i fastest)
    return Volume(np.asfortranarray(arr), g, modality="CT", units="HU")


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


def main() -> None:
    """Run the three comparisons and print the ratios."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--small", action="store_true", help="256x256x200 instead of 512x512x400")
    args = ap.parse_args()
    shape = (256, 256, 200) if args.small else (512, 512, 400)
    from segmentation import presets
    from segmentation.surfaces import labelmap_to_surfaces
    from twin.labelmap import LabelMap

    vol = ct_like(shape)
    nbytes = vol.array.nbytes
    print(f"volume {shape} int16 = {nbytes / 1e6:.0f} MB")
    t_raw = min(raw_bone(vol) for _ in range(2))
    tracemalloc.start()
    t = time.perf_counter()
    bone = presets.bone(vol)
    t_ours = time.perf_counter() - t
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"bone preset {t_ours:.2f} s vs raw threshold+CC {t_raw:.2f} s: ratio {t_ours / t_raw:.2f} (goal <= 2)")
    print(f"bone preset peak numpy memory {peak / 1e6:.0f} MB = {peak / nbytes:.2f}x volume (goal <= 3; "
          f"SimpleITK buffers not traced), {int(bone.sum())} voxels")
    lab = labels_20(shape)
    lm = LabelMap.from_array(lab, vol.geometry)
    t_raw_s = min(raw_surfaces(lab, vol.geometry.spacing) for _ in range(2))
    t = time.perf_counter()
    res = labelmap_to_surfaces(lm, smoothing=0.0, normals=False)
    t_s = time.perf_counter() - t
    print(f"20 segments -> surfaces {t_s:.2f} s vs raw vtkDiscreteFlyingEdges3D {t_raw_s:.2f} s: "
          f"ratio {t_s / t_raw_s:.2f} (goal <= 1.5); watertight {sum(r.watertight for r in res)}/{len(res)}")
    print(f"process max RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3:.0f} MB")


if __name__ == "__main__":
    main()
