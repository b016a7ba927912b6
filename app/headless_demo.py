"""``vht demo --headless --out DIR``: the whole pipeline on the generated demo phantom, without a display.

Stages (each with its own progress bar on stderr; a failing stage stops the run
with one clear line, exit code 1, and no traceback):

1. phantom     generated abdominal CT (``twin.phantom.load_demo_case``, cached)
2. segment     presets (body, bone, lungs) and seeds (liver grown from a few landmark clicks
               with competing seeds, tumour from its centre, hepatic vessels inside the liver);
               Dice against the phantom's ground truth is recorded
3. surfaces    surfaces of the segments
4. mesh        tet mesh of the liver with the tumour as its own region
5. plan        needle trajectory to the tumour, resection plane, margins, ablation
6. rehearsal   retraction of the liver surface, solved by biomech
7. verify      the quick FE verification cases relevant to the rehearsal (tet4 linear elasticity)
8. save        the Project into DIR (atomic)
9. report      DIR/report.pdf (+ DIR/report.json)

Frame: LPS mm throughout.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

STAGES = ("phantom", "segment", "surfaces", "mesh", "plan", "rehearsal", "verify", "save", "report")
VERIFY_CASES = ("patch test tet4", "cantilever", "Lame sphere", "L2 order tet4", "gravity", "FEBio sh13")
"""Quick verification cases exercising what the rehearsal uses (tet4, linear elasticity, no contact)."""


class StageFailed(Exception):
    """A stage could not complete; the message says which and why."""


def _dice(a: np.ndarray, b: np.ndarray) -> float:
    s = int(a.sum()) + int(b.sum())
    return float(2 * np.count_nonzero(a & b) / s) if s else 1.0


# ----------------------------------------------------------------- stages
def stage_phantom(ctx: dict[str, Any], progress: Any) -> str:
    """Load (or generate and cache) the demo CT and its ground truth."""
    from twin.phantom import DEMO_LANDMARKS, load_demo_case

    vol, truth = load_demo_case(progress=progress)
    ctx.update(volume=vol, truth=truth, landmarks=dict(DEMO_LANDMARKS))
    return f"{vol.geometry.shape} voxels of {np.round(vol.geometry.spacing, 2).tolist()} mm"


def _spread_points(cands: np.ndarray, n: int) -> np.ndarray:
    """``n`` well-spread rows of ``cands`` (farthest-point sampling from the first)."""
    pts = [cands[0]]
    d = np.linalg.norm(cands - cands[0], axis=1)
    for _ in range(min(n, len(cands)) - 1):
        i = int(np.argmax(d))
        pts.append(cands[i])
        d = np.minimum(d, np.linalg.norm(cands - cands[i], axis=1))
    return np.array(pts)


def _seed_sets(lms: dict[str, Any], body: np.ndarray, geom: Any) -> list[Any]:
    """Clicks of the demo's grow-from-seeds run (LPS mm): four liver points (dome, resection plane point,
    30 mm right of the hilum, 22 mm from the tumour towards the needle entry), the tumour centre, the
    kidneys and the spleen (competing, not kept), and 24 background points in the body wall 6-12 mm
    under the skin."""
    from segmentation import morphology as morph
    from segmentation.grow import SeedSet
    from twin.phantom.landmarks import NEEDLE_DIRECTION

    tumour = np.asarray(lms["tumor_center"], float)
    towards_skin = np.asarray(NEEDLE_DIRECTION, float) / np.linalg.norm(NEEDLE_DIRECTION)
    liver = [lms["liver_dome"], lms["resection_plane_point"], np.asarray(lms["liver_hilum"]) + [-30.0, 0.0, 0.0],
             tumour + 22.0 * towards_skin]
    wall = body & ~morph.erode(body, geom, 12.0) & morph.erode(body, geom, 6.0)
    background = geom.index_to_lps(_spread_points(np.argwhere(wall), 24))
    return [SeedSet("liver", np.array(liver, float)), SeedSet("liver_tumor", tumour[None]),
            SeedSet("kidney_right", np.array([lms["kidney_right_center"]])),
            SeedSet("kidney_left", np.array([lms["kidney_left_center"]])),
            SeedSet("spleen", np.array([lms["spleen_center"]])), SeedSet("background", background)]


def stage_segment(ctx: dict[str, Any], progress: Any) -> str:
    """Presets and seeded growing -> a label map (liver, tumour, vessels, body, bone, lungs).

    The liver is grown from seeds (competitive, with the tumour, kidneys, spleen and the body wall
    competing) inside the body without bone and lungs; the tumour by connected threshold from its
    centre; the hepatic vessels with :func:`segmentation.vessels.segment_vessels` in the liver.
    """
    from segmentation import morphology as morph
    from segmentation.grow import grow_from_seeds, region_grow, seed_image
    from segmentation.presets import run_preset
    from twin.labelmap import LabelMap
    from twin.progress import SubProgress

    vol, lms, truth = ctx["volume"], ctx["landmarks"], ctx["truth"]
    geom = vol.geometry
    masks: dict[str, np.ndarray] = {}
    for n, preset in enumerate(("body", "bone", "lungs")):
        masks[preset] = run_preset(vol, preset, SubProgress(progress, 0.1 * n, 0.1 * (n + 1), f"{preset}: "))
    progress.update(0.35, "liver (grow from seeds)")
    sets = _seed_sets(lms, masks["body"], geom)
    grown = grow_from_seeds(vol, seed_image(geom, sets), background=[len(sets)],
                            region=masks["body"] & ~masks["bone"] & ~masks["lungs"],
                            progress=SubProgress(progress, 0.35, 0.75, "liver: "))
    liver = morph.fill_holes(morph.closing((grown == 1) | (grown == 2), geom, 5.0), "3d")
    progress.update(0.75, "tumour (seeded growing)")
    tumour = region_grow(vol, [lms["tumor_center"]], 0, 70, max_distance_mm=25.0, bridge_radius_mm=2.0)
    tumour = morph.fill_holes(morph.closing(tumour, geom, 2.0)) & liver
    progress.update(0.85, "hepatic vessels (connected bright tubes in the liver)")
    from segmentation.vessels import segment_vessels

    vessels = segment_vessels(vol, liver) & ~tumour
    masks.update(liver=liver & ~tumour & ~vessels, liver_tumor=tumour, hepatic_vessels=vessels)
    order = ["body", "lungs", "bone", "liver", "hepatic_vessels", "liver_tumor"]  # later ones win
    labels = np.zeros(geom.shape, np.uint8)
    names = {}
    for v, name in enumerate(order, start=1):
        labels[masks[name]] = v
        names[v] = name
    lm = LabelMap.from_array(labels, geom, names=names, name="segmentation")
    dice = {}
    for name in ("liver", "liver_tumor", "hepatic_vessels", "lungs"):
        truth_mask = truth.mask(name)
        if name == "liver":  # the grown liver includes its tumour and vessels until split
            dice[name] = _dice(lm.mask(name) | lm.mask("liver_tumor") | lm.mask("hepatic_vessels"),
                               truth_mask | truth.mask("liver_tumor") | truth.mask("hepatic_vessels"))
        else:
            dice[name] = _dice(lm.mask(name), truth_mask)
    ctx.update(labelmap=lm, dice=dice)
    if lm.voxel_count("liver_tumor") == 0 or lm.voxel_count("liver") == 0:
        raise StageFailed("liver or tumour segmentation came out empty")
    return "Dice vs ground truth: " + ", ".join(f"{k} {v:.3f}" for k, v in dice.items())


def stage_surfaces(ctx: dict[str, Any], progress: Any) -> str:
    """Surfaces of the segments (segmentation.surfaces when present, else display surfaces)."""
    lm = ctx["labelmap"]
    names = ["liver", "liver_tumor", "hepatic_vessels", "bone"]
    surfs = None
    note = ""
    try:
        from segmentation import surfaces as seg_surfaces  # type: ignore[attr-defined]

        fn = getattr(seg_surfaces, "labelmap_surfaces", None) or seg_surfaces.segment_surfaces
        surfs = fn(lm, names, progress=progress)
    except ImportError:
        note = " (display surfaces: segmentation.surfaces not available)"
    except Exception as exc:  # noqa: BLE001 - an API mismatch falls back to display surfaces
        note = f" (display surfaces: segmentation.surfaces failed: {type(exc).__name__}: {exc})"
    if surfs is None:
        from segmentation.surfaces import display_surfaces

        surfs = display_surfaces(lm, names, max_triangles=40_000, progress=progress)
    ctx["surfaces"] = dict(surfs)
    return ", ".join(f"{k} {s.n_triangles} triangles" for k, s in surfs.items()) + note


def stage_mesh(ctx: dict[str, Any], progress: Any) -> str:
    """Tet mesh of the liver (parenchyma + vessels) with the tumour as its own region."""
    from biomech.meshing import tetmesh_from_labelmap
    from twin.labelmap import LabelMap

    lm = ctx["labelmap"]
    arr = np.zeros(lm.shape, np.uint8)
    arr[lm.mask("liver") | lm.mask("hepatic_vessels")] = 1
    arr[lm.mask("liver_tumor")] = 2
    fe_lm = LabelMap.from_array(arr, lm.geometry, names={1: "liver", 2: "liver_tumor"})
    mesh = tetmesh_from_labelmap(fe_lm, ["liver", "liver_tumor"], target_edge_mm=ctx.get("edge_mm", 7.0),
                                 progress=progress)
    ctx["mesh"] = mesh
    counts = {mesh.region_names.get(int(r), str(r)): int(np.count_nonzero(mesh.region == r))
              for r in np.unique(mesh.region)}
    return f"{mesh.n_cells} tets, {mesh.n_points} nodes, regions {counts}"


def stage_plan(ctx: dict[str, Any], progress: Any) -> str:
    """Trajectory, resection, safety margin and ablation zone, evaluated on the label map."""
    from planning.report_data import evaluate_plan
    from twin.plan import AblationZone, CutPlane, Landmark, Plan, Rehearsal, Resection, SafetyMargin, Trajectory
    from twin.project import Project

    lms = ctx["landmarks"]
    plan = Plan(critical_segments=["hepatic_vessels", "bone", "lungs"], labelmap="segmentation")
    for key in ("tumor_center", "needle_entry", "liver_hilum", "liver_dome"):
        plan.add(Landmark(name=key, position_lps=lms[key]))
    plan.add(Trajectory(name="biopsy needle", entry_lps=lms["needle_entry"], target_lps=lms["needle_target"],
                        diameter_mm=1.5, length_mm=150.0, kind="needle", target_segment="liver_tumor"))
    plan.add(Resection(name="right lateral resection", organ_segment="liver", tumour_segment="liver_tumor",
                       planes=(CutPlane(lms["resection_plane_point"], lms["resection_plane_normal"]),),
                       vessel_segments=("hepatic_vessels",)))
    plan.add(SafetyMargin(name="tumour to vessels", target_segment="liver_tumor",
                          critical_segments=("hepatic_vessels",), threshold_mm=5.0))
    plan.add(AblationZone(name="microwave ablation", center_lps=lms["tumor_center"], radii_mm=(20.0, 20.0, 20.0),
                          tumour_segment="liver_tumor", margin_mm=5.0))
    entry, target = np.asarray(lms["needle_entry"]), np.asarray(lms["tumor_center"])
    out = (entry - target) / np.linalg.norm(entry - target)
    point = _surface_point(ctx["mesh"], target, out)
    plan.add(Rehearsal(name="liver retraction", kind="retraction", organ_segment="liver", mesh="liver_fe",
                       point_lps=point, radius_mm=20.0, displacement_lps=tuple(8.0 * out),
                       case_document="rehearsal_case"))
    proj = Project(name="demo", volumes={"ct": ctx["volume"]}, labelmaps={"segmentation": ctx["labelmap"]})
    plan = evaluate_plan(plan, proj, progress)
    surfs = ctx.get("surfaces", {})
    if "liver_tumor" in surfs:  # per-vertex distance to the vessels, for colouring the tumour surface
        from planning.margins import surface_distance_map

        surfs["liver_tumor"], _ = surface_distance_map(surfs["liver_tumor"], ctx["labelmap"], ["hepatic_vessels"])
    ctx["plan"] = plan
    t = plan.trajectories[0].metrics
    r = plan.resections[0].metrics
    return (f"needle {t['path_length_mm']:.1f} mm, clearance {fmt_mm(t.get('min_clearance_mm'))} "
            f"({t.get('closest_structure')}); resection remnant {r.get('remnant_percent', float('nan')):.1f} %, "
            f"tumour margin {fmt_mm(r.get('tumour_margin_mm'))}")


def fmt_mm(v: float | None) -> str:
    """``"12.3 mm"`` or ``"n/a"``."""
    return "n/a" if v is None else f"{v:.1f} mm"


def _surface_point(mesh: Any, start: np.ndarray, direction: np.ndarray) -> tuple[float, float, float]:
    """The boundary node of ``mesh`` closest to the ray ``start + t * direction`` (t > 0): where to retract."""
    from planning.rehearsal import boundary_faces

    nodes = np.unique(boundary_faces(mesh.cells))
    p = np.asarray(mesh.points_lps)[nodes] - start
    t = p @ direction
    off = np.linalg.norm(p - t[:, None] * direction, axis=1) + np.where(t > 0, 0.0, 1e6)
    q = np.asarray(mesh.points_lps)[nodes[int(np.argmin(off))]]
    return (float(q[0]), float(q[1]), float(q[2]))


def stage_rehearsal(ctx: dict[str, Any], progress: Any) -> str:
    """Retraction of the liver, solved with biomech; summary stored in the plan."""
    from planning.rehearsal import run_rehearsal

    plan = ctx["plan"]
    reh = plan.rehearsals[0]
    model = ctx.get("material", "linear-elastic")
    done, case, result_mesh = run_rehearsal(reh, ctx["mesh"], material_model=model, steps=1, progress=progress)
    plan.replace(done)
    ctx.update(rehearsal_case=case, rehearsal_mesh=result_mesh)
    r = done.result
    if not r["converged"]:
        return f"did not converge: {r['status']}"
    return (f"max displacement {r['max_displacement_mm']:.2f} mm, max von Mises {1000 * r['max_von_mises_mpa']:.2f} "
            f"kPa, {r['newton_iterations']} Newton iterations, {r['wall_seconds']:.1f} s")


def stage_verify(ctx: dict[str, Any], progress: Any) -> str:
    """Run the verification cases the rehearsal relies on; stored as the project's verification document."""
    import math

    from biomech.verification.suite import case_functions

    funcs = [(label, fn) for label, fn in case_functions(quick=True) if label in VERIFY_CASES]
    rows = []
    for i, (label, fn) in enumerate(funcs):
        progress.update(i / len(funcs), label)
        d = fn().to_dict()
        rows.append({k: (None if isinstance(v, float) and not math.isfinite(v) else v)
                     for k, v in d.items() if k != "details"})
    passed = all(r.get("passed") for r in rows)
    ctx["verification"] = {"passed": passed, "quick": True, "cases": rows,
                           "subset": "cases relevant to the rehearsal (tet4, linear elasticity, no contact)"}
    return f"{sum(bool(r.get('passed')) for r in rows)} of {len(rows)} cases passed"


