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


def _box(img, *colours):
    """Bounding box (r0, r1, c0, c1) of long runs of given colours (the view borders), or None.

    A tolerance of 10 levels absorbs the 16-bit colour depth of pytest-xvfb's default screen.
    """
    m = np.zeros(img.shape[:2], bool)
    for rgb in colours:
        m |= np.all(np.abs(img - np.array(rgb)) <= 10, axis=-1)
    rows, cols = np.nonzero(m.sum(axis=1) > 100)[0], np.nonzero(m.sum(axis=0) > 100)[0]
    if len(rows) < 2 or len(cols) < 2:
        return None
    return rows.min(), rows.max(), cols.min(), cols.max()


def _quadrants(png):
    """The four views, located by the coloured borders of the slice views (layout-independent)."""
    from PIL import Image

    img = np.asarray(Image.open(png).convert("RGB")).astype(int)
    # view border colours of app.gui.slice_view (active, and darker(160) when inactive)
    boxes = {"axial": _box(img, (230, 70, 70), (144, 44, 44)), "coronal": _box(img, (90, 200, 90), (56, 125, 56)),
             "sagittal": _box(img, (235, 200, 60), (147, 125, 37))}
    assert all(boxes.values()), boxes
    out = {k: img[r0 + 3:r1 - 2, c0 + 3:c1 - 2] for k, (r0, r1, c0, c1) in boxes.items()}
    ar0, ar1, _, ac1 = boxes["axial"]
    _, _, _, sc1 = boxes["sagittal"]
    out["3d"] = img[ar0 + 3:ar1 - 2, ac1 + 4:sc1 - 2]  # right of the axial view, above the sagittal one
    assert out["3d"].shape[1] > 100
    return img, out


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


def test_no_display_gives_one_clear_line_not_a_qt_abort(tmp_path) -> None:
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    out = subprocess.run([sys.executable, "-m", "app", "demo"], capture_output=True, text=True, timeout=120, env=env)
    assert out.returncode == 2
    lines = [ln for ln in out.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "no display" in lines[0] and "xvfb-run" in lines[0]
