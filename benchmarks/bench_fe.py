"""Finite-element engine benchmark: our time / raw-library time, measured in the same run.

    python benchmarks/bench_fe.py            # assembly, linear solve ~150k DOF, growth 50k -> 400k DOF
    python benchmarks/bench_fe.py --full     # growth up to ~1M DOF (AMG-CG; several minutes, ~4 GB)

Every stage runs in a fresh subprocess so that its peak resident memory (ru_maxrss) is its own.
Meshes: structured 4:2:1 slabs (200 x 100 x 50 mm) split in 6 tets per hex (geometry in LPS mm); a cube
would be the worst case for direct solvers (largest separators).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _cube(k: int):
    """Organ-like slab of 4k x 2k x k nodes (200 x 100 x 50 mm), 6 tets per hex."""
    import skfem

    return skfem.MeshTet.init_tensor(np.linspace(0.0, 200.0, 4 * k), np.linspace(0.0, 100.0, 2 * k),
                                     np.linspace(0.0, 50.0, k))


def _best(fn, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def stage_assembly(n: int) -> dict:
    import skfem
    from skfem.models.elasticity import linear_elasticity

    from biomech.assembly import Assembler, assemble_linear_stiffness

    m = _cube(n)
    pts, cells = np.ascontiguousarray(m.p.T), np.ascontiguousarray(m.t.T)
    lam, mu = 1.0, 0.5
    assemble_linear_stiffness(pts, cells[:10], lam, mu)  # numba compile / cache load
    ours_total = _best(lambda: assemble_linear_stiffness(pts, cells, lam, mu), 2)
    asm = Assembler(cells, len(pts))
    ours_fill = _best(lambda: assemble_linear_stiffness(pts, cells, lam, mu, assembler=asm), 2)
    ours_numpy = _best(lambda: assemble_linear_stiffness(pts, cells, lam, mu, assembler=asm, use_numba=False), 1)
    basis = skfem.Basis(m, skfem.ElementVector(skfem.ElementTetP1()), intorder=1)
    sk = _best(lambda: skfem.asm(linear_elasticity(lam, mu), basis), 2)
    K1 = assemble_linear_stiffness(pts, cells, lam, mu, assembler=asm)
    K2 = skfem.asm(linear_elasticity(lam, mu), basis).tocsr()
    rel = abs(K1 - K2).max() / abs(K2).max()
    return {"cells": len(cells), "dofs": 3 * len(pts), "ours_s": ours_total, "ours_fill_only_s": ours_fill,
            "ours_numpy_fill_s": ours_numpy, "skfem_intorder1_s": sk, "max_rel_diff": float(rel)}


def _system(n: int):
    from biomech.assembly import assemble_linear_stiffness

    m = _cube(n)
    pts, cells = m.p.T, m.t.T
    K = assemble_linear_stiffness(pts, cells, 0.577, 0.385)
    fixed = np.repeat(pts[:, 2] < 1e-9, 3)
    free = ~fixed
    f = np.zeros(3 * len(pts))
    f[2::3][pts[:, 2] > 50 - 1e-9] = -1.0
    return pts, K[free][:, free].tocsr(), f[free], free


def stage_solve(n: int, method: str) -> dict:
    from biomech.assembly import rigid_body_modes
    from biomech.linsolve import solve_spd

    pts, Kff, b, free = _system(n)
    t = time.perf_counter()
    if method == "raw-pardiso":
        import scipy.sparse as sp
        from pypardiso import PyPardisoSolver

        s = PyPardisoSolver(mtype=2)
        x = s.solve(sp.triu(Kff, format="csr"), b)
        s.free_memory(everything=True)
        info = "raw"
    else:
        from biomech.linsolve import available

        if not available(method):
            raise SystemExit(f"{method} backend not installed")
        nn = rigid_body_modes(pts)[free] if method == "amg" else None
        x, inf = solve_spd(Kff, b, method, nn)
        info = f"{inf.method} it={inf.iterations}"
    dt = time.perf_counter() - t
    res = float(np.linalg.norm(Kff @ x - b) / np.linalg.norm(b))
    return {"dofs": Kff.shape[0], "method": method, "seconds": dt, "rel_residual": res, "info": info}


def stage_e2e(n: int) -> dict:
    from biomech.solver import run_case
    from twin.meshes import TetMesh

    m = _cube(n)
    mesh = TetMesh(m.p.T, m.t.T)
    case = {"materials": [{"model": "linear-elastic", "youngs_modulus": 1.0, "poisson_ratio": 0.3}],
            "boundary_conditions": [{"name": "base", "kind": "fixed",
                                     "select": {"plane": {"point": [0, 0, 0], "normal": [0, 0, 1]}}}],
            "loads": [{"name": "top", "kind": "force", "value": [0, 0, -10.0],
                       "select": {"plane": {"point": [0, 0, 50], "normal": [0, 0, 1]}}}]}
    t = time.perf_counter()
    r = run_case(case, mesh)
    return {"dofs": r.dofs, "cells": r.elements, "seconds": time.perf_counter() - t, "solver": r.solver,
            "converged": r.converged}


def stage_newton(n: int) -> dict:
    from biomech.problem import MaterialAssignment, Problem, SolverOptions
    from biomech.solver import nonlinear_internal, prepare
    from twin.meshes import TetMesh

    m = _cube(n)
    mesh = TetMesh(m.p.T, m.t.T)
    mdl = prepare(Problem(mesh, (MaterialAssignment("neo-hookean", youngs_modulus=1.0, poisson_ratio=0.45),),
                          options=SolverOptions(nonlinear=True)))
    u = 1e-3 * np.random.default_rng(0).standard_normal(mdl.n_dofs)
    t = time.perf_counter()
    nonlinear_internal(mdl, u, tangent=True)
    return {"dofs": mdl.n_dofs, "cells": mesh.n_cells, "tangent_s": time.perf_counter() - t}


def _run(stage: str, *args: object) -> dict:
    out = subprocess.run([sys.executable, __file__, "--stage", stage, *map(str, args)], capture_output=True,
                         text=True, check=False, cwd=ROOT)
    if out.returncode != 0:
        msg = (out.stderr.strip() or out.stdout.strip() or "failed").splitlines()[-1]
        return {"error": msg}
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--full", action="store_true", help="include the ~1M DOF growth step")
    ap.add_argument("--stage", nargs="+", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.stage:
        name, *rest = args.stage
        fn = {"assembly": stage_assembly, "solve": stage_solve, "e2e": stage_e2e, "newton": stage_newton}[name]
        res = fn(int(rest[0]), *rest[1:])
        res["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps(res))
        return

    print("== P1 stiffness assembly (same mesh) ==")
    a = _run("assembly", 18)  # 72 x 36 x 18 nodes: 253k tets, 140k DOF (the solve below uses the same mesh)
    if "error" in a:
        print("  failed:", a["error"])
    else:
        print(f"  {a['cells']} tets, {a['dofs']} DOF: ours {a['ours_s']:.2f} s (fill with cached pattern "
              f"{a['ours_fill_only_s']:.2f} s, numpy-only fill {a['ours_numpy_fill_s']:.2f} s), scikit-fem intorder=1 "
              f"{a['skfem_intorder1_s']:.2f} s -> ratio ours/skfem {a['ours_s'] / a['skfem_intorder1_s']:.2f}; "
              f"max rel diff {a['max_rel_diff']:.1e}; peak RSS {a['peak_rss_mb']:.0f} MB")
    print("== linear solve ~150k DOF (same matrix) ==")
    k_solve = 18  # 72 x 36 x 18 nodes = 46656 nodes = 140k DOF (minus the fixed face)
    raw = _run("solve", k_solve, "raw-pardiso")
    rows = [("raw PARDISO mtype=2", raw)]
    for meth in ("pardiso", "amg", "cholmod"):
        rows.append((f"ours {meth}", _run("solve", k_solve, meth)))
    for label, r in rows:
        if "error" in r:
            print(f"  {label:22s} unavailable: {r['error']}")
            continue
        ratio = r["seconds"] / raw["seconds"] if "seconds" in raw else float("nan")
        print(f"  {label:22s} {r['dofs']} DOF {r['seconds']:.2f} s  ratio/raw {ratio:.2f}  residual "
              f"{r['rel_residual']:.1e}  peak RSS {r['peak_rss_mb']:.0f} MB  ({r['info']})")
    print("== neo-Hookean tangent + residual assembly ==")
    nw = _run("newton", 14)
    if "error" not in nw:
        print(f"  {nw['cells']} tets, {nw['dofs']} DOF: {nw['tangent_s']:.2f} s, peak RSS {nw['peak_rss_mb']:.0f} MB")
    print("== end-to-end linear solve, time growth ==")
    sizes = [13, 16, 20, 25] + ([35] if args.full else [])  # ~50k, 100k, 190k, 380k (, 1.03M) DOF
    prev = None
    for n in sizes:
        r = _run("e2e", n)
        if "error" in r:
            print(f"  n={n}: failed: {r['error']}")
            continue
        growth = "" if prev is None else (f"  time x{r['seconds'] / prev['seconds']:.2f} for DOF "
                                          f"x{r['dofs'] / prev['dofs']:.2f}")
        print(f"  {r['dofs']:8d} DOF {r['cells']:8d} tets {r['seconds']:7.2f} s  {r['solver']:8s} "
              f"peak RSS {r['peak_rss_mb']:.0f} MB{growth}")
        prev = r


if __name__ == "__main__":
    main()