def stage_save(ctx: dict[str, Any], progress: Any) -> str:
    """Write the project folder (atomic)."""
    from twin.project import Project

    proj = Project(name="demo", volumes={"ct": ctx["volume"]}, labelmaps={"segmentation": ctx["labelmap"]})
    proj.surfaces.update(ctx.get("surfaces", {}))
    if "mesh" in ctx:
        proj.meshes["liver_fe"] = ctx["mesh"]
    if ctx.get("rehearsal_mesh") is not None:
        proj.meshes[f"{ctx['plan'].rehearsals[0].name}_result"] = ctx["rehearsal_mesh"]
    if "plan" in ctx:
        proj.plan = ctx["plan"].to_dict()
    if "rehearsal_case" in ctx:
        proj.documents["rehearsal_case"] = ctx["rehearsal_case"]
    if "verification" in ctx:
        proj.documents["verification"] = ctx["verification"]
    proj.documents["demo_pipeline"] = {"segmentation_dice_vs_ground_truth": ctx.get("dice", {}),
                                       "stage_seconds": ctx.get("timings", {}), "frame": "LPS"}
    ctx["project"] = proj
    path = proj.save(ctx["out"], progress=progress)
    return str(path)


def stage_report(ctx: dict[str, Any], progress: Any) -> str:
    """DIR/report.pdf and DIR/report.json."""
    import json

    from planning.report import build_report
    from twin.io.atomic import atomic_write_text

    out = Path(ctx["out"])
    data = build_report(ctx["project"], out / "report.pdf", recompute=False, progress=progress)
    atomic_write_text(out / "report.json", json.dumps(data, indent=2) + "\n")
    return f"{out / 'report.pdf'} ({len(data['images']['rendered'])} images)"


