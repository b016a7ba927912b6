"""Benchmark: our lattice tet mesher vs raw fTetWild (pytetwild) and TetGen (if installed).

Same liver in every run: the TotalSegmentator liver label of ``../shared/data/totalseg_example``
(3 mm CT crop; a synthetic liver-like blob when the data is absent), and its smoothed
marching-cubes surface in LPS mm. Prints time, cell count, worst/1st-percentile dihedral
angle, inverted cells and volume error for each mesher, and time ratios ours / raw measured
in this run. Run: ``nice python benchmarks/bench_meshing.py [--edge 4] [--repeat 1]``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

import numpy as np

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "totalseg_example" / "example_seg.nii.gz"


def liver_labelmap() -> tuple[Any, str]:
    """The liver label map (LPS grid) and a description of its source."""
    from twin.geometry import ImageGeometry
    from twin.labelmap import LabelMap

    if DATA.exists():
        from twin.io.images import read_labelmap

        lm = read_labelmap(DATA)
        arr = (lm.layers[0] == 5).astype(np.uint8)
        return LabelMap.from_array(arr, lm.geometry, {1: "liver"}), f"TotalSegmentator liver, {DATA.name}"
    shape = (110, 90, 70)
    geom = ImageGeometry(shape, [2.0, 2.0, 2.5], [0, 0, 0], np.eye(3))
    ijk = np.stack(np.meshgrid(*[np.arange(s) for s in shape], indexing="ij"), -1).astype(float)
    x = ijk * geom.spacing
    c = np.array([110, 90, 87])
    r = ((x - c) / [90, 65, 60]) ** 2
    blob = (r.sum(-1) < 1) & ~((x[..., 0] > 150) & (x[..., 2] > 110))
    return LabelMap.from_array(blob.astype(np.uint8), geom, {1: "liver"}), "synthetic liver-like blob"


def liver_surface(lm: Any, target_triangles: int = 20000) -> Any:
    """Smoothed marching-cubes surface of the label (LPS mm), decimated to ~target_triangles."""
    from scipy import ndimage
    from skimage.measure import marching_cubes

    from twin.meshes import SurfaceModel

    mask = np.pad(lm.mask(1).astype(np.float32), 2)
    smooth = ndimage.gaussian_filter(mask, 1.0)
    verts, faces, _, _ = marching_cubes(smooth, 0.5)
    pts = lm.geometry.index_to_lps(verts - 2.0)
    if np.linalg.det(lm.geometry.direction) < 0:
        faces = faces[:, ::-1]
    surf = SurfaceModel(pts, faces[:, ::-1], name="liver")  # skimage winds inward-facing for a blob
    if surf.volume_mm3() < 0:
        surf = SurfaceModel(pts, faces, name="liver")
    if surf.n_triangles > target_triangles:
        import fast_simplification

        p, f = fast_simplification.simplify(np.array(surf.points_lps), np.array(surf.triangles),
                                            1 - target_triangles / surf.n_triangles)
        surf = SurfaceModel(p, f, name="liver")
    return surf


def _quality(mesh: Any, surf: Any) -> dict[str, float]:
    """Quality summary plus the distance (mm) of the mesh boundary nodes to the reference surface."""
    import pyvista as pv

    from biomech.quality import mesh_quality
    from biomech.topology import extract_surface

    s = mesh_quality(mesh).summary
    bnd = pv.PolyData(np.array(extract_surface(mesh).points_lps))
    d = np.abs(np.asarray(bnd.compute_implicit_distance(surf.to_pyvista())["implicit_distance"]))
    return {"cells": mesh.n_cells, "min_dih": s["min_dihedral_deg"]["min"], "p1_dih": s["min_dihedral_deg"]["p1"],
            "inverted": s["n_inverted"], "below10": s["n_dihedral_below_10deg"], "volume": mesh.volume_mm3(),
            "dist_mean": float(d.mean()), "dist_max": float(d.max())}


def _timed(fn: Any, repeat: int) -> tuple[float, Any]:
    best, out = np.inf, None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--edge", type=float, default=4.0, help="target edge length, mm")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--no-ftetwild", action="store_true")
    args = ap.parse_args()

    from biomech.meshing import tetmesh_from_labelmap, tetmesh_from_surface

    lm, source = liver_labelmap()
    surf = liver_surface(lm)
    v_vox = lm.volume_mm3(1)
    print(f"case: {source}; voxel volume {v_vox / 1e3:.1f} mL; surface {surf.n_triangles} triangles, "
          f"{abs(surf.volume_mm3()) / 1e3:.1f} mL; target edge {args.edge} mm")
    rows = []
    t, m = _timed(lambda: tetmesh_from_labelmap(lm, target_edge_mm=args.edge), args.repeat)
    rows.append(("ours: labelmap -> lattice", t, _quality(m, surf), v_vox))
    t, m = _timed(lambda: tetmesh_from_surface(surf, target_edge_mm=args.edge), args.repeat)
    rows.append(("ours: surface -> lattice", t, _quality(m, surf), abs(surf.volume_mm3())))
    raw: dict[str, float] = {}
    if not args.no_ftetwild:
        import pytetwild

        def ftw() -> Any:
            from twin.meshes import TetMesh

            grid = pytetwild.tetrahedralize_pv(surf.to_pyvista(), edge_length_abs=args.edge, quiet=True)
            return TetMesh.from_pyvista(grid)

        t, m = _timed(ftw, args.repeat)
        raw["ftetwild"] = t
        rows.append(("raw pytetwild (fTetWild)", t, _quality(m, surf), abs(surf.volume_mm3())))
    try:
        import tetgen

        def tg() -> Any:
            from twin.meshes import TetMesh

            gen = tetgen.TetGen(np.array(surf.points_lps), np.array(surf.triangles))
            nodes, elem = gen.tetrahedralize(switches=f"pq1.5/10a{args.edge**3 / 8.5:.3f}Q")[:2]
            return TetMesh(nodes, elem[:, :4])

        t, m = _timed(tg, args.repeat)
        raw["tetgen"] = t
        rows.append(("raw tetgen (AGPL, optional)", t, _quality(m, surf), abs(surf.volume_mm3())))
    except ImportError:
        print("tetgen not installed (optional AGPL extra): skipped")
    print("volume error: labelmap path vs voxel volume, others vs the surface volume; surface distance: "
          "boundary nodes to the marching-cubes surface")
    print(f"{'mesher':30s} {'time s':>8s} {'cells':>8s} {'min dih':>8s} {'p1 dih':>7s} {'<10deg':>7s} "
          f"{'inv':>4s} {'vol err %':>9s} {'surf dist mean/max mm':>22s}")
    for name, t, q, ref in rows:
        print(f"{name:30s} {t:8.2f} {q['cells']:8d} {q['min_dih']:8.2f} {q['p1_dih']:7.2f} {q['below10']:7d} "
              f"{q['inverted']:4d} {100 * (q['volume'] / ref - 1):9.2f} {q['dist_mean']:10.2f} / {q['dist_max']:5.2f}")
    for k, v in raw.items():
        print(f"time ratio ours(labelmap) / {k}: {rows[0][1] / v:.3f}   ours(surface) / {k}: {rows[1][1] / v:.3f}")


if __name__ == "__main__":
    main()
