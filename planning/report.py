"""The PDF case report (reportlab), from :func:`planning.report_data.collect_report_data`.

Sections: case and provenance, images (MPR + 3-D, rendered off-screen by
:mod:`rendering`), segments, plan (trajectories, resections, margins,
ablations, landmarks, measurements), biomechanics, limitations. Every section
says "not computed" when it has no data; images are replaced by a note when
rendering is unavailable. The PDF is written atomically. Frame: LPS mm.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from twin.io.atomic import atomic_path
from twin.plan import Plan
from twin.progress import Progress, SubProgress, ensure_progress

NOT_COMPUTED = "not computed"


# ----------------------------------------------------------------- formatting helpers
def fmt(value: Any, digits: int = 1, unit: str = "") -> str:
    """Number with fixed decimals (``"not computed"`` for None), booleans as yes/no."""
    if value is None:
        return NOT_COMPUTED
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float | np.floating | np.integer):
        s = f"{float(value):.{digits}f}"
        return f"{s} {unit}".strip()
    return str(value)


def _vec(v: Any, digits: int = 1) -> str:
    return "(" + ", ".join(f"{float(x):.{digits}f}" for x in v) + ")" if v is not None else NOT_COMPUTED


# ----------------------------------------------------------------- images
def render_images(project: Any, plan: Plan, size: tuple[int, int] = (520, 520),
                  progress: Progress | None = None) -> tuple[dict[str, bytes], list[str]]:
    """PNG images of the plan: three MPR slices through the focus point and a 3-D scene.

    Returns
    -------
    images : dict of str -> PNG bytes
        Keys ``axial``, ``coronal``, ``sagittal``, ``3d`` and ``fe`` (when a rehearsal result mesh exists).
    notes : list of str
        Why an image is missing (rendering unavailable, no volume...).
    """
    prog = ensure_progress(progress)
    images: dict[str, bytes] = {}
    notes: list[str] = []
    try:
        from PIL import Image

        from rendering import offscreen
    except Exception as exc:  # noqa: BLE001 - any import failure means "no rendering"
        return images, [f"images not rendered: rendering unavailable ({type(exc).__name__}: {exc})"]

    def png(rgb: np.ndarray) -> bytes:
        buf = io.BytesIO()
        Image.fromarray(np.asarray(rgb, dtype=np.uint8)).save(buf, format="PNG")
        return buf.getvalue()

    def attempt(key: str, fn: Callable[[], np.ndarray]) -> None:
        try:
            images[key] = png(fn())
        except Exception as exc:  # noqa: BLE001 - a failed image must not stop the report
            notes.append(f"{key} image not rendered ({type(exc).__name__}: {exc})")

    vol, lm = project.main_volume, project.main_labelmap
    focus = focus_point(project, plan)
    if vol is None:
        notes.append("MPR images: no image volume in the project")
    else:
        for n, orient in enumerate(("axial", "coronal", "sagittal")):
            prog.update(n / 5, f"rendering {orient}")
            attempt(orient, lambda o=orient: offscreen.render_mpr_slice(vol, lm, o, focus, size=size,
                                                                         crosshair=True))
    prog.update(0.6, "rendering 3-D")
    surfaces = dict(project.surfaces)
    if not surfaces and lm is not None:
        try:
            from segmentation.surfaces import display_surfaces

            wanted = [s.name for s in lm.segments if _is_organ_of_interest(s.name, plan)]
            surfaces = display_surfaces(lm, wanted or None, max_triangles=30_000)
        except Exception as exc:  # noqa: BLE001
            notes.append(f"3-D surfaces not computed ({type(exc).__name__}: {exc})")
    if surfaces:
        objects = plan_scene_objects(plan)
        opacity = {k: _opacity(k, plan) for k in surfaces}
        attempt("3d", lambda: offscreen.render_3d_scene(surfaces, objects, size=(size[0] + 180, size[1]),
                                                        camera="anterior", opacity=opacity))
    else:
        notes.append("3-D image: no surfaces")
    if vol is not None and plan.trajectories:
        prog.update(0.8, "probe's eye")
        try:
            t0 = plan.trajectories[0]
            from planning.segment_roles import checked_names

            # the plan's critical list or the default set by name, with the plan's role overrides
            crit = checked_names(lm.segments if lm is not None else [], plan.critical_segments or None,
                                 plan.segment_roles, exclude=(t0.target_segment,))
            images.update(probes_eye_images(vol, lm, t0, crit))
        except Exception as exc:  # noqa: BLE001
            notes.append(f"probe's-eye images not rendered ({type(exc).__name__}: {exc})")
    for reh in plan.rehearsals:
        key = f"{reh.name}_result"
        if key in project.meshes:
            prog.update(0.85, "rendering FE result")
            mesh = project.meshes[key]
            attempt("fe", lambda m=mesh: offscreen.render_fe_result(m, "displacement", size=(size[0] + 180, size[1]),
                                                                   camera="anterior"))
            break
    prog.update(1.0, "images done")
    return images, notes


def probes_eye_images(volume: Any, labelmap: Any, traj: Any, critical: list[str], size_mm: float = 80.0,
                      pixel_mm: float = 0.4, pixels: int = 300) -> dict[str, bytes]:
    """Two reslices of the image for a trajectory, as PNG bytes (pure numpy + PIL; no GL needed).

    ``probe``: the plane perpendicular to the path at the target (a circle shows the tool
    diameter); ``path``: the plane containing the path and (nearly) the cranio-caudal
    direction, centred on the path (entry at the left, target at the right end of the line).
    Critical segments are outlined in orange, the target segment in green.
    """
    from PIL import Image, ImageDraw

    from planning.trajectories import along_path_frames, path_length_mm, probes_eye_frame, reslice
    from rendering.windowing import apply_window, default_window

    window = default_window(np.asarray(volume.array), volume.modality)
    length = path_length_mm(traj)
    frames = {"probe": (probes_eye_frame(traj), (size_mm, size_mm)),
              "path": (along_path_frames(traj)[1], (max(size_mm, length + 30.0), size_mm))}
    out: dict[str, bytes] = {}
    for key, (frame, extent) in frames.items():
        img = reslice(volume.array, volume.geometry, frame, extent, pixel_mm, order=1, fill=-1000.0)
        grey = apply_window(img, window)
        rgb = np.repeat(grey[..., None], 3, axis=2).astype(np.float32)
        if labelmap is not None and labelmap.geometry.is_same_grid(volume.geometry):
            for names, color in ((critical, (255, 140, 0)), ([traj.target_segment] if traj.target_segment else [],
                                                             (60, 220, 60))):
                for name in names:
                    try:
                        mask = labelmap.mask(name)
                    except Exception:  # noqa: BLE001 - a missing segment is simply not drawn
                        continue
                    m = reslice(mask.astype(np.float32), labelmap.geometry, frame, extent, pixel_mm, order=0) > 0.5
                    edge = m & ~(np.roll(m, 1, 0) & np.roll(m, -1, 0) & np.roll(m, 1, 1) & np.roll(m, -1, 1))
                    rgb[edge] = color
        # rows of the picture run along -v (so +v is up), columns along +u
        pic = Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8).transpose(1, 0, 2)[::-1])
        scale = pixels / max(pic.size)
        pic = pic.resize((int(pic.size[0] * scale), int(pic.size[1] * scale)), Image.Resampling.BILINEAR)
        draw = ImageDraw.Draw(pic)
        cx, cy = pic.size[0] / 2, pic.size[1] / 2
        px_per_mm = scale / pixel_mm
        if key == "probe":
            r = traj.diameter_mm / 2 * px_per_mm + 1
            draw.ellipse([cx - r, cy - r, cx + r, cy + r], outline=(255, 230, 0), width=2)
        else:
            half = length / 2 * px_per_mm
            draw.line([(cx - half, cy), (cx + half, cy)], fill=(255, 230, 0), width=2)
        buf = io.BytesIO()
        pic.save(buf, format="PNG")
        out[key] = buf.getvalue()
    return out


def _opacity(name: str, plan: Plan) -> float:
    """3-D opacity: organs being cut or retracted and bone translucent so the plan inside stays visible."""
    n = name.lower()
    if any(w in n for w in ("bone", "rib", "spine", "skin", "body")):
        return 0.12
    return 0.3 if _is_organ_of_interest(name, plan, context=True) else 1.0


def _is_organ_of_interest(name: str, plan: Plan, context: bool = False) -> bool:
    """Segments shown in 3-D: those the plan refers to plus vessels; ``context``: drawn translucent."""
    n = name.lower()
    organs = {r.organ_segment for r in plan.resections} | {r.organ_segment for r in plan.rehearsals}
    if context:
        return name in organs or n in ("liver", "body", "skin")
    refs = set(plan.critical_segments) | organs
    refs |= {r.tumour_segment for r in plan.resections if r.tumour_segment}
    refs |= {t.target_segment for t in plan.trajectories if t.target_segment}
    return name in refs or any(w in n for w in ("vessel", "vein", "aorta", "cava", "tumo", "liver"))


def plan_scene_objects(plan: Plan) -> list[Any]:
    """:mod:`rendering.scene` objects for trajectories, resection planes, ablation centres, landmarks."""
    from rendering.scene import MarkerObject, PlaneObject, line

    objs: list[Any] = []
    for t in plan.trajectories:
        objs.append(line([t.entry_lps, t.target_lps], radius_mm=max(1.0, t.diameter_mm / 2), name=f"traj {t.name}"))
        objs.append(MarkerObject(np.asarray(t.target_lps), 2.5, (1.0, 0.9, 0.1), "", f"target {t.name}"))
    for r in plan.resections:
        for i, p in enumerate(r.planes):
            objs.append(PlaneObject(np.asarray(p.origin_lps), np.asarray(p.normal_lps), 160.0, (0.2, 0.6, 1.0), 0.35,
                                    f"plane {r.name} {i}"))
    for a in plan.ablation_zones:
        objs.append(MarkerObject(np.asarray(a.center_lps), 2.0, (1.0, 0.3, 0.1), "", f"ablation {a.name}"))
    for lm in plan.landmarks:
        objs.append(MarkerObject(np.asarray(lm.position_lps), 2.0, (1.0, 0.2, 0.2), "", f"lm {lm.name}"))
    return objs


def focus_point(project: Any, plan: Plan) -> np.ndarray:
    """Where the MPR slices cross: first trajectory target, else tumour centroid, else image centre (LPS)."""
    if plan.trajectories:
        return np.asarray(plan.trajectories[0].target_lps)
    lm = project.main_labelmap
    if lm is not None:
        for s in lm.segments:
            if any(w in s.name.lower() for w in ("tumo", "lesion", "target")):
                idx = np.argwhere(lm.mask(s))
                if len(idx):
                    return lm.geometry.index_to_lps(idx.mean(axis=0)[None])[0]
    vol = project.main_volume
    geom = vol.geometry if vol is not None else (lm.geometry if lm is not None else None)
    if geom is None:
        return np.zeros(3)
    return geom.index_to_lps(((np.asarray(geom.shape) - 1) / 2.0)[None])[0]


# ----------------------------------------------------------------- PDF
def write_report_pdf(data: dict[str, Any], path: str | Path, images: dict[str, bytes] | None = None,
                     image_notes: list[str] | None = None) -> Path:
    """Lay out ``data`` (from :func:`collect_report_data`) as a PDF at ``path``, atomically."""
    from planning._pdf import build_story, make_doc

    path = Path(path)
    with atomic_path(path) as tmp:
        doc, on_page = make_doc(str(tmp), data)
        doc.build(build_story(data, images or {}, image_notes or []), onFirstPage=on_page, onLaterPages=on_page)
    return path


def build_report(project: Any, path: str | Path, identify: bool = False, images: bool = True,
                 recompute: bool = True, progress: Progress | None = None) -> dict[str, Any]:
    """Collect the numbers, render the images and write the PDF; returns the report data (for ``--json``)."""
    from planning.report_data import collect_report_data

    prog = ensure_progress(progress)
    data = collect_report_data(project, identify=identify, recompute=recompute,
                               progress=SubProgress(prog, 0.0, 0.5, "numbers: "))
    imgs: dict[str, bytes] = {}
    notes: list[str] = []
    if images:
        plan = Plan.from_project(project)
        imgs, notes = render_images(project, plan, progress=SubProgress(prog, 0.5, 0.9, "images: "))
    else:
        notes = ["images not rendered (disabled)"]
    data["images"] = {"rendered": sorted(imgs), "notes": notes}
    prog.update(0.92, "writing PDF")
    write_report_pdf(data, path, imgs, notes)
    prog.update(1.0, "report written")
    return data
