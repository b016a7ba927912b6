"""3D Slicer markups (.mrk.json) import/export (frame LPS, mm)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from planning.markups import SCHEMA_URL, plan_to_markups, read_markups, write_markups
from twin.errors import InputError
from twin.plan import CutPlane, Landmark, Measurement, Plan, Resection, Trajectory

# As written by 3D Slicer 5.x (Save data -> Markups JSON), trimmed display block;
# the fiducial list uses RAS on purpose, the others LPS.
SLICER_FILE = {
    "@schema": "https://raw.githubusercontent.com/slicer/slicer/master/Modules/Loadable/Markups/Resources/"
               "Schema/markups-schema-v1.0.3.json#",
    "markups": [
        {"type": "Fiducial", "coordinateSystem": "RAS", "coordinateUnits": "mm", "locked": False,
         "fixedNumberOfControlPoints": False, "labelFormat": "%N-%d", "lastUsedControlPointNumber": 2,
         "controlPoints": [
             {"id": "1", "label": "F-1", "description": "", "associatedNodeID": "vtkMRMLScalarVolumeNode1",
              "position": [-53.38, -73.33, 12.5], "orientation": [-1.0, -0.0, -0.0, -0.0, -1.0, -0.0, 0.0, 0.0, 1.0],
              "selected": True, "locked": False, "visibility": True, "positionStatus": "defined"},
             {"id": "2", "label": "F-2", "description": "", "associatedNodeID": "", "position": [0.0, 0.0, 0.0],
              "orientation": [-1.0, -0.0, -0.0, -0.0, -1.0, -0.0, 0.0, 0.0, 1.0], "selected": True,
              "locked": False, "visibility": True, "positionStatus": "undefined"}],
         "measurements": [],
         "display": {"visibility": True, "opacity": 1.0, "color": [0.4, 1.0, 1.0], "glyphType": "Sphere3D"}},
        {"type": "Line", "coordinateSystem": "LPS", "coordinateUnits": "mm", "locked": False,
         "fixedNumberOfControlPoints": False, "labelFormat": "%N-%d", "lastUsedControlPointNumber": 2,
         "controlPoints": [
             {"id": "1", "label": "L-1", "position": [10.0, 20.0, 30.0], "positionStatus": "defined"},
             {"id": "2", "label": "L-2", "position": [13.0, 24.0, 30.0], "positionStatus": "defined"}],
         "measurements": [{"name": "length", "enabled": True, "value": 5.0, "units": "mm",
                           "printFormat": "%-#4.4g%s"}]},
        {"type": "Angle", "name": "A", "coordinateSystem": "LPS", "coordinateUnits": "mm",
         "controlPoints": [{"position": [1.0, 0.0, 0.0]}, {"position": [0.0, 0.0, 0.0]},
                           {"position": [1.0, 1.0, 0.0]}],
         "measurements": [{"name": "angle", "enabled": True, "value": 45.0, "units": "deg"}]},
        {"type": "Plane", "name": "cut", "coordinateSystem": "LPS", "coordinateUnits": "mm", "planeType": "pointNormal",
         "sizeMode": "auto", "autoScalingSizeFactor": 1.0,
         "center": [60.6068749511193, -26.833897399804197, -175.25000000000006],
         "normal": [-0.5001712514716112, 0.2769297764830091, 0.820450253274623],
         "size": [100.0, 100.0, 0.0], "planeBounds": [-50.0, 50.0, -50.0, 50.0],
         "objectToBase": [1.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 1.0],
         "baseToNode": [-0.7177763971220261, -0.48438183588553957, -0.5001712514716112, 0.0,
                        0.3974111999339178, -0.8748566951587867, 0.2769297764830091, 0.0,
                        -0.5717179216201003, -1.1102230246251565e-16, 0.820450253274623, 0.0,
                        0.0, 0.0, 0.0, 1.0],
         "controlPoints": [{"id": "1", "label": "P-1",
                            "position": [60.6068749511193, -26.833897399804197, -175.25000000000006],
                            "positionStatus": "defined"}]},
        {"type": "ClosedCurve", "coordinateSystem": "LPS", "controlPoints": []},
    ],
}


def test_reads_slicer_written_file(tmp_path):
    f = tmp_path / "slicer.mrk.json"
    f.write_text(json.dumps(SLICER_FILE))
    c = read_markups(f)
    assert [lm.name for lm in c.landmarks] == ["F-1"]  # undefined point skipped
    np.testing.assert_allclose(c.landmarks[0].position_lps, (53.38, 73.33, 12.5))  # RAS -> LPS
    dist = next(m for m in c.measurements if m.kind == "distance")
    assert dist.value == pytest.approx(5.0)
    ang = next(m for m in c.measurements if m.kind == "angle")
    assert ang.value == pytest.approx(45.0)
    (name, plane), = c.planes
    assert name == "cut"
    np.testing.assert_allclose(plane.normal_lps, SLICER_FILE["markups"][3]["normal"], atol=1e-12)
    np.testing.assert_allclose(plane.origin_lps, SLICER_FILE["markups"][3]["center"])
    assert c.skipped and "ClosedCurve" in c.skipped[0]


def test_round_trip_landmarks_lines_angles_planes(tmp_path):
    plan = Plan()
    plan.add(Landmark(name="xiphoid", position_lps=(1.5, -2.25, 300.125), description="bony"))
    plan.add(Landmark(name="navel", position_lps=(0, -90, 180)))
    plan.add(Measurement(name="width", kind="distance", points_lps=((0, 0, 0), (30, 40, 0))))
    plan.add(Measurement(name="bend", kind="angle", points_lps=((10, 0, 0), (0, 0, 0), (0, 0, 7))))
    plan.add(Trajectory(name="needle", entry_lps=(100, 0, 0), target_lps=(10, 20, 30)))
    plan.add(Resection(name="hemi", organ_segment="liver", planes=(CutPlane((5, 6, 7), (0.3, -0.4, 0.866)),)))
    f = write_markups(tmp_path / "plan.mrk.json", plan)
    raw = json.loads(f.read_text())
    assert raw["@schema"] == SCHEMA_URL
    assert {m["coordinateSystem"] for m in raw["markups"]} == {"LPS"}
    assert [m["type"] for m in raw["markups"]] == ["Fiducial", "Line", "Angle", "Line", "Plane"]
    b2n = np.reshape(raw["markups"][-1]["baseToNode"], (4, 4))
    np.testing.assert_allclose(b2n[:3, :3].T @ b2n[:3, :3], np.eye(3), atol=1e-12)
    back = read_markups(f)
    assert [(lm.name, lm.position_lps, lm.description) for lm in back.landmarks] == \
        [(lm.name, lm.position_lps, lm.description) for lm in plan.landmarks]
    got = {m.name: m for m in back.measurements}
    assert got["width"].points_lps == plan.find("width").points_lps
    assert got["bend"].value == pytest.approx(90.0)
    assert got["needle"].points_lps == ((100.0, 0.0, 0.0), (10.0, 20.0, 30.0))
    (name, plane), = back.planes
    assert name == "hemi"
    np.testing.assert_allclose(plane.normal_lps, plan.resections[0].planes[0].normal_lps, atol=1e-12)
    np.testing.assert_allclose(plane.origin_lps, (5, 6, 7))
    merged = back.add_to(Plan())
    assert len(merged.landmarks) == 2 and len(merged.measurements) == 3


@pytest.mark.parametrize("content", ["not json", json.dumps({"markups": 3}),
                                     json.dumps({"markups": [{"type": "Fiducial", "coordinateSystem": "XYZ"}]}),
                                     json.dumps({"markups": [{"type": "Fiducial",
                                                              "controlPoints": [{"position": [1, 2]}]}]})])
def test_bad_files_raise_input_error(tmp_path, content):
    f = tmp_path / "bad.mrk.json"
    f.write_text(content)
    with pytest.raises(InputError):
        read_markups(f)


def test_plan_to_markups_empty_plan():
    assert plan_to_markups(Plan())["markups"] == []
