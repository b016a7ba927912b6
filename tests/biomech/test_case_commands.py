"""The simulation set-up as project data (biomech.case_commands): commands undo/redo exactly, refuse invalid
edits, survive Project.save/load, and the stored set-up solves to the analytic bar result. Frame LPS, mm, N, MPa."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from biomech.case_commands import (
    SETUP_KEY,
    AddCondition,
    ClearConditions,
    RemoveCondition,
    ReplaceSetup,
    SetMaterial,
    SetSolverOptions,
    UpdateCondition,
    complete_case,
    default_material,
    problem_from_project,
    setup_case,
    tagged_conditions,
)
from tests.biomech.fe_meshes import box_mesh
from twin.errors import InputError
from twin.meshes import TetMesh
from twin.project import Project


def _plane(axis, at=0.0):
    n = [0.0, 0.0, 0.0]
    n[axis] = 1.0
    p = [0.0, 0.0, 0.0]
    p[axis] = at
    return {"plane": {"point": p, "normal": n}, "tolerance": 1e-6}


def _project():
    """A 1 x 1 x 2 mm block (region 1 'block') with sliding supports on x=0, y=0, z=0 and 2 N pulling at z=2."""
    m = box_mesh((1.0, 1.0, 2.0), (2, 2, 3), jitter=0.2)
    proj = Project(name="bar")
    proj.meshes["fe_mesh"] = TetMesh(m.points_lps, m.cells, np.ones(m.n_cells, int), {1: "block"})
    return proj


def _bar_commands(proj):
    bcs = [{"_section": "boundary_conditions", "name": f"{a}0", "kind": "fixed", "components": [a],
            "select": _plane(i)} for i, a in enumerate("xyz")]
    return [*(AddCondition(proj, b) for b in bcs),
            AddCondition(proj, {"name": "pull", "kind": "force", "value": [0.0, 0.0, 2.0], "select": _plane(2, 2.0)}),
            SetMaterial(proj, 1, {"model": "linear-elastic", "youngs_modulus": 10.0, "poisson_ratio": 0.3}),
            SetSolverOptions(proj, nonlinear=False, steps=1)]


def test_each_command_undoes_and_redoes_to_the_exact_document():
    proj = _project()
    stack = proj.undo_stack
    states = [copy.deepcopy(proj.documents)]
    cmds = _bar_commands(proj)
    cmds += [UpdateCondition(proj, "pull", {"name": "pull", "kind": "force", "value": [0.0, 0.0, 3.0],
                                            "select": _plane(2, 2.0)}),
             SetSolverOptions(proj, element="tet10"),
             RemoveCondition(proj, "y0"),
             SetMaterial(proj, 1, None),
             ClearConditions(proj)]
    for c in cmds:
        stack.push(c)
        states.append(copy.deepcopy(proj.documents))
    assert [c.text for c in cmds[:4]] == ["Add x0", "Add y0", "Add z0", "Add pull"]
    assert states[1] == {SETUP_KEY: {"case": {"mesh": {"element": "tet4"}, "materials": [], "solver": {"steps": 5},
                                              "boundary_conditions": [{"name": "x0", "kind": "fixed",
                                                                       "components": ["x"], "select": _plane(0)}]},
                                     "mesh": "fe_mesh", "frame": "LPS"}}
    assert "boundary_conditions" not in states[-1][SETUP_KEY]["case"]  # empty sections are dropped
    for k in range(len(cmds), 0, -1):
        assert proj.documents == states[k]
        stack.undo()
    assert proj.documents == states[0] == {}
    for k in range(1, len(cmds) + 1):
        stack.redo()
        assert proj.documents == states[k]


def test_conditions_keep_their_section_and_order():
    proj = _project()
    for c in _bar_commands(proj):
        proj.undo_stack.push(c)
    names = [(c["_section"], c["name"]) for c in tagged_conditions(setup_case(proj))]
    assert names == [("boundary_conditions", "x0"), ("boundary_conditions", "y0"), ("boundary_conditions", "z0"),
                     ("loads", "pull")]
    # a force edited into a fixed support moves to the boundary conditions, keeps the name
    proj.undo_stack.push(UpdateCondition(proj, "pull", {"name": "pull", "kind": "fixed", "select": _plane(2, 2.0)}))
    case = setup_case(proj)
    assert "loads" not in case and case["boundary_conditions"][-1]["name"] == "pull"


@pytest.mark.parametrize("make, match", [
    (lambda p: AddCondition(p, {"name": "x0", "kind": "fixed", "select": _plane(1)}), "exists already"),
    (lambda p: AddCondition(p, {"name": "bad", "kind": "fixed", "select": {"sphere": {"center": [0, 0, 0]}}}),
     "select.sphere"),
    (lambda p: AddCondition(p, {"name": "", "kind": "fixed", "select": "all"}), "name"),
    (lambda p: AddCondition(p, {"name": "w", "kind": "force", "value": [0, 0], "select": "all"}), "value"),
    (lambda p: RemoveCondition(p, "nope"), "no condition"),
    (lambda p: UpdateCondition(p, "pull", {"name": "x0", "kind": "fixed", "select": "all"}), "exists already"),
    (lambda p: SetMaterial(p, 1, {"model": "linear-elastic", "youngs_modulus": -1.0, "poisson_ratio": 0.3}),
     "materials"),
    (lambda p: SetMaterial(p, 1, {"tissue": "unobtainium"}), "tissue"),
    (lambda p: SetSolverOptions(p, steps=0), "solver.steps"),
    (lambda p: SetSolverOptions(p, element="hex8"), "mesh.element"),
])
def test_invalid_edits_are_refused_and_change_nothing(make, match):
    proj = _project()
    for c in _bar_commands(proj):
        proj.undo_stack.push(c)
    before, n = copy.deepcopy(proj.documents), len(proj.undo_stack)
    with pytest.raises(InputError, match=match):
        proj.undo_stack.push(make(proj))
    assert proj.documents == before and len(proj.undo_stack) == n


def test_merging_material_and_step_edits():
    proj = _project()
    stack = proj.undo_stack
    for e in (0.01, 0.02, 0.03):
        stack.push(SetMaterial(proj, 1, {"model": "linear-elastic", "youngs_modulus": e, "poisson_ratio": 0.45}),
                   merge=True)
    for s in (6, 7):
        stack.push(SetSolverOptions(proj, steps=s), merge=True)
    assert len(stack) == 2
    assert setup_case(proj)["materials"][0]["youngs_modulus"] == 0.03 and setup_case(proj)["solver"]["steps"] == 7
    stack.undo()
    assert setup_case(proj)["solver"]["steps"] == 5
    stack.push(SetSolverOptions(proj, nonlinear=True))
    stack.push(SetSolverOptions(proj, nonlinear=None))  # back to automatic: the key goes
    assert "nonlinear" not in setup_case(proj)["solver"]


def test_defaults_and_completion_on_the_mesh():
    from biomech.tissues import TISSUES

    assert "liver" in TISSUES and default_material(3, "Liver") == {"region": 3, "tissue": "liver"}
    assert default_material(4, "kidney_left")["tissue"] == "kidney"
    assert default_material(5, "blob") == {"region": 5, "model": "linear-elastic", "youngs_modulus": 0.01,
                                           "poisson_ratio": 0.45}
    m = box_mesh((1.0, 1.0, 1.0), (1, 1, 2))
    region = np.where(m.points_lps[m.cells].mean(axis=1)[:, 2] < 0.5, 1, 2)
    mesh = TetMesh(m.points_lps, m.cells, region, {1: "liver", 2: "blob"})
    case = {"materials": [{"region": 2, "tissue": "fat"}, {"region": 9, "tissue": "fat"}], "solver": {}}
    done = complete_case(case, mesh, name="n")
    assert done["materials"] == [default_material(1, "liver"), {"region": 2, "tissue": "fat"}]  # 9: not in mesh
    assert done["name"] == "n" and case["materials"][1]["region"] == 9  # input untouched
    whole = complete_case({"materials": [{"tissue": "fat"}]}, mesh)
    assert [m["region"] for m in whole["materials"]] == [1, 2] and all(m["tissue"] == "fat" for m in whole["materials"])


def test_replace_setup_drops_file_and_name():
    proj = _project()
    proj.undo_stack.push(ReplaceSetup(proj, {"name": "x", "mesh": {"file": "a.vtu", "element": "tet10"},
                                             "materials": [{"tissue": "fat"}], "solver": {"steps": 2}}))
    assert setup_case(proj) == {"mesh": {"element": "tet10"}, "materials": [{"tissue": "fat"}],
                                "solver": {"steps": 2}}
    proj.undo_stack.undo()
    assert SETUP_KEY not in proj.documents


def test_stored_setup_survives_save_load_and_solves_the_analytic_bar(tmp_path):
    from biomech.solver import solve

    proj = _project()
    for c in _bar_commands(proj):
        proj.undo_stack.push(c)
    doc = copy.deepcopy(proj.documents[SETUP_KEY])
    proj.save(tmp_path / "proj")
    assert (tmp_path / "proj" / "documents" / f"{SETUP_KEY}.json").is_file()
    again = Project.load(tmp_path / "proj")
    assert again.documents[SETUP_KEY] == doc and not again.modified
    res = solve(problem_from_project(again))
    assert res.converged
    u = res.to_mesh().point_data["displacement"]
    z = again.meshes["fe_mesh"].points_lps[:, 2]
    # uniaxial stress 2 MPa, E = 10 MPa: strain 0.2, u_z = 0.2 z exactly (linear elements reproduce it)
    np.testing.assert_allclose(u[:, 2], 0.2 * z, atol=1e-9)
    np.testing.assert_allclose(res.summary()["reaction_forces"]["z0"], [0, 0, -2.0], atol=1e-9)


def test_problem_from_project_errors():
    proj = _project()
    with pytest.raises(InputError, match="no simulation set-up"):
        problem_from_project(proj)
    proj.undo_stack.push(AddCondition(proj, {"name": "x0", "kind": "fixed", "select": _plane(0)}))
    del proj.meshes["fe_mesh"]
    with pytest.raises(InputError, match="fe_mesh"):
        problem_from_project(proj)
