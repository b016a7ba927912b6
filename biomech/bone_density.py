"""CT Hounsfield units -> apparent bone density -> Young's modulus, per element.

Geometry: mesh points in the patient LPS frame (mm); the CT is sampled through
its own ``ImageGeometry`` (oblique grids included), trilinearly, at element
centroids (or the 4-point Gauss rule of each tetrahedron).

Two steps, each stated explicitly because both are assumptions:

1. **Calibration** HU -> apparent density ``rho_app`` (g/cm^3), linear:
   ``rho_app = intercept + slope * HU``. Without a calibration phantom the
   default is the common *phantom-less* assumption 1 HU ~ 1 mg/cm^3 of
   equivalent mineral with water/marrow at 0 (``slope = 1e-3``,
   ``intercept = 0``). Scanner, kVp and reconstruction kernel change this by
   10-20 %; pass the slope/intercept of your phantom (or of an internal
   calibration on air/fat/muscle/blood) when you have one.
2. **Density-modulus relation** ``E = a * rho_app^b`` (MPa):

   * ``"morgan2003_femoral_neck"`` (default): E = 6850 rho^1.49;
   * ``"morgan2003_vertebra"``: E = 4730 rho^1.56;
   * ``"morgan2003_proximal_tibia"``: E = 15520 rho^1.93;
   * ``"morgan2003_greater_trochanter"``: E = 15010 rho^2.18;
   * ``"morgan2003_pooled"``: E = 8920 rho^1.83;
     Morgan EF, Bayraktar HH, Keaveny TM. Trabecular bone modulus-density
     relationships depend on anatomic site. J Biomech 2003;36(7):897-904.
   * ``"carter_hayes1977"``: E = 3790 eps_dot^0.06 rho^3 (strain rate
     ``eps_dot`` in 1/s, default 0.01). Carter DR, Hayes WC. The compressive
     behavior of bone as a two-phase porous structure. J Bone Joint Surg Am
     1977;59(7):954-962.

   The Morgan relations were fitted to trabecular bone (rho_app ~0.1-0.9
   g/cm^3); using them for cortical bone is an extrapolation, which the cap
   ``max_modulus_mpa`` (default 20 GPa, about cortical bone, Reilly & Burstein
   1975) limits. Elements in soft tissue get ``min_modulus_mpa``.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import ndimage

from twin.errors import InputError
from twin.meshes import TetMesh
from twin.volume import Volume

RELATIONS: dict[str, tuple[float, float, str]] = {
    "morgan2003_femoral_neck": (6850.0, 1.49, "Morgan et al. 2003, J Biomech 36:897, femoral neck"),
    "morgan2003_vertebra": (4730.0, 1.56, "Morgan et al. 2003, J Biomech 36:897, vertebra"),
    "morgan2003_proximal_tibia": (15520.0, 1.93, "Morgan et al. 2003, J Biomech 36:897, proximal tibia"),
    "morgan2003_greater_trochanter": (15010.0, 2.18, "Morgan et al. 2003, J Biomech 36:897, greater trochanter"),
    "morgan2003_pooled": (8920.0, 1.83, "Morgan et al. 2003, J Biomech 36:897, pooled sites"),
    "carter_hayes1977": (3790.0, 3.0, "Carter & Hayes 1977, J Bone Joint Surg Am 59:954 (times strain_rate^0.06)"),
}
"""Relation name -> (coefficient a in MPa, exponent b, source): ``E = a rho_app^b``, rho_app in g/cm^3."""

DEFAULT_RELATION = "morgan2003_femoral_neck"
PHANTOMLESS_SLOPE_G_CM3_PER_HU = 1.0e-3
PHANTOMLESS_INTERCEPT_G_CM3 = 0.0


def apparent_density_from_hu(
    hu: ArrayLike, slope: float = PHANTOMLESS_SLOPE_G_CM3_PER_HU, intercept: float = PHANTOMLESS_INTERCEPT_G_CM3
) -> NDArray[np.float64]:
    """Apparent density (g/cm^3) from HU by a linear calibration, clipped at 0."""
    return np.maximum(intercept + slope * np.asarray(hu, np.float64), 0.0)


def modulus_from_density(
    rho_app_g_cm3: ArrayLike, relation: str = DEFAULT_RELATION, strain_rate_per_s: float = 0.01
) -> NDArray[np.float64]:
    """Young's modulus (MPa) from apparent density (g/cm^3) by a power law of :data:`RELATIONS`."""
    if relation not in RELATIONS:
        raise InputError(f"unknown density-modulus relation {relation!r}; choose one of {', '.join(RELATIONS)}")
    a, b, _ = RELATIONS[relation]
    if relation == "carter_hayes1977":
        if strain_rate_per_s <= 0:
            raise InputError(f"strain rate must be positive, got {strain_rate_per_s} 1/s")
        a = a * strain_rate_per_s**0.06
    return a * np.maximum(np.asarray(rho_app_g_cm3, np.float64), 0.0) ** b


