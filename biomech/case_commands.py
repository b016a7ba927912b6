"""The simulation set-up as project data, edited only through undoable commands.

The set-up is the ``vht simulate`` case dictionary without the mesh file, kept in
``project.documents["simulation_case"]`` as::

    {"case": {"mesh": {"element": "tet4"}, "materials": [...], "boundary_conditions": [...],
              "loads": [...], "contacts": [...], "solver": {"steps": 5, ...}},
     "mesh": "fe_mesh", "frame": "LPS", "meshing": {"segments": ["liver"], "edge_mm": 4.0}}

(``"mesh"`` names the ``project.meshes`` entry the set-up applies to; the optional ``"meshing"``
records what the GUI meshed it from, set in the same undo step as the mesh). It is saved
with the project (``documents/simulation_case.json``) and is what the GUI's Run,
*Save case* and ``vht simulate PROJECT_DIR`` solve. Conditions are addressed by
their ``name`` (unique across sections); every command validates the new case
with :func:`biomech.case.check_setup` before anything changes, so an invalid edit
raises :class:`~twin.errors.InputError` and leaves the project untouched. Regions
without a material entry get a default from their name (:func:`default_material`).

Frame: patient LPS, mm; N; MPa.
"""

from __future__ import annotations

import copy
from abc import abstractmethod
from typing import Any

import numpy as np

from biomech.case import check_setup
from twin.document_commands import EditDocument
from twin.errors import InputError
from twin.meshes import TetMesh

SETUP_KEY = "simulation_case"
MESH_KEY = "fe_mesh"
SECTIONS = ("boundary_conditions", "loads", "contacts")
KIND_SECTIONS = {"fixed": "boundary_conditions", "displacement": "boundary_conditions", "force": "loads",
                 "pressure": "loads", "gravity": "loads"}
DEFAULT_STEPS = 5
_TISSUE_ALIASES = {"tumor": "tumour", "kidney_left": "kidney", "kidney_right": "kidney", "bone": "cortical_bone",
                   "spine": "cortical_bone"}
_UNSET = object()


def default_setup(mesh_key: str = MESH_KEY) -> dict[str, Any]:
    """An empty set-up document (tet4, 5 load steps, linear/nonlinear chosen by the materials)."""
    return {"case": {"mesh": {"element": "tet4"}, "materials": [], "solver": {"steps": DEFAULT_STEPS}},
            "mesh": mesh_key, "frame": "LPS"}


def setup_document(project: Any) -> dict[str, Any]:
    """A copy of the project's set-up document (the default one if there is none)."""
    doc = project.documents.get(SETUP_KEY)
    if not isinstance(doc, dict) or not isinstance(doc.get("case"), dict):
        return default_setup()
    return copy.deepcopy(doc)


def setup_case(project: Any) -> dict[str, Any]:
    """A copy of the stored case dictionary (no ``mesh.file``)."""
    return setup_document(project)["case"]


def section_of(condition: dict[str, Any]) -> str:
    """Case section of a condition: its ``"_section"`` tag, else ``contacts`` for an indenter, else by kind."""
    sec = condition.get("_section")
    if sec is None:
        sec = "contacts" if "indenter" in condition else KIND_SECTIONS.get(str(condition.get("kind", "fixed")))
    if sec not in SECTIONS:
        raise InputError(f"condition {condition.get('name')!r}: cannot tell its section (kind "
                         f"{condition.get('kind')!r})")
    return str(sec)


def tagged_conditions(case: dict[str, Any]) -> list[dict[str, Any]]:
    """Every condition of a case, in section order, each a copy tagged with ``"_section"``."""
    out = []
    for sec in SECTIONS:
        for item in case.get(sec, []) or []:
            d = copy.deepcopy(item)
            d["_section"] = sec
            out.append(d)
    return out


def default_material(region: int, region_name: str) -> dict[str, Any]:
    """The material a region gets until the user chooses one: the library tissue named like the region
    (``liver``, ``kidney_left`` -> ``kidney``, ``bone`` -> ``cortical_bone``...), else linear elastic
    E = 0.01 MPa (10 kPa), nu = 0.45."""
    from biomech.tissues import TISSUES

    guess = region_name.lower().replace(" ", "_")
    guess = _TISSUE_ALIASES.get(guess, guess)
    if guess in TISSUES:
        return {"region": int(region), "tissue": guess}
    return {"region": int(region), "model": "linear-elastic", "youngs_modulus": 0.01, "poisson_ratio": 0.45}


