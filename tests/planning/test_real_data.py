"""Planning metrics on a real CT with TotalSegmentator labels (../shared/data/totalseg_example), frame LPS mm."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "totalseg_example"
pytestmark = pytest.mark.data


@pytest.fixture(scope="module")
def case():
    if not (DATA / "example_ct.nii.gz").exists():
        pytest.skip("../shared/data not present")
    from twin.io.images import read_image, read_labelmap
    from twin.labelmap import LabelMap

    vol = read_image(DATA / "example_ct.nii.gz")
    raw = read_labelmap(DATA / "example_seg_fast_force_split.nii.gz")
    names = json.loads((DATA / "labels_total_and_total_mr.json").read_text())["total"]
    present = {s.value for s in raw.segments}
    lm = LabelMap.from_array(raw.layers[0], raw.geometry, names={int(k): v for k, v in names.items()
                                                                 if int(k) in present})
    return vol, lm


def test_liver_resection_matches_supersampled_reference(case):
    from planning.resection import evaluate_resection
    from twin.plan import CutPlane, Resection

    _, lm = case
    geom = lm.geometry
    liver = lm.mask("liver")
    ijk = np.argwhere(liver)
    centroid = geom.index_to_lps(ijk.mean(axis=0)[None])[0]
    normal = np.array([0.6, -0.3, 0.74])
    res = Resection(name="r", organ_segment="liver", planes=(CutPlane(centroid, normal),))
    m = evaluate_resection(res, lm)
    vv = geom.voxel_volume_mm3
    assert m["organ_volume_mm3"] == pytest.approx(len(ijk) * vv)
    assert m["resected_volume_mm3"] + m["remnant_volume_mm3"] == pytest.approx(m["organ_volume_mm3"])
    # independent reference: 10^3 sub-samples per voxel cut by the plane, centre test elsewhere
    n = normal / np.linalg.norm(normal)
    c = geom.index_to_lps(ijk)
    depth = (c - centroid) @ n
    half = 0.5 * np.linalg.norm(geom.spacing)
    frac = (depth > 0).astype(float)
    near = np.abs(depth) < half
    s = (np.arange(10) + 0.5) / 10 - 0.5
    offs = np.stack(np.meshgrid(s, s, s, indexing="ij"), -1).reshape(-1, 3) * geom.spacing
    sub = c[near][:, None, :] + offs[None]
    frac[near] = (((sub - centroid) @ n) > 0).mean(axis=1)
    assert m["resected_volume_mm3"] == pytest.approx(frac.sum() * vv, rel=2e-4)
    assert 20 < m["remnant_percent"] < 80


def test_trajectory_clearance_matches_brute_force(case):
    from planning.trajectories import evaluate_trajectory
    from twin.plan import Trajectory

    _, lm = case
    geom = lm.geometry
    target = geom.index_to_lps(np.argwhere(lm.mask("liver")).mean(axis=0)[None])[0]
    entry = target + np.array([-40.0, -90.0, 10.0])  # from anterior-right
    crit = ["aorta", "inferior_vena_cava", "portal_vein_and_splenic_vein", "gallbladder"]
    crit = [c for c in crit if c in {s.name for s in lm.segments}]
    assert len(crit) >= 3
    traj = Trajectory(name="t", entry_lps=entry, target_lps=target, diameter_mm=2.0, target_segment="liver")
    m = evaluate_trajectory(traj, lm, crit)
    t = np.linspace(0, 1, 4001)
    pts = entry[None] + t[:, None] * (target - entry)[None]
    q = geom.lps_to_index(pts) * geom.spacing
    for row in m["structures"]:
        cidx = np.argwhere(lm.mask(row["segment"])) * geom.spacing
        best = np.inf
        for chunk in np.array_split(q, 20):
            d = np.maximum(np.abs(chunk[:, None, :] - cidx[None]) - geom.spacing / 2, 0)
            best = min(best, float(np.sqrt((d * d).sum(-1)).min()))
        assert row["axis_distance_mm"] == pytest.approx(best, abs=0.05), row["segment"]
        assert row["crosses"] == (best <= 1.0)


def test_report_on_real_ct(case, tmp_path):
    from pypdf import PdfReader

    from planning.report import build_report
    from twin.plan import Plan, Trajectory
    from twin.project import Project

    vol, lm = case
    proj = Project(name="totalseg", volumes={"ct": vol}, labelmaps={"seg": lm})
    plan = Plan(critical_segments=["aorta", "inferior_vena_cava"])
    target = lm.geometry.index_to_lps(np.argwhere(lm.mask("liver")).mean(axis=0)[None])[0]
    plan.add(Trajectory(name="liver biopsy", entry_lps=target + (-40, -90, 10), target_lps=target,
                        target_segment="liver"))
    proj.plan = plan.to_dict()
    data = build_report(proj, tmp_path / "r.pdf", images=False)
    text = re.sub(r"\s+", " ", " ".join(p.extract_text() for p in PdfReader(str(tmp_path / "r.pdf")).pages))
    liver = next(s for s in data["segments"] if s["segment"] == "liver")
    assert liver["volume_ml"] == pytest.approx(lm.voxel_count("liver") * 27 / 1000)
    assert f"{liver['volume_ml']:.2f}" in text
    hu = np.asarray(vol.array)[lm.mask("liver")]
    assert liver["intensity"]["median"] == pytest.approx(float(np.median(hu)))
    assert 20 < liver["intensity"]["median"] < 120  # liver parenchyma in HU
    assert f"{data['plan']['trajectories'][0]['metrics']['path_length_mm']:.1f} mm" in text


def test_default_roles_on_totalsegmentator_labels(case):
    """Every TotalSegmentator 'total' class gets a deliberate role (none falls to the catch-all)."""
    from planning.segment_roles import classify_name

    names = json.loads((DATA / "labels_total_and_total_mr.json").read_text())["total"].values()
    roles = {n: classify_name(n) for n in names}
    assert [n for n, r in roles.items() if r[1] == "other"] == []
    assert {n for n, r in roles.items() if r[0] == "container"} >= {"autochthon_left", "iliopsoas_right",
                                                                     "gluteus_maximus_left"}
    assert roles["liver"][0] == "traversable" and roles["kidney_cyst_left"][0] == "target"


def test_default_critical_set_on_real_ct_liver_biopsy(case):
    from planning.trajectories import evaluate_trajectory
    from tests.planning.test_trajectory_roles import _sampled_lengths
    from twin.plan import Trajectory

    _, lm = case
    geom = lm.geometry
    target = geom.index_to_lps(np.argwhere(lm.mask("liver")).mean(axis=0)[None])[0]
    traj = Trajectory(name="t", entry_lps=target + np.array([-40.0, -90.0, 10.0]), target_lps=target)
    m = evaluate_trajectory(traj, lm)  # no target segment, no critical list
    assert m["target_organ"] == "liver" and m["critical_source"] == "default"
    checked = [s["segment"] for s in m["structures"]]
    assert {"aorta", "inferior_vena_cava", "portal_vein_and_splenic_vein", "gallbladder", "rib_right_9"} <= set(checked)
    assert "liver" not in checked and not any(n.startswith(("autochthon", "iliopsoas", "gluteus")) for n in checked)
    # the default set gives the same numbers as naming the same structures explicitly
    explicit = evaluate_trajectory(traj, lm, checked)
    for a, b in zip(m["structures"], explicit["structures"], strict=True):
        assert a["segment"] == b["segment"] and a["clearance_mm"] == pytest.approx(b["clearance_mm"], abs=1e-12)
    assert m["crossed"] == explicit["crossed"]
    trav = {r["segment"]: r["length_mm"] for r in m["traversed"]}
    assert trav["liver"] > 10.0
    # no body-wall segments in this label set: the rest of the path is reported as unsegmented
    assert m["unlabelled_length_mm"] == pytest.approx(m["path_length_mm"] - sum(trav.values()), abs=1e-9)
    assert m["unlabelled_length_mm"] > 10.0
    ref = _sampled_lengths(traj, lm)
    assert set(ref) == set(trav)
    for name, length in trav.items():
        assert length == pytest.approx(ref[name], abs=0.05), name
