"""Traversed tissue vs critical structures along a needle path (demo phantom and synthetic grids; LPS mm)."""

from __future__ import annotations

import numpy as np
import pytest

from planning.segment_roles import classify_name, default_critical_names
from planning.trajectories import evaluate_trajectory, line_traversal
from tests.planning._shapes import labelmap, sphere_mask
from twin.geometry import ImageGeometry
from twin.plan import Trajectory


@pytest.fixture(scope="module")
def demo():
    from twin.phantom import DEMO_LANDMARKS, load_demo_case

    _, lm = load_demo_case()
    return lm, DEMO_LANDMARKS


def _sampled_lengths(traj: Trajectory, lm, step_mm: float = 0.01) -> dict[str, float]:
    """Independent reference: label of the nearest voxel at dense points along the axis, times the step."""
    length = float(np.linalg.norm(np.subtract(traj.target_lps, traj.entry_lps)))
    n = int(np.ceil(length / step_mm))
    s = (np.arange(n) + 0.5) * (length / n)
    d = np.subtract(traj.target_lps, traj.entry_lps) / length
    pts = np.asarray(traj.entry_lps)[None] + s[:, None] * d[None]
    ijk = np.rint(lm.geometry.lps_to_index(pts)).astype(int)
    ok = np.all((ijk >= 0) & (ijk < lm.geometry.shape), axis=1)
    out = {}
    for seg in lm.segments:
        hit = np.zeros(n, bool)
        hit[ok] = lm.layers[seg.layer][tuple(ijk[ok].T)] == seg.value
        if hit.any():
            out[seg.name] = float(hit.sum() * length / n)
    return out


def test_demo_needle_traverses_body_wall_and_liver_without_critical_crossing(demo):
    lm, lms = demo
    traj = Trajectory(name="biopsy", entry_lps=lms["needle_entry"], target_lps=lms["needle_target"], diameter_mm=1.5,
                      target_segment="liver_tumor")
    m = evaluate_trajectory(traj, lm)  # default critical set
    assert m["critical_source"] == "default"
    assert m["crossed"] == [] and m["too_close"] == []
    checked = {s["segment"] for s in m["structures"]}
    assert {"hepatic_vessels", "aorta", "inferior_vena_cava", "gallbladder", "lungs", "ribs", "stomach",
            "kidney_right", "spleen"} <= checked
    assert not checked & {"body", "subcutaneous_fat", "muscle", "liver", "liver_tumor"}
    assert m["target_organ"] == "liver" and m["roles"]["liver"] == "target_organ"
    assert m["min_clearance_mm"] > m["safety_margin_mm"]
    trav = {r["segment"]: r for r in m["traversed"]}
    assert {"subcutaneous_fat", "muscle", "liver", "liver_tumor"} <= set(trav)
    assert not any(r["critical"] for r in m["traversed"])
    assert [r["segment"] for r in m["traversed"]][:3] == ["body", "subcutaneous_fat", "muscle"]
    assert trav["liver_tumor"]["exit_depth_mm"] == pytest.approx(m["path_length_mm"])
    ref = _sampled_lengths(traj, lm)
    assert set(ref) == set(trav)
    for name, r in trav.items():
        assert r["length_mm"] == pytest.approx(ref[name], abs=0.05), name  # well within a voxel (2 mm)
    # every voxel of the phantom body is labelled: the pieces add up to the path
    assert sum(r["length_mm"] for r in m["traversed"]) == pytest.approx(m["path_length_mm"], abs=1e-9)
    assert m["unlabelled_length_mm"] == pytest.approx(0.0, abs=1e-9)


def _anterior_skin_path(lm, segment: str, depth_beyond_mm: float) -> tuple[np.ndarray, np.ndarray]:
    """From the skin straight posterior (+P) through the centroid of ``segment`` to ``depth_beyond_mm`` past it."""
    geom = lm.geometry
    c = geom.index_to_lps(np.argwhere(lm.mask(segment)).mean(axis=0)[None])[0]
    body = lm.layers[0] > 0
    p = c.copy()
    while True:  # walk anteriorly (-P) to the first unlabelled voxel
        q = np.rint(geom.lps_to_index((p - [0, 1.0, 0])[None])[0]).astype(int)
        if np.any(q < 0) or np.any(q >= geom.shape) or not body[tuple(q)]:
            break
        p = p - [0, 1.0, 0]
    return p, c + [0, depth_beyond_mm, 0]