def complete_case(case: dict[str, Any], mesh: TetMesh, name: str | None = None) -> dict[str, Any]:
    """The solvable case on ``mesh``: one material per mesh region (stored entry, else a whole-mesh entry,
    else :func:`default_material`), entries of regions the mesh lacks dropped, ``name`` set."""
    out = copy.deepcopy(case)
    stored = {int(m["region"]): m for m in case.get("materials", []) if "region" in m}
    everywhere = next((m for m in case.get("materials", []) if "region" not in m), None)
    mats = []
    for reg in sorted(int(r) for r in np.unique(mesh.region)):
        if reg in stored:
            mats.append(copy.deepcopy(stored[reg]))
        elif everywhere is not None:
            mats.append({**copy.deepcopy(everywhere), "region": reg})
        else:
            mats.append(default_material(reg, mesh.region_names.get(reg, f"region {reg}")))
    out["materials"] = mats
    if name is not None:
        out["name"] = name
    return out


# ---------------------------------------------------------------------------------------------- commands
class SetupEdit(EditDocument):
    """Base of the set-up commands: edit ``doc["case"]`` (a copy), validated before anything changes."""

    def __init__(self, project: Any, text: str) -> None:
        super().__init__(project, SETUP_KEY, text, default_setup)

    def _apply(self, doc: dict[str, Any]) -> None:
        if not isinstance(doc.get("case"), dict):
            doc.clear()
            doc.update(default_setup())
        self._edit(doc["case"])
        for sec in SECTIONS:
            if sec in doc["case"] and not doc["case"][sec]:
                del doc["case"][sec]

    @abstractmethod
    def _edit(self, case: dict[str, Any]) -> None:
        """Change ``case`` (a copy of the stored set-up) in place."""

    def _validate(self, doc: dict[str, Any]) -> None:
        check_setup(doc["case"])


def _find(case: dict[str, Any], name: str) -> tuple[str, int]:
    for sec in SECTIONS:
        for i, item in enumerate(case.get(sec, []) or []):
            if item.get("name") == name:
                return sec, i
    raise InputError(f"no condition named {name!r}")


def _clean(condition: dict[str, Any]) -> dict[str, Any]:
    if not isinstance(condition, dict) or not str(condition.get("name", "")).strip():
        raise InputError("a condition needs a non-empty name")
    return {k: copy.deepcopy(v) for k, v in condition.items() if k != "_section"}


class AddCondition(SetupEdit):
    """Append a support, load or indenter contact (a case-file entry, optionally tagged with ``"_section"``)."""

    def __init__(self, project: Any, condition: dict[str, Any]) -> None:
        self.section = section_of(condition)
        self.condition = _clean(condition)
        super().__init__(project, f"Add {self.condition['name']}")

    def _edit(self, case: dict[str, Any]) -> None:
        name = self.condition["name"]
        try:
            _find(case, name)
        except InputError:
            case.setdefault(self.section, []).append(copy.deepcopy(self.condition))
            return
        raise InputError(f"a condition named {name!r} exists already")


class RemoveCondition(SetupEdit):
    """Remove the condition called ``name``."""

    def __init__(self, project: Any, name: str) -> None:
        super().__init__(project, f"Remove {name}")
        self.name = name

    def _edit(self, case: dict[str, Any]) -> None:
        sec, i = _find(case, self.name)
        case[sec].pop(i)


class UpdateCondition(SetupEdit):
    """Replace the condition called ``name`` (kept in place; moved if its section changes; may be renamed).

    Pushed with ``merge=True``, consecutive edits of the same condition fold into one undo step.
    """

    def __init__(self, project: Any, name: str, condition: dict[str, Any], text: str | None = None) -> None:
        self.name = name
        self.section = section_of(condition)
        self.condition = _clean(condition)
        super().__init__(project, text or f"Edit {name}")

    def _edit(self, case: dict[str, Any]) -> None:
        sec, i = _find(case, self.name)
        new_name = self.condition["name"]
        if new_name != self.name:
            try:
                _find(case, new_name)
            except InputError:
                pass
            else:
                raise InputError(f"a condition named {new_name!r} exists already")
        if sec == self.section:
            case[sec][i] = copy.deepcopy(self.condition)
        else:
            case[sec].pop(i)
            case.setdefault(self.section, []).append(copy.deepcopy(self.condition))

    def merge_with(self, other: Any) -> bool:  # noqa: D102
        if isinstance(other, UpdateCondition) and other.name == self.condition["name"] and other._after is not None:
            self.condition = other.condition
            self._after = other._after
            return True
        return False


class ClearConditions(SetupEdit):
    """Remove every support, load and contact."""

    def __init__(self, project: Any) -> None:
        super().__init__(project, "Clear conditions")

    def _edit(self, case: dict[str, Any]) -> None:
        for sec in SECTIONS:
            case.pop(sec, None)


