"""Off-screen rendering to RGB arrays and PNG files (reports, tests, the GUI's no-GL fallback).

Frame: patient LPS, mm. Slice images use the radiological convention of
:mod:`rendering.slicing` and carry orientation letters and a scale bar; 3-D
images are rendered by VTK without a window (EGL when there is no X display).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from rendering.mpr import nice_scale_length, render_slice, screen_letters
from rendering.overlay import OverlayStyle
from rendering.scene import (
    Camera,
    PlanObject,
    add_fe_result,
    add_orientation_axes,
    add_plan_objects,
    add_segment_surfaces,
    set_camera,
)
from rendering.slicing import SlicePlane
from rendering.windowing import WindowLevel
from twin.labelmap import LabelMap
from twin.meshes import SurfaceModel, TetMesh
from twin.volume import Volume

BACKGROUND = (0.10, 0.11, 0.14)


def prepare_offscreen_gl() -> None:
    """Choose EGL for VTK windows when no X display is available (otherwise VTK may abort the process)."""
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        os.environ.setdefault("VTK_DEFAULT_OPENGL_WINDOW", "vtkEGLRenderWindow")


def _font(size: int) -> Any:
    from PIL import ImageFont

    for name in ("DejaVuSans-Bold.ttf", "DejaVuSans.ttf", "LiberationSans-Bold.ttf"):
        try:
            return ImageFont.truetype(name, size)
        except OSError:
            continue
    return ImageFont.load_default()


def render_mpr_slice(
    volume: Volume,
    labelmap: LabelMap | None,
    orientation: str | SlicePlane,
    position_lps: ArrayLike,
    size: tuple[int, int] = (512, 512),
    window: WindowLevel | None = None,
    overlay: OverlayStyle | None = None,
    annotate: bool = True,
    crosshair: bool = False,
) -> NDArray[np.uint8]:
    """One slice as an RGB image ``(height, width, 3)`` uint8, physical aspect ratio kept.

    Parameters
    ----------
    volume : Volume
        Image (LPS mm).
    labelmap : LabelMap or None
        Segments drawn in their colours (``overlay`` sets opacity / outline).
    orientation : {"axial", "coronal", "sagittal"} or SlicePlane
        Standard plane (radiological convention) or an oblique plane (its point is replaced by ``position_lps``).
    position_lps : array_like (3,)
        A point on the slice, mm.
    size : (width, height)
        Output size in pixels.
    window : WindowLevel, optional
        Default soft tissue (CT) or percentile window.
    annotate : bool
        Draw orientation letters (L/R/A/P/S/I) and a scale bar.
    crosshair : bool
        Draw a cross at ``position_lps``.
    """
    from PIL import Image, ImageDraw

    plane = (orientation.moved_to(position_lps) if isinstance(orientation, SlicePlane)
             else SlicePlane.standard(orientation, position_lps))
    rs = render_slice(volume, plane, window, labelmap, overlay)
    width, height = int(size[0]), int(size[1])
    rows, cols = rs.slice.shape
    dr, dc = rs.slice.pixel_spacing_mm
    extent_w, extent_h = cols * dc, rows * dr
    scale = min(width / extent_w, height / extent_h)  # pixels per mm
    tw, th = max(1, int(round(extent_w * scale))), max(1, int(round(extent_h * scale)))
    img = Image.fromarray(rs.rgb, "RGB").resize((tw, th), Image.Resampling.BILINEAR)
    canvas = Image.new("RGB", (width, height), (0, 0, 0))
    x0, y0 = (width - tw) // 2, (height - th) // 2
    canvas.paste(img, (x0, y0))
    draw = ImageDraw.Draw(canvas)
    if crosshair:
        rc = rs.slice.lps_to_pixel(np.asarray(position_lps, float)[None])[0]
        cx = x0 + (rc[1] + 0.5) * dc * scale
        cy = y0 + (rc[0] + 0.5) * dr * scale
        draw.line([(cx - 12, cy), (cx - 4, cy)], fill=(255, 255, 0), width=1)
        draw.line([(cx + 4, cy), (cx + 12, cy)], fill=(255, 255, 0), width=1)
        draw.line([(cx, cy - 12), (cx, cy - 4)], fill=(255, 255, 0), width=1)
        draw.line([(cx, cy + 4), (cx, cy + 12)], fill=(255, 255, 0), width=1)
    if annotate:
        fsize = max(10, min(width, height) // 28)
        font = _font(fsize)
        letters = screen_letters(plane)
        color = (255, 210, 80)
        draw.text((width / 2, 4), letters["top"], fill=color, font=font, anchor="mt")
        draw.text((width / 2, height - 4), letters["bottom"], fill=color, font=font, anchor="mb")
        draw.text((4, height / 2), letters["left"], fill=color, font=font, anchor="lm")
        draw.text((width - 4, height / 2), letters["right"], fill=color, font=font, anchor="rm")
        bar_mm = nice_scale_length(0.25 * width / scale)
        bar_px = bar_mm * scale
        bx1, by = width - 10, height - 10 - fsize
        draw.line([(bx1 - bar_px, by), (bx1, by)], fill=(230, 230, 230), width=2)
        for x in (bx1 - bar_px, bx1):
            draw.line([(x, by - 4), (x, by + 4)], fill=(230, 230, 230), width=2)
        small = _font(max(9, fsize * 3 // 4))
        draw.text((bx1 - bar_px / 2, by + 3), f"{bar_mm:g} mm", fill=(230, 230, 230), font=small,
                  anchor="mt")
    return np.asarray(canvas)


def _offscreen_plotter(size: tuple[int, int]) -> Any:
    prepare_offscreen_gl()
    import pyvista as pv

    p = pv.Plotter(off_screen=True, window_size=(int(size[0]), int(size[1])))
    p.set_background(BACKGROUND)
    return p


def render_with(
    draw: Callable[[Any], None],
    size: tuple[int, int] = (800, 600),
    camera: str | Camera | None = "anterior",
    axes: bool = True,
) -> NDArray[np.uint8]:
    """Render whatever ``draw(plotter)`` adds into an RGB array ``(height, width, 3)``; the plotter is closed."""
    p = _offscreen_plotter(size)
    try:
        draw(p)
        if axes:
            add_orientation_axes(p)
        set_camera(p, camera)
        img = p.screenshot(return_img=True)
    finally:
        p.close()
    return np.asarray(img)[..., :3].copy()


def render_3d_scene(
    surfaces: Mapping[str, SurfaceModel] | Iterable[SurfaceModel],
    plan_objects: Iterable[PlanObject] = (),
    size: tuple[int, int] = (800, 600),
    camera: str | Camera | None = "anterior",
    opacity: Mapping[str, float] | None = None,
) -> NDArray[np.uint8]:
    """Segment surfaces and plan objects (LPS mm) rendered off-screen -> RGB ``(height, width, 3)``.

    ``camera``: a name of :data:`rendering.scene.CAMERA_VIEWS` (``"anterior"`` shows the patient's
    left on the image right), an explicit :class:`rendering.scene.Camera`, or None.
    """
    objs = list(plan_objects)

    def draw(p: Any) -> None:
        add_segment_surfaces(p, surfaces, opacity=opacity)
        if objs:
            add_plan_objects(p, objs)

    return render_with(draw, size, camera)


def render_fe_result(
    mesh: TetMesh,
    field: str = "displacement",
    scale: float = 1.0,
    size: tuple[int, int] = (800, 600),
    camera: str | Camera | None = "iso",
    ghost: bool = True,
    context: Iterable[SurfaceModel] = (),
) -> NDArray[np.uint8]:
    """A finite-element result (deformed by ``scale``, coloured by ``field``, with a scalar bar) -> RGB."""
    ctx = list(context)

    def draw(p: Any) -> None:
        add_fe_result(p, mesh, field, scale, ghost)
        if ctx:
            add_segment_surfaces(p, ctx, opacity={s.name: 0.25 for s in ctx})

    return render_with(draw, size, camera)


def save_png(rgb: NDArray[np.uint8], path: str | Path) -> Path:
    """Write an RGB(A) array as PNG atomically."""
    from PIL import Image

    from twin.io.atomic import atomic_path

    path = Path(path)
    with atomic_path(path) as tmp:
        Image.fromarray(np.ascontiguousarray(rgb)).save(tmp, format="PNG")
    return path
