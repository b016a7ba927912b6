"""Closed-form solutions used by the verification suite (units mm, N, MPa; points in LPS mm).

References
----------
- Timoshenko S.P., Goodier J.N., *Theory of Elasticity*, 3rd ed., McGraw-Hill 1970:
  thick-walled cylinder and sphere (Lame), sections 28 and 137.
- Cowper G.R., "The shear coefficient in Timoshenko's beam theory", J. Appl. Mech. 33 (1966) 335-340.
- Johnson K.L., *Contact Mechanics*, Cambridge 1985, ch. 4 (Hertz).
- Bonet J., Wood R.D., *Nonlinear Continuum Mechanics for Finite Element Analysis*, 2nd ed. 2008,
  eq. 6.28 (compressible neo-Hookean, FEBio's form).
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import brentq


def lame_parameters(youngs_modulus_mpa: float, poisson_ratio: float) -> tuple[float, float]:
    """Return ``(mu, lambda)`` in MPa from E (MPa) and nu."""
    e, nu = youngs_modulus_mpa, poisson_ratio
    return e / (2.0 * (1.0 + nu)), e * nu / ((1.0 + nu) * (1.0 - 2.0 * nu))


def isotropic_stress(strain: NDArray[np.float64], youngs_modulus_mpa: float, poisson_ratio: float) -> NDArray:
    """Small-strain Hooke's law ``sigma = lambda tr(eps) I + 2 mu eps``; strain (3, 3) -> stress (3, 3) MPa."""
    mu, lam = lame_parameters(youngs_modulus_mpa, poisson_ratio)
    eps = 0.5 * (np.asarray(strain) + np.asarray(strain).T)
    return lam * np.trace(eps) * np.eye(3) + 2.0 * mu * eps


def affine_displacement(points_mm: NDArray[np.float64], gradient: NDArray[np.float64],
                        translation_mm: NDArray[np.float64] | None = None) -> NDArray[np.float64]:
    """Patch-test field ``u(x) = c + G x``; points (n, 3) -> displacement (n, 3) mm."""
    u = np.asarray(points_mm) @ np.asarray(gradient).T
    if translation_mm is not None:
        u = u + np.asarray(translation_mm)
    return u


# --------------------------------------------------------------------------- beams
def rectangular_shear_coefficient(poisson_ratio: float) -> float:
    """Cowper's Timoshenko shear coefficient of a rectangular section, ``10 (1 + nu) / (12 + 11 nu)``."""
    return 10.0 * (1.0 + poisson_ratio) / (12.0 + 11.0 * poisson_ratio)


def timoshenko_tip_deflection(force_n: float, length_mm: float, width_mm: float, height_mm: float,
                              youngs_modulus_mpa: float, poisson_ratio: float) -> float:
    """Tip deflection (mm) of a cantilever with an end force, bending in the ``height`` direction.

    ``delta = P L^3 / (3 E I) + P L / (kappa G A)`` with ``I = b h^3 / 12``, ``A = b h``.
    """
    inertia = width_mm * height_mm**3 / 12.0
    area = width_mm * height_mm
    shear_modulus = youngs_modulus_mpa / (2.0 * (1.0 + poisson_ratio))
    kappa = rectangular_shear_coefficient(poisson_ratio)
    bending = force_n * length_mm**3 / (3.0 * youngs_modulus_mpa * inertia)
    shear = force_n * length_mm / (kappa * shear_modulus * area)
    return bending + shear


def euler_bernoulli_tip_deflection(force_n: float, length_mm: float, width_mm: float, height_mm: float,
                                   youngs_modulus_mpa: float) -> float:
    """``P L^3 / (3 E I)`` (mm), no shear deformation."""
    return force_n * length_mm**3 / (3.0 * youngs_modulus_mpa * width_mm * height_mm**3 / 12.0)


# --------------------------------------------------------------------------- Lame
def lame_cylinder_radial_displacement(r_mm: NDArray[np.float64], inner_radius_mm: float, outer_radius_mm: float,
                                      pressure_mpa: float, youngs_modulus_mpa: float,
                                      poisson_ratio: float) -> NDArray[np.float64]:
    """Radial displacement (mm) of a thick cylinder under internal pressure, plane strain (u_z = 0).

    ``u_r = (1 + nu) p a^2 / (E (b^2 - a^2)) [(1 - 2 nu) r + b^2 / r]``.
    """
    a, b, p, e, nu = inner_radius_mm, outer_radius_mm, pressure_mpa, youngs_modulus_mpa, poisson_ratio
    r = np.asarray(r_mm, dtype=np.float64)
    return (1.0 + nu) * p * a**2 / (e * (b**2 - a**2)) * ((1.0 - 2.0 * nu) * r + b**2 / r)