class SetMaterial(SetupEdit):
    """Set the ``[[materials]]`` entry of ``region`` (None: the whole-mesh entry); ``entry=None`` removes it
    (the region falls back to its default). Consecutive edits of one region merge with ``merge=True``."""

    def __init__(self, project: Any, region: int | None, entry: dict[str, Any] | None,
                 text: str | None = None) -> None:
        self.region = None if region is None else int(region)
        self.entry = None if entry is None else copy.deepcopy(entry)
        if self.entry is not None:
            self.entry.pop("region", None)
            if self.region is not None:
                self.entry = {"region": self.region, **self.entry}
        label = self.entry.get("tissue") or self.entry.get("model") if self.entry else "default"
        super().__init__(project, text or f"Material {'all' if region is None else f'region {region}'}: {label}")

    def _edit(self, case: dict[str, Any]) -> None:
        mats = [m for m in case.get("materials", []) if m.get("region") != self.region]
        if self.entry is not None:
            mats.append(copy.deepcopy(self.entry))
        mats.sort(key=lambda m: (m.get("region") is not None, m.get("region") or 0))
        case["materials"] = mats

    def merge_with(self, other: Any) -> bool:  # noqa: D102
        if isinstance(other, SetMaterial) and other.region == self.region and other._after is not None:
            self.entry, self.text, self._after = other.entry, other.text, other._after
            return True
        return False


class SetSolverOptions(SetupEdit):
    """Set the element (``tet4``/``tet10``), analysis (``nonlinear`` True/False, None = automatic), load
    ``steps`` and other ``[solver]`` keys (``tolerance``, ``linear_solver``...); ``None`` removes a key."""

    def __init__(self, project: Any, *, element: Any = _UNSET, nonlinear: Any = _UNSET, steps: Any = _UNSET,
                 text: str | None = None, **solver: Any) -> None:
        self.element = element
        self.solver = dict(solver)
        if nonlinear is not _UNSET:
            self.solver["nonlinear"] = nonlinear
        if steps is not _UNSET:
            self.solver["steps"] = steps
        parts = ([f"element {element}"] if element is not _UNSET else []) + [
            f"{k} {'auto' if v is None else v}" for k, v in self.solver.items()]
        super().__init__(project, text or f"Solver: {', '.join(parts) or 'options'}")

    def _edit(self, case: dict[str, Any]) -> None:
        if self.element is not _UNSET:
            case.setdefault("mesh", {})["element"] = self.element
        s = case.setdefault("solver", {})
        for k, v in self.solver.items():
            if v is None:
                s.pop(k, None)
            else:
                s[k] = v

    def merge_with(self, other: Any) -> bool:  # noqa: D102
        if (isinstance(other, SetSolverOptions) and other._after is not None
                and (other.element is _UNSET) == (self.element is _UNSET) and set(other.solver) == set(self.solver)):
            self.element, self.solver, self.text, self._after = other.element, other.solver, other.text, other._after
            return True
        return False


class ReplaceSetup(SetupEdit):
    """Replace the whole set-up by a case dictionary (e.g. a case file loaded in the GUI); ``mesh.file`` and
    ``name`` are dropped (the set-up applies to the project's mesh)."""

    def __init__(self, project: Any, case: dict[str, Any], text: str = "Load simulation case") -> None:
        super().__init__(project, text)
        self.case = copy.deepcopy(case)

    def _edit(self, case: dict[str, Any]) -> None:
        new = copy.deepcopy(self.case)
        if not isinstance(new, dict):
            raise InputError("case: expected a table/object")
        mesh = new.get("mesh")
        if isinstance(mesh, dict):
            mesh.pop("file", None)
        new.pop("name", None)
        new.setdefault("mesh", {}).setdefault("element", "tet4")
        new.setdefault("materials", [])
        new.setdefault("solver", {})
        case.clear()
        case.update(new)


def problem_from_project(project: Any) -> Any:
    """The :class:`~biomech.problem.Problem` of a project's stored set-up on its mesh (what the GUI's Run and
    ``vht simulate PROJECT_DIR`` solve).

    Raises
    ------
    InputError
        No set-up document, its mesh is missing, or the set-up is invalid (message names the key).
    """
    from biomech.case import problem_from_dict

    doc = project.documents.get(SETUP_KEY)
    if not isinstance(doc, dict) or not isinstance(doc.get("case"), dict):
        raise InputError(f"the project has no simulation set-up (documents/{SETUP_KEY}.json): set it up in the "
                         "Simulation panel first")
    key = str(doc.get("mesh", MESH_KEY))
    mesh = project.meshes.get(key)
    if mesh is None:
        raise InputError(f"the simulation set-up refers to the mesh {key!r}, which the project does not hold")
    try:
        return problem_from_dict(complete_case(doc["case"], mesh, name=project.name), mesh)
    except InputError as exc:
        raise InputError(f"simulation set-up: {exc.reason}") from None
