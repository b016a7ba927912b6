"""3-D scene building on any pyvista plotter (on-screen QtInteractor or off-screen Plotter).

All geometry is in patient LPS millimetres; the scene's x, y, z are L, P, S.
Functions take the plotter explicitly and return the VTK actors they add,
named so that a second call with the same name replaces the first.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from twin.meshes import SurfaceModel, TetMesh
from twin.volume import Volume

CAMERA_VIEWS: dict[str, tuple[tuple[float, float, float], tuple[float, float, float]]] = {
    # name: (direction from the focal point to the camera, view up), LPS
    "anterior": ((0, -1, 0), (0, 0, 1)),
    "posterior": ((0, 1, 0), (0, 0, 1)),
    "left": ((1, 0, 0), (0, 0, 1)),
    "right": ((-1, 0, 0), (0, 0, 1)),
    "superior": ((0, 0, 1), (0, -1, 0)),
    "inferior": ((0, 0, -1), (0, -1, 0)),
    "iso": ((0.55, -0.75, 0.35), (0, 0, 1)),
}
"""Standard viewpoints: "anterior" looks at the patient's face, patient left on screen right."""


@dataclass(frozen=True)
class Camera:
    """Explicit camera: position, focal point (LPS mm) and view-up vector."""

    position: tuple[float, float, float]
    focal_point: tuple[float, float, float]
    view_up: tuple[float, float, float] = (0.0, 0.0, 1.0)


def set_camera(plotter: Any, camera: str | Camera | None = "anterior", zoom: float = 1.0) -> None:
    """Point the camera: a name of :data:`CAMERA_VIEWS`, an explicit :class:`Camera`, or None (fit all)."""
    if isinstance(camera, Camera):
        plotter.camera_position = [camera.position, camera.focal_point, camera.view_up]
        plotter.reset_camera_clipping_range()
        return
    name = camera or "anterior"
    if name not in CAMERA_VIEWS:
        raise ValueError(f"unknown camera {name!r}; use one of {sorted(CAMERA_VIEWS)} or a Camera")
    direction, up = CAMERA_VIEWS[name]
    bounds = plotter.bounds
    center = np.array([(bounds[0] + bounds[1]) / 2, (bounds[2] + bounds[3]) / 2, (bounds[4] + bounds[5]) / 2])
    d = np.asarray(direction, float)
    d /= np.linalg.norm(d)
    plotter.camera_position = [tuple(center + 1000 * d), tuple(center), up]
    plotter.reset_camera()
    if zoom != 1.0:
        plotter.camera.zoom(zoom)


def add_orientation_axes(plotter: Any) -> None:
    """Small L/P/S axes triad in the corner (the scene frame is LPS)."""
    plotter.add_axes(xlabel="L", ylabel="P", zlabel="S", line_width=2, labels_off=False)


def add_surface(
    plotter: Any,
    surface: SurfaceModel,
    color: tuple[float, float, float] | None = None,
    opacity: float = 1.0,
    name: str | None = None,
    scalars: str | None = None,
    **kwargs: Any,
) -> Any:
    """Add one :class:`SurfaceModel` (LPS mm) with smooth shading; returns the actor."""
    mesh = surface.to_pyvista()
    if scalars is None:
        return plotter.add_mesh(
            mesh, color=color or surface.color, opacity=opacity, smooth_shading=True,
            name=name or f"surface:{surface.name}", specular=0.3, specular_power=20, **kwargs,
        )
    return plotter.add_mesh(mesh, scalars=scalars, opacity=opacity, smooth_shading=True,
                            name=name or f"surface:{surface.name}", **kwargs)


def add_segment_surfaces(
    plotter: Any,
    surfaces: Mapping[str, SurfaceModel] | Iterable[SurfaceModel],
    opacity: Mapping[str, float] | None = None,
    colors: Mapping[str, tuple[float, float, float]] | None = None,
    hidden: Iterable[str] = (),
) -> dict[str, Any]:
    """Add several surfaces; returns ``{name: actor}``. Hidden names are not added."""
    items = surfaces.values() if isinstance(surfaces, Mapping) else surfaces
    skip = set(hidden)
    out = {}
    for s in items:
        if s.name in skip:
            continue
        out[s.name] = add_surface(plotter, s, (colors or {}).get(s.name), (opacity or {}).get(s.name, 1.0))
    return out