def test_path_through_the_aorta_is_flagged(demo):
    lm, _ = demo
    entry, target = _anterior_skin_path(lm, "aorta", 15.0)
    m = evaluate_trajectory(Trajectory(name="bad", entry_lps=entry, target_lps=target, diameter_mm=1.5), lm)
    assert "aorta" in m["crossed"]
    row = next(s for s in m["structures"] if s["segment"] == "aorta")
    assert row["clearance_mm"] < 0 and row["length_inside_mm"] > 10.0
    trav = {r["segment"]: r for r in m["traversed"]}
    assert trav["aorta"]["critical"] and trav["aorta"]["role"] == "critical"
    assert trav["aorta"]["length_mm"] == pytest.approx(row["length_inside_mm"], abs=2.0)
    # aiming into the aorta does not make it the "organ containing the target": still a crossing
    m2 = evaluate_trajectory(Trajectory(name="in", entry_lps=entry, target_lps=target - [0, 15.0, 0]), lm)
    assert "aorta" in m2["crossed"] and m2["target_organ"] is None


def test_solid_organ_containing_the_target_is_traversed(demo):
    lm, _ = demo
    entry, target = _anterior_skin_path(lm, "kidney_right", 0.0)
    traj = Trajectory(name="renal biopsy", entry_lps=entry, target_lps=target)
    m = evaluate_trajectory(traj, lm)
    assert m["target_organ"] == "kidney_right" and "kidney_right" not in {s["segment"] for s in m["structures"]}
    assert "kidney_right" in {r["segment"] for r in m["traversed"]}


def test_explicit_critical_list_and_role_override(demo):
    lm, lms = demo
    traj = Trajectory(name="biopsy", entry_lps=lms["needle_entry"], target_lps=lms["needle_target"], diameter_mm=1.5,
                      target_segment="liver_tumor")
    m = evaluate_trajectory(traj, lm, critical_segments=["muscle", "aorta"])
    assert m["critical_source"] == "plan"
    assert [s["segment"] for s in m["structures"]] == ["muscle", "aorta"]
    assert m["crossed"] == ["muscle"]
    assert {r["segment"]: r["critical"] for r in m["traversed"]}["muscle"] is True
    # the target segment is never a critical structure, even when listed
    assert [s["segment"] for s in evaluate_trajectory(traj, lm, ["liver_tumor", "aorta"])["structures"]] == ["aorta"]
    # role overrides: ribs traversable (intercostal route accepted), liver critical (e.g. cirrhotic, coagulopathy)
    m3 = evaluate_trajectory(traj, lm, roles={"ribs": "traversable", "liver": "critical"})
    names = {s["segment"] for s in m3["structures"]}
    assert "ribs" not in names and "liver" in names and m3["crossed"] == ["liver"]
    assert m3["target_organ"] is None


def test_safety_margin_flags_a_close_structure():
    geom = ImageGeometry((40, 40, 40), (1.0, 1.0, 1.0), (-19.5, -19.5, -19.5), np.eye(3))
    lm = labelmap(geom, {"vessel": sphere_mask(geom, (0.5, 0.5, 0.5), 5.0)})
    # axis 8.5 mm from the centre: about 3 mm from the voxel sphere, 2.5 mm from the 1 mm tool surface
    traj = Trajectory(name="t", entry_lps=(-18.5, 9.0, 0.5), target_lps=(18.5, 9.0, 0.5), diameter_mm=1.0)
    m = evaluate_trajectory(traj, lm, safety_margin_mm=5.0)
    assert m["crossed"] == [] and m["too_close"] == ["vessel"]
    assert evaluate_trajectory(traj, lm, safety_margin_mm=1.0)["too_close"] == []


