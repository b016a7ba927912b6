"""Help > Run FE verification suite: the ``vht verify`` cases in a child process, shown as a table.

The cases of :mod:`biomech.verification` (patch tests, Lamé, cantilever, convergence orders,
GCI, hyperelastic uniaxial, gravity, FEBio sh13, Hertz contact) run in a child process
(:mod:`app.gui.verify_job`, no Qt; the solver holds the GIL for long stretches, and Cancel
kills the child at once). Each finished case appears as a row as soon as it is done: case,
quantity, computed, reference, error, tolerance, PASS/FAIL (details in the row's tooltip).
"Quick" (coarser meshes, the default) is the ``vht verify --quick`` subset; the full suite
adds the 3-D sphere convergence studies and finer meshes (several minutes).
The table is saved as JSON (the ``vht verify --json`` schema) or CSV.
"""

from __future__ import annotations

import csv
import json
import sys
import time
from pathlib import Path
from typing import Any

from PySide6.QtCore import QProcess, Qt, QTimer
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

COLUMNS = ("case", "quantity", "computed", "reference", "error", "tolerance", "result")
PASS_COLOR = QColor(40, 150, 60)
FAIL_COLOR = QColor(200, 40, 40)


def _num(x: Any) -> str:
    if x is None:
        return "-"
    if isinstance(x, str):
        return x
    return f"{float(x):.6g}"


