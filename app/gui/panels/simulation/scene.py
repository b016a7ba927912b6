"""3-D drawing of the simulation set-up: the tet mesh (bad cells highlighted), conditions, the brush patch,
plane / indenter placement previews and a colour legend.

Actors are named ``sim:*`` in the window's pyvista plotter (frame LPS, mm) so
they can be replaced or removed without touching the rest of the scene.
Surface patches are drawn with a polygon offset towards the camera, so they show on the
(translucent) mesh surface they lie on.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from app.gui.main_window import MainWindow

CONDITION_COLORS = {"boundary_conditions": (0.2, 0.45, 1.0), "loads": (1.0, 0.55, 0.1), "contacts": (1.0, 0.9, 0.2)}
PATCH_COLOR = (1.0, 0.3, 1.0)
PLACE_COLOR = (0.95, 0.95, 0.95)
LEGEND = {"boundary_conditions": "supports (fixed / displacement)", "loads": "loads (force / pressure)",
          "contacts": "rigid indenters"}


def _tri_polydata(points: np.ndarray, faces: np.ndarray) -> Any:
    import pyvista as pv

    tri = np.asarray(faces)[:, :3]
    used, inv = np.unique(tri.ravel(), return_inverse=True)
    cells = np.column_stack([np.full(len(tri), 3), inv.reshape(-1, 3)]).ravel()
    return pv.PolyData(np.asarray(points, float)[used], cells)


def _offset_towards_camera(actor: Any) -> None:
    mapper = actor.GetMapper()
    mapper.SetResolveCoincidentTopologyToPolygonOffset()
    mapper.SetRelativeCoincidentTopologyPolygonOffsetParameters(-2.0, -4.0)


class SimulationScene:
    """Owns the ``sim:*`` actors of one window's 3-D view."""

    def __init__(self, window: MainWindow) -> None:
        self.main = window
        self.names: set[str] = set()
        self._widget: tuple[str, Any] | None = None

    def _plotter(self) -> Any:
        self.main.view3d.ensure_ready()
        return self.main.view3d.plotter

    def _add(self, name: str, data: Any, pickable: bool = True, **kw: Any) -> Any:
        p = self._plotter()
        actor = p.add_mesh(data, name=name, reset_camera=False, render=False, **kw)
        if not pickable:  # markers in front of the surface must not hide it from the surface tools
            actor.SetPickable(False)
        self.names.add(name)
        return actor

    def clear(self, prefix: str = "sim:", render: bool = True) -> None:
        """Remove the actors whose names start with ``prefix``."""
        p = self.main.view3d.plotter
        if p is None:
            return
        for n in [n for n in self.names if n.startswith(prefix)]:
            p.remove_actor(n, render=False)
            self.names.discard(n)
        if render:
            self.main.view3d.refresh()

    def boundary_faces(self, mesh: Any) -> np.ndarray:
        """Outward boundary faces of ``mesh`` (:func:`biomech.bcs.mesh_boundary_faces`), cached for the last mesh."""
        from biomech.bcs import mesh_boundary_faces

        cached = getattr(self, "_faces", None)
        if cached is None or cached[0] is not mesh:
            self._faces = (mesh, mesh_boundary_faces(mesh))
        return self._faces[1]

    def show_mesh(self, mesh: Any, bad_cells: np.ndarray | None = None) -> None:
        """The mesh's outer surface with edges (translucent) and its bad cells in red."""
        p = self._plotter()
        if p is None:
            return
        self.clear("sim:mesh", render=False)
        grid = mesh.to_pyvista()
        surf = grid.extract_surface(algorithm="dataset_surface")
        self._add("sim:mesh", surf, color=(0.85, 0.75, 0.65), show_edges=True, edge_color=(0.35, 0.3, 0.25),
                  opacity=0.45)
        if bad_cells is not None and len(bad_cells):
            bad = grid.extract_cells(np.asarray(bad_cells, int))
            self._add("sim:mesh:bad", bad, color=(1.0, 0.1, 0.1), show_edges=True)
        # a reopened project shows the mesh alone (segment surfaces hidden): nothing else points the camera,
        # which stayed at VTK's default inside the mesh; fit it once, as the 3-D scene does for its first object
        ensure_camera = getattr(self.main.scene3d, "_ensure_camera", None)
        if ensure_camera is not None:
            ensure_camera()
        self.main.view3d.refresh()

    def show_patch(self, points: np.ndarray | None, faces: np.ndarray | None) -> None:
        """The brush patch (faces of ``points``, LPS mm) in magenta over the mesh; None removes it."""
        if (faces is None or len(faces) == 0) and self.main.view3d.plotter is None:
            return  # nothing to draw or remove: opening a project must not build the 3-D view first (~5 s)
        p = self._plotter()
        if p is None:
            return
        if faces is None or len(faces) == 0:
            self.clear("sim:paint", render=False)
        else:
            actor = self._add("sim:paint", _tri_polydata(points, faces), color=PATCH_COLOR, show_edges=True,
                              edge_color=(0.5, 0.0, 0.5), lighting=True)
            _offset_towards_camera(actor)
        self._legend()
        self.main.view3d.refresh()

    def show_conditions(self, mesh: Any, conditions: list[dict[str, Any]]) -> list[str]:
        """Each condition in its colour (painted faces as a surface patch, other selectors as points;
        indenters as a sphere / plate) and the legend. Returns a size text per condition
        (``"N nodes"``, plus faces and area for face loads)."""
        from biomech.bcs import select_faces, select_nodes
        from biomech.case import parse_selector

        if mesh is None and self.main.view3d.plotter is None:
            return []  # nothing to show: do not build the 3-D view for it (it is built lazily)
        p = self._plotter()
        self.clear("sim:cond", render=False)
        counts: list[str] = []
        if p is None or mesh is None:
            return counts
        faces = self.boundary_faces(mesh) if conditions else None
        for n, c in enumerate(conditions):
            sec = c.get("_section", "")
            color = CONDITION_COLORS.get(sec, (1, 1, 1))
            try:
                selector = parse_selector(c["select"], "select")
                if "surface_spheres" in c["select"]:
                    fs = select_faces(selector, mesh, faces)
                    sel = np.zeros(mesh.n_points, bool)
                    sel[fs.ravel()] = True
                else:
                    sel = select_nodes(selector, mesh)
                    fs = faces[sel[faces].all(axis=1)] if sec in ("loads", "contacts") else np.zeros((0, 3), int)
            except Exception:  # noqa: BLE001 - an invalid selector shows nothing
                sel, fs = np.zeros(mesh.n_points, bool), np.zeros((0, 3), int)
            text = f"{int(sel.sum())} nodes"
            if sec == "loads":
                from biomech.bcs import face_areas

                area = float(face_areas(mesh.points_lps, fs).sum()) if len(fs) else 0.0
                text += f", {len(fs)} faces, {area:.1f} mm²"
            counts.append(text)
            if "surface_spheres" in c.get("select", {}) and len(fs):
                actor = self._add(f"sim:cond:{n}", _tri_polydata(mesh.points_lps, fs), color=color,
                                  show_edges=True, edge_color=tuple(0.5 * x for x in color))
                _offset_towards_camera(actor)
            elif sel.any():
                p.add_points(np.asarray(mesh.points_lps)[sel], color=color, point_size=7,
                             render_points_as_spheres=True, name=f"sim:cond:{n}", reset_camera=False, render=False)
                self.names.add(f"sim:cond:{n}")
            if sec == "contacts":
                self._indenter(f"sim:cond:{n}:indenter", c, mesh, color, 0.5)
        self._legend(conditions)
        self.main.view3d.refresh()
        return counts

    def _indenter(self, name: str, c: dict[str, Any], mesh: Any, color: tuple, opacity: float) -> None:
        import pyvista as pv

        ind = c["indenter"]
        if "sphere" in ind:
            s = ind["sphere"]
            self._add(name, pv.Sphere(radius=float(s["radius"]), center=s["center"]), color=color, opacity=opacity,
                      pickable=False)
        else:
            pl = ind["plane"]
            size = 3.0 * float(c.get("select", {}).get("sphere", {}).get("radius", 20.0))
            self._add(name, pv.Plane(center=pl["point"], direction=pl["normal"], i_size=size, j_size=size),
                      color=color, opacity=opacity, pickable=False)
        d = np.asarray(c.get("displacement", (0, 0, 0)), float)
        if np.linalg.norm(d) > 0:
            start = np.asarray(ind["sphere"]["center"] if "sphere" in ind else ind["plane"]["point"], float)
            self._add(f"{name}:travel", pv.Line(start, start + d), color=color, line_width=4, pickable=False)

    def show_placement(self, mesh: Any, cond: dict[str, Any] | None, point: np.ndarray, normal: np.ndarray,
                       depth_mm: float) -> None:
        """Preview of a plane / indenter at a surface point: the cut plane or the indenter, the normal arrow and
        the nodes a plane condition would hold (white)."""
        import pyvista as pv

        from biomech.bcs import select_nodes
        from biomech.case import parse_selector

        p = self._plotter()
        self.clear("sim:place", render=False)
        if p is None or cond is None:
            self.main.view3d.refresh()
            return
        size = float(np.ptp(mesh.points_lps, axis=0).max()) if mesh is not None else 50.0
        self._add("sim:place:arrow", pv.Arrow(start=point, direction=normal, scale=0.15 * size), color=PLACE_COLOR,
                  pickable=False)
        if cond.get("_section") == "contacts":
            self._indenter("sim:place:indenter", cond, mesh, CONDITION_COLORS["contacts"], 0.6)
        else:
            h = cond["select"]["half_space"]
            if getattr(self, "_widget", None) is None:  # (the plane widget draws the plane itself)
                self._add("sim:place:plane", pv.Plane(center=h["point"], direction=h["normal"], i_size=0.6 * size,
                                                      j_size=0.6 * size), color=PLACE_COLOR, opacity=0.35,
                          pickable=False)
            sel = select_nodes(parse_selector(cond["select"], "select"), mesh)
            if sel.any():
                p.add_points(np.asarray(mesh.points_lps)[sel], color=PLACE_COLOR, point_size=5,
                             render_points_as_spheres=True, name="sim:place:nodes", reset_camera=False,
                             render=False).SetPickable(False)
                self.names.add("sim:place:nodes")
        self.main.view3d.refresh()

    def set_widget(self, what: str | None, origin: np.ndarray, normal: np.ndarray, radius_mm: float,
                   on_change: Any, bounds: Any = None) -> bool:
        """A draggable VTK widget for placement: ``"plane"`` (implicit plane: drag to move, drag the arrow to
        turn; ``on_change(origin, normal)``) or ``"sphere"`` (``on_change(center)``); None removes it.

        Returns False when the 3-D view is not interactive (off-screen fallback: no VTK interactor).
        """
        p = self._plotter()
        old = getattr(self, "_widget", None)
        if old is not None:
            old[1].Off()
            reg = getattr(p, "widgets", p)  # pyvista >= 0.47 keeps widgets in Plotter.widgets
            lst = reg.plane_widgets if old[0] == "plane" else reg.sphere_widgets
            if old[1] in lst:
                lst.remove(old[1])
            self._widget = None
        if what is None or p is None:
            self.main.view3d.refresh()
            return True
        if not self.main.view3d.interactive:
            return False
        if what == "plane":
            w = p.add_plane_widget(lambda n, o: on_change(np.asarray(o, float), np.asarray(n, float)),
                                   normal=tuple(normal), origin=tuple(origin), bounds=bounds, factor=1.0,
                                   color=PLACE_COLOR, outline_translation=False, implicit=True,
                                   interaction_event="end", outline_opacity=0.0)
        else:
            w = p.add_sphere_widget(lambda c: on_change(np.asarray(c, float)), center=tuple(origin),
                                    radius=float(radius_mm), color=CONDITION_COLORS["contacts"], style="wireframe",
                                    interaction_event="end")
        self._widget = (what, w)
        self.main.view3d.refresh()
        return True

    def refresh_legend(self) -> None:
        """Redraw the legend after actors were removed."""
        if self.main.view3d.plotter is not None:
            self._legend()

    def _legend(self, conditions: list[dict[str, Any]] | None = None) -> None:
        """Colour key of what is drawn (supports, loads, indenters, painting), one line each in its colour, in the
        upper left corner at a fixed font size (readable whatever the size of the view)."""
        from vtkmodules.vtkRenderingCore import vtkTextActor

        p = self._plotter()
        if conditions is not None:
            self._legend_sections = [s for s in LEGEND if any(c.get("_section") == s for c in conditions)]
        labels = [(LEGEND[s], CONDITION_COLORS[s]) for s in getattr(self, "_legend_sections", [])]
        if "sim:paint" in self.names:
            labels.append(("painting (not added yet)", PATCH_COLOR))
        self.clear("sim:legend", render=False)
        for i, (text, color) in enumerate(labels):
            a = vtkTextActor()
            a.SetInput("\n" * i + f"-- {text}")  # leading blank lines: line i under the corner
            tp = a.GetTextProperty()
            tp.SetFontSize(15)
            tp.SetBold(True)
            tp.SetColor(*color)
            tp.SetShadow(True)
            tp.SetVerticalJustificationToTop()
            tp.SetLineSpacing(1.15)
            a.GetPositionCoordinate().SetCoordinateSystemToNormalizedViewport()
            a.SetPosition(0.015, 0.985)
            a.SetPickable(False)
            p.add_actor(a, name=f"sim:legend:{i}", reset_camera=False, render=False)
            self.names.add(f"sim:legend:{i}")
