"""``vht gui`` / ``vht demo`` with ``--screenshot`` in a subprocess (Xvfb and the offscreen Qt platform)."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

pytestmark = pytest.mark.gui


def _run(args, env_extra, tmp_path, timeout=240):
    env = dict(os.environ)
    env.update({"VHT_SETTINGS_FILE": str(tmp_path / "s.ini"), "VHT_RECOVERY_DIR": str(tmp_path / "rec")})
    env.update(env_extra)
    return subprocess.run([sys.executable, "-m", "app", *args], env=env, capture_output=True, text=True,
                          timeout=timeout)


def _quadrants(png):
    from PIL import Image

    img = np.asarray(Image.open(png).convert("RGB")).astype(int)
    h, w, _ = img.shape
    # the views occupy the right part of the window (panels dock on the left)
    views = img[30:h - 30, int(0.25 * w):]
    vh, vw, _ = views.shape
    return img, {
        "axial": views[: vh // 2, : vw // 2], "3d": views[: vh // 2, vw // 2:],
        "coronal": views[vh // 2:, : vw // 2], "sagittal": views[vh // 2:, vw // 2:],
    }


@pytest.mark.slow
def test_demo_screenshot_offscreen_platform_is_complete(tmp_path):
    png = tmp_path / "demo.png"
    r = _run(["demo", "--screenshot", str(png)], {"QT_QPA_PLATFORM": "offscreen"}, tmp_path)
    assert r.returncode == 0, r.stderr
    img, q = _quadrants(png)
    assert img.shape[0] >= 600 and img.shape[1] >= 1000
    for name, part in q.items():
        colourful = (part.max(axis=-1) - part.min(axis=-1)) > 40
        assert colourful.mean() > 0.01, f"{name} view shows no segment colours"
    bright = q["axial"].mean(axis=-1) > 60
    assert bright.mean() > 0.2  # the body is drawn


@pytest.mark.slow
def test_gui_screenshot_under_xvfb_with_an_image(tmp_path):
    if not os.environ.get("DISPLAY"):
        pytest.skip("no X display (pytest-xvfb not active)")
    from app.gui.synthetic import synthetic_case
    from twin.io.images import write_image

    vol, _ = synthetic_case()
    path = write_image(vol, tmp_path / "ct.nrrd")
    png = tmp_path / "gui.png"
    r = _run(["gui", str(path), "--screenshot", str(png)], {"QT_QPA_PLATFORM": "xcb"}, tmp_path)
    assert r.returncode == 0, r.stderr
    _, q = _quadrants(png)
    for name in ("axial", "coronal", "sagittal"):
        assert (q[name].mean(axis=-1) > 60).mean() > 0.15, name


def test_gui_missing_path_exits_2(tmp_path):
    r = _run(["gui", str(tmp_path / "nope.nii.gz"), "--screenshot", str(tmp_path / "x.png")],
             {"QT_QPA_PLATFORM": "offscreen"}, tmp_path, timeout=60)
    assert r.returncode == 2 and "no such file" in r.stderr and "Traceback" not in r.stderr
    bad = tmp_path / "bad.nrrd"
    bad.write_text("NRRD0004\ntype: nonsense\n\n")
    r = _run(["gui", str(bad), "--screenshot", str(tmp_path / "x.png")], {"QT_QPA_PLATFORM": "offscreen"}, tmp_path,
             timeout=60)
    assert r.returncode == 2 and "Traceback" not in r.stderr and not (tmp_path / "x.png").exists()