def lame_cylinder_displacement(points_mm: NDArray[np.float64], inner_radius_mm: float, outer_radius_mm: float,
                               pressure_mpa: float, youngs_modulus_mpa: float,
                               poisson_ratio: float) -> NDArray[np.float64]:
    """Displacement field (n, 3) mm of the plane-strain Lame cylinder (axis = z through the origin)."""
    p = np.asarray(points_mm, dtype=np.float64)
    r = np.hypot(p[:, 0], p[:, 1])
    ur = lame_cylinder_radial_displacement(r, inner_radius_mm, outer_radius_mm, pressure_mpa,
                                           youngs_modulus_mpa, poisson_ratio)
    out = np.zeros_like(p)
    out[:, 0] = ur * p[:, 0] / r
    out[:, 1] = ur * p[:, 1] / r
    return out


def lame_sphere_radial_displacement(r_mm: NDArray[np.float64], inner_radius_mm: float, outer_radius_mm: float,
                                    pressure_mpa: float, youngs_modulus_mpa: float,
                                    poisson_ratio: float) -> NDArray[np.float64]:
    """Radial displacement (mm) of a thick sphere under internal pressure.

    ``u_r = p a^3 / (E (b^3 - a^3)) [(1 - 2 nu) r + (1 + nu) b^3 / (2 r^2)]``.
    """
    a, b, p, e, nu = inner_radius_mm, outer_radius_mm, pressure_mpa, youngs_modulus_mpa, poisson_ratio
    r = np.asarray(r_mm, dtype=np.float64)
    return p * a**3 / (e * (b**3 - a**3)) * ((1.0 - 2.0 * nu) * r + (1.0 + nu) * b**3 / (2.0 * r**2))


# --------------------------------------------------------------------------- hyperelasticity
def neo_hookean_uniaxial(stretch: float, youngs_modulus_mpa: float, poisson_ratio: float) -> tuple[float, float]:
    """Uniaxial tension of FEBio's compressible neo-Hookean solid with free lateral faces.

    ``W = mu/2 (I1 - 3) - mu ln J + lambda/2 (ln J)^2``, so ``P = mu (F - F^-T) + lambda ln J F^-T``.
    With ``F = diag(l, t, t)`` the lateral stretch ``t`` solves
    ``P22 = mu (t - 1/t) + lambda ln(l t^2) / t = 0`` (monotone in t: solved with brentq).

    Returns
    -------
    nominal_stress_mpa : float
        First Piola-Kirchhoff ``P11`` = axial force / reference area.
    lateral_stretch : float
        ``t``.
    """
    mu, lam = lame_parameters(youngs_modulus_mpa, poisson_ratio)
    lmb = float(stretch)

    def p22(t: float) -> float:
        return mu * (t - 1.0 / t) + lam * math.log(lmb * t * t) / t

    lo, hi = 1e-6, 10.0
    t = float(brentq(p22, lo, hi, xtol=1e-15, rtol=1e-15, maxiter=200))
    jac = lmb * t * t
    return mu * (lmb - 1.0 / lmb) + lam * math.log(jac) / lmb, t


def mooney_rivlin_principal_stress(stretches: tuple[float, float, float], c10_mpa: float, c01_mpa: float,
                                   bulk_modulus_mpa: float) -> float:
    """First principal nominal stress ``dW/dl1`` (MPa) of FEBio's uncoupled Mooney-Rivlin solid.

    ``W = c10 (I1~ - 3) + c01 (I2~ - 3) + k/2 (ln J)^2`` with ``I1~ = J^-2/3 I1``, ``I2~ = J^-4/3 I2``
    and principal stretches ``(l1, l2, l3)``.
    """
    l1, l2, l3 = (float(v) for v in stretches)
    jac = l1 * l2 * l3
    i1 = l1 * l1 + l2 * l2 + l3 * l3
    i2 = (l1 * l2) ** 2 + (l2 * l3) ** 2 + (l1 * l3) ** 2
    return (c10_mpa * jac ** (-2.0 / 3.0) * (2.0 * l1 - 2.0 * i1 / (3.0 * l1))
            + c01_mpa * jac ** (-4.0 / 3.0) * (2.0 * l1 * (l2 * l2 + l3 * l3) - 4.0 * i2 / (3.0 * l1))
            + bulk_modulus_mpa * math.log(jac) / l1)


def mooney_rivlin_uniaxial(stretch: float, c10_mpa: float, c01_mpa: float,
                           bulk_modulus_mpa: float) -> tuple[float, float]:
    """Uniaxial tension of the uncoupled Mooney-Rivlin solid with free lateral faces.

    The lateral stretch ``t`` solves ``dW/dl2 (l, t, t) = 0`` (brentq).

    Returns
    -------
    nominal_stress_mpa : float
        ``P11`` = axial force / reference area.
    lateral_stretch : float
    """
    lmb = float(stretch)
    t = float(brentq(lambda t: mooney_rivlin_principal_stress((t, lmb, t), c10_mpa, c01_mpa, bulk_modulus_mpa),
                     1e-3, 10.0, xtol=1e-15, rtol=1e-15, maxiter=200))
    return mooney_rivlin_principal_stress((lmb, t, t), c10_mpa, c01_mpa, bulk_modulus_mpa), t


