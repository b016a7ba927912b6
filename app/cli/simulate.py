"""``vht simulate CASE.(toml|json) -o RESULT.vtu [--summary SUMMARY.json] [--export-feb OUT.feb]``.

``CASE`` may also be a project folder (with ``manifest.json``): its stored simulation set-up
(``documents/simulation_case.json``, edited in the GUI's Simulation panel) is solved on its tet mesh
(``meshes/fe_mesh.vtu``), exactly as the panel's Run does; the project itself is not changed.

Exit codes: 0 converged; 1 the solve failed (reason printed and written to the summary as
``status``; no result mesh is written); 2 bad case file (one line naming the file and the key).
Outputs are written atomically. Geometry in the patient LPS frame, mm.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def run(args: argparse.Namespace) -> int:
    """Load the case, optionally export FEBio, solve, write the result mesh and summary."""
    from app.cli.progressbar import delayed_bar
    from biomech.case import load_case
    from biomech.solver import solve
    from twin.errors import InputError
    from twin.io.atomic import atomic_path, atomic_write_text

    out = Path(args.output)
    if out.suffix.lower() not in (".vtu", ".vtk"):
        raise InputError("output must be a .vtu (or .vtk) file", out)
    case_path = Path(args.case)
    if case_path.is_dir():
        from biomech.case_commands import problem_from_project
        from twin.project import Project

        if not (case_path / "manifest.json").is_file():
            raise InputError("expected a case file or a VHT project folder (no manifest.json)", case_path)
        try:
            problem = problem_from_project(Project.load(case_path))
        except InputError as exc:
            raise InputError(exc.reason, exc.path or case_path) from None
    else:
        problem = load_case(case_path)
    if args.export_feb:
        from biomech.febio import export_feb

        export_feb(problem, args.export_feb)
    progress = delayed_bar("simulate", quiet=args.quiet)
    try:
        result = solve(problem, progress=progress)
    except BaseException:
        progress.close(failed=True)
        raise
    progress.close()
    summary = result.summary()
    summary["case"] = str(Path(args.case))
    if args.summary:
        atomic_write_text(args.summary, json.dumps(summary, indent=2) + "\n")
    if not result.converged:
        print(f"vht simulate: failed: {result.status.removeprefix('failed: ')}", file=sys.stderr)
        return 1
    grid = result.to_mesh().to_pyvista()
    with atomic_path(out) as tmp:
        grid.save(str(tmp))
    for w in summary["warnings"]:
        print(f"vht simulate: warning: {w}", file=sys.stderr)
    if not args.quiet:
        rf = ", ".join(f"{k}=[{', '.join(f'{x:.4g}' for x in v)}] N" for k, v in summary["reaction_forces"].items())
        its = summary["newton_iterations"]
        how = f"{its} Newton iteration(s)" if its else "linear solve"
        print(f"converged: {summary['steps']} step(s), {how}, "
              f"max displacement {summary['max_displacement_mm']:.4g} mm, max von Mises "
              f"{summary['max_von_mises_mpa']:.4g} MPa, {summary['dofs']} DOFs, {summary['solver']}, "
              f"{summary['wall_seconds']:.2f} s" + (f"; reactions {rf}" if rf else ""))
    return 0
