"""Surfaces coloured by a signed distance (mm) with a scalar bar: safety margins (red below the margin,
then orange -> light blue with distance) and resection cuts (diverging: resected side warm, remnant
side blue, red within the margin of the cut). The values come from :mod:`planning.distance_colours`;
actors are drawn with a polygon offset so they cover the structure's plain surface. Frame LPS, mm.
"""

from __future__ import annotations

from typing import Any

import numpy as np

BELOW_COLOR = (0.9, 0.05, 0.05)
CMAP_COLORS = ("#ff9a00", "#ffe14d", "#7bd389", "#9ad9f5")
"""Above the threshold: orange (just above) -> yellow -> green -> light blue (far); readable on the dark view."""


def bar_title(target: str) -> str:
    """Scalar-bar title of the distance colours."""
    return f"Distance to {target} (mm)"


def add_distance_surface(plotter: Any, surface: Any, threshold_mm: float, title: str, name: str,
                         clim_max_mm: float | None = None) -> Any:
    """Add ``surface`` (SurfaceModel with ``point_data["distance_mm"]``) coloured by distance: red below
    ``threshold_mm``, then yellow (near) to blue (far) up to ``clim_max_mm``; one shared scalar bar in mm."""
    from matplotlib.colors import LinearSegmentedColormap  # a pyvista dependency

    mesh = surface.to_pyvista()
    mesh.point_data["distance_mm"] = np.asarray(surface.point_data["distance_mm"], float)
    hi = clim_max_mm if clim_max_mm is not None else max(threshold_mm * 4.0, threshold_mm + 20.0)
    cmap = LinearSegmentedColormap.from_list("vht_margin", CMAP_COLORS)
    actor = plotter.add_mesh(
        mesh, scalars="distance_mm", cmap=cmap, clim=(threshold_mm, hi), below_color=BELOW_COLOR,
        smooth_shading=True, name=name, render=False,
        scalar_bar_args={"title": title, "vertical": False, "fmt": "%.0f", "position_x": 0.2, "position_y": 0.03,
                         "height": 0.12, "width": 0.6, "title_font_size": 14, "label_font_size": 12, "n_labels": 5,
                         "below_label": f"<{threshold_mm:g}"},
    )
    _style_bar(plotter, title)
    _offset(actor)
    return actor


CUT_TITLE = "Distance to the cut (mm, + resected side)"


def cut_colormap(threshold_mm: float, range_mm: float, n: int = 512) -> Any:
    """Diverging map over ``[-range_mm, range_mm]``: red where ``|d| < threshold_mm``, remnant side (-) blue
    (light near the cut, deep far), resected side (+) orange to yellow."""
    from matplotlib.colors import ListedColormap, to_rgb

    v = np.linspace(-range_mm, range_mm, n)
    t = np.clip((np.abs(v) - threshold_mm) / max(range_mm - threshold_mm, 1e-9), 0, 1)[:, None]
    near_neg, far_neg = np.array(to_rgb("#9ad9f5")), np.array(to_rgb("#2f6fd0"))
    near_pos, far_pos = np.array(to_rgb("#ff9a00")), np.array(to_rgb("#ffe14d"))
    rgb = np.where(v[:, None] < 0, near_neg + t * (far_neg - near_neg), near_pos + t * (far_pos - near_pos))
    rgb[np.abs(v) < threshold_mm] = BELOW_COLOR
    return ListedColormap(rgb)


def add_cut_distance_surface(plotter: Any, surface: Any, threshold_mm: float, range_mm: float, name: str) -> Any:
    """Add ``surface`` coloured by its signed distance to the cut (:func:`cut_colormap`) with a scalar bar."""
    mesh = surface.to_pyvista()
    mesh.point_data["distance_mm"] = np.asarray(surface.point_data["distance_mm"], float)
    actor = plotter.add_mesh(
        mesh, scalars="distance_mm", cmap=cut_colormap(threshold_mm, range_mm), clim=(-range_mm, range_mm),
        smooth_shading=True, name=name, render=False,
        scalar_bar_args={"title": CUT_TITLE, "vertical": False, "fmt": "%.0f", "position_x": 0.2, "position_y": 0.03,
                         "height": 0.12, "width": 0.6, "title_font_size": 14, "label_font_size": 12, "n_labels": 5},
    )
    _style_bar(plotter, CUT_TITLE)
    _offset(actor)
    return actor


def _style_bar(plotter: Any, title: str) -> None:
    try:
        bar = plotter.scalar_bars[title]
    except (KeyError, AttributeError):
        return
    bar.SetTextPositionToPrecedeScalarBar()  # tick labels below the bar, then the title
    bar.SetVerticalTitleSeparation(12)  # (without it the title overlaps the tick labels)
    from rendering.scene import text_color_for

    color = text_color_for(plotter)  # readable on the 3-D view's background (was dark grey on dark)
    for prop in (bar.GetTitleTextProperty(), bar.GetLabelTextProperty(), bar.GetAnnotationTextProperty()):
        prop.SetColor(color)


def _offset(actor: Any) -> None:
    try:  # drawn in front of the coincident plain surface of the same structure
        actor.GetMapper().SetRelativeCoincidentTopologyPolygonOffsetParameters(-2.0, -4.0)
    except AttributeError:  # older VTK
        pass