# 4-point Gauss rule of a tetrahedron (barycentric), exact for quadratics
_GA, _GB = 0.5854101966249685, 0.1381966011250105
_GAUSS4 = np.array([[_GA, _GB, _GB, _GB], [_GB, _GA, _GB, _GB], [_GB, _GB, _GA, _GB], [_GB, _GB, _GB, _GA]])


def sample_hu(volume: Volume, points_lps: NDArray[np.float64], fill_hu: float = -1000.0) -> NDArray[np.float64]:
    """Trilinear CT values at LPS points ``(n, 3)`` (mm); points outside the grid get ``fill_hu``."""
    ijk = volume.geometry.lps_to_index(np.asarray(points_lps, np.float64))
    arr = np.asarray(volume.array, np.float32)
    vals = ndimage.map_coordinates(arr, ijk.T, order=1, mode="nearest")
    inside = np.all((ijk >= -0.5) & (ijk <= np.asarray(volume.shape) - 0.5), axis=1)
    return np.where(inside, vals, fill_hu).astype(np.float64)


def element_moduli_from_ct(
    mesh: TetMesh,
    volume: Volume,
    relation: str = DEFAULT_RELATION,
    hu_slope: float = PHANTOMLESS_SLOPE_G_CM3_PER_HU,
    hu_intercept: float = PHANTOMLESS_INTERCEPT_G_CM3,
    min_modulus_mpa: float = 1.0,
    max_modulus_mpa: float = 20000.0,
    sample: str = "centroid",
    strain_rate_per_s: float = 0.01,
    fill_hu: float = -1000.0,
) -> NDArray[np.float64]:
    """Young's modulus of every element from the CT it sits in.

    Parameters
    ----------
    mesh : TetMesh
        Tet4 or tet10 mesh, LPS mm (corner nodes define the sample points).
    volume : Volume
        CT in HU on any grid (LPS mm).
    relation : str
        Key of :data:`RELATIONS`.
    hu_slope, hu_intercept : float
        Linear calibration rho_app = intercept + slope * HU (g/cm^3); defaults: phantom-less assumption.
    min_modulus_mpa, max_modulus_mpa : float
        Floor (soft tissue, marrow, air) and cap (cortical bone) of the result.
    sample : {"centroid", "gauss4"}
        HU at the centroid, or the mean of the 4 Gauss points (smoother for large elements).
    strain_rate_per_s : float
        Only for ``"carter_hayes1977"``.
    fill_hu : float
        HU assumed outside the CT grid.

    Returns
    -------
    ndarray (n_cells,)
        Young's modulus per element, MPa.
    """
    if volume.modality not in ("CT", "OT", ""):
        raise InputError(f"bone moduli need a CT in HU, got a {volume.modality} volume")
    if not 0 < min_modulus_mpa <= max_modulus_mpa:
        raise InputError(f"need 0 < min_modulus_mpa <= max_modulus_mpa, got {min_modulus_mpa}, {max_modulus_mpa}")
    corners = np.asarray(mesh.points_lps)[np.asarray(mesh.cells)[:, :4]]  # (n, 4, 3)
    if sample == "centroid":
        hu = sample_hu(volume, corners.mean(axis=1), fill_hu)
    elif sample == "gauss4":
        pts = np.einsum("gc,nck->ngk", _GAUSS4, corners).reshape(-1, 3)
        hu = sample_hu(volume, pts, fill_hu).reshape(-1, 4).mean(axis=1)
    else:
        raise InputError(f"sample must be 'centroid' or 'gauss4', got {sample!r}")
    rho = apparent_density_from_hu(hu, hu_slope, hu_intercept)
    e = modulus_from_density(rho, relation, strain_rate_per_s)
    return np.clip(e, min_modulus_mpa, max_modulus_mpa)
