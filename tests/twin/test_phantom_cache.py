"""The cached demo case: generated once, read back bit-exact, invalidated when the generator changes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import twin.phantom.demo as demo
from twin.io.images import read_image
from twin.phantom import DEMO_SEGMENTS, demo_cache_dir, load_demo_case


@pytest.fixture(scope="module")
def cold(tmp_path_factory: pytest.TempPathFactory):
    """First use of an empty cache folder: generates and writes the demo case."""
    folder = tmp_path_factory.mktemp("demo-cache")
    volume, labels = load_demo_case(folder)
    return folder, volume, labels


def test_cache_round_trip_is_exact(cold, monkeypatch: pytest.MonkeyPatch) -> None:
    folder, v1, l1 = cold
    folders = list(folder.glob("abdomen-*"))
    assert len(folders) == 1 and folders[0].name == f"abdomen-{demo.generator_key()}"
    assert {p.name for p in folders[0].iterdir()} == {"ct.nii.gz", "labels.nii.gz", "labels.segments.json",
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
    assert read_image(folders[0] / "ct.nii.gz").modality == "CT"


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
    ct = tmp_path / "abdomen-v1.0-bbbbbbbbbbbb" / "ct.nii.gz"
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
