"""Project folder: save/load round trip, atomicity, migration, path safety."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from twin.errors import InputError
from twin.geometry import ImageGeometry
from twin.labelmap import LabelMap
from twin.labelmap_commands import SetSegmentMask
from twin.meshes import SurfaceModel, TetMesh
from twin.project import SCHEMA_VERSION, Project
from twin.volume import Volume


def make_project() -> Project:
    rot = Rotation.from_euler("z", 20, degrees=True).as_matrix()
    g = ImageGeometry((12, 10, 6), spacing=(0.75, 0.75, 2.5), origin=(-40.0, 12.0, 300.5), direction=rot)
    arr = (np.arange(np.prod(g.shape)).reshape(g.shape) % 700 - 200).astype(np.int16)
    vol = Volume(arr, g, modality="CT", units="HU", name="ct", metadata={"SeriesInstanceUID": "1.2.3"})
    lab = np.zeros(g.shape, np.uint8)
    lab[2:6, 2:6, 1:4] = 1
    lab[8:10, 1:3, 2] = 2
    lm = LabelMap.from_array(lab, g, names={1: "liver", 2: "tumour"})
    surf = SurfaceModel(np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0.0]]), np.array([[0, 1, 2]]), name="tri",
                        color=(1, 0, 0), point_data={"distance_mm": np.array([1.5, 2.5, 3.5])})
    mesh = TetMesh(np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1.0]]), np.array([[0, 1, 2, 3]]),
                   region=np.array([2]), region_names={2: "tumour"})
    return Project(name="case 1", volumes={"ct": vol}, labelmaps={"segmentation": lm}, surfaces={"tri": surf},
                   meshes={"liver": mesh}, plan={"schema_version": 1, "landmarks": [{"name": "a", "lps": [1, 2, 3]}]},
                   documents={"case": {"solver": {"steps": 3}}})


def test_round_trip_is_exact(tmp_path: Path) -> None:
    p = make_project()
    p.save(tmp_path / "case")
    manifest = json.loads((tmp_path / "case" / "manifest.json").read_text())
    assert manifest["schema_version"] == SCHEMA_VERSION and manifest["frame"] == "LPS"
    assert manifest["units"]["stress"] == "MPa"
    q = Project.load(tmp_path / "case")
    v0, v1 = p.volumes["ct"], q.volumes["ct"]
    np.testing.assert_array_equal(v0.array, v1.array)
    assert v1.geometry.is_same_grid(v0.geometry, tol_mm=1e-4)
    assert v1.modality == "CT" and v1.units == "HU" and v1.metadata["SeriesInstanceUID"] == "1.2.3"
    lm0, lm1 = p.labelmaps["segmentation"], q.labelmaps["segmentation"]
    assert [s.to_dict() for s in lm0.segments] == [s.to_dict() for s in lm1.segments]
    np.testing.assert_array_equal(lm0.layers[0], lm1.layers[0])
    assert q.surfaces["tri"].color == (1, 0, 0)
    np.testing.assert_allclose(q.surfaces["tri"].point_data["distance_mm"], [1.5, 2.5, 3.5])
    assert q.meshes["liver"].region_names == {2: "tumour"}
    np.testing.assert_array_equal(q.meshes["liver"].region, [2])
    assert q.plan == p.plan and q.documents == p.documents
    assert not q.modified


def test_modified_flag_follows_undo_stack(tmp_path: Path) -> None:
    p = make_project()
    lm = p.labelmaps["segmentation"]
    p.save(tmp_path / "c")
    assert not p.modified
    p.undo_stack.push(SetSegmentMask(lm, "liver", np.ones(lm.shape, bool), "add"))
    assert p.modified
    p.undo_stack.undo()
    assert not p.modified


def test_failed_save_keeps_previous_save(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    p = make_project()
    target = tmp_path / "case"
    p.save(target)
    before = {f.relative_to(target): f.read_bytes() for f in target.rglob("*") if f.is_file()}
    import twin.io.images as images

    def boom(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr(images, "write_labelmap", boom)
    p.name = "changed"
    with pytest.raises(OSError):
        p.save(target)
    after = {f.relative_to(target): f.read_bytes() for f in target.rglob("*") if f.is_file()}
    assert after == before
    assert not [x for x in tmp_path.iterdir() if x.name.startswith(".case.")], "temporary folders left behind"


def test_interrupted_swap_is_recovered(tmp_path: Path) -> None:
    p = make_project()
    p.save(tmp_path / "case")
    # simulate a crash between the two renames of the swap
    (tmp_path / "case").rename(tmp_path / ".case.old-abc123")
    q = Project.load(tmp_path / "case")
    assert "ct" in q.volumes


def test_schema_v1_is_migrated(tmp_path: Path) -> None:
    p = make_project()
    p.save(tmp_path / "case")
    mf = tmp_path / "case" / "manifest.json"
    m = json.loads(mf.read_text())
    v1 = {"schema_version": 1, "name": "old", "image": m["volumes"]["ct"]["path"],
          "segmentation": m["labelmaps"]["segmentation"]["path"]}
    mf.write_text(json.dumps(v1))
    q = Project.load(tmp_path / "case")
    assert set(q.volumes) == {"image"} and set(q.labelmaps) == {"segmentation"}


@pytest.mark.parametrize(
    "manifest, match",
    [
        ({"schema_version": 2, "volumes": {"x": {"path": "../../etc/passwd"}}}, "escapes"),
        ({"schema_version": 2, "volumes": {"x": {"path": "/etc/passwd"}}}, "escapes"),
        ({"schema_version": 2, "volumes": {"x": {"path": "volumes/missing.nii.gz"}}}, "missing"),
        ({"schema_version": 99}, "newer"),
        ({"schema_version": 2, "frame": "RAS"}, "frame"),
    ],
)
def test_bad_manifests_are_refused(tmp_path: Path, manifest: dict, match: str) -> None:
    (tmp_path / "p").mkdir()
    (tmp_path / "p" / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(InputError, match=match):
        Project.load(tmp_path / "p")


def test_not_a_project(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="manifest"):
        Project.load(tmp_path)
    (tmp_path / "manifest.json").write_text("{not json")
    with pytest.raises(InputError, match="JSON"):
        Project.load(tmp_path)
