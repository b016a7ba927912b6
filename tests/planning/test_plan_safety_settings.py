"""The plan's saved trajectory safety settings (margin, role overrides) drive evaluate_plan and the report.

Synthetic grid, frame LPS mm: a vessel ball (radius 5 mm, voxel cubes reach 5.5 mm from its centre) and a
muscle slab the needle crosses. The needle axis runs along L, 13 mm from the ball centre in P, so the tool
surface (radius 0.5 mm) clears the ball by 13 - 5.5 - 0.5 = 7.0 mm.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from pypdf import PdfReader

from planning.report import build_report
from planning.report_data import collect_report_data, evaluate_plan
from planning.segment_roles import ROLES, checked_names, role_overrides_text
from planning.trajectories import evaluate_trajectory, plan_safety_settings
from tests.planning._shapes import centres, labelmap, sphere_mask
from twin.errors import InputError
from twin.geometry import ImageGeometry
from twin.plan import SEGMENT_ROLES, Plan, Trajectory
from twin.project import Project

CLEARANCE_MM = 7.0


def make_case(**plan_kw) -> tuple[Project, Plan]:
    geom = ImageGeometry((40, 40, 40), (1.0, 1.0, 1.0), (-19.5, -19.5, -19.5), np.eye(3))
    c = centres(geom)
    muscle = (c[..., 0] > -12) & (c[..., 0] < -8) & (c[..., 1] > 8)  # slab crossed by the path
    lm = labelmap(geom, {"vessel": sphere_mask(geom, (0.5, 0.5, 0.5), 5.0), "muscle": muscle})
    plan = Plan(labelmap="segmentation", **plan_kw)
    plan.add(Trajectory(name="t", entry_lps=(-18.5, 13.5, 0.5), target_lps=(18.5, 13.5, 0.5), diameter_mm=1.0))
    proj = Project(name="settings", labelmaps={"segmentation": lm})
    proj.plan = plan.to_dict()
    return proj, plan


def _metrics(plan: Plan, proj: Project) -> dict:
    return evaluate_plan(plan, proj).trajectories[0].metrics


def test_clearance_of_the_case_is_seven_mm():
    proj, plan = make_case()
    m = _metrics(plan, proj)
    vessel = next(s for s in m["structures"] if s["segment"] == "vessel")
    assert vessel["clearance_mm"] == pytest.approx(CLEARANCE_MM, abs=0.02)
    assert m["safety_margin_mm"] == 5.0 and m["role_overrides"] == {}
    assert m["too_close"] == [] and m["crossed"] == []
    assert "muscle" not in {s["segment"] for s in m["structures"]}  # body wall by default: traversed
    assert {r["segment"]: r["length_mm"] for r in m["traversed"]}["muscle"] == pytest.approx(4.0)


def test_plan_margin_flags_seven_mm_at_ten_and_not_at_five():
    proj, plan = make_case(safety_margin_mm=10.0)
    m = _metrics(plan, proj)
    assert m["safety_margin_mm"] == 10.0
    assert m["too_close"] == ["vessel"] and m["crossed"] == []
    assert next(s for s in m["structures"] if s["segment"] == "vessel")["within_margin"] is True
    plan.set_safety_margin(5.0)
    m5 = _metrics(plan, proj)
    assert m5["too_close"] == [] and not next(s for s in m5["structures"] if s["segment"] == "vessel")["within_margin"]
    # a trajectory's own margin wins over the plan's
    plan.set_safety_margin(10.0)
    t = plan.trajectories[0]
    plan.replace(Trajectory(**{**t.to_dict(), "safety_margin_mm": 6.5}))
    assert _metrics(plan, proj)["too_close"] == []
    plan.replace(Trajectory(**{**t.to_dict(), "safety_margin_mm": 7.5}))
    assert _metrics(plan, proj)["too_close"] == ["vessel"]


def test_plan_roles_override_defaults_and_the_explicit_list():
    proj, plan = make_case(segment_roles={"muscle": "critical", "vessel": "ignore"}, safety_margin_mm=10.0)
    m = _metrics(plan, proj)
    assert [s["segment"] for s in m["structures"]] == ["muscle"]
    assert m["crossed"] == ["muscle"] and m["too_close"] == []
    assert m["roles"] == {"vessel": "ignore", "muscle": "critical"}
    assert m["role_overrides"] == {"muscle": "critical", "vessel": "ignore"}
    # explicit list: an override to a non-critical role removes a listed segment; "critical" adds one
    plan.critical_segments = ["vessel"]
    plan.segment_roles = {"vessel": "traversable"}
    m = _metrics(plan, proj)
    assert m["critical_source"] == "plan" and m["structures"] == []
    plan.segment_roles = {"muscle": "critical"}
    assert [s["segment"] for s in _metrics(plan, proj)["structures"]] == ["vessel", "muscle"]
    # the same rule without geometry (probe's-eye colouring in the report)
    assert checked_names(["vessel", "muscle"], ["vessel"], {"muscle": "critical"}) == ["vessel", "muscle"]
    assert checked_names(["vessel", "muscle"], None, {"vessel": "ignore"}) == []


def test_evaluate_trajectory_rejects_bad_settings():
    proj, plan = make_case()
    lm = proj.labelmaps["segmentation"]
    with pytest.raises(InputError):
        evaluate_trajectory(plan.trajectories[0], lm, roles={"vessel": "harmless"})
    with pytest.raises(InputError):
        evaluate_trajectory(plan.trajectories[0], lm, safety_margin_mm=-1.0)
    assert ROLES == SEGMENT_ROLES  # one list, in twin (planning may not be imported by twin)
    assert plan_safety_settings(plan, plan.trajectories[0]) == {"critical_segments": None, "roles": {},
                                                               "safety_margin_mm": 5.0}


def test_report_shows_margin_and_role_overrides(tmp_path):
    proj, _ = make_case(segment_roles={"muscle": "critical"}, safety_margin_mm=10.0)
    data = collect_report_data(proj)
    assert data["plan"]["safety_margin_mm"] == 10.0
    assert data["plan"]["roles"] == "1 override" and data["plan"]["segment_roles"] == {"muscle": "critical"}
    t = data["plan"]["trajectories"][0]
    assert t["safety_margin_mm"] == 10.0 and t["metrics"]["too_close"] == ["vessel"]
    pdf = tmp_path / "r.pdf"
    build_report(proj, pdf, images=False)
    text = re.sub(r"\s+", " ", " ".join(p.extract_text() for p in PdfReader(str(pdf)).pages))
    assert "margin 10.0 mm; roles: 1 override (muscle: critical)" in text
    assert "Critical within 10.0 mm safety margin vessel" in text
    assert role_overrides_text({}) == "default"
    proj2, _ = make_case()
    assert collect_report_data(proj2)["plan"]["roles"] == "default"
