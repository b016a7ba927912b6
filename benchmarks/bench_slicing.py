"""Slice scrolling speed on a 512 x 512 x 400 CT and time from ``vht gui CT`` to the first image.

Run: ``nice python benchmarks/bench_slicing.py [--quick]``. Prints our rates next to raw-library
baselines measured in the same run:

* reslice+window+overlay (rendering.mpr pipeline, numpy) vs a bare numpy slice + window LUT, and vs
  VTK's vtkImageReslice + vtkImageMapToWindowLevelColors (what an image-actor view would run);
* the real ``SliceView`` widget (offscreen Qt): scroll one slice + synchronous repaint, per orientation;
* ``vht gui CT.nrrd`` / ``CT.nii.gz`` in a subprocess: wall time from launch to the first painted slices,
  next to SimpleITK's raw read time of the same file.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def make_ct(shape: tuple[int, int, int]):
    from twin.geometry import ImageGeometry
    from twin.labelmap import LabelMap
    from twin.volume import Volume

    sp = np.array([0.7, 0.7, 1.0])
    g = ImageGeometry(shape, sp, -sp * (np.array(shape) - 1) / 2)
    rng = np.random.default_rng(0)
    i = (np.arange(shape[0]) - shape[0] / 2)[:, None, None] / (shape[0] / 2)
    j = (np.arange(shape[1]) - shape[1] / 2)[None, :, None] / (shape[1] / 2)
    body = (i**2 / 0.8 + j**2 / 0.6) < 1.0
    ct = np.where(body, np.int16(40), np.int16(-1000)) + rng.integers(-20, 20, shape, dtype=np.int16)
    # memory order as read from disk (SimpleITK [k, j, i] transposed): axial slices contiguous
    ct = np.asfortranarray(np.broadcast_to(ct, shape).astype(np.int16))
    lab = np.zeros(shape, np.uint8, order="F")
    lab[np.broadcast_to(((i + 0.3) ** 2 + j**2) < 0.1, shape)] = 1
    lab[np.broadcast_to(((i - 0.4) ** 2 + (j - 0.2) ** 2) < 0.02, shape)] = 2
    vol = Volume(ct, g, "CT", "HU", "bench_ct")
    return vol, LabelMap.from_array(lab, g, {1: "liver", 2: "spleen"})


def rate(fn, n: int) -> float:
    fn(0)
    t = time.perf_counter()
    for k in range(n):
        fn(k)
    return n / (time.perf_counter() - t)


def bench_pipeline(vol, lm, n: int) -> None:
    from rendering.mpr import render_slice
    from rendering.slicing import SlicePlane
    from rendering.windowing import CT_PRESETS, apply_window

    wl = CT_PRESETS["soft tissue"]
    c = vol.geometry.index_to_lps([np.array(vol.shape) // 2])[0]
    print(f"\n== reslice + window + overlay, {vol.shape} int16 (slices/s) ==")
    for o, ax in (("axial", 2), ("coronal", 1), ("sagittal", 0)):
        plane = SlicePlane.standard(o, c)
        lo = c[ax] - n / 2 * vol.spacing[ax]

        def ours(k, plane=plane, ax=ax, lo=lo):
            p = plane.point_lps.copy()
            p[ax] = lo + k * vol.spacing[ax]
            render_slice(vol, plane.moved_to(p), wl, lm)

        def raw(k, ax=ax):
            idx = [slice(None)] * 3
            idx[ax] = vol.shape[ax] // 2 - n // 2 + k
            apply_window(vol.array[tuple(idx)], wl)

        r_ours, r_raw = rate(ours, n), rate(raw, n)
        print(f"  {o:9s} ours {r_ours:7.1f}/s   numpy slice+LUT {r_raw:7.1f}/s   ratio {r_raw / r_ours:5.1f}x")
    # VTK baseline (axial), what a vtkImageActor-based view computes per slice
    import vtk
    from vtk.util import numpy_support

    img = vtk.vtkImageData()
    img.SetDimensions(*vol.shape)
    img.SetSpacing(*vol.spacing)
    img.GetPointData().SetScalars(numpy_support.numpy_to_vtk(np.asfortranarray(vol.array).ravel(order="F"), deep=1))
    rs = vtk.vtkImageReslice()
    rs.SetInputData(img)
    rs.SetOutputDimensionality(2)
    axes = vtk.vtkMatrix4x4()
    rs.SetResliceAxes(axes)
    wlc = vtk.vtkImageMapToWindowLevelColors()
    wlc.SetInputConnection(rs.GetOutputPort())
    wlc.SetWindow(wl.width)
    wlc.SetLevel(wl.level)

    def vtk_axial(k):
        axes.SetElement(2, 3, (vol.shape[2] // 2 - n // 2 + k) * vol.spacing[2])
        rs.Modified()
        wlc.Update()

    r_vtk = rate(vtk_axial, n)
    print(f"  axial     VTK vtkImageReslice+WindowLevel {r_vtk:7.1f}/s (no overlay)")


def bench_widget(vol, lm, n: int) -> None:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from app.gui.application import _qt_app
    from app.gui.main_window import MainWindow
    from twin.project import Project

    app = _qt_app()
    w = MainWindow(autosave=False)
    w.interactive_dialogs = False
    w.resize(1500, 950)
    w.show()
    w.set_project(Project(name="bench", volumes={"ct": vol}, labelmaps={"seg": lm}))
    w.scene3d.shutdown()  # measure the 2-D path only
    app.processEvents()
    print(f"\n== SliceView widget: scroll one slice + repaint ({w.slice_views['axial'].width()} x "
          f"{w.slice_views['axial'].height()} px view, offscreen Qt) ==")
    for o in ("axial", "coronal", "sagittal"):
        view = w.slice_views[o]
        view.scroll_slices(-n // 2)

        def step(k, view=view):
            view.scroll_slices(1)
            view.repaint()

        print(f"  {o:9s} {rate(step, n):7.1f} slices/s")
    w.project.undo_stack.set_clean()
    w.close()


def bench_startup(vol, tmp: Path) -> None:
    import SimpleITK as sitk

    from twin.io.images import write_image

    print("\n== vht gui CT -> first image (subprocess, wall clock) ==")
    for suffix in (".nrrd", ".nii.gz"):
        path = write_image(vol, tmp / f"ct{suffix}", compress=suffix != ".nrrd")
        t = time.perf_counter()
        sitk.ReadImage(str(path))
        raw = time.perf_counter() - t
        env = dict(os.environ, VHT_TIME_TO_FIRST_IMAGE="1", QT_QPA_PLATFORM=os.environ.get("QT_QPA_PLATFORM",
                                                                                            "offscreen"),
                   VHT_SETTINGS_FILE=str(tmp / "s.ini"), VHT_RECOVERY_DIR=str(tmp / "rec"))
        t = time.time()
        r = subprocess.run([sys.executable, "-m", "app", "gui", str(path)], env=env, capture_output=True, text=True)
        inner = [ln for ln in r.stdout.splitlines() if "first image" in ln]
        if not inner:
            print(f"  {suffix:8s} failed: {r.stderr[-300:]}")
            continue
        wall = float(inner[0].split("epoch ")[1].rstrip(")")) - t  # launch -> first painted slice
        print(f"  {suffix:8s} launch -> first image {wall:5.2f} s ({inner[0].split(' (epoch')[0]}); "
              f"SimpleITK read alone {raw:5.2f} s; ratio {wall / raw:5.1f}x")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="256 x 256 x 200 and fewer slices")
    args = ap.parse_args()
    shape = (256, 256, 200) if args.quick else (512, 512, 400)
    n = 30 if args.quick else 60
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    t = time.perf_counter()
    vol, lm = make_ct(shape)
    print(f"synthetic CT {shape} int16 + 2-segment label map built in {time.perf_counter() - t:.1f} s")
    bench_pipeline(vol, lm, n)
    bench_widget(vol, lm, n)
    with tempfile.TemporaryDirectory() as d:
        bench_startup(vol, Path(d))


if __name__ == "__main__":
    main()
