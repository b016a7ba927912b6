"""Named points of the demo phantom in patient LPS millimetres.

They are derived from the same anatomical parameters that generate the
phantom (never measured from a particular image), so they hold for every grid
and seed. The needle path ``needle_entry -> needle_target`` was chosen by
searching all directions from the tumour centre for the shortest path that
stays >= 10 mm from vessels, bone, lung, bowel and other organs (11.5 mm on the default grid) (see
``tests/twin/test_phantom.py``, which re-checks it on the label map).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

import numpy as np
from numpy.typing import NDArray

from twin.phantom import _anatomy as A

NEEDLE_DIRECTION = (-0.72, -0.69, 0.04)
"""Direction (LPS, from the tumour towards the skin) of the suggested percutaneous path: right anterolateral."""
LIVER_CENTROID_MM = (-51.3, -7.7, 37.0)
"""Centroid of the liver (local frame, mm), measured once on the default grid; defines the resection normal."""
RESECTION_MARGIN_MM = 10.0
TUMOUR_RADIUS_MAX_MM = 16.0


def _unit(v: tuple[float, float, float] | NDArray[np.float64]) -> NDArray[np.float64]:
    a = np.asarray(v, float)
    return a / np.linalg.norm(a)


def skin_point_along(start_local: NDArray[np.float64], direction: NDArray[np.float64],
                     depth_mm: float = 1.0) -> NDArray[np.float64]:
    """First point (local mm) along a ray from inside the body where the skin depth falls to ``depth_mm``."""
    t = np.arange(0.0, 400.0, 0.25)
    pts = start_local[None, :] + t[:, None] * direction[None, :]
    depth = A.skin_depth(pts[:, 0], pts[:, 1], pts[:, 2]).astype(float)
    below = np.nonzero(depth < depth_mm)[0]
    if below.size == 0 or below[0] == 0:
        raise ValueError("ray does not leave the body")
    k = int(below[0])
    # linear interpolation between samples k-1 (deeper) and k
    f = (depth[k - 1] - depth_mm) / (depth[k - 1] - depth[k])
    return np.asarray(pts[k - 1] + f * (pts[k] - pts[k - 1]))


def _compute() -> dict[str, tuple[float, float, float]]:
    centre = np.asarray(A.CENTRE_LPS)
    tumour = np.asarray(A.TUMOUR_CENTRE_MM)
    entry = skin_point_along(tumour, _unit(NEEDLE_DIRECTION), depth_mm=1.0)
    normal = _unit(tumour - np.asarray(LIVER_CENTROID_MM))
    plane_point = tumour - (TUMOUR_RADIUS_MAX_MM + RESECTION_MARGIN_MM) * normal
    zj = 78.0
    cx, cy = A.ivc_centre(np.float32(zj))
    dome_xy = (-55.0, -5.0)
    dome_z = float(A.diaphragm_z(np.float32(dome_xy[0]), np.float32(dome_xy[1]))) - A.DIAPHRAGM_THICKNESS_MM - 4.0
    local = {
        "tumor_center": tumour,
        "needle_target": tumour,
        "needle_entry": entry,
        "liver_hilum": np.asarray(A.LIVER_HILUM_MM),
        "ivc_hepatic_confluence": np.array([float(cx), float(cy), zj]),
        "liver_dome": np.array([dome_xy[0], dome_xy[1], dome_z]),
        "resection_plane_point": plane_point,
        "kidney_right_center": np.asarray(A.KIDNEY_RIGHT_CENTRE_MM),
        "kidney_left_center": np.asarray(A.KIDNEY_LEFT_CENTRE_MM),
        "spleen_center": np.asarray(A.SPLEEN_CENTRE_MM),
    }
    out = {k: tuple(float(c) for c in (v + centre)) for k, v in local.items()}
    out["resection_plane_normal"] = tuple(float(c) for c in normal)  # a unit vector, not a point
    return out  # type: ignore[return-value]


DEMO_LANDMARKS: Mapping[str, tuple[float, float, float]] = MappingProxyType(_compute())
"""Read-only ``name -> (x, y, z)`` in LPS mm.

``tumor_center`` / ``needle_target``: centre of the liver tumour.
``needle_entry``: skin entry (1 mm under the surface) of a straight right anterolateral path to the tumour
that keeps >= 10 mm from vessels, ribs, lung, bowel, kidney, spleen, stomach and gallbladder (65 mm long,
13 mm of it through liver before the tumour).
``liver_hilum``: portal vein bifurcation at the porta hepatis.
``ivc_hepatic_confluence``: where the hepatic veins join the IVC (a natural fixation of the liver).
``liver_dome``: top of the right lobe, 4 mm under the diaphragm.
``resection_plane_point`` + ``resection_plane_normal`` (unit vector, pointing to the tumour side):
a non-anatomical resection plane leaving a 10 mm margin around the tumour (about 40% of the liver resected).
``kidney_right_center``, ``kidney_left_center``, ``spleen_center``: organ centres.
"""
