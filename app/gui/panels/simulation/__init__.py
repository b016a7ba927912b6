"""Simulation panel: segments -> tet mesh (quality, bad cells in 3D) -> materials -> supports, loads and
indenters -> solve in a worker (progress, Cancel) -> result in 3D (colour map, legend, deformation
scale) with the solver status -> case file (TOML, ``vht simulate`` schema) and result in the project.

Conditions are painted on the mesh surface in the 3-D view (brush, erase; an
exact, mesh-independent ``surface_spheres`` selector), placed at a clicked
surface point (a cut plane parallel to the tangent plane, a rigid sphere or
plate indenter), or select nodes around the crosshair (sphere, plane, box,
beyond plane): see :mod:`.conditions`. The solve
runs in a child process watched by a worker thread (:mod:`.job`): the window
stays responsive even while the solver holds the GIL, and Cancel kills the
solve at once, inside a load step or a factorisation.

What is stored in the project (one undoable command per action, Ctrl+Z / Ctrl+Shift+Z):
``meshes["fe_mesh"]`` (after meshing), ``meshes["fe_result"]`` (displacement,
von Mises...), ``documents["simulation_case"]`` (the set-up: ``{"case": <case dict
without mesh.file>, "mesh": "fe_mesh", "frame": "LPS"}``, edited only through the
commands of :mod:`biomech.case_commands`: each added / removed / edited condition,
material, element, analysis or load-step change is one undo step; the panel
redraws from the document after every command, undo and redo) and
``documents["simulation_result"]`` (the solver summary). ``vht simulate PROJECT_DIR``
solves the same stored set-up. Frame: patient LPS; units mm, N, MPa.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QToolBox,
    QVBoxLayout,
    QWidget,
)

from app.gui.panels.base import Panel, SteadyToolBoxWidth
from app.gui.panels.segtools.common import button, row, spin
from app.gui.panels.simulation import case_builder as cb
from app.gui.panels.simulation.conditions import ConditionsMixin
from app.gui.panels.simulation.materials import MaterialsMixin
from app.gui.panels.simulation.scene import SimulationScene
from app.gui.tools.commands import SetProjectItems

if TYPE_CHECKING:
    from app.gui.main_window import MainWindow

MESH_KEY = "fe_mesh"
RESULT_KEY = "fe_result"
CASE_DOC = "simulation_case"
RESULT_DOC = "simulation_result"
BAD_DIHEDRAL_DEG = 10.0
BAD_SCALED_JACOBIAN = 0.2
FIELDS = {"Displacement": "displacement", "Von Mises stress": "von_mises",
          "Max principal strain": "max_principal_strain"}
"""Colour maps of a result; the units (mm; MPa, kPa or Pa; %) are on the colour bar, chosen for readable numbers."""


class SimulationPanel(SteadyToolBoxWidth, ConditionsMixin, MaterialsMixin, Panel):
    """Set up, run and inspect a finite-element simulation of the segmented anatomy."""

    title = "Simulation"
    object_name = "simulation_panel"
    area = Qt.DockWidgetArea.RightDockWidgetArea

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.mesh: Any = None
        self.quality: Any = None
        self._result_mesh: Any = None
        self.summary: dict[str, Any] | None = None
        self.worker: Any = None
        self._seen_setup: Any = None
        self._filling = False
        self.scene = SimulationScene(window)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(4, 4, 4, 4)
        self.toolbox = QToolBox()
        self.toolbox.addItem(self._mesh_page(), "1. Mesh")
        self.toolbox.addItem(self._material_page(), "2. Materials")
        self.toolbox.addItem(self._condition_page(), "3. Supports, loads, indenter")
        self.toolbox.addItem(self._solve_page(), "4. Solve and results")
        for area in self.toolbox.findChildren(QScrollArea):  # QToolBox scrolls each page: vertically only
            area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        outer.addWidget(self.toolbox, 1)
        self.setMinimumWidth(360)  # (size hints: the widest page's, so the dock keeps its width from page to page)
        window.edited.connect(self._sync_with_project)

    # ================================================================== pages
    def _mesh_page(self) -> QWidget:
        w = QWidget()
        lay = QVBoxLayout(w)
        lay.addWidget(QLabel("Segments to mesh (one region each; neighbours share nodes):"))
        self.segment_list = QListWidget()
        self.segment_list.setObjectName("sim_segments")
        self.segment_list.setMaximumHeight(120)
        lay.addWidget(self.segment_list)
        form = QFormLayout()
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        self.edge = spin(4.0, 0.3, 50, 0.5, 1, "mm", "sim_edge")
        self.edge.setToolTip("Mean edge length of the tetrahedra")
        form.addRow("Target edge", row(self.edge, button("Mesh", self.build_mesh, "sim_mesh",
                                                         "Tetrahedral mesh of the checked segments (worker)")))
        lay.addLayout(form)
        self.quality_label = QLabel("No mesh")
        self.quality_label.setObjectName("sim_quality")
        self.quality_label.setWordWrap(True)
        lay.addWidget(self.quality_label)
        lay.addStretch(1)
        return w

    def _solve_page(self) -> QWidget:
        w = QWidget()
        lay = QVBoxLayout(w)
        form = QFormLayout()
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        self.element = QComboBox()
        self.element.setObjectName("sim_element")
        self.element.addItems(["tet4", "tet10"])
        self.nonlinear = QComboBox()
        self.nonlinear.setObjectName("sim_nonlinear")
        self.nonlinear.addItems(["auto", "linear", "nonlinear"])
        self.steps = QSpinBox()
        self.steps.setObjectName("sim_steps")
        self.steps.setRange(1, 200)
        self.steps.setValue(5)
        self.element.currentTextChanged.connect(lambda t: self._solver_edited(element=t))
        self.nonlinear.currentTextChanged.connect(
            lambda t: self._solver_edited(nonlinear=None if t == "auto" else t == "nonlinear"))
        self.steps.valueChanged.connect(lambda v: self._solver_edited(steps=int(v)))
        self.steps.setToolTip("Load increments of a nonlinear analysis (a linear analysis is one solve)")
        # a linear analysis ignores the steps (the status said "Load steps 1" beside a 5): greyed out
        self.nonlinear.currentTextChanged.connect(lambda t: self.steps.setEnabled(t != "linear"))
        form.addRow("Element", row(self.element, "Analysis", self.nonlinear))
        form.addRow("Load steps", self.steps)
        lay.addLayout(form)
        h = QHBoxLayout()
        self.run_button = QPushButton("Run")
        self.run_button.setObjectName("sim_run")
        self.run_button.clicked.connect(lambda: self.run())
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setObjectName("sim_cancel")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel)
        h.addWidget(self.run_button)
        h.addWidget(self.cancel_button)
        lay.addLayout(h)
        self.progress = QProgressBar()
        self.progress.setObjectName("sim_progress")
        self.progress.setRange(0, 1000)
        lay.addWidget(self.progress)
        res = QGroupBox("Result display")
        f = QFormLayout(res)
        f.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        self.field = QComboBox()
        self.field.setObjectName("sim_field")
        self.field.addItems(list(FIELDS))
        self.field.currentIndexChanged.connect(lambda _: self.show_result())
        self.scale = spin(1.0, 0.0, 1000, 1, 1, "x", "sim_scale")
        self.scale.valueChanged.connect(lambda _: self.show_result())
        f.addRow("Colour map", self.field)
        f.addRow("Deformation scale", self.scale)
        lay.addWidget(res)
        self.status = QPlainTextEdit()
        self.status.setObjectName("sim_status")
        self.status.setReadOnly(True)
        self.status.setMinimumHeight(150)
        self.status.setPlaceholderText("Solver status appears here")
        lay.addWidget(self.status)
        lay.addLayout(row(button("Save case...", self.save_case_dialog, "sim_save_case",
                                 "Write CASE.toml (+ mesh .vtu) for `vht simulate` and keep it in the project")))
        lay.addStretch(1)
        return w

    # ================================================================== hooks
    def on_project_changed(self) -> None:  # noqa: D102
        self._set_click_mode("")
        self.place_widget.setChecked(False)
        self.scene.clear()
        proj = self.main.project
        self.mesh = proj.meshes.get(MESH_KEY)
        self.reset_painting()
        self.quality = None
        self.summary = proj.documents.get(RESULT_DOC)
        meshing = (proj.documents.get(CASE_DOC) or {}).get("meshing")
        if isinstance(meshing, dict) and self.mesh is not None:  # the parameters the stored mesh was made with
            self.segment_list.clear()
            self.edge.setValue(float(meshing.get("edge_mm", self.edge.value())))
        self._refill_segments()
        if isinstance(meshing, dict) and self.mesh is not None and isinstance(meshing.get("segments"), list):
            self.set_segments([str(n) for n in meshing["segments"]])
        self._show_setup()
        self.status.setPlainText(cb.summary_text(self.summary) if self.summary else "")
        self._update_quality_text()
        res = proj.meshes.get(RESULT_KEY)
        if res is not None and "displacement" in res.point_data:
            self._result_mesh = res
            self.show_result()
        else:
            self._result_mesh = None
            if self.mesh is not None:  # a reopened project shows its set-up: mesh, conditions, patch markers
                self._hide_segment_surfaces()
                self.scene.show_mesh(self.mesh, self.bad_cells())
                self._refill_conditions()
        self._seen_mesh = self.mesh

    def on_labelmap_changed(self) -> None:  # noqa: D102
        self._refill_segments()

    def _sync_with_project(self) -> None:
        """Follow undo / redo of the meshing, set-up and result commands."""
        proj = self.main.project
        if proj.documents.get(CASE_DOC) is not self._seen_setup:
            self._show_setup()
        mesh = proj.meshes.get(MESH_KEY)
        seen, self._seen_mesh = getattr(self, "_seen_mesh", None), mesh
        if mesh is not seen and mesh is not self.mesh:
            if mesh is None:
                self.mesh, self.quality = None, None
                self._set_click_mode("")
                self.reset_painting()
                self.scene.clear()
                self._refill_materials()
                self._update_quality_text()
                self._refill_conditions()
            else:
                self.set_mesh(mesh)
        result = proj.meshes.get(RESULT_KEY)
        if result is not self._result_mesh:
            self._result_mesh = result
            self.summary = proj.documents.get(RESULT_DOC)
            self.status.setPlainText(cb.summary_text(self.summary) if self.summary and result is not None else "")
            if result is None:
                self.main.scene3d.clear_fe_result()
                if self.mesh is not None:
                    self.scene.show_mesh(self.mesh, self.bad_cells())
            else:
                self.show_result()

    # ================================================================== mesh
    def _refill_segments(self) -> None:
        lm = self.main.labelmap
        checked = set(self.selected_segments())
        if self.mesh is not None and not checked:
            checked = set(self.mesh.region_names.values())
        self.segment_list.clear()
        if lm is None:
            return
        for s in lm.segments:
            it = QListWidgetItem(s.name)
            it.setFlags(Qt.ItemFlag.ItemIsUserCheckable | Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
            it.setCheckState(Qt.CheckState.Checked if s.name in checked else Qt.CheckState.Unchecked)
            self.segment_list.addItem(it)

    def selected_segments(self) -> list[str]:
        """Names of the checked segments."""
        return [self.segment_list.item(i).text() for i in range(self.segment_list.count())
                if self.segment_list.item(i).checkState() == Qt.CheckState.Checked]

    def set_segments(self, names: list[str]) -> None:
        """Check exactly ``names``."""
        for i in range(self.segment_list.count()):
            it = self.segment_list.item(i)
            it.setCheckState(Qt.CheckState.Checked if it.text() in names else Qt.CheckState.Unchecked)

    def build_mesh(self) -> Any:
        """Tet-mesh the checked segments in a worker; store ``meshes["fe_mesh"]`` (one command)."""
        lm = self.main.labelmap
        names = self.selected_segments()
        if lm is None or not names:
            self.main.show_error("Check at least one segment to mesh")
            return None
        snapshot = lm.copy()
        edge = self.edge.value()

        def work(progress: Any) -> tuple[Any, Any]:
            from biomech.meshing import tetmesh_from_labelmap
            from biomech.quality import mesh_quality
            from twin.progress import SubProgress

            mesh = tetmesh_from_labelmap(snapshot, names, edge, progress=SubProgress(progress, 0, 0.9))
            progress.update(0.92, "quality")
            return mesh, mesh_quality(mesh)

        def done(out: tuple[Any, Any]) -> None:
            from app.gui.tools.commands import Batch
            from biomech.case_commands import default_setup
            from twin.document_commands import SetDocumentValue

            mesh, quality = out
            proj = self.main.project
            record = {"segments": list(names), "edge_mm": float(edge)}  # what this mesh was made from
            cmd = Batch(f"Tet mesh ({mesh.n_cells} cells)", [
                lambda: SetProjectItems(proj, [("meshes", MESH_KEY, mesh)], "mesh"),
                lambda: SetDocumentValue(proj, CASE_DOC, ("meshing",), record, default=default_setup)])
            if self.main.push_command(cmd):
                self.set_mesh(mesh, quality)

        return self.main.run_worker(work, done, "Tet meshing")

    def set_mesh(self, mesh: Any, quality: Any = None) -> None:
        """Use ``mesh`` (TetMesh, LPS mm) for the simulation: quality, 3-D display, material rows."""
        from biomech.quality import mesh_quality

        self.mesh = mesh
        self.quality = quality if quality is not None else mesh_quality(mesh)
        self.reset_painting(keep_dabs=True)
        self._result_mesh = None
        self.main.scene3d.clear_fe_result()
        self._hide_segment_surfaces()
        self.scene.show_mesh(mesh, self.bad_cells())
        self._refill_materials()
        self._update_quality_text()
        self._refresh_conditions_view()

    def bad_cells(self) -> np.ndarray:
        """Indices of cells with min dihedral < 10 deg or scaled Jacobian < 0.2."""
        q = self.quality
        if q is None:
            return np.zeros(0, int)
        return np.flatnonzero((q.min_dihedral_deg < BAD_DIHEDRAL_DEG) | (q.scaled_jacobian < BAD_SCALED_JACOBIAN))

    def _update_quality_text(self) -> None:
        if self.mesh is None:
            self.quality_label.setText("No mesh")
            return
        if self.quality is None:
            from biomech.quality import mesh_quality

            self.quality = mesh_quality(self.mesh)
        s = self.quality.summary
        bad = len(self.bad_cells())
        regions = ", ".join(f"{v}={n}" for v, n in sorted(self.mesh.region_names.items()))
        self.quality_label.setText(
            f"{s['n_cells']} tetrahedra, {s['n_points']} nodes, {s['total_volume_mm3'] / 1000:.1f} mL "
            f"(regions {regions})\n"
            f"Min dihedral {s['min_dihedral_deg']['min']:.1f}° (1st pct {s['min_dihedral_deg']['p1']:.1f}°), "
            f"min scaled Jacobian {s['scaled_jacobian']['min']:.3f}\n"
            f"Bad cells (dihedral < {BAD_DIHEDRAL_DEG:g}° or SJ < {BAD_SCALED_JACOBIAN:g}): {bad}"
            f"{' (red in 3D)' if bad else ''}; inverted: {s['n_inverted']}")

    def _hide_segment_surfaces(self) -> None:
        dp = self.main.panels.get("data_panel")
        box = getattr(dp, "surfaces", None)
        if isinstance(box, QCheckBox):
            box.setChecked(False)
        else:
            self.main.scene3d.set_show_surfaces(False)

    # ================================================================== set-up document
    @property
    def conditions(self) -> list[dict[str, Any]]:
        """The stored supports, loads and contacts (copies, tagged with ``"_section"``; section order)."""
        from biomech.case_commands import tagged_conditions

        return tagged_conditions(self.setup_case())

    def setup_case(self) -> dict[str, Any]:
        """A copy of the stored set-up (``documents["simulation_case"]["case"]``, defaults if none)."""
        from biomech.case_commands import setup_case

        return setup_case(self.main.project)

    def edit_setup(self, cmd: Any, merge: bool = False) -> bool:
        """Push a set-up command (:mod:`biomech.case_commands`) on the project's undo stack; errors are shown."""
        return self.main.push_command(cmd, merge=merge)

    def _solver_edited(self, **options: Any) -> None:
        from biomech.case_commands import SetSolverOptions

        if self._filling:
            return
        key, value = next(iter(options.items()))
        case = self.setup_case()
        now = case.get("mesh", {}).get("element", "tet4") if key == "element" else case.get("solver", {}).get(key)
        if now == value:
            return
        if not self.edit_setup(SetSolverOptions(self.main.project, **options), merge=key == "steps"):
            self._show_setup()

    def _show_setup(self) -> None:
        """Show the stored set-up: solver options, material table, conditions (and their 3-D markers)."""
        doc = self.main.project.documents.get(CASE_DOC)
        self._seen_setup = doc
        case = self.setup_case()
        s = case.get("solver", {})
        self._filling = True
        try:
            self.element.setCurrentText(case.get("mesh", {}).get("element", "tet4"))
            self.nonlinear.setCurrentText("auto" if s.get("nonlinear") is None else
                                          ("nonlinear" if s["nonlinear"] else "linear"))
            self.steps.setValue(int(s.get("steps", 1)))
        finally:
            self._filling = False
        self._refill_materials()
        self._refill_conditions()
        editing = getattr(self, "_editing_name", None)
        if editing and editing not in {c.get("name") for c in self.conditions}:
            self._editing_name = None

    # ================================================================== case
    def build_case(self) -> dict[str, Any]:
        """The case dictionary of the current set-up (``vht simulate`` schema, without ``mesh.file``): the stored
        set-up with one material per mesh region (see :func:`biomech.case_commands.complete_case`)."""
        from biomech.case_commands import complete_case

        if self.mesh is None:
            return {**self.setup_case(), "name": self.main.project.name}
        return complete_case(self.setup_case(), self.mesh, name=self.main.project.name)

    def load_case(self, case: dict[str, Any]) -> bool:
        """Replace the set-up by a case dictionary (materials, conditions, solver options): one undo step."""
        from biomech.case_commands import ReplaceSetup

        return self.edit_setup(ReplaceSetup(self.main.project, case))

    def save_case(self, path: str | Path) -> Path | None:
        """Write the case (TOML or JSON) and its mesh beside it; keep the case in the project (one command)."""
        if self.mesh is None:
            self.main.show_error("Mesh the segments first")
            return None
        case = self.build_case()
        try:
            from biomech.case import problem_from_dict

            problem = problem_from_dict(case, self.mesh)  # validate before writing
            if str(path).lower().endswith(".feb"):  # FEBio 4.0 input, as `vht simulate --export-feb`
                from biomech.febio import export_feb

                out = export_feb(problem, path)
                self.main.statusBar().showMessage(f"FEBio file written: {out}", 8000)
                return out
            out = cb.save_case(case, self.mesh, path)
        except Exception as exc:  # noqa: BLE001 - user-facing message
            self.main.show_error(f"Case not saved: {exc}")
            return None
        from biomech.case_commands import default_setup
        from twin.document_commands import SetDocumentValue

        self.edit_setup(SetDocumentValue(self.main.project, CASE_DOC, ("file",), str(out), "Save simulation case",
                                         default=default_setup))
        self.main.statusBar().showMessage(f"Case saved: {out}", 8000)
        return out

    def save_case_dialog(self) -> None:
        """Ask where to write the case file."""
        f, _ = QFileDialog.getSaveFileName(self, "Save simulation case", "case.toml",
                                           "Case (*.toml *.json);;FEBio 4.0 (*.feb)")
        if f:
            self.save_case(f)

    # ================================================================== solve
    def run(self) -> Any:
        """Solve the case in a worker (progress, Cancel between load steps); show and store the result."""
        if self.mesh is None:
            self.main.show_error("Mesh the segments first")
            return None
        if self.worker is not None:
            return None
        case = self.build_case()
        mesh = self.mesh
        try:
            from biomech.case import problem_from_dict

            problem = problem_from_dict(case, mesh)
        except Exception as exc:  # noqa: BLE001 - InputError: readable
            self.main.show_error(f"Simulation set-up: {exc}")
            return None

        del problem  # validated; the solve itself runs in a child process (no GIL contention, instant Cancel)

        def work(progress: Any) -> Any:
            from app.gui.panels.simulation.job import solve_in_subprocess

            return solve_in_subprocess(case, mesh, progress)

        def finish() -> None:
            self.worker = None
            self.run_button.setEnabled(True)
            self.cancel_button.setEnabled(False)
            self.toolbox.widget(2).setEnabled(True)

        def done(out: tuple[dict[str, Any], Any]) -> None:
            finish()
            self.progress.setValue(1000)
            self.set_result(out[0], out[1], case)

        def failed(msg: str) -> None:
            finish()
            self.status.setPlainText(f"Status: FAILED\n{msg}")
            self.main.show_error(msg)

        def cancelled() -> None:
            finish()
            self.progress.setValue(0)
            self.status.setPlainText("Status: cancelled by the user")

        self.status.setPlainText("Solving...")
        self.progress.setValue(0)
        self.run_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        # the set-up is frozen while solving (and its 3-D drawing would compete with the worker for VTK)
        self.set_painting(False)
        self._set_click_mode("")
        self.place_widget.setChecked(False)
        self.toolbox.widget(2).setEnabled(False)
        self.worker = self.main.run_worker(work, done, "Simulation", on_error=failed, on_cancel=cancelled)
        self.worker.signals.progress.connect(lambda f, m: self.progress.setValue(int(1000 * f)))
        return self.worker

    def cancel(self) -> None:
        """Cancel the running solve (the solver process is stopped within 0.1 s)."""
        if self.worker is not None:
            self.worker.cancel()
            self.status.setPlainText("Cancelling...")

    def set_result(self, summary: dict[str, Any], result_mesh: Any, case: dict[str, Any]) -> None:
        """Show a solve's summary and result mesh (displacement, von Mises...) and store them with the case."""
        self.summary = summary
        self.status.setPlainText(cb.summary_text(summary))
        if not summary.get("converged"):
            self.main.show_error(f"The simulation did not converge: {summary.get('status')}")
        self._result_mesh = result_mesh
        summary = {**summary, "setup": case}  # the set-up this result was solved with
        changes = [("meshes", RESULT_KEY, result_mesh), ("documents", RESULT_DOC, summary)]
        self.main.push_command(SetProjectItems(self.main.project, changes, "Simulation result"))
        self.show_result()

    def show_result(self) -> None:
        """Draw the stored result with the chosen colour map and deformation scale."""
        mesh = getattr(self, "_result_mesh", None)
        if mesh is None:
            return
        self.set_painting(False)
        for b in (self.place_pick, self.place_widget):
            if b.isChecked():
                b.setChecked(False)
        for prefix in ("sim:mesh", "sim:paint", "sim:place"):
            self.scene.clear(prefix, render=False)
        self.scene.refresh_legend()
        self._hide_segment_surfaces()
        self.main.scene3d.show_fe_result(mesh, FIELDS[self.field.currentText()], self.scale.value())
