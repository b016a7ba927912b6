"""Tube structures of the phantom: ribs and the hepatic vessel trees.

Frame: phantom local frame (LPS mm minus :data:`twin.phantom._anatomy.CENTRE_LPS`).
The trees are grown deterministically (fixed internal random stream, not the
noise seed) so the anatomy, and therefore every landmark, is the same for every
``seed``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

from twin.phantom import _anatomy as A
from twin.phantom._shapes import Tube, polyline_tubes

RIB_RADIUS_MM = 5.0
MIN_VESSEL_RADIUS_MM = 1.8
"""Thinnest hepatic vessel branch: about one in-plane voxel of the default grid."""
# (vertebra index of the rib's head, angle from the posterior midline where it ends (fraction of pi), drop mm)
_RIBS = {
    6: (7, 0.90, 120.0), 7: (6, 0.86, 125.0), 8: (5, 0.82, 125.0), 9: (4, 0.78, 120.0),
    10: (3, 0.72, 115.0), 11: (2, 0.48, 80.0), 12: (1, 0.34, 45.0),
}


def _ray_depth_point(theta: NDArray[np.float64], side: float, z: NDArray[np.float64],
                     extra_depth: NDArray[np.float64]) -> NDArray[np.float64]:
    """Points at a given depth inside the skin along rays at angle ``theta`` from the posterior midline."""
    ux = side * np.sin(theta)
    uy = np.cos(theta)
    radii = np.linspace(0.0, 260.0, 521)
    x = ux[:, None] * radii[None, :]
    y = uy[:, None] * radii[None, :]
    zz = np.broadcast_to(z[:, None], x.shape)
    target = (A.SKIN_MM + A.fat_thickness(x, y) + 0.5 * A.wall_muscle_thickness(x, y) + extra_depth[:, None])
    depth = A.skin_depth(x, y, zz).astype(float) - target
    # first radius (from outside) where the depth exceeds the target: last index with depth >= 0
    inside = depth >= 0
    idx = np.where(inside.any(axis=1), inside.shape[1] - 1 - np.argmax(inside[:, ::-1], axis=1), 0)
    r = radii[idx]
    return np.stack([ux * r, uy * r, z], axis=1)


def rib_centrelines() -> list[NDArray[np.float64]]:
    """Centre lines (n, 3) in mm of ribs 6-12 on both sides, from the spine around the torso."""
    lines = []
    for _, (vert, theta_end, drop) in sorted(_RIBS.items()):
        z_head = A.VERTEBRA_Z0_MM + A.VERTEBRA_PITCH_MM * vert + 4.0
        for side in (-1.0, 1.0):
            theta = np.linspace(0.2 * np.pi, theta_end * np.pi, 40)
            z = z_head - 18.0 - drop * (theta - 0.2 * np.pi) / np.pi
            extra = 3.0 + 22.0 * np.clip((0.45 * np.pi - theta) / (0.25 * np.pi), 0.0, 1.0)
            wall = _ray_depth_point(theta, side, z, extra)
            yv = float(A.spine_y(z_head))
            head = np.array([[side * 22.0, yv + 10.0, z_head], [side * 38.0, yv + 24.0, z_head - 6.0]])
            lines.append(np.vstack([head, wall]))
    return lines


def rib_tubes() -> list[Tube]:
    """All rib tubes (radius :data:`RIB_RADIUS_MM`)."""
    out: list[Tube] = []
    for line in rib_centrelines():
        radii = np.full(len(line), RIB_RADIUS_MM)
        radii[-1] = RIB_RADIUS_MM * 0.8
        out.extend(polyline_tubes(line, radii))
    return out


# ---------------------------------------------------------------- stomach
STOMACH_WALL_MM = 4.0
STOMACH_AIR_FLUID_LEVEL_Y_MM = -28.0
"""Supine patient: gas rises anteriorly (y below this level), fluid lies posteriorly (dependent)."""
_STOMACH_PATH = (
    # (x, y, z) mm from the fundus under the left dome along the greater curvature to the pylorus; radius mm
    ((58.0, 8.0, 70.0), 24.0), ((56.0, -12.0, 55.0), 24.0), ((46.0, -38.0, 32.0), 22.0),
    ((28.0, -54.0, 12.0), 18.0), ((2.0, -56.0, 2.0), 15.0), ((-20.0, -46.0, 4.0), 10.0),
)


def stomach_tubes(inset_mm: float = 0.0) -> list[Tube]:
    """The stomach as tubes along its curvature; ``inset_mm`` shrinks the radii (the lumen)."""
    pts = np.array([p for p, _ in _STOMACH_PATH])
    radii = np.array([r for _, r in _STOMACH_PATH]) - inset_mm
    return polyline_tubes(pts, radii)


# ------------------------------------------------------------ vessel trees
def _unit(v: NDArray[np.float64]) -> NDArray[np.float64]:
    return v / np.linalg.norm(v)


def _perpendicular(d: NDArray[np.float64], rng: np.random.Generator) -> NDArray[np.float64]:
    a = rng.normal(size=3)
    a -= (a @ d) * d
    return _unit(a)


def _rotate(v: NDArray[np.float64], axis: NDArray[np.float64], angle: float) -> NDArray[np.float64]:
    """Rodrigues rotation of ``v`` about unit ``axis``."""
    c, s = np.cos(angle), np.sin(angle)
    return v * c + np.cross(axis, v) * s + axis * (axis @ v) * (1 - c)


def _segment_ok(p0: NDArray[np.float64], p1: NDArray[np.float64], radius: float,
                inside: Callable[[NDArray[np.float64]], NDArray[np.float64]]) -> bool:
    t = np.linspace(0.15, 1.0, 8)[:, None]
    pts = p0 + t * (p1 - p0)
    if np.any(inside(pts) > -(radius + 3.0)):  # stay inside the liver with a margin
        return False
    tumour_gap = np.linalg.norm(pts - np.asarray(A.TUMOUR_CENTRE_MM), axis=1) - max(A.TUMOUR_SEMI_AXES_MM)
    return bool(np.all(tumour_gap > radius + 6.0))


def _grow(p0: NDArray[np.float64], d: NDArray[np.float64], length: float, radius: float, depth: int,
          rng: np.random.Generator, inside: Callable[[NDArray[np.float64]], NDArray[np.float64]],
          out: list[Tube]) -> None:
    """Recursively add a branch and its two children (bifurcation angles ~25-40 deg)."""
    for scale in (1.0, 0.6):
        p1 = p0 + d * length * scale
        if _segment_ok(p0, p1, radius, inside):
            break
    else:
        return
    r1 = radius * 0.9
    out.append(Tube(tuple(p0), tuple(p1), radius, r1))  # type: ignore[arg-type]
    if depth == 0:
        return
    axis = _perpendicular(d, rng)
    for sign, share in ((1.0, 0.78), (-1.0, 0.68)):
        angle = sign * np.deg2rad(rng.uniform(25.0, 40.0))
        child = _unit(_rotate(d, axis, angle))
        r_child = r1 * share**0.5
        if r_child >= MIN_VESSEL_RADIUS_MM:
            _grow(p1, child, length * rng.uniform(0.68, 0.8), r_child, depth - 1, rng, inside, out)


def _liver_points(pts: NDArray[np.float64]) -> NDArray[np.float64]:
    return A.liver(pts[:, 0], pts[:, 1], pts[:, 2]).astype(float)


def hepatic_vessel_tubes() -> tuple[list[Tube], list[Tube]]:
    """Portal-venous and hepatic-venous trees as tubes ``(portal, hepatic)``.

    The portal vein runs from the splenic-mesenteric confluence to the hilum
    (:data:`twin.phantom._anatomy.LIVER_HILUM_MM`), then divides into right and
    left branches. Three hepatic veins (right, middle, left) drain into the IVC
    just below the diaphragm. Branches stay at least their radius + 3 mm inside
    the liver and 6 mm away from the tumour.
    """
    rng = np.random.default_rng(20261128)
    hilum = np.asarray(A.LIVER_HILUM_MM)
    confluence = np.asarray(A.PORTAL_CONFLUENCE_MM)
    portal: list[Tube] = [Tube(tuple(confluence), tuple(hilum), 6.2, 6.0)]  # type: ignore[arg-type]
    # right portal vein: lateral, posterior, superior; left: anterior-left along the umbilical portion
    for target, radius, length, depth in (
        ((-1.0, 0.25, 0.35), 5.5, 30.0, 5),
        ((0.75, -0.65, 0.35), 4.8, 32.0, 5),
    ):
        _grow(hilum, _unit(np.asarray(target)), length, radius, depth, rng, _liver_points, portal)
    hepatic: list[Tube] = []
    zj = 78.0
    cx, cy = A.ivc_centre(np.float32(zj))
    junction = np.array([float(cx), float(cy), zj])
    for target, radius in (((-0.9, 0.1, -0.42), 5.0), ((-0.45, -0.8, -0.4), 4.5), ((0.5, -0.8, -0.25), 4.0)):
        d = _unit(np.asarray(target))
        start = junction + d * 8.0
        hepatic.append(Tube(tuple(junction), tuple(start), radius, radius))  # type: ignore[arg-type]
        _grow(start, d, 34.0, radius, 5, rng, _liver_points, hepatic)
    return portal, hepatic
