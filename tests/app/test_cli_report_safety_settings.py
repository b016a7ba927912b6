"""``vht report --json``: the plan's saved safety margin and role overrides are used and shown (frame LPS mm)."""

from __future__ import annotations

import json

from app.cli import main
from tests.planning.test_plan_safety_settings import make_case


def test_report_json_shows_the_plans_margin_and_roles(tmp_path, capsys):
    proj, _ = make_case(segment_roles={"muscle": "critical"}, safety_margin_mm=10.0)
    proj.save(tmp_path / "case")
    assert main(["report", str(tmp_path / "case"), "-o", str(tmp_path / "r.pdf"), "--json", "-q"]) == 0
    data = json.loads(capsys.readouterr().out)
    plan = data["plan"]
    assert plan["safety_margin_mm"] == 10.0 and plan["roles"] == "1 override"
    assert plan["segment_roles"] == {"muscle": "critical"}
    m = plan["trajectories"][0]["metrics"]
    assert m["safety_margin_mm"] == 10.0 and m["too_close"] == ["vessel"]  # 7 mm clearance < 10 mm
    assert m["crossed"] == ["muscle"]  # body wall by default, critical by the plan's override
    # an old plan.json without the keys: 5 mm, default roles, the vessel is clear
    old = json.loads((tmp_path / "case" / "plan.json").read_text(encoding="utf-8"))
    del old["safety_margin_mm"], old["segment_roles"]
    (tmp_path / "case" / "plan.json").write_text(json.dumps(old), encoding="utf-8")
    assert main(["report", str(tmp_path / "case"), "-o", str(tmp_path / "r2.pdf"), "--json", "-q"]) == 0
    plan = json.loads(capsys.readouterr().out)["plan"]
    assert plan["safety_margin_mm"] == 5.0 and plan["roles"] == "default"
    assert plan["trajectories"][0]["metrics"]["too_close"] == [] and plan["trajectories"][0]["metrics"]["crossed"] == []
