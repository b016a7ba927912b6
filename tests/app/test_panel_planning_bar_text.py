"""Safety-margin colour bar text is readable on the 3-D view's dark background (and on white). Frame: LPS mm."""

from __future__ import annotations

import numpy as np
import pytest


@pytest.mark.gui
@pytest.mark.parametrize("background", [(0.118, 0.125, 0.149), "white"])
def test_margin_bar_text_contrasts_with_the_background(background):
    pv = pytest.importorskip("pyvista")
    from rendering.distance_view import add_distance_surface
    from twin.meshes import SurfaceModel

    sphere = pv.Sphere(radius=10.0)
    pts = np.asarray(sphere.points, float)
    surf = SurfaceModel(pts, np.asarray(sphere.faces).reshape(-1, 4)[:, 1:], "vessel", (0.0, 0.5, 1.0),
                        {"distance_mm": pts[:, 2] + 12.0})  # 2 .. 22 mm
    p = pv.Plotter(off_screen=True, window_size=(300, 240))
    try:
        p.set_background(background)
        add_distance_surface(p, surf, 5.0, "Distance to tumour (mm)", "margin:vessel")
        bar = p.scalar_bars["Distance to tumour (mm)"]
        bg = np.asarray(p.background_color.float_rgb)
        for prop in (bar.GetTitleTextProperty(), bar.GetLabelTextProperty(), bar.GetAnnotationTextProperty()):
            assert np.abs(np.asarray(prop.GetColor()) - bg).max() > 0.7
    finally:
        p.close()
