"""Help > Mouse and keyboard (F1): generated from the window's actions and shortcuts, so it cannot go stale.

The keyboard part lists every ``QAction`` of the window that has a shortcut (menu path + text, all its key
sequences) and every window-wide ``QShortcut`` (its ``whatsThis``, e.g. B / E of the segment tools). Keys handled
inside a view (``keyPressEvent``) and mouse gestures are not actions: they are listed from :data:`VIEW_KEYS`
and :data:`MOUSE_GESTURES`, which mirror :mod:`app.gui.slice_view`, :mod:`app.gui.view3d` and the 3-D tools.
"""

from __future__ import annotations

import html
from typing import Any

from PySide6.QtGui import QAction, QKeySequence, QShortcut
from PySide6.QtWidgets import QMenu

VIEW_KEYS: tuple[tuple[str, str, str], ...] = (
    ("Slice view", "Up / Down / PageUp / PageDown", "next / previous slice"),
    ("Slice view", "R", "reset zoom and pan"),
    ("Slice view", "[ / ]", "turn the other views' planes by 5 degrees about this view's normal"),
    ("3-D view, painting loads", "[ / ]", "shrink / grow the brush"),
    ("3-D view, painting loads", "E", "toggle erase"),
    ("3-D view, painting loads", "Esc", "stop painting"),
    ("3-D view, scissors 3D", "Esc", "cancel the lasso being drawn"),
)
"""(where, keys, what) of keys handled by a view while it has focus."""

MOUSE_GESTURES: tuple[tuple[str, str, str], ...] = (
    ("Slice view", "Left click / drag", "move the crosshair (all views follow)"),
    ("Slice view", "Right drag", "window / level (horizontal width, vertical level)"),
    ("Slice view", "Right click", "view menu: presets, align to a trajectory, rotate mode, reset orientation"),
    ("Slice view", "Middle drag or Shift+left drag", "pan"),
    ("Slice view", "Wheel / Ctrl+wheel", "next / previous slice / zoom"),
    ("Slice view", "Ctrl+left drag (or left drag in rotate mode)",
     "rotate the other views' planes about this view's normal through the crosshair"),
    ("Slice view", "Ctrl+Shift+left drag", "tilt this view's own plane about the crosshair (oblique)"),
    ("Slice view", "Double-click", "maximise / restore the view"),
    ("Slice view, seeds / paint / scissors on", "Left button",
     "place seeds (Ctrl+click removes), paint / erase, or draw the scissors polygon"),
    ("3-D view", "Left drag / right drag / middle drag / wheel", "rotate / zoom / pan / zoom"),
    ("3-D view, scissors 3D", "Left drag", "draw the lasso (free-hand or rectangle); cut along the camera rays"),
    ("3-D view, painting loads", "Left drag / Shift+left drag", "paint / erase on the mesh surface"),
)
"""(where, gesture, what) of the mouse gestures of the views and their tools."""


def _keys(seqs: list[QKeySequence]) -> str:
    return " / ".join(s.toString(QKeySequence.SequenceFormat.NativeText) for s in seqs if not s.isEmpty())


def _clean(text: str) -> str:
    return text.replace("&&", "\0").replace("&", "").replace("\0", "&").rstrip(".").strip()


def shortcut_rows(window: Any) -> list[tuple[str, str]]:
    """(keys, description) of every action and window shortcut with a key sequence, in menu order."""
    rows: list[tuple[str, str]] = []
    seen: set[int] = set()

    def walk(menu: QMenu, path: str) -> None:
        for a in menu.actions():
            if a.menu() is not None:
                walk(a.menu(), f"{path} > {_clean(a.menu().title())}")
            elif not a.isSeparator() and id(a) not in seen and _keys(a.shortcuts()):
                seen.add(id(a))
                rows.append((_keys(a.shortcuts()), f"{path} > {_clean(a.text())}"))

    for top in window.menuBar().actions():
        if top.menu() is not None:
            walk(top.menu(), _clean(top.menu().title()))
    for a in window.findChildren(QAction):  # actions outside the menus (views, panels)
        if id(a) not in seen and _keys(a.shortcuts()):
            seen.add(id(a))
            rows.append((_keys(a.shortcuts()), _clean(a.text())))
    for sc in window.findChildren(QShortcut):
        if _keys([sc.key()]) and sc.isEnabled():
            rows.append((_keys([sc.key()]), sc.whatsThis() or sc.objectName() or "shortcut"))
    return rows


def help_html(window: Any) -> str:
    """The F1 help as HTML tables: keyboard shortcuts (from the actions), view keys, mouse gestures."""
    def table(rows: list[tuple[str, ...]]) -> str:
        cells = "".join("<tr>" + "".join(f"<td style='padding-right:12px'>{html.escape(c)}</td>" for c in r)
                        + "</tr>" for r in rows)
        return f"<table>{cells}</table>"

    return ("<h3>Keyboard shortcuts</h3>" + table(shortcut_rows(window))
            + "<h3>Keys in a view (click it first)</h3>" + table([(k, f"{w}: {d}") for w, k, d in VIEW_KEYS])
            + "<h3>Mouse</h3>" + table([(g, f"{w}: {d}") for w, g, d in MOUSE_GESTURES]))


def help_text(window: Any) -> str:
    """The F1 help as plain text (one ``keys  description`` line each)."""
    lines = ["Keyboard shortcuts"] + [f"  {k}  {d}" for k, d in shortcut_rows(window)]
    lines += ["Keys in a view (click it first)"] + [f"  {k}  {w}: {d}" for w, k, d in VIEW_KEYS]
    lines += ["Mouse"] + [f"  {g}  {w}: {d}" for w, g, d in MOUSE_GESTURES]
    return "\n".join(lines)