# ------------------------------------------------------------------ volume rendering
VOLUME_PRESETS: dict[str, dict[str, list[tuple[float, ...]]]] = {
    # opacity: (value, opacity) points; color: (value, r, g, b). CT values in HU.
    "ct-bone": {
        "opacity": [(-1000, 0.0), (150, 0.0), (300, 0.15), (700, 0.6), (3000, 0.8)],
        "color": [(-1000, 0.3, 0.3, 1.0), (150, 0.55, 0.25, 0.15), (300, 0.9, 0.8, 0.6), (700, 1.0, 1.0, 0.9),
                  (3000, 1.0, 1.0, 1.0)],
    },
    "ct-soft-tissue": {
        "opacity": [(-1000, 0.0), (-200, 0.0), (-50, 0.05), (60, 0.15), (200, 0.25), (1000, 0.6), (3000, 0.6)],
        "color": [(-1000, 0, 0, 0), (-200, 0.6, 0.4, 0.3), (60, 0.85, 0.55, 0.45), (200, 1.0, 0.85, 0.7),
                  (3000, 1, 1, 1)],
    },
    "ct-angio": {
        "opacity": [(-1000, 0.0), (100, 0.0), (200, 0.3), (400, 0.6), (3000, 0.8)],
        "color": [(-1000, 0, 0, 0), (100, 0.5, 0.0, 0.0), (200, 0.9, 0.2, 0.1), (400, 1.0, 0.9, 0.7),
                  (3000, 1, 1, 1)],
    },
    # MR preset values are fractions of the robust [1 %, 99.5 %] range, mapped per volume
    "mr": {
        "opacity": [(0.0, 0.0), (0.15, 0.0), (0.4, 0.08), (0.8, 0.3), (1.0, 0.5)],
        "color": [(0.0, 0, 0, 0), (0.4, 0.7, 0.55, 0.45), (0.8, 0.95, 0.85, 0.75), (1.0, 1, 1, 1)],
    },
}


def volume_image_data(volume: Volume, max_dim: int = 256) -> Any:
    """The volume as a ``pyvista.ImageData`` in LPS (direction kept), downsampled to ``max_dim`` voxels per axis."""
    import pyvista as pv

    step = max(1, int(np.ceil(max(volume.shape) / max_dim)))
    arr = volume.array[::step, ::step, ::step]
    img = pv.ImageData(dimensions=arr.shape, spacing=tuple(volume.spacing * step), origin=tuple(volume.origin))
    img.direction_matrix = volume.direction
    img.point_data["values"] = np.asarray(arr, np.float32).ravel(order="F")
    return img


def add_volume_rendering(plotter: Any, volume: Volume, preset: str = "ct-bone", name: str = "volume") -> Any:
    """Ray-cast the volume with a transfer-function preset (:data:`VOLUME_PRESETS`); returns the volume actor."""
    import vtk

    if preset not in VOLUME_PRESETS:
        raise ValueError(f"unknown volume preset {preset!r}; use one of {sorted(VOLUME_PRESETS)}")
    p = VOLUME_PRESETS[preset]
    scale_lo, scale_w = 0.0, 1.0
    if preset == "mr":
        from rendering.windowing import auto_window

        w = auto_window(volume.array)
        scale_lo, scale_w = w.low, w.width
    otf = vtk.vtkPiecewiseFunction()
    for v, a in p["opacity"]:
        otf.AddPoint(scale_lo + v * scale_w, a)
    ctf = vtk.vtkColorTransferFunction()
    for v, r, g, b in p["color"]:
        ctf.AddRGBPoint(scale_lo + v * scale_w, r, g, b)
    prop = vtk.vtkVolumeProperty()
    prop.SetScalarOpacity(otf)
    prop.SetColor(ctf)
    prop.ShadeOn()
    prop.SetInterpolationTypeToLinear()
    prop.SetAmbient(0.3)
    prop.SetDiffuse(0.7)
    prop.SetSpecular(0.2)
    mapper = vtk.vtkSmartVolumeMapper()
    mapper.SetInputData(volume_image_data(volume))
    actor = vtk.vtkVolume()
    actor.SetMapper(mapper)
    actor.SetProperty(prop)
    plotter.remove_actor(name, render=False)
    plotter.add_actor(actor, name=name, reset_camera=False, render=False)
    return actor


