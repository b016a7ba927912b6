"""Nonlinear (neo-Hookean Newton) solve of the demo liver retraction vs the linear solve, in one run.

    python benchmarks/bench_newton.py [--edge-mm 7] [--steps 1]

Builds the demo phantom's ground-truth liver (+ tumour region), tet4-meshes it at ``--edge-mm`` and sets
up the demo retraction (8 mm on a 20 mm patch, far surface fixed; geometry in LPS mm) with
``planning.rehearsal.build_rehearsal_case``. Prints wall seconds and Newton iterations for the
linear-elastic and the neo-Hookean solve, their ratio, and PARDISO's phase times on the first tangent
(symbolic analysis, numeric factorization, substitution: what the Newton loop's ``PardisoSession`` saves).
Before the prescribed-displacement predictor (Nov 2026) the one-step neo-Hookean solve needed cutbacks:
24 iterations on this ground-truth mesh (25k DOF, 20-37 s), 49 on the demo pipeline's segmented liver
(22.8k DOF, 41 s here, 586 s measured on a loaded machine); now 5 iterations (3-9 s).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _demo_case(edge_mm: float, steps: int, model: str):
    from app.headless_demo import _surface_point
    from biomech.meshing import tetmesh_from_labelmap
    from planning.rehearsal import build_rehearsal_case
    from twin.labelmap import LabelMap
    from twin.phantom import DEMO_LANDMARKS, load_demo_case
    from twin.plan import Rehearsal

    _, truth = load_demo_case()
    arr = np.zeros(truth.shape, np.uint8)
    arr[truth.mask("liver") | truth.mask("hepatic_vessels")] = 1
    arr[truth.mask("liver_tumor")] = 2
    fe = LabelMap.from_array(arr, truth.geometry, names={1: "liver", 2: "liver_tumor"})
    mesh = tetmesh_from_labelmap(fe, ["liver", "liver_tumor"], target_edge_mm=edge_mm)
    entry, target = np.asarray(DEMO_LANDMARKS["needle_entry"]), np.asarray(DEMO_LANDMARKS["tumor_center"])
    out = (entry - target) / np.linalg.norm(entry - target)
    reh = Rehearsal(name="liver retraction", kind="retraction", organ_segment="liver",
                    point_lps=_surface_point(mesh, target, out), radius_mm=20.0, displacement_lps=tuple(8.0 * out))
    case, case_mesh = build_rehearsal_case(reh, mesh, model, steps)
    return {k: v for k, v in case.items() if k not in ("frame", "units", "rehearsal")}, case_mesh


def _pardiso_phases(case: dict, mesh) -> tuple[float, float, float]:
    from biomech import solver as S
    from biomech.case import problem_from_dict
    from biomech.linsolve import _pardiso_class

    model = S.prepare(problem_from_dict(case, mesh))
    system = S._System(model)
    R, K, _ = system.residual(np.zeros(model.n_dofs), 1.0, True)
    _, upper = system.reduced(True)
    A = upper.matrix(K)
    A.sort_indices()
    b = np.ascontiguousarray(-R[~model.dirichlet.fixed] + 1.0)
    solver = _pardiso_class()(mtype=2)
    solver._check_A(A)
    times = []
    for phase in (11, 22, 33):
        solver.set_phase(phase)
        t = time.perf_counter()
        solver._call_pardiso(A, b)
        times.append(time.perf_counter() - t)
    solver.free_memory(everything=True)
    return times[0], times[1], times[2]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--edge-mm", type=float, default=7.0)
    ap.add_argument("--steps", type=int, default=1)
    args = ap.parse_args()
    from biomech.solver import run_case

    rows = {}
    for model in ("linear-elastic", "neo-hookean"):
        case, mesh = _demo_case(args.edge_mm, args.steps, model)
        t = time.perf_counter()
        r = run_case(case, mesh)
        rows[model] = (time.perf_counter() - t, r)
        print(f"{model:15s} {3 * mesh.n_points} DOF  {rows[model][0]:6.2f} s  converged={r.converged}  "
              f"steps={r.steps}  newton_iterations={r.newton_iterations}  max |u| "
              f"{np.linalg.norm(r.displacement_mm, axis=1).max():.2f} mm")
    print(f"neo-Hookean / linear time ratio: {rows['neo-hookean'][0] / rows['linear-elastic'][0]:.1f}")
    a, f, s = _pardiso_phases(*_demo_case(args.edge_mm, args.steps, "neo-hookean"))
    print(f"PARDISO on the first tangent: analysis {a:.3f} s, factorization {f:.3f} s, substitution {s:.3f} s "
          f"(analysis reuse saves {a / (a + f + s):.0%} of each later solve)")


if __name__ == "__main__":
    main()