class VerifyDialog(QDialog):
    """Runs the verification suite and shows its table (see the module docstring).

    Programmatic use: ``dlg.start(quick=True, cases=[...])``, ``dlg.wait(timeout_s)``,
    ``dlg.results`` (dicts of :meth:`CaseResult.to_dict` + ``label``), ``dlg.save_json(p)``,
    ``dlg.save_csv(p)``, ``dlg.cancel()``.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("verify_dialog")
        self.setWindowTitle("FE verification suite")
        self.resize(940, 560)
        self.results: list[dict[str, Any]] = []
        self.quick = True
        self.n_cases = 0
        self.state = "idle"  # idle | running | done | cancelled | failed
        self.error = ""
        self._buffer = ""
        self._t0 = 0.0
        self._current = ""
        self.proc: QProcess | None = None
        lay = QVBoxLayout(self)
        intro = QLabel("Runs the finite-element verification cases of <tt>vht verify</tt> against analytic and "
                       "reference solutions (patch tests, Lamé cylinder/sphere, cantilever, convergence orders, "
                       "GCI, hyperelastic stretch, gravity, FEBio sh13, Hertz contact). Each case is one row.")
        intro.setWordWrap(True)
        lay.addWidget(intro)
        top = QHBoxLayout()
        self.quick_box = QCheckBox("Quick (coarser meshes, about a minute)")
        self.quick_box.setObjectName("verify_quick")
        self.quick_box.setChecked(True)
        self.quick_box.setToolTip("Unchecked: the full suite with finer meshes and the 3-D sphere convergence "
                                  "studies (several minutes)")
        self.run_button = QPushButton("Run")
        self.run_button.setObjectName("verify_run")
        self.run_button.clicked.connect(lambda: self.start(self.quick_box.isChecked()))
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setObjectName("verify_cancel")
        self.cancel_button.clicked.connect(self.cancel)
        self.cancel_button.setEnabled(False)
        top.addWidget(self.quick_box)
        top.addStretch(1)
        top.addWidget(self.run_button)
        top.addWidget(self.cancel_button)
        lay.addLayout(top)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setValue(0)
        lay.addWidget(self.progress)
        self.status = QLabel("Press Run.")
        self.status.setObjectName("verify_status")
        lay.addWidget(self.status)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setObjectName("verify_table")
        self.table.setHorizontalHeaderLabels([c.capitalize() for c in COLUMNS])
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 8)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        hdr = self.table.horizontalHeader()
        hdr.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        hdr.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        lay.addWidget(self.table, 1)
        bottom = QHBoxLayout()
        self.summary = QLabel("")
        self.summary.setObjectName("verify_summary")
        self.save_json_button = QPushButton("Save JSON...")
        self.save_json_button.clicked.connect(lambda: self._save_dialog("json"))
        self.save_csv_button = QPushButton("Save CSV...")
        self.save_csv_button.clicked.connect(lambda: self._save_dialog("csv"))
        close = QPushButton("Close")
        close.clicked.connect(self.close)
        bottom.addWidget(self.summary, 1)
        for b in (self.save_json_button, self.save_csv_button, close):
            bottom.addWidget(b)
        lay.addLayout(bottom)
        self._tick = QTimer(self)
        self._tick.setInterval(500)
        self._tick.timeout.connect(self._show_running)
        from PySide6.QtWidgets import QApplication

        app = QApplication.instance()
        if app is not None:  # the app quits while the suite runs: stop the child process with it
            app.aboutToQuit.connect(self.cancel)
        self._update_buttons()

    # ------------------------------------------------------------------ running
    def start(self, quick: bool = True, cases: list[str] | None = None) -> None:
        """Start the suite (``cases``: only these labels of :func:`biomech.verification.suite.case_functions`)."""
        if self.state == "running":
            return
        self.quick = bool(quick)
        self.results = []
        self.table.setRowCount(0)
        self.n_cases = 0
        self.error = ""
        self._buffer = ""
        self._current = "starting"
        self.progress.setValue(0)
        self.summary.setText("")
        args = [str(Path(__file__).resolve().with_name("verify_job.py"))]
        if self.quick:
            args.append("--quick")
        for c in cases or []:
            args += ["--case", c]
        self.proc = QProcess(self)
        self.proc.setProcessChannelMode(QProcess.ProcessChannelMode.SeparateChannels)
        self.proc.readyReadStandardOutput.connect(self._read)
        self.proc.finished.connect(self._finished)
        self.proc.errorOccurred.connect(self._process_error)
        self.state = "running"
        self._t0 = time.monotonic()
        self.proc.start(sys.executable, args)
        self._tick.start()
        self._update_buttons()
        self._show_running()

    def cancel(self) -> None:
        """Stop the run now (the child process is killed; finished rows stay)."""
        if self.state != "running" or self.proc is None:
            return
        self.state = "cancelled"
        self.proc.kill()
        self.proc.waitForFinished(5000)
        self._tick.stop()
        self.status.setText(f"Cancelled after {len(self.results)} of {self.n_cases or '?'} cases.")
        self._update_buttons()

    def wait(self, timeout_s: float = 600.0) -> bool:
        """Process events until the run ends (tests, scripts). False on timeout."""
        from PySide6.QtWidgets import QApplication

        t0 = time.monotonic()
        while self.state == "running":
            QApplication.processEvents()
            if self.proc is not None:
                self.proc.waitForReadyRead(20)
            if time.monotonic() - t0 > timeout_s:
                return False
        QApplication.processEvents()
        return True

    def _read(self) -> None:
        if self.proc is None:
            return
        self._buffer += bytes(self.proc.readAllStandardOutput().data()).decode("utf-8", "replace")
        *lines, self._buffer = self._buffer.split("\n")
        for line in lines:
            self._handle(line.rstrip("\r"))

    def _handle(self, line: str) -> None:
        if line.startswith("START "):
            self.n_cases = int(line.split()[1])
        elif line.startswith("CASE "):
            _, i, label = line.split(" ", 2)
            self._current = label
            self.progress.setValue(int(1000 * int(i) / max(1, self.n_cases)))
            self._show_running()
        elif line.startswith("RESULT "):
            _, i, payload = line.split(" ", 2)
            row = json.loads(payload)
            self.results.append(row)
            self._add_row(row)
            self.progress.setValue(int(1000 * (int(i) + 1) / max(1, self.n_cases)))
        elif line.startswith("ERROR "):
            self.error = line[6:]

    def _finished(self, code: int, _status: Any) -> None:
        self._read()
        self._tick.stop()
        if self.state == "cancelled":
            return
        if code != 0 or len(self.results) < self.n_cases or self.n_cases == 0:
            self.state = "failed"
            tail = self.error or (bytes(self.proc.readAllStandardError().data()).decode("utf-8", "replace")
                                  .strip().splitlines() or ["no message"])[-1]
            self.status.setText(f"The verification process stopped (exit {code}): {tail}")
        else:
            self.state = "done"
            self.status.setText(f"Done in {time.monotonic() - self._t0:.0f} s "
                                f"({'quick' if self.quick else 'full'} suite).")
            self.progress.setValue(1000)
        self._update_summary()
        self._update_buttons()

    def _process_error(self, err: Any) -> None:
        if err == QProcess.ProcessError.FailedToStart:
            self.state = "failed"
            self._tick.stop()
            self.status.setText("Could not start the verification process.")
            self._update_buttons()

    def _show_running(self) -> None:
        if self.state == "running":
            n = f"{len(self.results) + 1}/{self.n_cases}" if self.n_cases else ""
            self.status.setText(f"Running {n} {self._current} ... {time.monotonic() - self._t0:.0f} s")

    def _update_buttons(self) -> None:
        running = self.state == "running"
        self.run_button.setEnabled(not running)
        self.quick_box.setEnabled(not running)
        self.cancel_button.setEnabled(running)
        self.save_json_button.setEnabled(bool(self.results) and not running)
        self.save_csv_button.setEnabled(bool(self.results) and not running)

    # ------------------------------------------------------------------ table
    def _add_row(self, r: dict[str, Any]) -> None:
        n = self.table.rowCount()
        self.table.insertRow(n)
        err = r.get("rel_error")
        values = (r.get("name") or r.get("label", ""), r.get("quantity", ""), _num(r.get("computed")),
                  _num(r.get("expected")), "-" if err in (None, "inf") else f"{float(err):.3g}",
                  _num(r.get("tolerance")), "PASS" if r.get("passed") else "FAIL")
        tip = json.dumps(r.get("details", {}), indent=1)[:1500]
        for c, v in enumerate(values):
            it = QTableWidgetItem(str(v))
            it.setToolTip(tip)
            if c >= 2:
                it.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            if c == len(values) - 1:
                it.setForeground(QBrush(PASS_COLOR if r.get("passed") else FAIL_COLOR))
                it.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
            self.table.setItem(n, c, it)
        self.table.scrollToBottom()
        self._update_summary()

    def _update_summary(self) -> None:
        n_pass = sum(bool(r.get("passed")) for r in self.results)
        color = PASS_COLOR if n_pass == len(self.results) else FAIL_COLOR
        self.summary.setText(f"<b style='color:{color.name()}'>{n_pass}/{len(self.results)} cases passed</b>"
                             if self.results else "")

    def table_rows(self) -> list[list[str]]:
        """The table's text, row by row (what the user sees)."""
        return [[self.table.item(r, c).text() for c in range(self.table.columnCount())]
                for r in range(self.table.rowCount())]

    # ------------------------------------------------------------------ saving
    def save_json(self, path: str | Path) -> Path:
        """Write ``{"passed", "quick", "cases": [...]}`` (the ``vht verify --json`` schema), atomically."""
        from twin.io.atomic import atomic_path

        out = {"passed": bool(self.results) and all(r.get("passed") for r in self.results), "quick": self.quick,
               "complete": self.state == "done", "cases": self.results}
        p = Path(path)
        with atomic_path(p) as tmp:
            Path(tmp).write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
        return p

    def save_csv(self, path: str | Path) -> Path:
        """Write one row per case (full-precision numbers), atomically."""
        from twin.io.atomic import atomic_path

        p = Path(path)
        with atomic_path(p) as tmp, open(tmp, "w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(["case", "quantity", "computed", "reference", "error", "tolerance", "passed", "note"])
            for r in self.results:
                w.writerow([r.get("name") or r.get("label"), r.get("quantity"), r.get("computed"), r.get("expected"),
                            r.get("rel_error"), r.get("tolerance"), bool(r.get("passed")),
                            (r.get("details") or {}).get("error", "")])
        return p

    def _save_dialog(self, fmt: str) -> None:
        flt = "JSON (*.json)" if fmt == "json" else "CSV (*.csv)"
        path, _ = QFileDialog.getSaveFileName(self, "Save verification results", f"verification.{fmt}", flt)
        if path:
            (self.save_json if fmt == "json" else self.save_csv)(path)
            self.status.setText(f"Saved {path}")

    def closeEvent(self, ev: Any) -> None:  # noqa: N802
        self.cancel()
        super().closeEvent(ev)