# ------------------------------------------------------------------ FE results
FE_FIELDS = {
    "displacement": ("Displacement (mm)", "point"),
    "von_mises": ("von Mises stress (MPa)", "cell"),
    "max_principal_strain": ("Max principal strain (-)", "cell"),
}


def _strain_tensor(data: Mapping[str, NDArray[Any]]) -> NDArray[np.float64] | None:
    for key in ("strain", "green_lagrange_strain", "small_strain", "E"):
        if key in data:
            a = np.asarray(data[key], float)
            if a.ndim == 2 and a.shape[1] == 9:
                return a.reshape(-1, 3, 3)
            if a.ndim == 2 and a.shape[1] == 6:  # xx yy zz xy yz xz (VTK/pyvista symmetric order)
                t = np.empty((len(a), 3, 3))
                t[:, 0, 0], t[:, 1, 1], t[:, 2, 2] = a[:, 0], a[:, 1], a[:, 2]
                t[:, 0, 1] = t[:, 1, 0] = a[:, 3]
                t[:, 1, 2] = t[:, 2, 1] = a[:, 4]
                t[:, 0, 2] = t[:, 2, 0] = a[:, 5]
                return t
    return None


def fe_field(mesh: TetMesh, field: str) -> tuple[NDArray[np.float64], str, str]:
    """Scalar values of a result field, its label with units, and ``"point"`` or ``"cell"``.

    Uses point_data ``displacement`` (n, 3) mm, cell_data ``von_mises`` (MPa) and
    ``max_principal_strain``, or derives them (von Mises from a ``stress`` tensor, principal
    strain from a ``strain`` tensor with 6 or 9 components).
    """
    if field not in FE_FIELDS:
        raise ValueError(f"unknown result field {field!r}; use one of {sorted(FE_FIELDS)}")
    label, where = FE_FIELDS[field]
    if field == "displacement":
        u = mesh.point_data.get("displacement")
        if u is None:
            raise KeyError("the mesh has no point_data 'displacement'")
        return np.linalg.norm(np.asarray(u, float), axis=1), label, "point"
    data = mesh.cell_data if field in mesh.cell_data else mesh.point_data
    if field in data:
        vals = np.asarray(data[field], float).reshape(-1)
        return vals, label, ("cell" if data is mesh.cell_data else "point")
    if field == "von_mises" and "stress" in mesh.cell_data:
        s = _strain_tensor({"strain": mesh.cell_data["stress"]})
        if s is not None:
            dev = s - np.trace(s, axis1=1, axis2=2)[:, None, None] / 3 * np.eye(3)
            return np.sqrt(1.5 * np.einsum("nij,nij->n", dev, dev)), label, "cell"
    if field == "max_principal_strain":
        t = _strain_tensor(mesh.cell_data)
        if t is not None:
            return np.linalg.eigvalsh(t)[:, -1], label, "cell"
    raise KeyError(f"the mesh has no data for {field!r}")


