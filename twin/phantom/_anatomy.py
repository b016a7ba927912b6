"""Anatomy of the abdominal phantom as smooth implicit functions.

Frame: the phantom's *local* frame = patient LPS (mm) translated by
:data:`CENTRE_LPS` (x to patient left, y posterior, z superior; origin at the
torso centre). Every function takes broadcastable coordinate arrays ``x, y, z``
(grid axes or point arrays) and returns a float32 field, negative inside,
roughly a signed distance in mm near the surface. The proportions follow an
adult abdomen at the T10-L4 levels (torso 32 x 22 cm, liver ~1.5 L, kidneys
~11 cm long, vertebral pitch 35 mm).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from twin.phantom._shapes import F32, Array, ellipsoid, rotation_x, rotation_y, rotation_z, smooth_union

CENTRE_LPS = (3.0, -14.0, -248.0)
"""LPS position (mm) of the local-frame origin (torso centre, about the L1 level)."""

# ------------------------------------------------------------------ torso
TORSO_HALF_WIDTH_MM = 158.0
TORSO_HALF_DEPTH_MM = 112.0
TABLE_TOP_Y_MM = 114.0           # local y of the table top under the spine (posterior)
TABLE_CURVATURE_PER_MM = 0.0007  # table top rises towards the patient by c * x^2
SKIN_MM = 2.0

# ------------------------------------------------------------------ spine
VERTEBRA_PITCH_MM = 35.0
VERTEBRA_HEIGHT_MM = 26.0
VERTEBRA_Z0_MM = -5.0            # centre of L1
VERTEBRA_NAMES = {-3: "L4", -2: "L3", -1: "L2", 0: "L1", 1: "T12", 2: "T11", 3: "T10", 4: "T9"}
SPINE_Y0_MM = 46.0

# ------------------------------------------------------------------ organs
TUMOUR_CENTRE_MM = (-84.0, -18.0, 20.0)
TUMOUR_SEMI_AXES_MM = (15.5, 14.5, 15.0)
LIVER_HILUM_MM = (-38.0, 12.0, 28.0)
PORTAL_CONFLUENCE_MM = (-2.0, 4.0, -22.0)


def _f(v: ArrayLike) -> Array:
    return np.asarray(v, dtype=F32)


def spine_y(z: ArrayLike) -> Array:
    """Local y (mm) of the vertebral-body axis at height ``z``: mild lumbar lordosis, thoracic kyphosis."""
    z = _f(z)
    return (F32(SPINE_Y0_MM) + F32(0.0004) * (z + F32(60.0)) ** 2).astype(F32)


def torso_semi_axes(z: ArrayLike) -> tuple[Array, Array]:
    """Half width and half depth (mm) of the torso cross-section at height ``z``."""
    z = _f(z)
    return F32(TORSO_HALF_WIDTH_MM) + F32(0.05) * z, F32(TORSO_HALF_DEPTH_MM) + F32(0.04) * z


def table_top_y(x: ArrayLike) -> Array:
    """Local y (mm) of the curved CT table top (the patient lies on it, posterior side)."""
    x = _f(x)
    return (F32(TABLE_TOP_Y_MM) - F32(TABLE_CURVATURE_PER_MM) * x * x).astype(F32)


def skin_depth(x: ArrayLike, y: ArrayLike, z: ArrayLike) -> Array:
    """Depth below the skin (mm, positive inside the body) measured along the radial direction.

    The cross-section is a super-ellipse (exponent 2 anteriorly, 2.8 posteriorly: a
    flatter back) additionally flattened where the back rests on the table.
    """
    x, y, z = _f(x), _f(y), _f(z)
    a, b = torso_semi_axes(z)
    r = np.sqrt(x * x + y * y) + F32(1e-6)
    c = np.abs(x) / r
    s = np.abs(y) / r
    p = np.where(y > 0, F32(2.8), F32(2.0)).astype(F32)
    rb = np.maximum((c / a) ** p + (s / b) ** p, F32(1e-12))
    rb = rb ** (-F32(1.0) / p)
    return np.minimum(rb - r, table_top_y(x) - F32(1.5) - y).astype(F32)


def fat_thickness(x: ArrayLike, y: ArrayLike) -> Array:
    """Subcutaneous fat thickness (mm): 16 anterior, 24 lateral, 10 posterior."""
    x, y = _f(x), _f(y)
    r = np.sqrt(x * x + y * y) + F32(1e-6)
    c2 = (x / r) ** 2
    s = y / r
    return (F32(16.0) + F32(8.0) * c2 - F32(6.0) * np.maximum(s, F32(0.0))).astype(F32)


def wall_muscle_thickness(x: ArrayLike, y: ArrayLike) -> Array:
    """Abdominal-wall muscle thickness (mm): rectus 9, obliques 15, thin linea alba."""
    x, y = _f(x), _f(y)
    r = np.sqrt(x * x + y * y) + F32(1e-6)
    c2 = (x / r) ** 2
    m = F32(9.0) + F32(6.0) * c2
    alba = np.where(y < 0, np.clip((np.abs(x) - F32(4.0)) / F32(10.0), F32(0.35), F32(1.0)), F32(1.0))
    return (m * alba).astype(F32)


def cavity_depth(x: ArrayLike, y: ArrayLike, z: ArrayLike) -> Array:
    """Depth (mm) inside the inner surface of the body wall; positive in the abdominal/thoracic cavity."""
    return (skin_depth(x, y, z) - F32(SKIN_MM) - fat_thickness(x, y) - wall_muscle_thickness(x, y)).astype(F32)


def diaphragm_z(x: ArrayLike, y: ArrayLike) -> Array:
    """Local z (mm) of the upper surface of the diaphragm: right dome higher than left, posterior recesses."""
    x, y = _f(x), _f(y)

    def dome(z0: float, xa: float, ya: float, kx: float, ky_ant: float, drop_post: float) -> Array:
        dy = y - F32(ya)
        post = np.maximum(dy, F32(0.0)) / F32(100.0)
        ant = np.minimum(dy, F32(0.0))
        return (F32(z0) - F32(kx) * (x - F32(xa)) ** 2 - F32(ky_ant) * ant * ant
                - F32(drop_post) * post * post * post).astype(F32)

    right = dome(100.0, -55.0, -5.0, 45.0 / 90.0**2, 35.0 / 90.0**2, 70.0)
    left = dome(92.0, 62.0, -5.0, 45.0 / 85.0**2, 35.0 / 90.0**2, 70.0)
    centre = dome(84.0, 5.0, -25.0, 20.0 / 60.0**2, 20.0 / 80.0**2, 50.0)
    return np.maximum(np.maximum(right, left), centre).astype(F32)


DIAPHRAGM_THICKNESS_MM = 5.0


def mediastinum(x: ArrayLike, y: ArrayLike) -> Array:
    """Field of the mediastinum column (heart, oesophagus) above the diaphragm (2-D, any z)."""
    x, y = _f(x), _f(y)
    heart = ellipsoid(x, y, F32(0.0), (18.0, -30.0, 0.0), (62.0, 48.0, 1.0e6))
    posterior = ellipsoid(x, y, F32(0.0), (6.0, 22.0, 0.0), (24.0, 34.0, 1.0e6))
    return smooth_union(heart, posterior, 10.0)


# ----------------------------------------------------------------- vessels
def aorta_centre(z: ArrayLike) -> tuple[Array, Array]:
    """Aorta axis (x, y) in mm at height ``z``: left-anterior of the vertebral bodies."""
    z = _f(z)
    return np.full_like(z, 17.0), spine_y(z) - F32(31.0)


AORTA_RADIUS_MM = 11.0
AORTA_BIFURCATION_Z_MM = -96.0
ILIAC_RADIUS_MM = 7.5


def aorta(x: ArrayLike, y: ArrayLike, z: ArrayLike) -> Array:
    """Abdominal aorta with its bifurcation into the common iliac arteries."""
    x, y, z = _f(x), _f(y), _f(z)
    cx, cy = aorta_centre(z)
    main = np.sqrt((x - cx) ** 2 + (y - cy) ** 2) - F32(AORTA_RADIUS_MM)
    below = np.maximum(F32(AORTA_BIFURCATION_Z_MM) - z, F32(0.0))
    spread = F32(0.55) * below
    iliac = np.minimum(
        np.sqrt((x - cx - spread) ** 2 + (y - cy) ** 2), np.sqrt((x - cx + spread) ** 2 + (y - cy) ** 2)
    ) - F32(ILIAC_RADIUS_MM)
    upper = np.maximum(main, z - F32(AORTA_BIFURCATION_Z_MM) - F32(AORTA_RADIUS_MM))
    upper = np.where(z >= F32(AORTA_BIFURCATION_Z_MM), main, np.minimum(upper, iliac))
    return upper.astype(F32)


def ivc_centre(z: ArrayLike) -> tuple[Array, Array]:
    """IVC axis (x, y) in mm: right of the aorta, turning anteriorly through the liver."""
    z = _f(z)
    up = np.maximum(z - F32(40.0), F32(0.0))
    return F32(-24.0) + F32(0.08) * up, spine_y(z) - F32(33.0) - F32(0.25) * up


def ivc(x: ArrayLike, y: ArrayLike, z: ArrayLike) -> Array:
    """Inferior vena cava: an elliptic tube, wider where the hepatic veins join."""
    x, y, z = _f(x), _f(y), _f(z)
    cx, cy = ivc_centre(z)
    grow = np.clip((z - F32(70.0)) / F32(15.0), F32(0.0), F32(1.0))
    rx = F32(13.0) + F32(2.0) * grow
    ry = F32(9.0) + F32(3.0) * grow
    q = np.sqrt(((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2)
    return ((q - F32(1.0)) * ry).astype(F32)


# ------------------------------------------------------------------ organs
_KIDNEY_R = rotation_z(np.deg2rad(-35.0)) @ rotation_y(np.deg2rad(-10.0)) @ rotation_x(np.deg2rad(-12.0))
_KIDNEY_L = rotation_z(np.deg2rad(35.0)) @ rotation_y(np.deg2rad(10.0)) @ rotation_x(np.deg2rad(-12.0))
KIDNEY_RIGHT_CENTRE_MM = (-72.0, 52.0, -40.0)
KIDNEY_LEFT_CENTRE_MM = (74.0, 50.0, -24.0)
KIDNEY_SEMI_AXES_MM = (30.0, 21.0, 56.0)


def kidney(x: ArrayLike, y: ArrayLike, z: ArrayLike, side: str) -> Array:
    """Bean-shaped kidney (``side`` ``"right"`` or ``"left"``): ellipsoid minus a medial hilum notch."""
    centre, rot = (KIDNEY_RIGHT_CENTRE_MM, _KIDNEY_R) if side == "right" else (KIDNEY_LEFT_CENTRE_MM, _KIDNEY_L)
    body = ellipsoid(x, y, z, centre, KIDNEY_SEMI_AXES_MM, rot)
    medial = -np.sign(centre[0]) * rot[:, 0]  # the rotated width axis, pointing medially
    notch_c = np.asarray(centre) + 27.0 * medial
    notch = ellipsoid(x, y, z, notch_c, (14.0, 10.0, 20.0), rot)
    return np.maximum(body, -notch).astype(F32)


def kidney_sinus(x: ArrayLike, y: ArrayLike, z: ArrayLike, side: str) -> Array:
    """Renal sinus fat in the hilum notch (inside the kidney's convex hull)."""
    centre, rot = (KIDNEY_RIGHT_CENTRE_MM, _KIDNEY_R) if side == "right" else (KIDNEY_LEFT_CENTRE_MM, _KIDNEY_L)
    medial = -np.sign(centre[0]) * rot[:, 0]
    notch_c = np.asarray(centre) + 27.0 * medial
    return np.maximum(ellipsoid(x, y, z, centre, KIDNEY_SEMI_AXES_MM, rot),
                      ellipsoid(x, y, z, notch_c, (14.0, 10.0, 20.0), rot)).astype(F32)


GALLBLADDER_NECK_MM = (-36.0, -27.0, 14.0)
GALLBLADDER_FUNDUS_MM = (-55.0, -62.0, -20.0)
GALLBLADDER_RADIUS_MM = 14.0


def _frame_along(axis: ArrayLike) -> np.ndarray:
    """Rotation whose third column is the unit ``axis``."""
    w = np.asarray(axis, float)
    w = w / np.linalg.norm(w)
    u = np.cross(w, [1.0, 0.0, 0.0])
    u /= np.linalg.norm(u)
    return np.stack([u, np.cross(w, u), w], axis=1)


def gallbladder(x: ArrayLike, y: ArrayLike, z: ArrayLike) -> Array:
    """Gallbladder: an ellipsoid from the neck (near the hilum) to the fundus at the liver edge."""
    neck, fundus = np.asarray(GALLBLADDER_NECK_MM), np.asarray(GALLBLADDER_FUNDUS_MM)
    half = 0.5 * float(np.linalg.norm(fundus - neck)) + 4.0
    r = GALLBLADDER_RADIUS_MM
    return ellipsoid(x, y, z, 0.5 * (neck + fundus), (r, r * 0.9, half), _frame_along(fundus - neck))


def _below_diaphragm(x: Array, y: Array, z: Array) -> Array:
    return (z - (diaphragm_z(x, y) - F32(DIAPHRAGM_THICKNESS_MM))).astype(F32)


_VISCERAL_NORMAL = np.array([0.42, 0.28, -0.86]) / np.linalg.norm([0.42, 0.28, -0.86])
_VISCERAL_RADIUS_MM = 150.0
_VISCERAL_CENTRE = np.array([-40.0, 10.0, -10.0]) + _VISCERAL_RADIUS_MM * _VISCERAL_NORMAL
_LIVER_RIGHT_R = rotation_z(np.deg2rad(-12.0)) @ rotation_y(np.deg2rad(-8.0))
_LIVER_LEFT_R = rotation_z(np.deg2rad(-18.0)) @ rotation_x(np.deg2rad(10.0))


def liver(x: ArrayLike, y: ArrayLike, z: ArrayLike) -> Array:
    """Liver: smooth union of right, left and caudate lobes, cut by the diaphragm, body wall and neighbours."""
    x, y, z = _f(x), _f(y), _f(z)
    right = ellipsoid(x, y, z, (-62.0, 0.0, 35.0), (72.0, 95.0, 78.0), _LIVER_RIGHT_R)
    left = ellipsoid(x, y, z, (10.0, -45.0, 62.0), (65.0, 34.0, 30.0), _LIVER_LEFT_R)
    caudate = ellipsoid(x, y, z, (-16.0, 22.0, 52.0), (20.0, 18.0, 30.0))
    f = smooth_union(smooth_union(right, left, 18.0), caudate, 12.0)
    # gentle lobulation
    f = f + F32(2.5) * np.sin(x / F32(23.0)) * np.sin(y / F32(29.0) + F32(1.0)) * np.sin(z / F32(26.0) + F32(2.0))
    f = f + F32(3.0) * np.sin((x + y) / F32(37.0) + F32(0.7)) * np.cos((y - z) / F32(41.0))
    # visceral surface: a large sphere below-medially gives the concave face over kidney, bowel and stomach
    f = np.maximum(f, F32(_VISCERAL_RADIUS_MM) - np.sqrt((x - F32(_VISCERAL_CENTRE[0])) ** 2
                                                        + (y - F32(_VISCERAL_CENTRE[1])) ** 2
                                                        + (z - F32(_VISCERAL_CENTRE[2])) ** 2))
    f = np.maximum(f, _below_diaphragm(x, y, z))
    f = np.maximum(f, F32(0.5) - cavity_depth(x, y, z))
    f = np.maximum(f, F32(5.0) - kidney(x, y, z, "right"))
    f = np.maximum(f, F32(6.0) - aorta(x, y, z))
    f = np.maximum(f, F32(4.0) - vertebral_column_envelope(x, y, z))
    f = np.maximum(f, F32(1.5) - gallbladder(x, y, z))
    return f.astype(F32)


SPLEEN_CENTRE_MM = (86.0, 38.0, 50.0)
_SPLEEN_R = rotation_z(np.deg2rad(-38.0)) @ rotation_x(np.deg2rad(-15.0))


def spleen(x: ArrayLike, y: ArrayLike, z: ArrayLike) -> Array:
    """Spleen: a crescent (ellipsoid minus a medial concavity) in the left upper quadrant."""
    x, y, z = _f(x), _f(y), _f(z)
    f = ellipsoid(x, y, z, SPLEEN_CENTRE_MM, (30.0, 62.0, 50.0), _SPLEEN_R)
    hollow = ellipsoid(x, y, z, (42.0, 10.0, 50.0), (32.0, 40.0, 60.0), _SPLEEN_R)
    f = np.maximum(f, -hollow)
    f = np.maximum(f, _below_diaphragm(x, y, z))
    f = np.maximum(f, F32(2.0) - cavity_depth(x, y, z))
    f = np.maximum(f, F32(4.0) - kidney(x, y, z, "left"))
    return f.astype(F32)


def tumour(x: ArrayLike, y: ArrayLike, z: ArrayLike) -> Array:
    """Liver tumour: a lobulated ~3 cm sphere in the right lobe (segments V/VI)."""
    x, y, z = _f(x), _f(y), _f(z)
    f = ellipsoid(x, y, z, TUMOUR_CENTRE_MM, TUMOUR_SEMI_AXES_MM)
    c = TUMOUR_CENTRE_MM
    lob = np.sin((x - F32(c[0])) / F32(4.0)) * np.sin((y - F32(c[1])) / F32(5.0) + F32(0.5)) * np.cos(
        (z - F32(c[2])) / F32(4.5))
    return (f + F32(1.0) * lob).astype(F32)


# ------------------------------------------------------------------- spine
def _vertebra_local_z(z: Array) -> tuple[Array, Array]:
    """Nearest vertebra index and height (mm) relative to its centre."""
    n = np.rint((z - F32(VERTEBRA_Z0_MM)) / F32(VERTEBRA_PITCH_MM))
    dz = z - (F32(VERTEBRA_Z0_MM) + F32(VERTEBRA_PITCH_MM) * n)
    return n.astype(F32), dz.astype(F32)


def vertebral_column_envelope(x: ArrayLike, y: ArrayLike, z: ArrayLike) -> Array:
    """Elliptic cylinder enclosing bodies and discs (used to keep organs off the spine)."""
    x, y, z = _f(x), _f(y), _f(z)
    q = np.sqrt((x / F32(23.0)) ** 2 + ((y - spine_y(z)) / F32(17.0)) ** 2)
    return ((q - F32(1.0)) * F32(17.0)).astype(F32)


def vertebral_bodies(x: ArrayLike, y: ArrayLike, z: ArrayLike) -> Array:
    """Vertebral bodies (bone), slightly waisted, ``VERTEBRA_HEIGHT_MM`` tall."""
    x, y, z = _f(x), _f(y), _f(z)
    _, dz = _vertebra_local_z(z)
    h = F32(VERTEBRA_HEIGHT_MM / 2.0)
    waist = F32(1.0) - F32(0.07) * (F32(1.0) - (dz / h) ** 2)
    q = np.sqrt((x / (F32(23.0) * waist)) ** 2 + ((y - spine_y(z)) / (F32(17.0) * waist)) ** 2)
    return np.maximum((q - F32(1.0)) * F32(17.0), np.abs(dz) - h).astype(F32)


def discs(x: ArrayLike, y: ArrayLike, z: ArrayLike) -> Array:
    """Intervertebral discs between the bodies."""
    x, y, z = _f(x), _f(y), _f(z)
    _, dz = _vertebra_local_z(z)
    h = F32(VERTEBRA_HEIGHT_MM / 2.0)
    return np.maximum(vertebral_column_envelope(x, y, z) + F32(0.5), h - np.abs(dz)).astype(F32)


def spinal_canal(x: ArrayLike, y: ArrayLike, z: ArrayLike) -> Array:
    """Spinal canal (CSF/cord), radius 9 mm behind the bodies."""
    x, y, z = _f(x), _f(y), _f(z)
    return (np.sqrt(x * x + (y - spine_y(z) - F32(29.0)) ** 2) - F32(9.0)).astype(F32)


def _box(x: Array, y: Array, z: Array, lo: tuple[ArrayLike, ArrayLike, ArrayLike],
         hi: tuple[ArrayLike, ArrayLike, ArrayLike]) -> Array:
    return np.maximum(np.maximum(np.maximum(_f(lo[0]) - x, x - _f(hi[0])), np.maximum(_f(lo[1]) - y, y - _f(hi[1]))),
                      np.maximum(_f(lo[2]) - z, z - _f(hi[2]))).astype(F32)


def posterior_elements(x: ArrayLike, y: ArrayLike, z: ArrayLike) -> Array:
    """Vertebral arches: pedicles, laminae, spinous and transverse processes (bone)."""
    x, y, z = _f(x), _f(y), _f(z)
    _, dz = _vertebra_local_z(z)
    yv = spine_y(z)
    ax = np.abs(x)
    yc = yv + F32(29.0)
    ring = np.sqrt(x * x + (y - yc) ** 2)
    arch = np.maximum(np.maximum(F32(9.5) - ring, ring - F32(15.5)), yv + F32(22.0) - y)
    arch = np.maximum(arch, np.abs(dz) - F32(10.0))
    pedicle = _box(ax, y, dz, (10.0, yv + 12.0, -7.0), (16.5, yv + 30.0, 7.0))
    tilt = F32(0.35) * (y - yv - F32(40.0))
    spinous = _box(ax, y, dz + tilt, (-1.0, yv + 40.0, -9.0), (3.5, yv + 56.0, 5.0))
    transverse = _box(ax, y + F32(0.12) * ax, dz, (14.0, yv + 25.0, -5.0), (40.0, yv + 31.0, 4.0))
    return np.minimum(np.minimum(arch, pedicle), np.minimum(spinous, transverse)).astype(F32)


# ------------------------------------------------------------------ muscle
def paraspinal_muscles(x: ArrayLike, y: ArrayLike, z: ArrayLike) -> Array:
    """Erector spinae either side of the spinous processes."""
    x, y, z = _f(x), _f(y), _f(z)
    yv = spine_y(z)
    return ellipsoid(np.abs(x), y - yv, F32(0.0), (32.0, 42.0, 0.0), (27.0, 19.0, 1.0e6))


def psoas_muscles(x: ArrayLike, y: ArrayLike, z: ArrayLike) -> Array:
    """Psoas major: starts at T12/L1 beside the bodies and thickens caudally."""
    x, y, z = _f(x), _f(y), _f(z)
    grow = np.maximum(F32(15.0) - z, F32(0.0))
    r = F32(4.0) + F32(0.125) * grow
    cx = F32(27.0) + F32(0.16) * grow
    cy = spine_y(z) - F32(4.0)
    q = np.sqrt(((np.abs(x) - cx) / r) ** 2 + ((y - cy) / (F32(0.85) * r)) ** 2)
    return np.where(z < F32(15.0), (q - F32(1.0)) * F32(0.85) * r, F32(100.0)).astype(F32)


def quadratus_muscles(x: ArrayLike, y: ArrayLike, z: ArrayLike) -> Array:
    """Quadratus lumborum posterolateral to the psoas, below the 12th rib."""
    x, y, z = _f(x), _f(y), _f(z)
    yv = spine_y(z)
    f = ellipsoid(np.abs(x), y - yv, F32(0.0), (62.0, 30.0, 0.0), (18.0, 9.0, 1.0e6))
    return np.where(z < F32(10.0), f, F32(100.0)).astype(F32)
