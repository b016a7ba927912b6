"""Run a finite-element solve in a child process: the GUI never waits on the solver, Cancel is immediate.

The solver holds the GIL for long stretches (JIT compilation, sparse assembly),
which froze the window for tens of seconds when it ran in a thread; a child
process cannot. The parent (a GUI worker thread) writes the case (JSON, the
``vht simulate`` schema) and the mesh (``.vtu``, LPS mm) to a temporary folder,
starts ``python job.py CASE OUT.vtu SUMMARY.json`` (this file, without Qt),
forwards the child's ``PROGRESS <fraction> <message>`` lines to its progress
object, kills the child when the user cancels, and reads the result mesh and
summary back. Frame: LPS mm; N; MPa.
"""

from __future__ import annotations

import json
import queue
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

from twin.errors import Cancelled, InputError, SolverError


def solve_in_subprocess(case: dict[str, Any], mesh: Any, progress: Any) -> tuple[dict[str, Any], Any]:
    """Solve ``case`` on ``mesh`` (TetMesh) in a child process.

    Returns
    -------
    (summary, result_mesh)
        :meth:`biomech.results.Result.summary` and :meth:`~biomech.results.Result.to_mesh` of the solve.

    Raises
    ------
    Cancelled
        When ``progress.raise_if_cancelled()`` raises (the child is killed at once).
    InputError, SolverError
        With the child's message when the set-up is invalid or the solver crashed.
    """
    import pyvista as pv

    from twin.meshes import TetMesh

    with tempfile.TemporaryDirectory(prefix="vht_fe_") as tmp:
        d = Path(tmp)
        case = dict(case)
        case["mesh"] = {**case.get("mesh", {}), "file": "mesh.vtu"}
        mesh.to_pyvista().save(str(d / "mesh.vtu"))
        (d / "case.json").write_text(json.dumps(case), encoding="utf-8")
        # run this file as a script: the child imports only twin/biomech, not Qt
        cmd = [sys.executable, str(Path(__file__).resolve()), str(d / "case.json"), str(d / "result.vtu"),
               str(d / "summary.json")]
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, bufsize=1)
        lines: queue.Queue[str | None] = queue.Queue()

        def pump() -> None:
            assert proc.stdout is not None
            for line in proc.stdout:
                lines.put(line)
            lines.put(None)

        reader = threading.Thread(target=pump, daemon=True)
        reader.start()
        error = ""
        try:
            while True:
                progress.raise_if_cancelled()
                try:
                    line = lines.get(timeout=0.1)
                except queue.Empty:
                    continue
                if line is None:
                    break
                if line.startswith("PROGRESS "):
                    parts = line.rstrip("\n").split(" ", 2)
                    progress.update(float(parts[1]), parts[2] if len(parts) > 2 else "")
                elif line.startswith("ERROR "):
                    error = line[6:].strip()
        except Cancelled:
            proc.kill()
            proc.wait()
            raise
        code = proc.wait()
        stderr = proc.stderr.read() if proc.stderr else ""
        if code == 2:
            raise InputError(error or "invalid simulation set-up")
        if code != 0:
            tail = error or (stderr.strip().splitlines() or ["no message"])[-1]
            raise SolverError(f"the solver process failed (exit {code}): {tail}")
        summary = json.loads((d / "summary.json").read_text(encoding="utf-8"))
        res = TetMesh.from_pyvista(pv.read(str(d / "result.vtu")))
        result_mesh = TetMesh(res.points_lps, res.cells, res.region, dict(mesh.region_names), res.point_data,
                              res.cell_data)
        return summary, result_mesh


class _StdoutProgress:
    """Progress for the child: one ``PROGRESS`` line per update (the parent kills us to cancel)."""

    def update(self, fraction: float, message: str = "") -> None:
        print(f"PROGRESS {float(fraction):.4f} {message}", flush=True)

    def raise_if_cancelled(self) -> None:
        pass


def main(argv: list[str] | None = None) -> int:
    """Child entry point: ``CASE.json OUT.vtu SUMMARY.json``; exit 0 ok, 2 invalid input, 1 failure."""
    args = sys.argv[1:] if argv is None else argv
    case_path, out_path, summary_path = (Path(a) for a in args)
    try:
        from biomech.case import load_case
        from biomech.solver import solve

        problem = load_case(case_path)
        result = solve(problem, _StdoutProgress())
        result.to_mesh().to_pyvista().save(str(out_path))
        summary_path.write_text(json.dumps(result.summary()), encoding="utf-8")
    except InputError as exc:
        print(f"ERROR {exc}", flush=True)
        return 2
    except Exception as exc:  # noqa: BLE001 - reported to the parent as one line
        print(f"ERROR {type(exc).__name__}: {exc}", flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