def test_voxel_walk_on_an_oblique_grid_matches_dense_sampling():
    rng = np.random.default_rng(3)
    q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    q *= np.sign(np.linalg.det(q))
    geom = ImageGeometry((50, 44, 30), (0.8, 1.1, 1.7), (-20.0, -22.0, -25.0), q)
    c = geom.index_to_lps(np.argwhere(np.ones(geom.shape, bool))).reshape(*geom.shape, 3)
    centre = geom.index_to_lps(np.array([[25.0, 22.0, 15.0]]))[0]
    r = np.linalg.norm(c - centre, axis=-1)
    lm = labelmap(geom, {"shell": (r > 8) & (r <= 14), "core": r <= 8})
    traj = Trajectory(name="t", entry_lps=centre + [-19.0, 7.0, 5.0], target_lps=centre + [17.0, -3.0, -2.0])
    rows = {r["segment"]: r for r in line_traversal(traj, lm)}
    ref = _sampled_lengths(traj, lm, step_mm=0.005)
    assert set(rows) == {"shell", "core"} == set(ref)
    for name in rows:
        assert rows[name]["length_mm"] == pytest.approx(ref[name], abs=0.03)
    assert len(rows["shell"]["intervals_mm"]) == 2 and len(rows["core"]["intervals_mm"]) == 1
    # the chord of the r = 8 sphere, within a voxel
    d = np.subtract(traj.target_lps, traj.entry_lps)
    d /= np.linalg.norm(d)
    v = centre - np.asarray(traj.entry_lps)
    off = np.linalg.norm(v - (v @ d) * d)
    assert rows["core"]["length_mm"] == pytest.approx(2 * np.sqrt(8**2 - off**2), abs=1.7)


@pytest.mark.parametrize(("name", "role"), [
    ("skin", "container"), ("subcutaneous_fat", "container"), ("torso_fat", "container"),
    ("skeletal_muscle", "container"), ("autochthon_left", "container"), ("iliopsoas_right", "container"),
    ("liver", "traversable"), ("liver_tumor", "target"), ("kidney_cyst_left", "target"),
    ("hepatic_vessels", "critical"), ("portal_vein_and_splenic_vein", "critical"), ("iliac_artery_left", "critical"),
    ("inferior_vena_cava", "critical"), ("small_bowel", "critical"), ("gallbladder", "critical"),
    ("lung_lower_lobe_right", "critical"), ("vertebrae_L1", "critical"), ("rib_right_11", "critical"),
    ("spinal_cord", "critical"), ("pancreas", "critical"), ("Segment_7", "critical"),
])
def test_default_roles_of_totalsegmentator_and_slicer_names(name, role):
    assert classify_name(name)[0] == role


def test_terminology_meaning_classifies_an_anonymous_segment():
    from twin.labelmap import Segment

    segs = [Segment(1, "Segment_1", terminology={"scheme": "SCT", "code": "10200004", "meaning": "Liver"}),
            Segment(2, "Segment_2", terminology={"scheme": "SCT", "code": "15825003", "meaning": "Aorta"})]
    assert classify_name("Segment_1", "Liver")[0] == "traversable"
    assert default_critical_names(segs) == ["Segment_2"]


def test_report_pdf_separates_traversed_tissue_from_critical_crossings(demo, tmp_path):
    from planning.report import build_report
    from tests.planning.test_report import pdf_text
    from twin.phantom import load_demo_case
    from twin.plan import Plan
    from twin.project import Project

    lm, lms = demo
    vol, _ = load_demo_case()
    plan = Plan()  # no critical list: the default set by segment name
    plan.add(Trajectory(name="biopsy", entry_lps=lms["needle_entry"], target_lps=lms["needle_target"],
                        diameter_mm=1.5, target_segment="liver_tumor"))
    entry, target = _anterior_skin_path(lm, "aorta", 15.0)
    plan.add(Trajectory(name="transaortic", entry_lps=entry, target_lps=target, diameter_mm=1.5))
    proj = Project(name="roles", volumes={"ct": vol}, labelmaps={"segmentation": lm})
    proj.plan = plan.to_dict()
    out = tmp_path / "report.pdf"
    data = build_report(proj, out, images=False)
    text = pdf_text(out)
    good, bad = (t["metrics"] for t in data["plan"]["trajectories"])
    # backward-compatible keys still there
    for key in ("path_length_mm", "structures", "min_clearance_mm", "closest_structure", "crossed"):
        assert key in good and key in bad
    assert good["crossed"] == [] and "aorta" in bad["crossed"]
    lengths = {r["segment"]: r["length_mm"] for r in good["traversed"]}
    biopsy = text[text.index("biopsy Tool"):text.index("transaortic Tool")]
    assert f"subcutaneous_fat {lengths['subcutaneous_fat']:.1f} mm" in biopsy
    assert f"liver {lengths['liver']:.1f} mm" in biopsy and "organ containing the target" in biopsy
    assert "Crossed critical structures none" in biopsy and "default set by segment name" in biopsy
    assert f"({good['closest_structure']})" in biopsy and "CROSSED" not in biopsy
    aortic = text[text.index("transaortic Tool"):]
    assert "CROSSED" in aortic and "Crossed critical structures aorta" in aortic
