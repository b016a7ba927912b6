"""3-D drawing of the simulation set-up: the tet mesh (bad cells highlighted), selected nodes, indenters.

Actors are named ``sim:*`` in the window's pyvista plotter (frame LPS, mm) so
they can be replaced or removed without touching the rest of the scene.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from app.gui.main_window import MainWindow

CONDITION_COLORS = {"boundary_conditions": (0.2, 0.45, 1.0), "loads": (1.0, 0.55, 0.1), "contacts": (1.0, 0.9, 0.2)}


class SimulationScene:
    """Owns the ``sim:*`` actors of one window's 3-D view."""

    def __init__(self, window: MainWindow) -> None:
        self.main = window
        self.names: set[str] = set()

    def _plotter(self) -> Any:
        self.main.view3d.ensure_ready()
        return self.main.view3d.plotter

    def clear(self, prefix: str = "sim:") -> None:
        """Remove the actors whose names start with ``prefix``."""
        p = self.main.view3d.plotter
        if p is None:
            return
        for n in [n for n in self.names if n.startswith(prefix)]:
            p.remove_actor(n, render=False)
            self.names.discard(n)
        self.main.view3d.refresh()

    def show_mesh(self, mesh: Any, bad_cells: np.ndarray | None = None) -> None:
        """The mesh's outer surface with edges (translucent) and its bad cells in red."""
        p = self._plotter()
        if p is None:
            return
        self.clear("sim:mesh")
        grid = mesh.to_pyvista()
        surf = grid.extract_surface(algorithm="dataset_surface")
        p.add_mesh(surf, color=(0.85, 0.75, 0.65), show_edges=True, edge_color=(0.35, 0.3, 0.25), opacity=0.45,
                   name="sim:mesh", reset_camera=False)
        self.names.add("sim:mesh")
        if bad_cells is not None and len(bad_cells):
            bad = grid.extract_cells(np.asarray(bad_cells, int))
            p.add_mesh(bad, color=(1.0, 0.1, 0.1), show_edges=True, name="sim:mesh:bad", reset_camera=False)
            self.names.add("sim:mesh:bad")
        self.main.view3d.refresh()

    def show_conditions(self, mesh: Any, conditions: list[dict[str, Any]]) -> list[int]:
        """Selected nodes of each condition as points, indenters as spheres. Returns node counts."""
        from biomech.bcs import select_nodes
        from biomech.case import parse_selector

        p = self._plotter()
        self.clear("sim:cond")
        counts = []
        if p is None or mesh is None:
            return counts
        import pyvista as pv

        for n, c in enumerate(conditions):
            color = CONDITION_COLORS.get(c.get("_section", ""), (1, 1, 1))
            try:
                sel = select_nodes(parse_selector(c["select"], "select"), mesh)
            except Exception:  # noqa: BLE001 - an invalid selector shows nothing
                sel = np.zeros(mesh.n_points, bool)
            counts.append(int(sel.sum()))
            if sel.any():
                name = f"sim:cond:{n}"
                p.add_points(np.asarray(mesh.points_lps)[sel], color=color, point_size=7,
                             render_points_as_spheres=True, name=name, reset_camera=False)
                self.names.add(name)
            if c.get("_section") == "contacts":
                s = c["indenter"]["sphere"]
                name = f"sim:cond:{n}:indenter"
                p.add_mesh(pv.Sphere(radius=float(s["radius"]), center=s["center"]), color=color, opacity=0.5,
                           name=name, reset_camera=False)
                self.names.add(name)
        self.main.view3d.refresh()
        return counts
