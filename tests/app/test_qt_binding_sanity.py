"""Guard against Qt binding releases that corrupt reference counts.

PySide6 6.12.0 on Python 3.11 drops a reference to ``None`` on every Qt call
returning void; after ~10^5 calls the interpreter aborts with
``Fatal Python error: none_dealloc``. pyproject pins ``PySide6-Essentials<6.12``;
this test fails loudly if a broken build is installed again.
"""

from __future__ import annotations

import os
import subprocess
import sys

CODE = """
import sys
from PySide6.QtWidgets import QApplication
from PySide6.QtGui import QImage, QPainter
app = QApplication([])
img = QImage(8, 8, QImage.Format.Format_RGB32)
p = QPainter(img)
r0 = sys.getrefcount(None)
for _ in range(2000):
    p.drawLine(0, 0, 5, 5)
print(sys.getrefcount(None) - r0)
p.end()
"""


def test_void_qt_calls_keep_none_refcount() -> None:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    out = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True, timeout=120, env=env)
    assert out.returncode == 0, out.stderr[-500:]
    delta = int(out.stdout.strip().splitlines()[-1])
    assert abs(delta) < 100, f"Qt binding leaks/drops references to None ({delta} per 2000 calls)"
