"""Trajectory safety settings of the planning panel: the plan's safety margin and per-segment role overrides.

Both are saved in the plan (:attr:`twin.plan.Plan.safety_margin_mm`,
:attr:`twin.plan.Plan.segment_roles`) and changed only through the undoable
commands :class:`twin.plan_commands.SetSafetyMargin` (spin-box steps merge into
one undo step) and :class:`twin.plan_commands.SetSegmentRole`; the panel's
metrics cache key includes them, so trajectory metrics are recomputed after a
change and after Ctrl+Z. Roles are overridden from the context menu of the
critical-structure list (overridden segments are shown in italics, with the
role in the tooltip). No geometry here (frame: n/a).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QAction, QActionGroup
from PySide6.QtWidgets import QDoubleSpinBox, QHBoxLayout, QLabel, QListWidget, QMenu, QWidget

from planning.segment_roles import classify_name, role_overrides_text
from twin.plan import SEGMENT_ROLES
from twin.plan_commands import SetSafetyMargin, SetSegmentRole

ROLE_HELP = {
    "critical": "checked for crossing and clearance",
    "traversable": "may be crossed (organ parenchyma)",
    "container": "body wall, always traversed",
    "target": "lesion, the aim of the tool",
    "ignore": "neither checked nor the target's organ",
}
"""Menu text of each role of :data:`twin.plan.SEGMENT_ROLES`."""

MAX_MARGIN_MM = 50.0


class SafetySettings(QWidget):
    """Margin spin box + role summary; installs the role context menu on ``panel.critical``."""

    def __init__(self, panel: Any) -> None:
        super().__init__(panel)
        self.panel = panel
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(QLabel("Safety margin"))
        self.margin = QDoubleSpinBox()
        self.margin.setObjectName("safety_margin_mm")
        self.margin.setRange(0.0, MAX_MARGIN_MM)
        self.margin.setDecimals(1)
        self.margin.setSingleStep(0.5)
        self.margin.setSuffix(" mm")
        self.margin.setKeyboardTracking(False)  # one command per committed value, not per keystroke
        self.margin.setToolTip("A critical structure closer than this to the tool surface is flagged "
                               "(saved in the plan; a trajectory may set its own)")
        self.margin.valueChanged.connect(self._on_margin)
        lay.addWidget(self.margin)
        self.roles_label = QLabel()
        self.roles_label.setObjectName("segment_roles_summary")
        lay.addWidget(self.roles_label, 1)
        lst: QListWidget = panel.critical
        lst.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        lst.customContextMenuRequested.connect(self._context_menu)

    # ------------------------------------------------------------------ view
    def sync(self) -> None:
        """Show the plan's margin and overrides (no command is pushed)."""
        plan = self.panel.plan
        if abs(self.margin.value() - plan.safety_margin_mm) > 1e-9:
            self.margin.blockSignals(True)
            self.margin.setValue(plan.safety_margin_mm)
            self.margin.blockSignals(False)
        self.roles_label.setText(f"roles: {role_overrides_text(plan.segment_roles)}")
        self.roles_label.setToolTip("\n".join(f"{n}: {r}" for n, r in sorted(plan.segment_roles.items()))
                                    or "every segment has its default role (by name)")
        lst: QListWidget = self.panel.critical
        for i in range(lst.count()):
            it = lst.item(i)
            name = it.text()
            role = plan.segment_roles.get(name)
            font = it.font()
            font.setItalic(role is not None)
            it.setFont(font)
            default = self.default_role(name)
            it.setToolTip(f"role: {role} (plan override; default {default})" if role else f"role: {default} (default)")

    def default_role(self, name: str) -> str:
        """Default role of segment ``name`` (from its name, then its terminology in the main label map)."""
        lm = self.panel.main.labelmap
        seg = next((s for s in lm.segments if s.name == name), None) if lm is not None else None
        meaning = (getattr(seg, "terminology", None) or {}).get("meaning") if seg is not None else None
        return classify_name(name, meaning)[0]

    # ------------------------------------------------------------------ edits
    def _on_margin(self, value: float) -> None:
        self.set_margin(value)

    def set_margin(self, margin_mm: float) -> bool:
        """Set the plan's safety margin (consecutive changes merge into one undo step)."""
        if abs(float(margin_mm) - self.panel.plan.safety_margin_mm) < 1e-9:
            return False
        return self.panel.push(SetSafetyMargin(self.panel.main.project, float(margin_mm)), merge=True)

    def set_role(self, name: str, role: str | None) -> bool:
        """Override the role of segment ``name`` (``None`` = its default role); one undo step."""
        if self.panel.plan.segment_roles.get(name) == role:
            return False
        return self.panel.push(SetSegmentRole(self.panel.main.project, name, role))

    def role_menu(self, name: str) -> QMenu:
        """The menu of role choices for segment ``name`` (the current one checked)."""
        menu = QMenu(self)
        menu.setObjectName("segment_role_menu")
        current = self.panel.plan.segment_roles.get(name)
        head = menu.addAction(f"Role of {name}")
        head.setEnabled(False)
        group = QActionGroup(menu)
        group.setExclusive(True)
        choices: list[tuple[str | None, str]] = [(None, f"Default ({self.default_role(name)})")]
        choices += [(r, f"{r} - {ROLE_HELP[r]}") for r in SEGMENT_ROLES]
        for role, text in choices:
            a = QAction(text, menu)
            a.setCheckable(True)
            a.setChecked(role == current)
            a.setData(role)
            a.triggered.connect(lambda _=False, r=role: self.set_role(name, r))
            group.addAction(a)
            menu.addAction(a)
        return menu

    def _context_menu(self, pos: QPoint) -> None:
        lst: QListWidget = self.panel.critical
        it = lst.itemAt(pos)
        if it is not None:
            self.role_menu(it.text()).exec(lst.viewport().mapToGlobal(pos))
