"""Helpers for GUI tests that drive real widgets with synthetic Qt events."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication


def send_mouse(widget: Any, kind: QEvent.Type, pos: Any, button: Qt.MouseButton = Qt.MouseButton.LeftButton,
               buttons: Any = None) -> None:
    """Send a mouse event at widget pixel ``pos`` (QPointF/QPoint or ``(x, y)``) as Qt would.

    ``buttons`` (held buttons) defaults to ``button``; a release holds no button.
    """
    x, y = (float(pos.x()), float(pos.y())) if hasattr(pos, "x") else (float(pos[0]), float(pos[1]))
    buttons = button if buttons is None else buttons
    if kind == QEvent.Type.MouseButtonRelease:
        buttons = Qt.MouseButton.NoButton
    ev = QMouseEvent(kind, QPointF(x, y), QPointF(widget.mapToGlobal(QPoint(int(x), int(y)))), button, buttons,
                     Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, ev)
