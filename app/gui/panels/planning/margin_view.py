"""Distance colours in the 3-D view: critical structures coloured by their signed distance (mm) to a safety
margin's target (tumour) or to a resection's cut, red within the safety margin, with a scalar bar in mm.

* :func:`voxel_model_distances` (pure, no Qt): the colour of each surface vertex is the distance of
  the structure's voxel cubes near it (within one voxel diagonal) to the target, measured as
  :func:`planning.margins.evaluate_safety_margin` measures it (target boundary voxel centres and
  face centres to the structure's voxel cubes). So the smallest colour is that function's
  minimum (exactly, when the surface passes within a voxel diagonal of the closest voxel), and
  a smoothed surface never looks safer than the number in the metrics and the report; structure
  voxels inside the target get minus their depth in it (:func:`signed_distance_to_mask`).
* :func:`add_distance_surface`: one coloured actor (pyvista) with the threshold colour, drawn
  with a polygon offset so it covers the structure's plain surface of the scene.
* Resections: the tumour and the resection's vessels are coloured by their signed distance to the
  cut surface (:func:`voxel_cut_distances`, the voxel-corner model of
  :func:`planning.resection.tumour_margin_mm`: + on the resected side, - on the remnant side, 0
  where the cut passes); red within the chosen margin of the cut (:func:`add_cut_distance_surface`,
  a diverging map: resected side warm, remnant side blue).
* :class:`MarginView`: the "Distance colours (3D)" box of the planning panel for the selected
  :class:`twin.plan.SafetyMargin` or :class:`twin.plan.Resection`: a toggle; distances computed
  in a worker (the surfaces the 3-D view already shows, ``window.scene3d.surfaces``, or computed by
  :func:`segmentation.surfaces.display_surfaces`, the same display path, when the view has none); min distance per
  structure listed; recomputed when the label map or the object changes while on (a threshold
  change only redraws).

Frame: patient LPS, mm.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
from numpy.typing import NDArray
from PySide6.QtWidgets import QCheckBox, QDoubleSpinBox, QGroupBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

BELOW_COLOR = (0.9, 0.05, 0.05)
CMAP_COLORS = ("#ff9a00", "#ffe14d", "#7bd389", "#9ad9f5")
"""Above the threshold: orange (just above) -> yellow -> green -> light blue (far); readable on the dark view."""
ACTOR_PREFIX = "margin:"


def signed_distance_to_mask(points_lps: NDArray[np.float64], mask: NDArray[np.bool_], geometry: Any
                            ) -> NDArray[np.float64]:
    """Signed distance (mm) from ``points_lps`` ``(n, 3)`` to the voxel cubes of ``mask`` on ``geometry``.

    Positive outside (distance to the nearest voxel cube, as :class:`planning.distance.MaskDistance`),
    negative inside (minus the distance to the nearest voxel cube outside the mask), ``inf`` for an empty mask.
    """
    from planning.distance import MaskDistance
    from twin.geometry import ImageGeometry
    from twin.labelmap import mask_bbox

    pts = np.asarray(points_lps, float).reshape(-1, 3)
    md = MaskDistance(mask, geometry)
    d = md.distance_mm(pts)
    inside = md.inside(pts)
    if inside.any():
        # depth: distance to the complement, on the mask's box grown by one voxel (that layer is outside,
        # and every path to a farther outside voxel crosses it, so the restriction is exact)
        box = mask_bbox(mask)
        lo = np.array([max(s.start - 1, 0) for s in box])
        hi = np.array([min(s.stop + 1, n) for s, n in zip(box, mask.shape, strict=True)])
        sub = ~np.asarray(mask)[lo[0]:hi[0], lo[1]:hi[1], lo[2]:hi[2]]
        padded = np.pad(sub, [(int(lo[a] == 0), int(hi[a] == mask.shape[a])) for a in range(3)], constant_values=True)
        start = lo - np.array([int(lo[a] == 0) for a in range(3)])
        sub_geom = ImageGeometry(padded.shape, geometry.spacing, geometry.index_to_lps(start[None].astype(float))[0],
                                 geometry.direction)
        d[inside] = -MaskDistance(padded, sub_geom).distance_mm(pts[inside])
    return d


def _target_samples_lps(mask: NDArray[np.bool_], geometry: Any) -> NDArray[np.float64]:
    """Boundary voxel centres and their 6 face centres (LPS), the target samples of the safety-margin metric."""
    from planning.distance import boundary_voxels

    b = boundary_voxels(mask)
    a = np.asarray(geometry.direction) * np.asarray(geometry.spacing)[None, :]
    offs = np.vstack([np.zeros(3), 0.5 * a.T, -0.5 * a.T])
    return (geometry.index_to_lps(b.astype(float))[:, None, :] + offs[None]).reshape(-1, 3)


def voxel_model_distances(points_lps: NDArray[np.float64], target_mask: NDArray[np.bool_],
                          structure_mask: NDArray[np.bool_], geometry: Any) -> NDArray[np.float64]:
    """Signed distance (mm) shown at each point of a structure's surface (see the module docstring).

    Parameters
    ----------
    points_lps : (n, 3)
        Surface vertices of the structure (LPS mm).
    target_mask, structure_mask : bool (ni, nj, nk)
        Target (tumour) and structure on ``geometry``.

    Returns
    -------
    (n,) float
        Smallest voxel-model distance of the structure's boundary voxels within one voxel diagonal of
        each point (the nearest one when none is); negative where those voxels lie inside the target;
        ``inf`` when the target is empty.
    """
    from scipy.spatial import cKDTree

    from planning.distance import boundary_voxels

    pts = np.asarray(points_lps, float).reshape(-1, 3)
    sp = np.asarray(geometry.spacing, float)
    tmask = np.asarray(target_mask, bool)
    sb = boundary_voxels(np.asarray(structure_mask, bool))
    if not tmask.any() or len(sb) == 0:
        return np.full(len(pts), np.inf)
    # 1. per structure boundary voxel: distance of the target samples to its cube (grid index space x spacing)
    samples = geometry.lps_to_index(_target_samples_lps(tmask, geometry)) * sp
    tree = cKDTree(samples)
    centres = sb * sp
    half = sp / 2
    half_diag = float(np.linalg.norm(half))
    k = int(min(16, len(samples)))
    dist_c, nn = tree.query(centres, k=k)
    dist_c, nn = dist_c.reshape(len(centres), k), nn.reshape(len(centres), k)

    def box(c: NDArray[np.float64], q: NDArray[np.float64]) -> NDArray[np.float64]:
        d = np.maximum(np.abs(q - c) - half, 0.0)
        return np.sqrt(np.sum(d * d, axis=-1))

    vox = box(centres[:, None, :], samples[nn]).min(axis=1)
    for i in np.flatnonzero((dist_c[:, -1] - half_diag < vox) & (k < len(samples))):
        cand = tree.query_ball_point(centres[i], vox[i] + half_diag)
        if cand:
            vox[i] = min(vox[i], float(box(centres[i][None], samples[cand]).min()))
    inside = tmask[sb[:, 0], sb[:, 1], sb[:, 2]]
    if inside.any():
        vox[inside] = signed_distance_to_mask(geometry.index_to_lps(sb[inside].astype(float)), tmask, geometry)
    # 2. per vertex: the smallest value of the boundary voxels within one voxel diagonal
    lo, _ = _near_voxel_range(pts, sb, vox, geometry)
    return lo


def _near_voxel_range(points_lps: NDArray[np.float64], voxels: NDArray[np.int64], values: NDArray[np.float64],
                      geometry: Any) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """(min, max) of ``values`` (one per voxel of ``voxels``) over the voxels within one voxel diagonal of each
    point (the nearest voxel when none is)."""
    from scipy.spatial import cKDTree

    sp = np.asarray(geometry.spacing, float)
    centres = voxels * sp
    tree = cKDTree(centres)
    q = geometry.lps_to_index(np.asarray(points_lps, float).reshape(-1, 3)) * sp
    kk = int(min(27, len(centres)))
    dd, ii = tree.query(q, k=kk, distance_upper_bound=float(np.linalg.norm(sp)))
    dd, ii = dd.reshape(len(q), kk), ii.reshape(len(q), kk)
    ok = np.isfinite(dd)
    v = values[np.minimum(ii, len(values) - 1)]
    lo = np.where(ok, v, np.inf).min(axis=1)
    hi = np.where(ok, v, -np.inf).max(axis=1)
    lonely = ~ok.any(axis=1)
    if lonely.any():
        _, j = tree.query(q[lonely], k=1)
        lo[lonely] = hi[lonely] = values[np.asarray(j).reshape(-1)]
    return lo, hi


def structure_distances(labelmap: Any, target: str, structures: dict[str, Any], progress: Any = None
                        ) -> dict[str, Any]:
    """``{name: SurfaceModel with point_data["distance_mm"]}`` (:func:`voxel_model_distances` of each
    structure's surface to the ``target`` segment; ``structures``: name -> SurfaceModel, LPS mm)."""
    mask = labelmap.mask(target)
    out = {}
    for n, (name, surf) in enumerate(structures.items()):
        if progress is not None:
            progress.raise_if_cancelled()
            progress.update(n / max(1, len(structures)), f"distances of {name}")
        d = voxel_model_distances(surf.points_lps, mask, labelmap.mask(name), labelmap.geometry)
        out[name] = replace(surf, point_data={**dict(surf.point_data), "distance_mm": d})
    return out


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


def voxel_cut_distances(points_lps: NDArray[np.float64], structure_mask: NDArray[np.bool_], geometry: Any,
                        resection: Any) -> NDArray[np.float64]:
    """Signed distance (mm, + resected side) to the cut shown at each point of a structure's surface.

    The voxel model of :func:`planning.resection.tumour_margin_mm`: the cut depth of the 8 corners of
    each boundary voxel of the structure (:func:`planning.resection.resected_depth_mm`); a voxel the
    cut passes through counts 0, otherwise its corner nearest to the cut. Each point takes, over the
    voxels within one voxel diagonal, 0 if their values have both signs, else the value nearest to
    the cut - so the colours never look farther from the cut than the voxels are, and the smallest
    colour of a tumour on the resected side is ``tumour_margin_mm``.
    """
    import itertools

    from planning.distance import boundary_voxels
    from planning.resection import resected_depth_mm

    pts = np.asarray(points_lps, float).reshape(-1, 3)
    sb = boundary_voxels(np.asarray(structure_mask, bool))
    if len(sb) == 0:
        return np.full(len(pts), np.nan)
    a = np.asarray(geometry.direction) * np.asarray(geometry.spacing)[None, :]
    corners = np.array(list(itertools.product((-0.5, 0.5), repeat=3))) @ a.T
    c = geometry.index_to_lps(sb.astype(float))[:, None, :] + corners[None]
    depth = np.asarray(resected_depth_mm(resection, c.reshape(-1, 3)), float).reshape(len(sb), 8)
    dlo, dhi = depth.min(axis=1), depth.max(axis=1)
    vox = np.where(dlo >= 0, dlo, np.where(dhi <= 0, dhi, 0.0))
    lo, hi = _near_voxel_range(pts, sb, vox, geometry)
    return np.where(lo >= 0, lo, np.where(hi <= 0, hi, 0.0))


def cut_distances(labelmap: Any, resection: Any, structures: dict[str, Any], progress: Any = None
                  ) -> dict[str, Any]:
    """``{name: SurfaceModel with point_data["distance_mm"]}``: :func:`voxel_cut_distances` of each
    structure's surface to the cut of ``resection`` (+ resected side)."""
    out = {}
    for n, (name, surf) in enumerate(structures.items()):
        if progress is not None:
            progress.raise_if_cancelled()
            progress.update(n / max(1, len(structures)), f"distances of {name} to the cut")
        d = voxel_cut_distances(surf.points_lps, labelmap.mask(name), labelmap.geometry, resection)
        out[name] = replace(surf, point_data={**dict(surf.point_data), "distance_mm": d})
    return out


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


class MarginView(QGroupBox):
    """The planning panel's "Distance colours (3D)" box (see the module docstring)."""

    def __init__(self, panel: Any) -> None:
        super().__init__("Distance colours (3D)")
        self.setObjectName("margin_view")
        self.panel = panel
        self.main = panel.main
        self.obj: Any = None
        self.colored: dict[str, Any] = {}  # structure -> SurfaceModel with distance_mm (what is drawn)
        self._key: Any = None
        self._pending: Any = None
        self._actors: list[str] = []
        self._bar: str | None = None
        self._redraw_pending = 0
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        self.toggle = QCheckBox("Colour the structures by distance to the target")
        self.toggle.setObjectName("margin_colours")
        self.toggle.setToolTip("Critical structures' surfaces coloured by signed distance (mm) to the target "
                               "segment or the cut; red within the safety margin")
        self.toggle.toggled.connect(self._toggled)
        self.cut_margin = QDoubleSpinBox()
        self.cut_margin.setObjectName("cut_margin")
        self.cut_margin.setRange(0.0, 100.0)
        self.cut_margin.setSingleStep(1.0)
        self.cut_margin.setDecimals(1)
        self.cut_margin.setValue(10.0)
        self.cut_margin.setSuffix(" mm")
        self.cut_margin.setKeyboardTracking(False)
        self.cut_margin.setToolTip("Structures closer than this to the cut are red")
        self.cut_margin.valueChanged.connect(lambda _v: self._draw())
        self.cut_row = QWidget()
        row = QHBoxLayout(self.cut_row)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(QLabel("Red within"))
        row.addWidget(self.cut_margin)
        row.addWidget(QLabel("of the cut"))
        row.addStretch(1)
        self.info = QLabel("")
        self.info.setObjectName("margin_colours_info")
        self.info.setWordWrap(True)
        lay.addWidget(self.toggle)
        lay.addWidget(self.cut_row)
        lay.addWidget(self.info)
        self.setVisible(False)

    # ------------------------------------------------------------------ state
    def kind(self) -> str:
        """``"safety_margins"``, ``"resections"`` or ``""`` (nothing to colour)."""
        return getattr(self.obj, "collection", "") if self.obj is not None else ""

    def structures(self) -> list[str]:
        """Segments coloured for the current object."""
        if self.kind() == "safety_margins":
            return list(self.obj.critical_segments)
        if self.kind() == "resections":
            return [n for n in (self.obj.tumour_segment, *self.obj.vessel_segments) if n]
        return []

    def threshold_mm(self) -> float:
        """Red below (margin) / within (cut) this many mm."""
        return float(self.obj.threshold_mm) if self.kind() == "safety_margins" else float(self.cut_margin.value())

    def set_object(self, obj: Any) -> None:
        """The selected plan object changed (or was edited): shown for safety margins and resections."""
        kind = getattr(obj, "collection", "") if obj is not None else ""
        shown = kind in ("safety_margins", "resections")
        if obj is None or getattr(self.obj, "id", None) != obj.id:
            self._remove_actors()
            self.colored = {}
            self._key = None
        self.setVisible(shown)
        self.obj = obj if shown else None
        if not shown:
            return
        self.cut_row.setVisible(kind == "resections")
        self.toggle.setText("Colour the structures by distance to the " +
                            ("target" if kind == "safety_margins" else "cut"))
        names = self.structures()
        self.toggle.setEnabled(bool(names))
        if not names:
            self.info.setText("Choose critical structures (list below) to colour them." if kind == "safety_margins"
                              else "Give the resection a tumour or vessels to colour them.")
        if self.toggle.isChecked():
            self.update_colours()

    def clear(self) -> None:
        """A new project: drop colours and cache."""
        self._remove_actors()
        self.colored = {}
        self._key = None
        self.obj = None

    def _toggled(self, on: bool) -> None:
        if on:
            self.update_colours()
        else:
            self._remove_actors()
            self.info.setText("")

    def _distance_key(self) -> str:
        import json

        lm = self.main.labelmap
        d = {k: v for k, v in self.obj.to_dict().items() if k not in ("name", "metrics", "threshold_mm")}
        return json.dumps([id(lm), lm.revision if lm is not None else None, d], sort_keys=True, default=str)

    # ------------------------------------------------------------------ compute
    def update_colours(self) -> Any:
        """(Re)compute the distances in a worker if the object or the label map changed, then draw.
        Returns the worker, or None when nothing had to be computed."""
        obj, lm = self.obj, self.main.labelmap
        structures = self.structures()
        if obj is None or lm is None or not structures:
            return None
        key = self._distance_key()
        if key == self._key:
            self._draw()
            return None
        if key == self._pending:
            return None
        names = {s.name for s in lm.segments}
        target = obj.target_segment if self.kind() == "safety_margins" else None
        missing = [n for n in ([target] if target else []) + structures if n not in names]
        if missing:
            self.info.setText(f"Segments not found: {', '.join(missing)}")
            return None
        self._pending = key
        snapshot = lm.copy()
        shown = dict(getattr(self.main.scene3d, "surfaces", {}) or {})

        def work(progress: Any) -> dict[str, Any]:
            from segmentation.surfaces import display_surfaces

            surfaces = {n: shown[n] for n in structures if getattr(shown.get(n), "n_triangles", 0)}
            missing = [n for n in structures if n not in surfaces]
            if missing:  # the 3-D view has none yet (surfaces off, still computing): the same display path
                surfaces.update(display_surfaces(snapshot, missing))
            surfaces = {n: surfaces[n] for n in structures if n in surfaces and surfaces[n].n_triangles}
            if target:
                return structure_distances(snapshot, target, surfaces, progress)
            return cut_distances(snapshot, obj, surfaces, progress)

        def done(result: dict[str, Any]) -> None:
            if self._pending != key:
                return
            self._pending = None
            self._key = key
            self.colored = result
            self._draw()

        def failed(msg: str) -> None:
            self._pending = None
            self.info.setText(msg)

        return self.main.run_worker(work, done, "Distance colours", on_error=failed,
                                    on_cancel=lambda: setattr(self, "_pending", None))

    def drawn(self) -> bool:
        """Whether the current colours are in the 3-D view (drawing waits while a job holds the VTK lock)."""
        return bool(self._actors) and self._redraw_pending == 0

    def min_distances(self) -> dict[str, float]:
        """Smallest signed distance (mm) of each coloured structure (what the colours show)."""
        return {n: float(np.min(s.point_data["distance_mm"])) for n, s in self.colored.items()
                if len(s.point_data["distance_mm"])}

    def _info_rows(self, thr: float) -> list[str]:
        red = "<b style='color:#d00'>{}</b>"
        rows = []
        for n, s in self.colored.items():
            d = np.asarray(s.point_data["distance_mm"])
            if not len(d):
                continue
            if self.kind() == "safety_margins":
                flag = " " + red.format("below the margin") if d.min() < thr else ""
                rows.append(f"{n}: min {d.min():.1f} mm{flag}")
            elif d.min() < 0 < d.max():
                rows.append(f"{n}: {red.format('crosses the cut')}")
            else:
                side = "resected side" if d.min() >= 0 else "remnant side"
                near = float(np.abs(d).min())
                flag = " " + red.format("within the margin") if near < thr else ""
                rows.append(f"{n}: {side}, {near:.1f} mm from the cut{flag}")
        return rows

    # ------------------------------------------------------------------ draw
    def _draw(self) -> None:
        if self.obj is None or not self.toggle.isChecked() or not self.colored:
            return
        thr = self.threshold_mm()
        self.info.setText("<br>".join(self._info_rows(thr)) or "The structures are empty.")
        view = self.main.view3d
        view.ensure_ready()
        p = view.plotter
        if p is None:
            return
        from rendering.surfaces import VTK_THREAD_LOCK

        if not VTK_THREAD_LOCK.acquire(blocking=False):  # a worker runs VTK filters: draw a bit later
            from PySide6.QtCore import QTimer

            self._redraw_pending += 1
            QTimer.singleShot(80, self._deferred_draw)
            return
        try:
            self._remove_actors_locked(p)
            values = [np.asarray(s.point_data["distance_mm"]) for s in self.colored.values()]
            finite = np.concatenate([v[np.isfinite(v)] for v in values]) if values else np.zeros(0)
            for n, s in self.colored.items():
                name = f"{ACTOR_PREFIX}{n}"
                if self.kind() == "safety_margins":
                    far = min(float(finite.max()), thr + 60.0) if finite.size else 0.0
                    self._bar = bar_title(self.obj.target_segment)
                    add_distance_surface(p, s, thr, self._bar, name, max(thr + 20.0, thr * 4.0, far))
                else:
                    far = min(float(np.abs(finite).max()), 80.0) if finite.size else 0.0
                    self._bar = CUT_TITLE
                    add_cut_distance_surface(p, s, thr, max(thr * 3.0, thr + 10.0, far), name)
                self._actors.append(name)
                plain = p.actors.get(f"surface:{n}")
                if plain is not None:
                    plain.SetVisibility(False)
        finally:
            VTK_THREAD_LOCK.release()
        view.refresh()

    def _deferred_draw(self) -> None:
        self._redraw_pending -= 1
        self._draw()

    def _remove_actors(self) -> None:
        p = self.main.view3d.plotter
        if p is None or (not self._actors and self._bar is None):
            return
        from rendering.surfaces import VTK_THREAD_LOCK

        if not VTK_THREAD_LOCK.acquire(blocking=False):  # never wait on the GUI thread: retry shortly
            from PySide6.QtCore import QTimer

            QTimer.singleShot(80, self._remove_actors)
            return
        try:
            self._remove_actors_locked(p)
        finally:
            VTK_THREAD_LOCK.release()
        self.main.view3d.refresh()

    def _remove_actors_locked(self, p: Any) -> None:
        for name in self._actors:
            p.remove_actor(name, render=False)
            plain = p.actors.get(f"surface:{name[len(ACTOR_PREFIX):]}")
            if plain is not None:
                plain.SetVisibility(True)
        self._actors = []
        if self._bar is not None and self._bar in p.scalar_bars:
            p.remove_scalar_bar(self._bar, render=False)
        self._bar = None
