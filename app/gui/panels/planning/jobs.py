"""Long jobs of the planning panel: the rehearsal solve and the PDF report, run in workers.

Frame: LPS mm; units mm, N, MPa. Results are applied on the GUI thread through
an undoable command (:class:`StoreRehearsalResult`: the rehearsal's result in
the plan + the result mesh in ``project.meshes``).
"""

from __future__ import annotations

import copy
from dataclasses import replace
from pathlib import Path
from typing import Any

from twin.commands import Command
from twin.plan import Rehearsal
from twin.plan_commands import ModifyPlanObject


class StoreRehearsalResult(Command):
    """Store a solved rehearsal: its ``result`` in the plan and the deformed mesh as ``<name>_result``."""

    def __init__(self, project: Any, reh: Rehearsal, result_mesh: Any) -> None:
        self.project = project
        self.text = f"Rehearsal {reh.name} result"
        self._modify = ModifyPlanObject(project, reh, self.text)
        self.key = f"{reh.name}_result"
        self.mesh = result_mesh
        self._old_mesh: Any = None

    def do(self) -> None:  # noqa: D102
        self._modify.do()
        self._old_mesh = self.project.meshes.get(self.key)
        if self.mesh is not None:
            self.project.meshes[self.key] = self.mesh
        else:
            self.project.meshes.pop(self.key, None)

    def undo(self) -> None:  # noqa: D102
        self._modify.undo()
        if self._old_mesh is not None:
            self.project.meshes[self.key] = self._old_mesh
        else:
            self.project.meshes.pop(self.key, None)


def rehearsal_mesh(project: Any, reh: Rehearsal) -> tuple[str, Any]:
    """The tet mesh a rehearsal runs on: ``reh.mesh``, else one with a region named like the organ, else the first.

    Raises
    ------
    ValueError
        If the project has no tet mesh.
    """
    meshes = {k: m for k, m in project.meshes.items() if not k.endswith("_result")}
    if reh.mesh and reh.mesh in meshes:
        return reh.mesh, meshes[reh.mesh]
    for k, m in meshes.items():
        if reh.organ_segment in m.region_names.values():
            return k, m
    if meshes:
        k = next(iter(meshes))
        return k, meshes[k]
    raise ValueError("no tet mesh in the project: mesh the organ in the Simulation panel first")


def start_rehearsal(panel: Any, reh: Rehearsal, steps: int = 4) -> Any:
    """Run :func:`planning.rehearsal.run_rehearsal` in a worker; store and show the result when done."""
    from planning.rehearsal import run_rehearsal

    window = panel.main
    try:
        mesh_name, mesh = rehearsal_mesh(window.project, reh)
    except ValueError as exc:
        window.show_error(f"Rehearsal {reh.name}: {exc}")
        return None
    project = window.project
    reh_run = reh if reh.mesh else replace(reh, mesh=mesh_name)

    def work(progress: Any) -> Any:
        return run_rehearsal(reh_run, mesh, steps=steps, progress=progress)

    def done(result: Any) -> None:
        solved, _case, out_mesh = result
        if window.project is not project:
            return
        window.push_command(StoreRehearsalResult(project, solved, out_mesh))
        if out_mesh is not None:
            try:
                window.scene3d.show_fe_result(out_mesh, "displacement", 1.0)
            except Exception as exc:  # noqa: BLE001 - showing is optional
                window.statusBar().showMessage(f"Result not shown in 3-D: {exc}", 8000)
        r = solved.result
        window.statusBar().showMessage(
            f"Rehearsal {solved.name}: {'converged' if r.get('converged') else 'NOT converged'}", 8000)

    return window.run_worker(work, done, f"Rehearsal {reh.name}")


def report_snapshot(project: Any) -> Any:
    """A shallow copy of the project with its plan and documents deep-copied (edits during the job don't leak in)."""
    snap = copy.copy(project)
    snap.plan = copy.deepcopy(project.plan)
    snap.documents = copy.deepcopy(project.documents)
    snap.meshes = dict(project.meshes)
    snap.surfaces = dict(project.surfaces)
    snap.labelmaps = dict(project.labelmaps)
    snap.volumes = dict(project.volumes)
    return snap


def start_report(panel: Any, path: str | Path, identify: bool) -> Any:
    """Write the PDF report: numbers in a worker, images on the GUI thread, the PDF in a second worker.

    Mirrors :func:`planning.report.build_report`. The off-screen VTK images are rendered on the
    GUI thread because an off-screen GL context in a pool thread deadlocks beside the Qt 3-D view
    (seen under Xvfb with EGL); the image step takes about a second.
    """
    from planning.report import render_images, write_report_pdf
    from planning.report_data import collect_report_data
    from twin.plan import Plan

    window = panel.main
    snap = report_snapshot(window.project)

    def numbers(progress: Any) -> Any:
        return collect_report_data(snap, identify=identify, progress=progress)

    def with_numbers(data: dict[str, Any]) -> None:
        window.statusBar().showMessage("Report: rendering images...")
        try:
            imgs, notes = render_images(snap, Plan.from_project(snap))
        except Exception as exc:  # noqa: BLE001 - the report is written without images
            imgs, notes = {}, [f"images not rendered ({type(exc).__name__}: {exc})"]
        data["images"] = {"rendered": sorted(imgs), "notes": notes}

        def write(progress: Any) -> Any:
            progress.update(0.1, "writing PDF")
            write_report_pdf(data, path, imgs, notes)
            return data

        def done(result: Any) -> None:
            panel.last_report = {"path": str(path), "identify": identify, "data": result}
            window.statusBar().showMessage(f"Report written to {path}"
                                           + ("" if identify else " (de-identified)"), 10000)

        window.run_worker(write, done, "Report: PDF")

    return window.run_worker(numbers, with_numbers, "Report: numbers")
