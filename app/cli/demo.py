"""``vht demo [--headless --out DIR] [--screenshot FILE.png]``: the generated demo case.

Without ``--headless`` the app opens on the demo phantom (CT + ground-truth
segments, surfaces in 3D). The headless pipeline lives in
:mod:`app.headless_demo` (imported lazily).
"""

from __future__ import annotations

import argparse
from typing import Any


def demo_case(progress: Any = None) -> tuple[Any, Any]:
    """(Volume, LabelMap) of the demo case: ``twin.phantom.load_demo_case()``.

    Falls back to a small synthetic case while the phantom generator is not available.
    """
    try:
        from twin.phantom import load_demo_case  # type: ignore[attr-defined]
    except ImportError:
        from app.gui.synthetic import synthetic_case

        return synthetic_case()
    return load_demo_case(progress=progress)


def run(args: argparse.Namespace) -> int:
    """Headless pipeline or the GUI on the demo case."""
    if args.headless:
        from app import headless_demo

        return int(headless_demo.run(args) or 0)
    from app.cli.gui import check_screenshot_path
    from app.gui.application import run_gui

    check_screenshot_path(args.screenshot)

    def setup(window: Any) -> None:
        from twin.project import Project

        def work(progress: Any) -> Project:
            progress.update(0.1, "generating the demo case")
            volume, labelmap = demo_case(progress)
            proj = Project(name="demo")
            proj.volumes[volume.name or "ct"] = volume
            proj.labelmaps["ground_truth"] = labelmap
            return proj

        window.run_worker(work, window.set_project, "Loading the demo case")

    return run_gui(None, screenshot=args.screenshot, setup=setup, command="demo")
