"""Screenshots wait for jobs that panels start a moment later (debounce timers)."""

from __future__ import annotations

import time

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from app.gui.application import settle

pytestmark = pytest.mark.gui


def test_settle_waits_for_a_job_started_by_a_timer(window) -> None:  # type: ignore[no-untyped-def]
    done: list[float] = []

    def job(progress) -> float:  # type: ignore[no-untyped-def]
        time.sleep(0.3)
        return 1.0

    QTimer.singleShot(150, lambda: window.run_worker(job, done.append, "late job"))
    assert window.wait_for_workers(5)  # nothing runs yet: returns at once, before the timer fires
    assert not done
    assert settle(window, QApplication.instance(), quiet_s=0.4, timeout_s=30)
    assert done == [1.0] and not window.workers
