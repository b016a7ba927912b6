"""``vht demo [--headless --out DIR] [--screenshot FILE.png]``: the generated demo case.

Without ``--headless`` the app opens on the demo phantom (CT + ground-truth
segments, surfaces in 3D) with a starter plan: the phantom's landmarks and a biopsy
needle to the tumour, evaluated against the ground truth (frame LPS, mm). The
headless pipeline lives in :mod:`app.headless_demo` (imported lazily).
"""

from __future__ import annotations

import argparse
from typing import Any


def demo_case(progress: Any = None) -> tuple[Any, Any]:
    """(Volume, LabelMap) of the demo case: ``twin.phantom.load_demo_case()``."""
    from twin.phantom import load_demo_case

    return load_demo_case(progress=progress)


def starter_plan(project: Any, labelmap_key: str, progress: Any = None) -> dict[str, Any]:
    """The demo's starter plan as a dict: landmarks and the biopsy needle of :data:`DEMO_LANDMARKS`
    (LPS mm), its metrics evaluated on ``project.labelmaps[labelmap_key]`` (default critical set)."""
    from planning.report_data import evaluate_plan
    from twin.phantom import DEMO_LANDMARKS
    from twin.plan import Landmark, Plan, Trajectory

    lms = DEMO_LANDMARKS
    plan = Plan(labelmap=labelmap_key)
    for key in ("tumor_center", "needle_entry", "liver_hilum", "liver_dome"):
        plan.add(Landmark(name=key, position_lps=lms[key]))
    plan.add(Trajectory(name="biopsy needle", entry_lps=lms["needle_entry"], target_lps=lms["needle_target"],
                        diameter_mm=1.5, length_mm=150.0, kind="needle", target_segment="liver_tumor"))
    return evaluate_plan(plan, project, progress).to_dict()


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
            progress.update(0.7, "evaluating the starter plan")
            proj.plan = starter_plan(proj, "ground_truth")
            return proj

        window.run_worker(work, window.set_project, "Loading the demo case")

    return run_gui(None, screenshot=args.screenshot, setup=setup, command="demo")
