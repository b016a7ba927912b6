"""Dependency direction: app -> planning -> (rendering | segmentation | biomech) -> twin.

Two checks, as napari and pyvista do:
1. static: parse every module and list the project packages it imports (at any
   depth, including lazy imports inside functions);
2. dynamic: import every module of a package in a fresh interpreter and assert
   that no Qt and (below rendering/) no VTK rendering module got loaded.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ["twin", "segmentation", "biomech", "rendering", "planning", "app"]
ALLOWED = {
    "twin": set(),
    "segmentation": {"twin"},
    "biomech": {"twin"},
    "rendering": {"twin"},
    "planning": {"twin", "segmentation", "biomech", "rendering"},
    "app": {"twin", "segmentation", "biomech", "rendering", "planning"},
}


def _imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


@pytest.mark.parametrize("package", PACKAGES)
def test_static_dependency_direction(package: str) -> None:
    bad = []
    for path in sorted((ROOT / package).rglob("*.py")):
        for dep in _imports_of(path) & set(PACKAGES):
            if dep != package and dep not in ALLOWED[package]:
                bad.append(f"{path.relative_to(ROOT)} imports {dep}")
    assert not bad, "forbidden imports:\n" + "\n".join(bad)


@pytest.mark.parametrize("package", ["twin", "segmentation", "biomech", "planning", "rendering"])
def test_no_qt_or_vtk_rendering_loaded(package: str) -> None:
    """Import every module of ``package`` in a subprocess; check what got loaded."""
    code = f"""
import importlib, json, pkgutil, sys
import {package}
for info in pkgutil.walk_packages({package}.__path__, "{package}."):
    importlib.import_module(info.name)
mods = sorted(sys.modules)
print(json.dumps({{
    "qt": [m for m in mods if m.startswith(("PySide6", "PyQt", "pyvistaqt", "qtpy"))],
    "vtk_rendering": [m for m in mods if m.startswith("vtkmodules.vtkRendering") or m == "pyvista.plotting"],
}}))
"""
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    loaded = json.loads(out.stdout.strip().splitlines()[-1])
    assert loaded["qt"] == [], f"{package} loaded Qt modules: {loaded['qt'][:5]}"
    if package != "rendering":
        assert loaded["vtk_rendering"] == [], f"{package} loaded VTK rendering: {loaded['vtk_rendering'][:5]}"


def test_cli_help_is_fast_and_light() -> None:
    """``vht --help`` must not import Qt, VTK or SimpleITK (start-up < 1 s)."""
    code = (
        "import sys, time, contextlib, io\n"
        "t = time.perf_counter()\n"
        "from app.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    main(['--help']) if False else None\n"
        "import app.cli\n"
        "app.cli.build_parser().format_help()\n"
        "heavy = [m for m in ('vtk', 'vtkmodules', 'PySide6', 'SimpleITK', 'pyvista', 'scipy') if m in sys.modules]\n"
        "print(heavy, time.perf_counter() - t)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    heavy, _ = out.stdout.rsplit("]", 1)
    assert heavy.strip("[ ") == "", f"--help imported heavy modules: {heavy}]"
