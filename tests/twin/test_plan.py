"""Plan data model: JSON round trip, migration, validation, undoable commands."""

from __future__ import annotations

import json

import pytest

from twin.errors import InputError
from twin.plan import (
    SCHEMA_VERSION,
    AblationZone,
    CutPlane,
    Landmark,
    Measurement,
    Plan,
    Rehearsal,
    Resection,
    SafetyMargin,
    Trajectory,
)
from twin.plan_commands import AddPlanObject, ModifyPlanObject, RemovePlanObject, SetCriticalSegments
from twin.project import Project


def full_plan() -> Plan:
    p = Plan(critical_segments=["portal_vein", "ivc"], labelmap="segmentation")
    p.add(Landmark(name="tip", position_lps=(1, 2, 3)))
    p.add(Measurement(name="d", kind="distance", points_lps=((0, 0, 0), (3, 4, 0))))
    p.add(Measurement(name="a", kind="angle", points_lps=((1, 0, 0), (0, 0, 0), (0, 1, 0))))
    p.add(Trajectory(name="biopsy", entry_lps=(0, 0, 0), target_lps=(0, 0, 80), diameter_mm=1.2, length_mm=150,
                     kind="needle", target_segment="tumour", metrics={"path_length_mm": 80.0}))
    p.add(Resection(name="right", organ_segment="liver", tumour_segment="tumour",
                    planes=(CutPlane((0, 0, 0), (2, 0, 0)),), vessel_segments=("portal_vein",)))
    p.add(Resection(name="poly", organ_segment="liver", polyline_lps=((0, 0, 0), (10, 0, 0), (10, 10, 0)),
                    extrude_direction_lps=(0, 0, 3)))
    p.add(SafetyMargin(name="m", target_segment="tumour", critical_segments=("ivc",)))
    p.add(AblationZone(name="z", center_lps=(1, 1, 1), radii_mm=(20, 15, 15), tumour_segment="tumour"))
    p.add(Rehearsal(name="retract", organ_segment="liver", point_lps=(5, 5, 5), result={"converged": True}))
    return p


def test_round_trip_through_json_is_lossless():
    p = full_plan()
    d = json.loads(json.dumps(p.to_dict()))
    assert d["schema_version"] == SCHEMA_VERSION and d["frame"] == "LPS"
    q = Plan.from_dict(d)
    assert q.to_dict() == p.to_dict()
    assert q.find("d").value == pytest.approx(5.0)
    assert q.find("a").value == pytest.approx(90.0)
    assert q.find("right").planes[0].normal_lps == (1.0, 0.0, 0.0)  # normalised
    assert q.find("z").shape == "ellipsoid"


def test_migrates_unversioned_plan_and_refuses_newer():
    old = {"landmarks": {"tip": [1, 2, 3]},
           "trajectories": [{"name": "t", "entry": [0, 0, 0], "target": [0, 0, 10], "diameter": 2.0}]}
    p = Plan.from_dict(old)
    assert p.landmarks[0].position_lps == (1.0, 2.0, 3.0)
    assert p.trajectories[0].target_lps == (0.0, 0.0, 10.0) and p.trajectories[0].diameter_mm == 2.0
    with pytest.raises(InputError, match="newer"):
        Plan.from_dict({"schema_version": SCHEMA_VERSION + 1})
    with pytest.raises(InputError, match="frame"):
        Plan.from_dict({"schema_version": 1, "frame": "RAS"})


@pytest.mark.parametrize("bad", [
    lambda: Trajectory(name="x", entry_lps=(0, 0, 0), target_lps=(0, 0, 0)),
    lambda: Trajectory(name="x", target_lps=(0, 0, 5), diameter_mm=-1),
    lambda: Trajectory(name="x", target_lps=(0, 0, 5), kind="laser"),
    lambda: Measurement(name="x", kind="angle", points_lps=((0, 0, 0), (1, 0, 0))),
    lambda: Resection(name="x", organ_segment="liver"),
    lambda: CutPlane((0, 0, 0), (0, 0, 0)),
    lambda: AblationZone(name="x", radii_mm=(0, 1, 1)),
    lambda: Landmark(name="x", position_lps=(0, float("nan"), 0)),
])
def test_invalid_objects_raise_input_error(bad):
    with pytest.raises(InputError):
        bad()


def test_malformed_json_object_is_an_input_error():
    with pytest.raises(InputError, match="trajectories"):
        Plan.from_dict({"schema_version": 1, "trajectories": [{"name": "t", "entry_lps": [0, 0]}]})


