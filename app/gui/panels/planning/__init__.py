"""The planning panel (issue 6): plan objects, points in the slice views, live metrics, rehearsal, report.

Frame: patient LPS, mm. The panel is a thin view of ``project.plan``
(:class:`twin.plan.Plan`): every change is a command of
:mod:`twin.plan_commands` pushed with ``window.push_command`` (Ctrl+Z undoes
it); points are placed by clicking in the slice views ("Pick"), set from the
crosshair, or dragged (:class:`app.gui.tools.plan_tools.PlanTool`, one undo
step per drag). Metrics come from :mod:`planning` in workers
(:mod:`app.gui.panels.planning.metrics`); the rehearsal runs
:func:`planning.rehearsal.run_rehearsal` in a worker and stores its result in
the plan; "Report..." writes the PDF with :func:`planning.report.build_report`.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QCheckBox,
    QFileDialog,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QPushButton,
    QSplitter,
    QTextBrowser,
    QToolButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.gui.panels.base import Panel
from app.gui.panels.planning.editor import ObjectEditor
from app.gui.panels.planning.margin_view import MarginView
from app.gui.panels.planning.metrics import (
    SLOW_COLLECTIONS,
    compute_metrics,
    critical_hint,
    critical_hint_short,
    metrics_html,
    metrics_key,
    short_summary,
    trajectory_alarm,
)
from app.gui.panels.planning.safety import SafetySettings
from app.gui.tools.overlay import overlays_for
from app.gui.tools.plan_tools import PlanCache, PlanTool, paint_plan
from planning.segment_roles import checked_names
from twin.plan import (
    OBJECT_TYPES,
    AblationZone,
    CutPlane,
    Landmark,
    Measurement,
    Plan,
    PlanObject,
    Rehearsal,
    Resection,
    SafetyMargin,
    Trajectory,
)
from twin.plan_commands import AddPlanObject, ModifyPlanObject, RemovePlanObject, ReplacePlan, SetCriticalSegments

COLLECTION_TITLES = {
    "landmarks": "Landmarks", "measurements": "Measurements", "trajectories": "Trajectories",
    "resections": "Resections", "safety_margins": "Safety margins", "ablation_zones": "Ablation zones",
    "rehearsals": "Rehearsals",
}
ADD_KINDS = [("landmark", "Landmark"), ("distance", "Distance"), ("angle", "Angle"), ("trajectory", "Trajectory"),
             ("resection", "Resection (cut plane)"), ("margin", "Safety margin"), ("ablation", "Ablation zone"),
             ("rehearsal", "Rehearsal (retraction)")]
ID_ROLE = Qt.ItemDataRole.UserRole


def _find(names: list[str], *keys: str) -> str | None:
    for k in keys:
        for n in names:
            if k in n.lower():
                return n
    return None


class PlanningPanel(Panel):
    """Plan objects of the open project with their metrics; see the module docstring."""

    title = "Planning"
    object_name = "planning_panel"
    area = Qt.DockWidgetArea.RightDockWidgetArea
    tab_with = "simulation_panel"

    def __init__(self, window: Any) -> None:
        super().__init__(window)
        self.cache = PlanCache()
        self.metrics: dict[str, dict[str, Any]] = {}  # metrics_key -> metrics (or {"error": ...})
        self._running: set[str] = set()
        self.selected_id: str | None = None
        self.tool = PlanTool(window, self.cache, self._on_placed)
        self.probe_dialog: Any = None
        self.last_report: dict[str, Any] | None = None
        self._building = False
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        row = QHBoxLayout()
        self.add_button = QToolButton()
        self.add_button.setText("Add")
        self.add_button.setObjectName("plan_add")
        self.add_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(self.add_button)
        for key, text in ADD_KINDS:
            menu.addAction(text, lambda k=key: self.add_object(k))
        self.add_button.setMenu(menu)
        self.remove_button = QPushButton("Remove")
        self.remove_button.clicked.connect(self.remove_selected)
        self.edit_views = QPushButton("Edit in views")
        self.edit_views.setCheckable(True)
        self.edit_views.setToolTip("Left button in the slice views drags plan points (elsewhere it moves the "
                                   "crosshair as usual)")
        self.edit_views.toggled.connect(self._toggle_tool)
        for w in (self.add_button, self.remove_button, self.edit_views):
            row.addWidget(w)
        row.addStretch(1)
        lay.addLayout(row)
        split = QSplitter(Qt.Orientation.Vertical)
        self.tree = QTreeWidget()
        self.tree.setObjectName("plan_tree")
        self.tree.setHeaderLabels(["Object", "Metrics"])
        self.tree.setColumnWidth(0, 150)
        self.tree.itemSelectionChanged.connect(self._on_selection)
        self.tree.itemChanged.connect(self._on_item_changed)
        split.addWidget(self.tree)
        self.editor = ObjectEditor(self)
        split.addWidget(self.editor)
        self.metrics_view = QTextBrowser()
        self.metrics_view.setObjectName("plan_metrics")
        split.addWidget(self.metrics_view)
        crit = QGroupBox("Critical structures")
        cl = QVBoxLayout(crit)
        cl.setContentsMargins(4, 4, 4, 4)
        self.critical = QListWidget()
        self.critical.setObjectName("critical_segments")
        self.critical.itemChanged.connect(self._on_critical_changed)
        cl.addWidget(self.critical)
        self.critical_note = QLabel()
        self.critical_note.setObjectName("critical_note")
        self.critical_note.setWordWrap(True)
        cl.addWidget(self.critical_note)
        self.safety = SafetySettings(self)  # margin spin box; role overrides by right-click on the list
        cl.addWidget(self.safety)
        split.addWidget(crit)
        split.setSizes([200, 170, 150, 110])
        lay.addWidget(split, 1)
        self.margin_view = MarginView(self)  # distance colours of the selected safety margin (3-D view)
        lay.addWidget(self.margin_view)
        grid = QHBoxLayout()
        self.probe_button = QPushButton("Probe's eye...")
        self.probe_button.clicked.connect(lambda: self.open_probes_eye())
        self.rehearse_button = QPushButton("Run rehearsal")
        self.rehearse_button.clicked.connect(lambda: self.run_rehearsal())
        grid.addWidget(self.probe_button)
        grid.addWidget(self.rehearse_button)
        lay.addLayout(grid)
        row2 = QHBoxLayout()
        imp = QPushButton("Import markups...")
        imp.clicked.connect(lambda: self.import_markups())
        exp = QPushButton("Export markups...")
        exp.clicked.connect(lambda: self.export_markups())
        row2.addWidget(imp)
        row2.addWidget(exp)
        lay.addLayout(row2)
        row3 = QHBoxLayout()
        self.report_button = QPushButton("Report...")
        self.report_button.clicked.connect(lambda: self.write_report())
        self.identify = QCheckBox("identify patient")
        self.identify.setToolTip("Default: de-identified report (pseudonym instead of the patient's name and IDs)")
        row3.addWidget(self.report_button)
        row3.addWidget(self.identify)
        row3.addStretch(1)
        lay.addLayout(row3)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(150)
        self._timer.timeout.connect(self._schedule_metrics)
        window.edited.connect(self.refresh)
        overlays_for(window).set_painter("plan", self._paint)
        self._add_report_action()
        self.refresh()

    # ------------------------------------------------------------------ model access
    @property
    def plan(self) -> Plan:
        """The project's plan (parsed, cached)."""
        return self.cache.get(self.main.project)

    def selected(self) -> PlanObject | None:
        """The selected plan object."""
        if self.selected_id is None:
            return None
        try:
            return self.plan.get(self.selected_id)
        except Exception:  # noqa: BLE001 - removed by undo
            return None

    def segment_names(self) -> list[str]:
        """Names of the segments of the main label map."""
        lm = self.main.labelmap
        return [s.name for s in lm.segments] if lm is not None else []

    def object_metrics(self, obj: PlanObject) -> dict[str, Any] | None:
        """Cached metrics of ``obj`` for its current geometry (None while computing)."""
        if obj.collection not in SLOW_COLLECTIONS:
            return None
        return self.metrics.get(metrics_key(obj, self.plan, self.main.labelmap))

    # ------------------------------------------------------------------ hooks
    def on_project_changed(self) -> None:  # noqa: D102
        self.metrics.clear()
        self.selected_id = None
        self.tool.pending = None
        self.margin_view.clear()
        self.refresh()

    def on_labelmap_changed(self) -> None:  # noqa: D102
        self._fill_critical()
        self._timer.start()

    # ------------------------------------------------------------------ view
    def refresh(self) -> None:
        """Rebuild the list, the editor and the metrics from ``project.plan``; schedule slow metrics."""
        self._building = True
        plan = self.plan
        self.tree.clear()
        select_item = None
        for coll in OBJECT_TYPES:
            objs = getattr(plan, coll)
            top = QTreeWidgetItem([f"{COLLECTION_TITLES[coll]} ({len(objs)})", ""])
            top.setFlags(Qt.ItemFlag.ItemIsEnabled)
            self.tree.addTopLevelItem(top)
            for obj in objs:
                it = QTreeWidgetItem([obj.name, short_summary(obj, self.object_metrics(obj))])
                it.setData(0, ID_ROLE, obj.id)
                it.setFlags(it.flags() | Qt.ItemFlag.ItemIsEditable)
                if obj.collection == "trajectories" and trajectory_alarm(self.object_metrics(obj)):
                    it.setForeground(1, QColor(trajectory_alarm(self.object_metrics(obj))))
                top.addChild(it)
                if obj.id == self.selected_id:
                    select_item = it
            top.setExpanded(bool(objs))
        if select_item is not None:
            select_item.setSelected(True)
            self.tree.setCurrentItem(select_item)
        elif self.selected_id is not None:
            self.selected_id = None
        self._building = False
        self._fill_critical()
        self.editor.show_object(self.selected())
        self.margin_view.set_object(self.selected())
        self._show_metrics()
        self._update_buttons()
        overlays_for(self.main).update()
        self._timer.start()

    def _show_metrics(self) -> None:
        obj = self.selected()
        self.metrics_view.setHtml(metrics_html(obj, self.object_metrics(obj)) if obj is not None else
                                  "<i>Select a plan object, or add one with Add.</i>")

    def _update_buttons(self) -> None:
        obj = self.selected()
        self.remove_button.setEnabled(obj is not None)
        self.probe_button.setEnabled(obj is not None and obj.collection == "trajectories")
        self.rehearse_button.setEnabled(obj is not None and obj.collection == "rehearsals")

    def _fill_critical(self) -> None:
        names = self.segment_names()
        chosen = set(self.plan.critical_segments)
        current = [(self.critical.item(i).text(), self.critical.item(i).checkState() == Qt.CheckState.Checked)
                   for i in range(self.critical.count())]
        wanted = [(n, n in chosen) for n in names]
        self.critical_note.setText(critical_hint_short(self.plan, names))
        self.critical_note.setToolTip(critical_hint(self.plan, names))
        if current != wanted:
            self.critical.blockSignals(True)
            self.critical.clear()
            for n, on in wanted:
                it = QListWidgetItem(n)
                it.setFlags(it.flags() | Qt.ItemFlag.ItemIsUserCheckable)
                it.setCheckState(Qt.CheckState.Checked if on else Qt.CheckState.Unchecked)
                self.critical.addItem(it)
            self.critical.blockSignals(False)
        self.safety.sync()

    def _paint(self, view: Any, p: Any, hover: Any) -> None:
        paint_plan(self.main, self.cache, view, p, self.selected_id)

    # ------------------------------------------------------------------ edits
    def push(self, cmd: Any, merge: bool = False) -> bool:
        """Push a plan command (the window refreshes everything through ``edited``)."""
        return self.main.push_command(cmd, merge=merge)

    def modify(self, obj: PlanObject, text: str | None = None) -> bool:
        """Replace the object with the same id (one undo step)."""
        return self.push(ModifyPlanObject(self.main.project, obj, text))

    def _unique_name(self, base: str) -> str:
        names = {o.name for o in self.plan.objects()}
        n = 1
        while f"{base} {n}" in names:
            n += 1
        return f"{base} {n}"

    def new_object(self, kind: str) -> PlanObject:
        """A new object of ``kind`` (see :data:`ADD_KINDS`) placed around the crosshair (LPS mm)."""
        c = np.asarray(self.main.current_position_lps, float)
        segs = self.segment_names()
        organ = _find(segs, "liver", "kidney", "organ") or (segs[0] if segs else "")
        tumour = _find(segs, "tumo", "lesion")
        crit = list(self.plan.critical_segments)
        if kind == "landmark":
            return Landmark(name=self._unique_name("Landmark"), position_lps=tuple(c))
        if kind == "distance":
            return Measurement(name=self._unique_name("Distance"), kind="distance",
                               points_lps=(tuple(c), tuple(c + [20.0, 0, 0])))
        if kind == "angle":
            return Measurement(name=self._unique_name("Angle"), kind="angle",
                               points_lps=(tuple(c + [20.0, 0, 0]), tuple(c), tuple(c + [0, -20.0, 0])))
        if kind == "trajectory":
            return Trajectory(name=self._unique_name("Trajectory"), entry_lps=tuple(c + [0, -50.0, 0]),
                              target_lps=tuple(c), target_segment=tumour)
        if kind == "resection":
            if not organ:
                raise ValueError("a resection needs an organ segment: segment the organ first")
            return Resection(name=self._unique_name("Resection"), organ_segment=organ, tumour_segment=tumour,
                             planes=(CutPlane(tuple(c), (1.0, 0.0, 0.0)),),
                             vessel_segments=tuple(s for s in crit if s not in (organ, tumour)))
        if kind == "margin":
            target = tumour or (segs[0] if segs else "")
            if not target:
                raise ValueError("a safety margin needs a target segment")
            return SafetyMargin(name=self._unique_name("Margin"), target_segment=target,
                                critical_segments=tuple(s for s in crit if s != target))
        if kind == "ablation":
            return AblationZone(name=self._unique_name("Ablation"), center_lps=tuple(c), tumour_segment=tumour)
        if kind == "rehearsal":
            if not organ:
                raise ValueError("a rehearsal needs an organ segment")
            return Rehearsal(name=self._unique_name("Rehearsal"), organ_segment=organ, point_lps=tuple(c),
                             displacement_lps=(0.0, -10.0, 0.0))
        raise ValueError(f"unknown plan object kind {kind!r}")

    def add_object(self, kind: str) -> PlanObject | None:
        """Add a new object (one undo step) and select it."""
        try:
            obj = self.new_object(kind)
        except Exception as exc:  # noqa: BLE001 - readable message
            self.main.show_error(f"Cannot add {kind}: {exc}")
            return None
        self.selected_id = obj.id
        if not self.push(AddPlanObject(self.main.project, obj)):
            self.selected_id = None
            return None
        return obj

    def remove_selected(self) -> None:
        """Remove the selected object (one undo step)."""
        obj = self.selected()
        if obj is not None:
            self.selected_id = None
            self.push(RemovePlanObject(self.main.project, obj.id))

    def select(self, object_id: str | None) -> None:
        """Select an object by id."""
        self.selected_id = object_id
        self.refresh()

    def _on_selection(self) -> None:
        if self._building:
            return
        items = self.tree.selectedItems()
        oid = items[0].data(0, ID_ROLE) if items else None
        if oid != self.selected_id:
            self.selected_id = oid
            self.editor.show_object(self.selected())
            self._show_metrics()
            self._update_buttons()
            overlays_for(self.main).update()

    def _on_item_changed(self, item: QTreeWidgetItem, column: int) -> None:
        if self._building or column != 0:
            return
        oid = item.data(0, ID_ROLE)
        if oid is None:
            return
        obj = self.plan.get(oid)
        name = item.text(0).strip()
        if name and name != obj.name:  # after the signal: the refresh deletes this item
            QTimer.singleShot(0, lambda: self.rename(oid, name))

    def rename(self, object_id: str, name: str) -> None:
        """Rename an object (one undo step)."""
        obj = self.plan.get(object_id)
        if obj.name == name:
            return
        self.modify(replace(obj, name=name), f"Rename {obj.name} to {name}")

    def _on_critical_changed(self, _item: QListWidgetItem) -> None:
        names = [self.critical.item(i).text() for i in range(self.critical.count())
                 if self.critical.item(i).checkState() == Qt.CheckState.Checked]
        if names != list(self.plan.critical_segments):
            QTimer.singleShot(0, lambda: self.set_critical_segments(names))

    def set_critical_segments(self, names: list[str]) -> None:
        """Set the critical structures (one undo step)."""
        if list(names) == list(self.plan.critical_segments):
            return
        self.push(SetCriticalSegments(self.main.project, list(names)))

    # ------------------------------------------------------------------ points
    def _toggle_tool(self, on: bool) -> None:
        if on:
            self.main.set_slice_tool(self.tool)
        elif self.main.slice_tool is self.tool:
            self.tool.pending = None
            self.main.set_slice_tool(None)
        overlays_for(self.main).update()

    def pick_point(self, object_id: str, role: str, index: int = 0) -> None:
        """The next left click in a slice view places this point."""
        self.tool.pending = (object_id, role, index)
        if self.main.slice_tool is not self.tool:
            self.edit_views.setChecked(True)
            self.main.set_slice_tool(self.tool)
        self.main.statusBar().showMessage(f"Click in a slice view to place the {role}", 8000)

    def _on_placed(self, object_id: str, role: str, index: int) -> None:
        self.main.statusBar().showMessage(f"{role} placed", 3000)

    def set_point(self, object_id: str, role: str, index: int, point_lps: Any) -> bool:
        """Move one point of an object to ``point_lps`` (LPS mm), one undo step."""
        from app.gui.tools.plan_tools import moved

        obj = self.plan.get(object_id)
        try:
            new = moved(obj, role, index, point_lps)
        except Exception as exc:  # noqa: BLE001
            self.main.show_error(f"Cannot move {role}: {exc}")
            return False
        return self.modify(new, f"Move {obj.name} {role}")

    def set_point_from_crosshair(self, object_id: str, role: str, index: int = 0) -> bool:
        """Put a point at the crosshair."""
        return self.set_point(object_id, role, index, self.main.current_position_lps)

    # ------------------------------------------------------------------ metrics
    def _schedule_metrics(self) -> None:
        """Start one worker for the first object whose metrics are missing (the next one when it finishes)."""
        plan, lm = self.plan, self.main.labelmap
        todo = [o for o in plan.objects() if o.collection in SLOW_COLLECTIONS]
        sel = self.selected()
        if sel is not None and sel in todo:  # the selected object first
            todo.remove(sel)
            todo.insert(0, sel)
        for obj in todo:
            key = metrics_key(obj, plan, lm)
            if key in self.metrics or key in self._running:
                continue
            self._running.add(key)

            def done(result: Any, key: str = key) -> None:
                self._running.discard(key)
                self.metrics[key] = result
                self._metrics_arrived()

            def failed(msg: str, key: str = key) -> None:
                self._running.discard(key)
                self.metrics[key] = {"error": msg}
                self._metrics_arrived()

            def cancelled(key: str = key) -> None:
                self._running.discard(key)

            self.main.run_worker(lambda prog, o=obj, pl=plan: compute_metrics(o, pl, lm, prog), done,
                                 f"Metrics of {obj.name}", on_error=failed, on_cancel=cancelled)
            return

    def _metrics_arrived(self) -> None:
        if len(self.metrics) > 500:  # drop old drag positions
            for k in list(self.metrics)[:250]:
                self.metrics.pop(k)
        self._update_summaries()
        self._show_metrics()
        self._timer.start()

    def _update_summaries(self) -> None:
        self._building = True
        plan = self.plan
        for i in range(self.tree.topLevelItemCount()):
            top = self.tree.topLevelItem(i)
            for j in range(top.childCount()):
                it = top.child(j)
                try:
                    obj = plan.get(it.data(0, ID_ROLE))
                except Exception:  # noqa: BLE001
                    continue
                m = self.object_metrics(obj)
                it.setText(1, short_summary(obj, m))
                if obj.collection == "trajectories":
                    alarm = trajectory_alarm(m)
                    it.setForeground(1, QColor(alarm) if alarm else self.tree.palette().text().color())
        self._building = False

    def metrics_ready(self) -> bool:
        """True when every object's metrics are computed for its current state (tests, scripts)."""
        plan, lm = self.plan, self.main.labelmap
        return all(metrics_key(o, plan, lm) in self.metrics for o in plan.objects() if o.collection in SLOW_COLLECTIONS)

    # ------------------------------------------------------------------ actions
    def open_probes_eye(self) -> QWidget | None:
        """Show the reslice perpendicular to the selected trajectory."""
        from app.gui.panels.planning.probe_dialog import ProbesEyeDialog

        obj = self.selected()
        if obj is None or obj.collection != "trajectories" or self.main.volume is None:
            return None
        if self.probe_dialog is not None:
            self.probe_dialog.close()
        lm = self.main.labelmap
        crit = checked_names(lm.segments if lm is not None else [], self.plan.critical_segments or None,
                             self.plan.segment_roles, (obj.target_segment,))
        self.probe_dialog = ProbesEyeDialog(self.main, obj, crit)
        self.probe_dialog.show()
        return self.probe_dialog

    def export_markups(self, path: str | None = None) -> None:
        """Write landmarks, measurements, trajectories (lines) and cut planes as a Slicer ``.mrk.json``."""
        from planning.markups import write_markups

        if path is None:
            path, _ = QFileDialog.getSaveFileName(self, "Export markups", "plan.mrk.json",
                                                  "Slicer markups (*.mrk.json)")
            if not path:
                return
        try:
            write_markups(path, self.plan)
        except Exception as exc:  # noqa: BLE001
            self.main.show_error(f"Export markups failed: {exc}")
            return
        self.main.statusBar().showMessage(f"Markups written to {path}", 5000)

    def import_markups(self, path: str | None = None) -> None:
        """Add the markups of a ``.mrk.json`` file to the plan (one undo step)."""
        from planning.markups import read_markups

        if path is None:
            path, _ = QFileDialog.getOpenFileName(self, "Import markups", "", "Slicer markups (*.mrk.json *.json)")
            if not path:
                return
        try:
            content = read_markups(path)
            new = content.add_to(Plan.from_dict(self.plan.to_dict()))
        except Exception as exc:  # noqa: BLE001
            self.main.show_error(f"Import markups failed: {exc}")
            return
        self.push(ReplacePlan(self.main.project, new, "Import markups"))

    def _add_report_action(self) -> None:
        from PySide6.QtGui import QAction

        a = QAction("Write report (PDF)...", self.main)
        a.setObjectName("report_action")
        a.triggered.connect(lambda: self.write_report())
        self.main.file_menu.insertAction(self.main.file_export_anchor, a)
        self.report_action = a

    def write_report(self, path: str | None = None, identify: bool | None = None) -> None:
        """Write the PDF report in a worker (de-identified unless "identify" is checked)."""
        from app.gui.panels.planning.jobs import start_report

        if path is None:
            path, _ = QFileDialog.getSaveFileName(self, "Write report", "report.pdf", "PDF (*.pdf)")
            if not path:
                return
        start_report(self, path, self.identify.isChecked() if identify is None else identify)

    def run_rehearsal(self, object_id: str | None = None) -> Any:
        """Build and solve the rehearsal's retraction case in a worker; its result is stored in the plan."""
        from app.gui.panels.planning.jobs import start_rehearsal

        obj = self.plan.get(object_id) if object_id else self.selected()
        if obj is None or obj.collection != "rehearsals":
            return None
        return start_rehearsal(self, obj)
