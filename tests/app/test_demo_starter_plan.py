"""`vht demo` opens with a starter plan: the phantom's landmarks and a biopsy needle evaluated on the
ground truth (frame LPS, mm)."""

from __future__ import annotations

import numpy as np
import pytest


def test_starter_plan_is_evaluated_on_the_ground_truth():
    from app.cli.demo import demo_case, starter_plan
    from twin.phantom import DEMO_LANDMARKS
    from twin.plan import Plan
    from twin.project import Project

    vol, lm = demo_case()
    proj = Project(name="demo", volumes={"ct": vol}, labelmaps={"ground_truth": lm})
    plan = Plan.from_dict(starter_plan(proj, "ground_truth"))
    assert [m.name for m in plan.landmarks] == ["tumor_center", "needle_entry", "liver_hilum", "liver_dome"]
    (traj,) = plan.trajectories
    length = float(np.linalg.norm(np.subtract(DEMO_LANDMARKS["needle_target"], DEMO_LANDMARKS["needle_entry"])))
    assert traj.metrics["path_length_mm"] == pytest.approx(length, abs=1e-6)
    # the needle is planned to reach the tumour without crossing a critical structure of the ground truth
    assert traj.metrics["crossed"] == [] and traj.metrics["min_clearance_mm"] > 5.0
    assert "liver_tumor" in {t["segment"] for t in traj.metrics["traversed"]}