def test_commands_undo_redo_on_project():
    proj = Project()
    t = Trajectory(name="t", target_lps=(0, 0, 50))
    proj.undo_stack.push(AddPlanObject(proj, t))
    assert Plan.from_project(proj).find("t").id == t.id
    moved = Trajectory(**{**Plan.from_project(proj).get(t.id).to_dict(), "entry_lps": (0, 10, 0)})
    proj.undo_stack.push(ModifyPlanObject(proj, moved))
    proj.undo_stack.push(SetCriticalSegments(proj, ["ivc"]))
    assert Plan.from_project(proj).get(t.id).entry_lps == (0.0, 10.0, 0.0)
    assert Plan.from_project(proj).critical_segments == ["ivc"]
    proj.undo_stack.undo()
    proj.undo_stack.undo()
    assert Plan.from_project(proj).get(t.id).entry_lps == (0.0, 0.0, 0.0)
    proj.undo_stack.push(RemovePlanObject(proj, t.id))
    assert Plan.from_project(proj).trajectories == []
    proj.undo_stack.undo()
    assert Plan.from_project(proj).trajectories[0].name == "t"
    proj.undo_stack.undo()
    assert proj.plan == {}
    proj.undo_stack.redo()
    assert len(Plan.from_project(proj).trajectories) == 1
    with pytest.raises(InputError):
        proj.undo_stack.push(AddPlanObject(proj, Plan.from_project(proj).trajectories[0]))  # duplicate id
    assert len(proj.undo_stack) == 1


def test_plan_saved_with_project(tmp_path):
    proj = Project()
    proj.plan = full_plan().to_dict()
    proj.save(tmp_path / "case")
    back = Project.load(tmp_path / "case")
    assert Plan.from_project(back).to_dict() == proj.plan


def test_dragging_merges_into_one_undo_step():
    proj = Project()
    t = Trajectory(name="t", target_lps=(0, 0, 50))
    proj.undo_stack.push(AddPlanObject(proj, t))
    for y in range(1, 6):
        moved = Trajectory(**{**t.to_dict(), "entry_lps": (0, float(y), 0)})
        proj.undo_stack.push(ModifyPlanObject(proj, moved), merge=True)
    assert len(proj.undo_stack) == 2
    assert Plan.from_project(proj).get(t.id).entry_lps == (0.0, 5.0, 0.0)
    proj.undo_stack.undo()
    assert Plan.from_project(proj).get(t.id).entry_lps == (0.0, 0.0, 0.0)
    proj.undo_stack.redo()
    assert Plan.from_project(proj).get(t.id).entry_lps == (0.0, 5.0, 0.0)


# ------------------------------------------------------------ trajectory safety settings
def test_safety_settings_round_trip_through_project(tmp_path):
    p = full_plan()
    p.set_segment_role("gallbladder", "traversable")
    p.set_segment_role("stomach", "ignore")
    p.set_safety_margin(7.5)
    p.add(Trajectory(name="own", target_lps=(0, 0, 40), safety_margin_mm=2))
    proj = Project()
    proj.plan = p.to_dict()
    proj.save(tmp_path / "case")
    raw = json.loads((tmp_path / "case" / "plan.json").read_text(encoding="utf-8"))
    assert raw["segment_roles"] == {"gallbladder": "traversable", "stomach": "ignore"}
    assert raw["safety_margin_mm"] == 7.5
    back = Plan.from_project(Project.load(tmp_path / "case"))
    assert back.segment_roles == {"gallbladder": "traversable", "stomach": "ignore"}
    assert back.safety_margin_mm == 7.5
    assert back.margin_for(back.find("own")) == 2.0 and back.margin_for(back.find("biopsy")) == 7.5
    assert back.to_dict() == p.to_dict()
    p.set_segment_role("gallbladder", None)  # back to the default role
    assert p.segment_roles == {"stomach": "ignore"}


def test_old_plan_json_without_safety_settings_loads_with_defaults(tmp_path):
    old = full_plan().to_dict()
    for key in ("segment_roles", "safety_margin_mm"):
        del old[key]
    for t in old["trajectories"]:
        del t["safety_margin_mm"]
    case = tmp_path / "old"
    proj = Project()
    proj.plan = old  # written verbatim, as a project saved before these keys existed
    proj.save(case)
    assert "segment_roles" not in (case / "plan.json").read_text(encoding="utf-8")
    back = Plan.from_project(Project.load(case))
    assert back.segment_roles == {} and back.safety_margin_mm == 5.0
    assert back.find("biopsy").safety_margin_mm is None
    assert back.margin_for(back.find("biopsy")) == 5.0
    assert back.to_dict()["schema_version"] == SCHEMA_VERSION  # no version bump needed
    nulls = Plan.from_dict({"schema_version": 1, "segment_roles": None, "safety_margin_mm": None})
    assert nulls.segment_roles == {} and nulls.safety_margin_mm == 5.0


@pytest.mark.parametrize("bad", [
    {"segment_roles": {"aorta": "harmless"}},
    {"segment_roles": ["aorta"]},
    {"safety_margin_mm": -1},
    {"safety_margin_mm": "wide"},
    {"safety_margin_mm": float("nan")},
    {"trajectories": [{"name": "t", "entry_lps": [0, 0, 0], "target_lps": [0, 0, 9], "safety_margin_mm": -2}]},
])
def test_invalid_safety_settings_are_input_errors(bad):
    with pytest.raises(InputError):
        Plan.from_dict({"schema_version": 1, **bad})


