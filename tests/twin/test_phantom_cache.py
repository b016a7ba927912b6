"""The cached demo case: generated once, read back bit-exact, invalidated when the generator changes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import twin.phantom.demo as demo
from twin.errors import InputError
from twin.io.images import read_image, read_labelmap
from twin.phantom import DEMO_LANDMARKS, DEMO_SEGMENTS, demo_cache_dir, load_demo_case, save_demo_case


@pytest.fixture(scope="module")
def cold(tmp_path_factory: pytest.TempPathFactory):
    """First use of an empty cache folder: generates and writes the demo case."""
    folder = tmp_path_factory.mktemp("cache") / "demo"  # the layout of $VHT_CACHE_DIR/demo
    volume, labels = load_demo_case(folder)
    return folder, volume, labels


def test_cache_round_trip_is_exact(cold, monkeypatch: pytest.MonkeyPatch) -> None:
    folder, v1, l1 = cold
    folders = list(folder.glob("abdomen-*"))
    assert len(folders) == 1 and folders[0].name == f"abdomen-{demo.generator_key()}"
    assert {p.name for p in folders[0].iterdir()} == {"ct.nii", "labels.nii", "labels.segments.json",
                                                      "phantom.json"}
    assert v1.metadata["seed"] == 0 and v1.metadata["synthetic"] is True

    def must_not_generate(*args, **kwargs):
        raise AssertionError("the cached demo case was regenerated")

    monkeypatch.setattr(demo, "make_abdomen_phantom", must_not_generate)
    v2, l2 = load_demo_case(folder)  # from the cache
    np.testing.assert_array_equal(v2.array, v1.array)
    assert v2.array.dtype == np.int16 and v2.modality == "CT" and v2.units == "HU"
    for attr in ("origin", "spacing", "direction"):
        np.testing.assert_array_equal(getattr(v2.geometry, attr), getattr(v1.geometry, attr))
    assert v2.shape == v1.shape == (192, 160, 96)
    np.testing.assert_array_equal(l2.layers[0], l1.layers[0])
    assert l2.segments == l1.segments == list(DEMO_SEGMENTS)  # names, colours and terminology codes survive
    assert l2.geometry.is_same_grid(v2.geometry, tol_mm=0.0)
    info = json.loads((folders[0] / "phantom.json").read_text())
    assert info["frame"] == "LPS" and "needle_entry" in info["landmarks_lps_mm"]
    # the cached CT is an ordinary file any reader recognises as CT
    assert read_image(folders[0] / "ct.nii").modality == "CT"
    assert [s.name for s in read_labelmap(folders[0] / "labels.nii").segments] == [s.name for s in DEMO_SEGMENTS]


def test_generator_change_invalidates_and_damage_regenerates(tmp_path: Path, cold,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    generated = cold[1:]
    monkeypatch.setattr(demo, "make_abdomen_phantom", lambda *a, **k: calls.append(1) or generated)
    monkeypatch.setattr(demo, "generator_key", lambda: "v1.0-aaaaaaaaaaaa")
    load_demo_case(tmp_path)
    monkeypatch.setattr(demo, "generator_key", lambda: "v1.0-bbbbbbbbbbbb")
    vol, _ = load_demo_case(tmp_path)
    assert len(calls) == 2
    assert [p.name for p in tmp_path.glob("abdomen-*")] == ["abdomen-v1.0-bbbbbbbbbbbb"]  # stale cache removed
    # a truncated file (e.g. disk full in an older version) is detected and the case regenerated
    ct = tmp_path / "abdomen-v1.0-bbbbbbbbbbbb" / "ct.nii"
    ct.write_bytes(ct.read_bytes()[:1000])
    vol2, _ = load_demo_case(tmp_path)
    assert len(calls) == 3
    np.testing.assert_array_equal(vol2.array, vol.array)
    assert not list(tmp_path.glob(".abdomen-*"))  # no temporary folders left behind


def test_generator_key_tracks_the_source() -> None:
    key = demo.generator_key()
    assert key.startswith(f"v{demo.PHANTOM_VERSION}-") and key == demo.generator_key()


def test_cache_dir_follows_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("VHT_CACHE_DIR", str(tmp_path / "c"))
    assert demo_cache_dir() == tmp_path / "c" / "demo"
    monkeypatch.delenv("VHT_CACHE_DIR")
    assert demo_cache_dir() == Path.home() / ".cache" / "vht-planner" / "demo"


def test_unwritable_cache_still_returns_the_case(tmp_path: Path, cold, monkeypatch: pytest.MonkeyPatch,
                                                 caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setattr(demo, "make_abdomen_phantom", lambda *a, **k: cold[1:])

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(demo, "_write_cache", disk_full)
    vol, lm = load_demo_case(tmp_path)
    np.testing.assert_array_equal(vol.array, cold[1].array)
    assert "could not cache" in caplog.text
    assert not list(tmp_path.glob("abdomen-*"))


def test_save_demo_case_writes_standard_files(tmp_path: Path, cold, monkeypatch: pytest.MonkeyPatch) -> None:
    folder, vol, lm = cold
    monkeypatch.setenv("VHT_CACHE_DIR", str(folder.parent))  # reuse the cache made by the fixture
    monkeypatch.setattr(demo, "make_abdomen_phantom", lambda *a, **k: pytest.fail("cache not used"))
    paths = save_demo_case(tmp_path / "out")
    assert all(p.is_file() for p in paths.values())
    ct = read_image(paths["ct"])
    np.testing.assert_array_equal(ct.array, vol.array)
    assert ct.geometry.is_same_grid(vol.geometry, tol_mm=0.0)
    labels = read_labelmap(paths["labels"])
    np.testing.assert_array_equal(labels.layers[0], lm.layers[0])
    assert [s.name for s in labels.segments] == [s.name for s in DEMO_SEGMENTS]
    markups = json.loads(paths["landmarks"].read_text())
    points = {p["label"]: p["position"] for p in markups["markups"][0]["controlPoints"]}
    assert markups["markups"][0]["coordinateSystem"] == "LPS"
    assert points["tumor_center"] == list(DEMO_LANDMARKS["tumor_center"])
    assert "resection_plane_normal" not in points  # a direction, not a point
    info = json.loads(paths["description"].read_text())
    assert info["landmarks_lps_mm"]["resection_plane_normal"] == list(DEMO_LANDMARKS["resection_plane_normal"])
    with pytest.raises(InputError):
        save_demo_case(paths["ct"])  # a file, not a folder
