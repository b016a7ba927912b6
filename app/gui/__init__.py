"""PySide6 desktop application (the only Qt code). Start with :func:`app.gui.application.run_gui`.

Importing this package applies :func:`protect_none_refcount` (see there): PySide6 6.12 on
Python 3.11 drops a reference to ``None`` in every call of a method returning ``void``
(``QPainter.drawLine``, ``setPen``, ``QWidget.update``...), which aborts the process with
"none_dealloc" after some tens of thousands of calls, i.e. after seconds of slice scrolling.
"""

from __future__ import annotations

import sys

_NONE_REFERENCE_RESERVE = 1 << 40


def protect_none_refcount() -> None:
    """Give ``None`` a huge reference-count reserve on Python < 3.12 (where ``None`` is not immortal).

    ``None`` is a static object that is never freed, so extra references change nothing but
    ``sys.getrefcount(None)``; the reserve outlasts any session (10^12 leaked references).
    From Python 3.12 ``None`` is immortal (PEP 683) and this does nothing.
    """
    if sys.version_info >= (3, 12) or sys.implementation.name != "cpython":
        return
    if sys.getrefcount(None) >= _NONE_REFERENCE_RESERVE // 2:
        return
    import ctypes

    ctypes.c_ssize_t.from_address(id(None)).value += _NONE_REFERENCE_RESERVE  # ob_refcnt is the first field


protect_none_refcount()