def test_safety_setting_commands_undo_redo():
    from twin.plan_commands import ReplacePlan, SetSafetyMargin, SetSegmentRole

    proj = Project()
    proj.undo_stack.push(SetSegmentRole(proj, "gallbladder", "traversable"))
    proj.undo_stack.push(SetSegmentRole(proj, "aorta", "ignore"))
    assert Plan.from_project(proj).segment_roles == {"gallbladder": "traversable", "aorta": "ignore"}
    for mm in (6.0, 7.0, 10.0):  # a spin box stepped three times: one undo step
        proj.undo_stack.push(SetSafetyMargin(proj, mm), merge=True)
    assert len(proj.undo_stack) == 3
    assert Plan.from_project(proj).safety_margin_mm == 10.0
    with pytest.raises(InputError):
        proj.undo_stack.push(SetSegmentRole(proj, "liver", "edible"))
    with pytest.raises(InputError):
        proj.undo_stack.push(SetSafetyMargin(proj, -3))
    assert len(proj.undo_stack) == 3 and Plan.from_project(proj).safety_margin_mm == 10.0
    proj.undo_stack.undo()
    assert Plan.from_project(proj).safety_margin_mm == 5.0
    proj.undo_stack.push(SetSegmentRole(proj, "aorta", None))
    assert Plan.from_project(proj).segment_roles == {"gallbladder": "traversable"}
    proj.undo_stack.undo()
    proj.undo_stack.undo()
    assert Plan.from_project(proj).segment_roles == {"gallbladder": "traversable"}
    proj.undo_stack.redo()
    assert Plan.from_project(proj).segment_roles == {"gallbladder": "traversable", "aorta": "ignore"}
    # replacing the whole plan carries the settings (and undo brings the old ones back)
    other = Plan(segment_roles={"kidney_left": "container"}, safety_margin_mm=3.0)
    proj.undo_stack.push(ReplacePlan(proj, other))
    assert Plan.from_project(proj).segment_roles == {"kidney_left": "container"}
    assert Plan.from_project(proj).safety_margin_mm == 3.0
    proj.undo_stack.undo()
    assert Plan.from_project(proj).segment_roles == {"gallbladder": "traversable", "aorta": "ignore"}


def test_segment_rename_follows_into_every_plan_reference_in_one_undo_step():
    import numpy as np

    from twin.geometry import ImageGeometry
    from twin.labelmap import LabelMap
    from twin.plan_commands import rename_segment_command

    proj = Project()
    arr = np.zeros((4, 4, 4), np.uint8)
    arr[0], arr[1], arr[2] = 1, 2, 3
    lm = LabelMap.from_array(arr, ImageGeometry((4, 4, 4), (1.0, 1.0, 1.0)),
                             names={1: "tumour", 2: "ivc", 3: "liver"}, name="segmentation")
    plan = full_plan()
    plan.set_segment_role("ivc", "ignore")
    proj.plan = plan.to_dict()
    before = json.dumps(proj.plan, sort_keys=True)
    proj.undo_stack.push(rename_segment_command(proj, lm, "ivc", "inferior_vena_cava"))
    proj.undo_stack.push(rename_segment_command(proj, lm, "tumour", "hcc"))
    p = Plan.from_project(proj)
    assert lm.segment("hcc").value == 1 and lm.segment("inferior_vena_cava").value == 2
    assert p.critical_segments == ["portal_vein", "inferior_vena_cava"]
    assert p.segment_roles == {"inferior_vena_cava": "ignore"}
    assert p.find("biopsy").target_segment == "hcc"
    assert p.find("right").tumour_segment == "hcc" and p.find("right").organ_segment == "liver"
    assert p.find("m").target_segment == "hcc" and p.find("m").critical_segments == ("inferior_vena_cava",)
    assert p.find("z").tumour_segment == "hcc"
    assert "ivc" not in json.dumps(proj.plan) and '"tumour"' not in json.dumps(proj.plan)
    proj.undo_stack.undo()
    proj.undo_stack.undo()  # one step each: the label map and the plan come back together
    assert json.dumps(proj.plan, sort_keys=True) == before and lm.segment("ivc").value == 2
    with pytest.raises(InputError):  # a taken name is refused before anything changes
        rename_segment_command(proj, lm, "ivc", "liver")
    # a plan made on another label map is left alone
    proj.plan = {**plan.to_dict(), "labelmap": "other"}
    proj.undo_stack.push(rename_segment_command(proj, lm, "ivc", "vc"))
    assert Plan.from_project(proj).critical_segments == ["portal_vein", "ivc"] and lm.segment("vc").value == 2