_FUNCS: dict[str, Callable[[dict[str, Any], Any], str]] = {
    "phantom": stage_phantom, "segment": stage_segment, "surfaces": stage_surfaces, "mesh": stage_mesh,
    "plan": stage_plan, "rehearsal": stage_rehearsal, "verify": stage_verify, "save": stage_save,
    "report": stage_report,
}


def run_pipeline(out: Path, quiet: bool = False, debug: bool = False, edge_mm: float = 7.0) -> tuple[int, dict]:
    """Run every stage; returns (exit code, context with results and ``timings``)."""
    from app.cli.progressbar import StderrProgress
    from twin.errors import Cancelled

    ctx: dict[str, Any] = {"out": out, "timings": {}, "edge_mm": edge_mm}
    t_all = time.perf_counter()
    for n, name in enumerate(STAGES, start=1):
        bar = StderrProgress(f"[{n}/{len(STAGES)}] {name:<9}", quiet=quiet)
        t0 = time.perf_counter()
        try:
            msg = _FUNCS[name](ctx, bar)
        except (KeyboardInterrupt, Cancelled):
            bar.close()
            print(f"vht demo: cancelled during stage {name}", file=sys.stderr)
            return 130, ctx
        except Exception as exc:  # noqa: BLE001 - one clear line per failed stage, never a traceback
            bar.close()
            if debug:
                raise
            reason = str(exc) or type(exc).__name__
            print(f"vht demo: stage {n} ({name}) failed: {type(exc).__name__}: {reason}", file=sys.stderr)
            return 1, ctx
        bar.update(1.0, "done")
        bar.close()
        ctx["timings"][name] = round(time.perf_counter() - t0, 2)
        if not quiet:
            print(f"    {name}: {msg} [{ctx['timings'][name]:.1f} s]", file=sys.stderr)
    ctx["timings"]["total"] = round(time.perf_counter() - t_all, 2)
    return 0, ctx


def run(args: argparse.Namespace) -> int:
    """Entry point of ``vht demo --headless --out DIR``."""
    from twin.errors import InputError

    if not args.out:
        raise InputError("--headless needs --out DIR")
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise InputError("--out must be a folder", out)
    from rendering.offscreen import prepare_offscreen_gl

    prepare_offscreen_gl()
    code, ctx = run_pipeline(out, quiet=getattr(args, "quiet", False), debug=getattr(args, "debug", False))
    if code == 0 and not getattr(args, "quiet", False):
        print(f"vht demo: wrote {out} and {out / 'report.pdf'} in {ctx['timings']['total']:.1f} s", file=sys.stderr)
    return code