# --------------------------------------------------------------------------- contact
def hertz_sphere_force(depth_mm: float, sphere_radius_mm: float, youngs_modulus_mpa: float,
                       poisson_ratio: float) -> float:
    """Force (N) of a rigid sphere pressed ``depth`` into an elastic half-space, ``4/3 E* sqrt(R) d^1.5``.

    ``E* = E / (1 - nu^2)`` (rigid indenter).
    """
    e_star = youngs_modulus_mpa / (1.0 - poisson_ratio**2)
    return 4.0 / 3.0 * e_star * math.sqrt(sphere_radius_mm) * depth_mm**1.5


def hertz_contact_radius(depth_mm: float, sphere_radius_mm: float) -> float:
    """Contact radius ``a = sqrt(R d)`` (mm)."""
    return math.sqrt(sphere_radius_mm * depth_mm)


# --------------------------------------------------------------------------- gravity
def hanging_bar_displacement(z_from_support_mm: NDArray[np.float64], length_mm: float, density_t_mm3: float,
                             gravity_mm_s2: float, youngs_modulus_mpa: float) -> NDArray[np.float64]:
    """Axial displacement (mm, along gravity) of a bar hanging from its support under its own weight, nu = 0.

    ``u(s) = rho g (L s - s^2 / 2) / E`` with ``s`` the distance from the support.
    """
    s = np.asarray(z_from_support_mm, dtype=np.float64)
    return density_t_mm3 * gravity_mm_s2 * (length_mm * s - 0.5 * s * s) / youngs_modulus_mpa


def neo_hookean_sphere_inflation(inner_radius_mm: float, outer_radius_mm: float, pressure_mpa: float,
                                 youngs_modulus_mpa: float, poisson_ratio: float,
                                 n_nodes: int = 200) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Large inflation of a thick compressible neo-Hookean sphere by a follower internal pressure.

    The spherically symmetric map ``r = f(R)`` has stretches ``l_r = f'``, ``l_t = f / R`` and nominal
    stresses ``P_i = mu (l_i - 1/l_i) + lambda ln J / l_i`` (FEBio's neo-Hookean, ``J = l_r l_t^2``).
    Equilibrium ``dP_r/dR + 2 (P_r - P_t) / R = 0`` with ``P_r(A) = -p l_t(A)^2`` (Cauchy traction -p on
    the deformed inner wall) and ``P_r(B) = 0`` is solved with ``scipy.integrate.solve_bvp`` (tol 1e-10).

    Returns
    -------
    radii_mm : (n,) float
        Reference radii from A to B.
    radial_displacement_mm : (n,) float
        ``f(R) - R``.
    """
    from scipy.integrate import solve_bvp

    mu, lam = lame_parameters(youngs_modulus_mpa, poisson_ratio)
    a, b, p = float(inner_radius_mm), float(outer_radius_mm), float(pressure_mpa)

    def stresses(rr: NDArray, f: NDArray, fp: NDArray) -> tuple[NDArray, NDArray, NDArray, NDArray, NDArray]:
        lr, lt = fp, f / rr
        ln_j = np.log(lr * lt * lt)
        p_r = mu * (lr - 1.0 / lr) + lam * ln_j / lr
        p_t = mu * (lt - 1.0 / lt) + lam * ln_j / lt
        dpr_dlr = mu * (1.0 + 1.0 / lr**2) + lam * (1.0 - ln_j) / lr**2
        dpr_dlt = 2.0 * lam / (lr * lt)
        return p_r, p_t, dpr_dlr, dpr_dlt, lt

    def rhs(rr: NDArray, y: NDArray) -> NDArray:
        f, fp = y
        p_r, p_t, dpr_dlr, dpr_dlt, _ = stresses(rr, f, fp)
        fpp = -(dpr_dlt * (fp / rr - f / rr**2) + 2.0 * (p_r - p_t) / rr) / dpr_dlr
        return np.vstack([fp, fpp])

    def bc(ya: NDArray, yb: NDArray) -> NDArray:
        pa, _, _, _, lta = stresses(np.array(a), ya[0], ya[1])
        pb = stresses(np.array(b), yb[0], yb[1])[0]
        return np.array([pa + p * lta**2, pb])

    rr = np.linspace(a, b, n_nodes)
    u_lin = lame_sphere_radial_displacement(rr, a, b, p, youngs_modulus_mpa, poisson_ratio)
    du_lin = np.gradient(u_lin, rr)
    sol = solve_bvp(rhs, bc, rr, np.vstack([rr + u_lin, 1.0 + du_lin]), tol=1e-10, max_nodes=100000)
    if not sol.success:
        raise RuntimeError(f"neo-Hookean sphere inflation: {sol.message}")
    return rr, sol.sol(rr)[0] - rr