def display_units(field: str, values: NDArray[np.float64], label: str) -> tuple[float, str]:
    """Factor and label that show a result field in readable numbers on a colour bar.

    Soft-tissue stresses are fractions of a kPa: ``5.11e-05 MPa`` labels overlap on a bar, so von Mises
    stress is shown in MPa, kPa or Pa (the largest unit with a maximum >= 0.1), and strain in percent.
    ``values`` are in the units of :data:`FE_FIELDS`; multiply them by the factor for the new label.
    """
    peak = float(np.max(np.abs(values))) if np.size(values) else 0.0
    if field == "von_mises" and "(MPa)" in label:
        units = ((1.0, "MPa"), (1e3, "kPa"), (1e6, "Pa"))
        factor, unit = next((u for u in units if peak * u[0] >= 0.1), units[-1] if peak > 0 else units[0])
        return factor, label.replace("(MPa)", f"({unit})")
    if field == "max_principal_strain" and "(-)" in label:
        return 100.0, label.replace("(-)", "(%)")
    return 1.0, label


def text_color_for(plotter: Any) -> tuple[float, float, float]:
    """White on a dark background, black on a light one (scalar bar text must stay readable)."""
    try:
        bg = np.asarray(plotter.background_color.float_rgb, float)
    except AttributeError:
        return (1.0, 1.0, 1.0)
    return (0.0, 0.0, 0.0) if float(bg @ [0.299, 0.587, 0.114]) > 0.5 else (1.0, 1.0, 1.0)


def add_fe_result(
    plotter: Any,
    mesh: TetMesh,
    field: str = "displacement",
    scale: float = 1.0,
    ghost: bool = True,
    cmap: str = "turbo",
    clim: tuple[float, float] | None = None,
    name: str = "fe",
) -> Any:
    """Deformed mesh (``points + scale * displacement``) coloured by ``field`` with a scalar bar in units.

    Parameters
    ----------
    mesh : TetMesh
        Result mesh with point_data ``displacement`` (mm) and result cell/point data.
    field : {"displacement", "von_mises", "max_principal_strain"}
        Colour map; see :func:`fe_field`.
    scale : float
        Displacement magnification (1 = true scale).
    ghost : bool
        Also draw the undeformed outer surface as a translucent grey ghost.
    """
    grid = mesh.to_pyvista()
    values, label, where = fe_field(mesh, field)
    factor, label = display_units(field, values, label)
    values = values * factor
    if clim is not None:
        clim = (clim[0] * factor, clim[1] * factor)
    if ghost:
        ghost_surface = grid.extract_surface(algorithm="dataset_surface")
        plotter.add_mesh(ghost_surface, color=(0.7, 0.7, 0.7), opacity=0.15, name=f"{name}:ghost",
                         show_scalar_bar=False)
    else:
        plotter.remove_actor(f"{name}:ghost", render=False)
    u = mesh.point_data.get("displacement")
    if u is not None:
        grid.points = np.asarray(mesh.points_lps, float) + scale * np.asarray(u, float)
    key = label
    if where == "point":
        grid.point_data[key] = values
    else:
        grid.cell_data[key] = values
    surf = grid.extract_surface(algorithm="dataset_surface")
    if clim is None and values.size:
        lo, hi = float(np.min(values)), float(np.max(values))
        if hi - lo <= 1e-9 * max(abs(hi), 1e-30):  # uniform field: show it against zero, not a degenerate bar
            clim = (min(0.0, lo), max(0.0, hi)) if hi != 0 else (0.0, 1.0)
    actor = plotter.add_mesh(
        surf, scalars=key, cmap=cmap, clim=clim, name=name, smooth_shading=where == "point",
        scalar_bar_args={"title": label, "vertical": False, "fmt": "%.3g", "position_x": 0.2, "position_y": 0.03,
                         "height": 0.11, "width": 0.6, "title_font_size": 14, "label_font_size": 12, "n_labels": 5,
                         "color": text_color_for(plotter)},
    )
    try:
        bar = plotter.scalar_bars[label]
    except (KeyError, AttributeError):
        bar = None
    if bar is not None:
        bar.SetTextPositionToPrecedeScalarBar()  # tick labels below the bar, title above: no overlap
    return actor


# ------------------------------------------------------------------ plan objects
@dataclass(frozen=True)
class LineObject:
    """A polyline or straight trajectory drawn as a tube (LPS mm): e.g. a needle from entry to target."""

    points_lps: NDArray[np.float64]
    radius_mm: float = 1.0
    color: tuple[float, float, float] = (1.0, 0.85, 0.0)
    name: str = "line"


