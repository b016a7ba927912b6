"""Shared pytest fixtures and headless rendering set-up."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# Off-screen VTK without a display: EGL (Mesa). Without it a missing GL library
# can crash the process instead of raising.
os.environ.setdefault("VTK_DEFAULT_OPENGL_WINDOW", "vtkEGLRenderWindow")
# Never let tests write into the user's cache.
os.environ.setdefault("VHT_NO_TELEMETRY", "1")

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = (ROOT / ".." / "shared" / "data").resolve()


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data`` beside the checkout; skips the test when absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip("../shared/data not present (real test scans are not in this checkout)")
    return SHARED_DATA


@pytest.fixture(autouse=True, scope="session")
def _isolated_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Point the demo-case cache at a per-session folder unless the caller chose one."""
    if "VHT_CACHE_DIR" not in os.environ:
        os.environ["VHT_CACHE_DIR"] = str(tmp_path_factory.mktemp("vht-cache"))
