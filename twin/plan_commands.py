"""Undoable edits of a project's plan (``Project.plan``, JSON of :class:`twin.plan.Plan`).

Each command snapshots the plan dict before and after its change, so undo and
redo restore exactly what was there (plans are small: kilobytes). Push them
on ``project.undo_stack``::

    project.undo_stack.push(AddPlanObject(project, Trajectory(name="biopsy", ...)))

Frame: LPS, mm (as :mod:`twin.plan`).
"""

from __future__ import annotations

import copy
from abc import abstractmethod
from typing import Any

from twin.commands import Command, CompositeCommand
from twin.plan import Plan, PlanObject


class _PlanEdit(Command):
    """Base: compute the new plan dict once, swap dicts on do/undo."""

    def __init__(self, project: Any, text: str) -> None:
        self.project = project
        self.text = text
        self._before: dict[str, Any] | None = None
        self._after: dict[str, Any] | None = None

    @abstractmethod
    def _apply(self, plan: Plan) -> None:
        """Change ``plan`` in place (called once; the result is cached for redo)."""

    def do(self) -> None:  # noqa: D102
        if self._after is None:
            self._before = copy.deepcopy(self.project.plan or {})
            plan = Plan.from_dict(self._before)
            self._apply(plan)  # raises InputError before anything changes
            self._after = plan.to_dict()
        self.project.plan = copy.deepcopy(self._after)

    def undo(self) -> None:  # noqa: D102
        self.project.plan = copy.deepcopy(self._before or {})


class AddPlanObject(_PlanEdit):
    """Add a landmark, measurement, trajectory, resection, margin, ablation zone or rehearsal."""

    def __init__(self, project: Any, obj: PlanObject) -> None:
        super().__init__(project, f"Add {obj.collection[:-1].replace('_', ' ')} {obj.name}")
        self.obj = obj

    def _apply(self, plan: Plan) -> None:
        plan.add(self.obj)


class RemovePlanObject(_PlanEdit):
    """Remove the plan object with ``object_id``."""

    def __init__(self, project: Any, object_id: str) -> None:
        super().__init__(project, "Remove plan object")
        self.object_id = object_id

    def _apply(self, plan: Plan) -> None:
        obj = plan.remove(self.object_id)
        self.text = f"Remove {obj.name or obj.id}"


class ModifyPlanObject(_PlanEdit):
    """Replace the plan object with the same id as ``obj`` (e.g. moved entry point, new metrics).

    Pushed with ``merge=True``, consecutive edits of the same object (a drag of an
    entry point) fold into one undo step.
    """

    def __init__(self, project: Any, obj: PlanObject, text: str | None = None) -> None:
        super().__init__(project, text or f"Edit {obj.name or obj.id}")
        self.obj = obj

    def _apply(self, plan: Plan) -> None:
        plan.replace(self.obj)

    def merge_with(self, other: Command) -> bool:  # noqa: D102
        if isinstance(other, ModifyPlanObject) and other.obj.id == self.obj.id and other._after is not None:
            self.obj = other.obj
            self._after = other._after
            return True
        return False


class SetCriticalSegments(_PlanEdit):
    """Set the list of segments every trajectory is checked against."""

    def __init__(self, project: Any, names: list[str]) -> None:
        super().__init__(project, "Set critical structures")
        self.names = [str(n) for n in names]

    def _apply(self, plan: Plan) -> None:
        plan.critical_segments = list(self.names)


class SetSegmentRole(_PlanEdit):
    """Override the role of one segment for every trajectory (``role=None`` restores its default role).

    ``role`` is one of :data:`twin.plan.SEGMENT_ROLES`; an unknown role raises
    InputError on push, before anything changes.
    """

    def __init__(self, project: Any, name: str, role: str | None) -> None:
        super().__init__(project, f"Role of {name}: {role or 'default'}")
        self.name = str(name)
        self.role = role

    def _apply(self, plan: Plan) -> None:
        plan.set_segment_role(self.name, self.role)


class RenameSegmentInPlan(_PlanEdit):
    """Make the plan follow a segment rename (pushed together with the label map's rename, one undo step)."""

    def __init__(self, project: Any, old: str, new: str) -> None:
        super().__init__(project, f"Rename {old} to {new} in the plan")
        self.old, self.new = str(old), str(new)

    def _apply(self, plan: Plan) -> None:
        plan.rename_segment(self.old, self.new)


def rename_segment_command(project: Any, labelmap: Any, old: str, new: str) -> Command:
    """One undo step renaming segment ``old`` of ``labelmap`` to ``new`` and, when the project's plan uses
    this label map (``plan.labelmap`` is its name or unset), every plan reference to it (trajectory targets,
    resection organs, margins, role overrides...). The label-map rename is validated here (InputError for
    an unknown segment or a name in use), before anything changes."""
    from twin.labelmap_commands import UpdateSegment

    rename = UpdateSegment(labelmap, old, name=new)
    plan_lm = (project.plan or {}).get("labelmap")
    factories: list[Any] = [lambda: rename]
    if plan_lm in (None, "", getattr(labelmap, "name", None)):
        factories.append(lambda: RenameSegmentInPlan(project, old, new))
    return CompositeCommand(f"Rename segment {old} to {new}", factories)


class SetSafetyMargin(_PlanEdit):
    """Set the plan's trajectory safety margin (mm).

    Pushed with ``merge=True``, consecutive changes (a spin box being stepped)
    fold into one undo step that restores the margin from before the first one.
    """

    def __init__(self, project: Any, margin_mm: float) -> None:
        super().__init__(project, f"Safety margin {float(margin_mm):g} mm")
        self.margin_mm = float(margin_mm)

    def _apply(self, plan: Plan) -> None:
        plan.set_safety_margin(self.margin_mm)

    def merge_with(self, other: Command) -> bool:  # noqa: D102
        if isinstance(other, SetSafetyMargin) and other.project is self.project and other._after is not None:
            self.margin_mm = other.margin_mm
            self.text = other.text
            self._after = other._after
            return True
        return False


class ReplacePlan(_PlanEdit):
    """Replace the whole plan (e.g. after importing markups or loading a plan file)."""

    def __init__(self, project: Any, plan: Plan, text: str = "Replace plan") -> None:
        super().__init__(project, text)
        self.plan = plan

    def _apply(self, plan: Plan) -> None:
        new = Plan.from_dict(self.plan.to_dict())
        for name in ("landmarks", "measurements", "trajectories", "resections", "safety_margins",
                     "ablation_zones", "rehearsals", "critical_segments", "segment_roles",
                     "safety_margin_mm"):
            setattr(plan, name, getattr(new, name))
        plan.labelmap = new.labelmap
        plan.notes = new.notes