@dataclass(frozen=True)
class PlaneObject:
    """A finite square plane (resection / cutting plane) centred at ``origin_lps`` with unit ``normal``."""

    origin_lps: NDArray[np.float64]
    normal: NDArray[np.float64]
    size_mm: float = 100.0
    color: tuple[float, float, float] = (0.2, 0.6, 1.0)
    opacity: float = 0.4
    name: str = "plane"


@dataclass(frozen=True)
class MarkerObject:
    """A point marker (sphere) with an optional text label."""

    point_lps: NDArray[np.float64]
    radius_mm: float = 2.0
    color: tuple[float, float, float] = (1.0, 0.2, 0.2)
    label: str = ""
    name: str = "marker"


@dataclass(frozen=True)
class EllipsoidObject:
    """A translucent ellipsoid (e.g. an ablation zone): centre, semi-axes (mm) along three orthonormal LPS axes."""

    center_lps: NDArray[np.float64]
    radii_mm: tuple[float, float, float]
    axes_lps: NDArray[np.float64] = field(default_factory=lambda: np.eye(3))
    color: tuple[float, float, float] = (1.0, 0.5, 0.0)
    opacity: float = 0.35
    name: str = "ellipsoid"


PlanObject = LineObject | PlaneObject | MarkerObject | EllipsoidObject


def line(points_lps: ArrayLike, radius_mm: float = 1.0, color: tuple[float, float, float] = (1.0, 0.85, 0.0),
         name: str = "line") -> LineObject:
    """Convenience constructor of a :class:`LineObject` from ``(n >= 2, 3)`` LPS points."""
    pts = np.asarray(points_lps, float).reshape(-1, 3)
    if len(pts) < 2:
        raise ValueError("a line needs at least two points")
    return LineObject(pts, radius_mm, color, name)


def add_plan_objects(plotter: Any, objects: Iterable[PlanObject]) -> dict[str, Any]:
    """Draw trajectories (tubes), planes, markers and ellipsoids; returns ``{name: actor}``."""
    import pyvista as pv

    out: dict[str, Any] = {}
    for obj in objects:
        key = f"plan:{obj.name}"
        if isinstance(obj, LineObject):
            tube = pv.lines_from_points(np.asarray(obj.points_lps, float)).tube(radius=obj.radius_mm, n_sides=20,
                                                                               capping=True)
            out[obj.name] = plotter.add_mesh(tube, color=obj.color, smooth_shading=True, name=key)
        elif isinstance(obj, PlaneObject):
            plane = pv.Plane(center=tuple(obj.origin_lps), direction=tuple(obj.normal), i_size=obj.size_mm,
                             j_size=obj.size_mm)
            out[obj.name] = plotter.add_mesh(plane, color=obj.color, opacity=obj.opacity, name=key)
        elif isinstance(obj, MarkerObject):
            sphere = pv.Sphere(radius=obj.radius_mm, center=tuple(obj.point_lps))
            out[obj.name] = plotter.add_mesh(sphere, color=obj.color, smooth_shading=True, name=key)
            if obj.label:
                plotter.add_point_labels(np.asarray(obj.point_lps, float)[None], [obj.label], font_size=14,
                                         shape_opacity=0.3, name=f"{key}:label", always_visible=True)
        elif isinstance(obj, EllipsoidObject):
            sphere = pv.Sphere(radius=1.0, theta_resolution=32, phi_resolution=24)
            axes = np.asarray(obj.axes_lps, float).reshape(3, 3)  # rows: unit axes
            pts = np.asarray(sphere.points) * np.asarray(obj.radii_mm, float)
            sphere.points = pts @ axes + np.asarray(obj.center_lps, float)
            out[obj.name] = plotter.add_mesh(sphere, color=obj.color, opacity=obj.opacity, smooth_shading=True,
                                             name=key)
        else:
            raise TypeError(f"not a plan object: {obj!r}")
    return out
