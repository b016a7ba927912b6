"""Help > Run FE verification suite: the real dialog runs the ``vht verify`` cases in a child process.

Rows must be the suite's own results (same numbers as an in-process run of the case), every
quick case must pass, Cancel must stop the child at once, and the saved JSON / CSV must hold
the rows shown.
"""

from __future__ import annotations

import csv
import json

import pytest
from PySide6.QtWidgets import QApplication

pytestmark = pytest.mark.gui


def _menu_action(window, menu_title, text):
    for menu_action in window.menuBar().actions():
        if menu_action.text().replace("&", "") == menu_title:
            for a in menu_action.menu().actions():
                if a.text() == text:
                    return a
    raise AssertionError(f"{menu_title} > {text} not found")


@pytest.mark.slow
def test_quick_suite_from_help_menu(window, tmp_path):
    from biomech.verification import cases
    from biomech.verification.suite import case_functions

    _menu_action(window, "Help", "Run FE verification suite...").trigger()
    dlg = window.verify_dialog
    assert dlg.isVisible() and dlg.quick_box.isChecked()  # quick subset by default
    dlg.run_button.click()
    assert dlg.state == "running" and dlg.cancel_button.isEnabled()
    assert dlg.wait(300), "verification suite did not finish"
    assert dlg.state == "done", dlg.status.text()
    labels = [label for label, _ in case_functions(quick=True)]
    rows = dlg.table_rows()
    assert len(rows) == len(labels) == len(dlg.results)
    assert [r["label"] for r in dlg.results] == labels
    assert all(r[-1] == "PASS" for r in rows), [r for r in rows if r[-1] != "PASS"]
    assert dlg.summary.text().count(f"{len(labels)}/{len(labels)} cases passed") == 1
    # the cantilever row is the suite's own number (deterministic solve, same mesh)
    ref = cases.cantilever(quick=True)
    row = next(r for r in dlg.results if r["label"] == "cantilever")
    assert row["computed"] == pytest.approx(ref.computed, rel=1e-9)
    assert row["expected"] == pytest.approx(ref.expected, rel=1e-12)
    shown = rows[labels.index("cantilever")]
    assert shown[2] == f"{ref.computed:.6g}" and shown[3] == f"{ref.expected:.6g}"
    # saving
    out = json.loads(dlg.save_json(tmp_path / "v.json").read_text())
    assert out["passed"] is True and out["quick"] is True and out["complete"] is True
    assert len(out["cases"]) == len(labels)
    with open(dlg.save_csv(tmp_path / "v.csv"), newline="") as f:
        table = list(csv.reader(f))
    assert table[0][:7] == ["case", "quantity", "computed", "reference", "error", "tolerance", "passed"]
    assert len(table) == len(labels) + 1 and all(r[6] == "True" for r in table[1:])
    dlg.close()


@pytest.mark.slow
def test_subset_and_cancel(window):
    import time

    dlg = window.open_verify_dialog()
    # a subset of cheap cases runs and passes
    dlg.start(quick=True, cases=["patch test tet4", "gravity"])
    assert dlg.wait(120) and dlg.state == "done", dlg.status.text()
    assert [r["label"] for r in dlg.results] == ["patch test tet4", "gravity"]
    assert all(r["passed"] for r in dlg.results)
    # the slowest quick cases, cancelled right after the first row appears: the child is gone at once
    dlg.start(quick=True, cases=["patch test tet4", "neo-Hookean sphere", "Hertz"])
    t0 = time.monotonic()
    while len(dlg.results) < 1 and time.monotonic() - t0 < 60:
        QApplication.processEvents()
        dlg.proc.waitForReadyRead(20)
    assert len(dlg.results) == 1
    dlg.cancel_button.click()
    assert dlg.state == "cancelled"
    assert dlg.proc.state() == dlg.proc.ProcessState.NotRunning
    assert len(dlg.table_rows()) == 1 and dlg.run_button.isEnabled()
    assert "Cancelled after 1 of 3" in dlg.status.text()
    # unknown case label: a readable failure, not a hang
    dlg.start(quick=True, cases=["no such case"])
    assert dlg.wait(60) and dlg.state == "failed"
    assert "unknown case" in dlg.status.text()
    dlg.close()
