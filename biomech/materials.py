"""Constitutive models, vectorized over quadrature points.

Every model gives, for deformation gradients ``F (m, 3, 3)``, the second Piola-Kirchhoff stress ``S``
and the material tangent ``CC = 2 dS/dC`` (m, 3, 3, 3, 3); :func:`first_piola_and_tangent` turns them
into ``P = F S`` and ``A = dP/dF`` for the total-Lagrangian Newton solver. Each model also has a
small-strain linearization ``(lam, mu)`` used by the linear solver. Units: MPa.

- ``linear-elastic``: Hooke (small strain); St. Venant-Kirchhoff in large deformation (as FEBio's
  "isotropic elastic").
- ``neo-hookean``: compressible, FEBio's form W = mu/2 (I1 - 3) - mu ln J + lam/2 (ln J)^2.
- ``mooney-rivlin``: uncoupled, FEBio's form W = c1 (I1~ - 3) + c2 (I2~ - 3) + k/2 (ln J)^2 with
  I1~ = J^(-2/3) I1, I2~ = J^(-4/3) I2.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from biomech.problem import MaterialAssignment
from twin.errors import InputError

FloatArray = NDArray[np.float64]
_I = np.eye(3)


def lame_from_young(youngs_modulus_mpa: float, poisson_ratio: float) -> tuple[float, float]:
    """``(lambda, mu)`` in MPa from E (MPa) and nu, as for small strain."""
    E, nu = float(youngs_modulus_mpa), float(poisson_ratio)
    return E * nu / ((1.0 + nu) * (1.0 - 2.0 * nu)), E / (2.0 * (1.0 + nu))


def _outer(a: FloatArray, b: FloatArray) -> FloatArray:
    return np.einsum("mij,mkl->mijkl", a, b)


def _sym_product(a: FloatArray, b: FloatArray) -> FloatArray:
    """(a (x) b)^sym_IJKL = (a_IK b_JL + a_IL b_JK) / 2."""
    return 0.5 * (np.einsum("mik,mjl->mijkl", a, b) + np.einsum("mil,mjk->mijkl", a, b))


@dataclass(frozen=True)
class Material:
    """A constitutive model with scalar parameters (MPa); see the module docstring for the forms."""

    model: str
    lam: float
    mu: float
    c10: float = 0.0
    c01: float = 0.0
    bulk_modulus: float = 0.0
    density: float = 0.0
    youngs_modulus: float = 0.0
    poisson_ratio: float = 0.0

    @property
    def stiffness_scale_mpa(self) -> float:
        """A representative modulus (for penalties and tolerances)."""
        return float(self.lam + 2.0 * self.mu)

    def small_strain_stress(self, eps: FloatArray) -> FloatArray:
        """Hooke's law with the linearized moduli: ``(m, 3, 3)`` -> ``(m, 3, 3)`` MPa."""
        tr = np.trace(eps, axis1=-2, axis2=-1)
        return self.lam * tr[..., None, None] * _I + 2.0 * self.mu * eps

    def energy(self, F: FloatArray) -> FloatArray:
        """Strain energy density (mJ/mm^3 = MPa) for ``F (m, 3, 3)``."""
        C = np.einsum("mki,mkj->mij", F, F)
        J = np.linalg.det(F)
        if self.model == "linear-elastic":
            E = 0.5 * (C - _I)
            trE = np.trace(E, axis1=1, axis2=2)
            return 0.5 * self.lam * trE**2 + self.mu * np.einsum("mij,mij->m", E, E)
        lnJ = np.log(J)
        I1 = np.trace(C, axis1=1, axis2=2)
        if self.model == "neo-hookean":
            return 0.5 * self.mu * (I1 - 3.0) - self.mu * lnJ + 0.5 * self.lam * lnJ**2
        I2 = 0.5 * (I1**2 - np.einsum("mij,mji->m", C, C))
        return (self.c10 * (J ** (-2.0 / 3.0) * I1 - 3.0) + self.c01 * (J ** (-4.0 / 3.0) * I2 - 3.0)
                + 0.5 * self.bulk_modulus * lnJ**2)

    def pk2_and_tangent(self, F: FloatArray) -> tuple[FloatArray, FloatArray]:
        """Second Piola-Kirchhoff stress ``S (m,3,3)`` and material tangent ``CC (m,3,3,3,3)``.

        ``F`` must have det F > 0 (the solver checks before calling).
        """
        m = F.shape[0]
        C = np.einsum("mki,mkj->mij", F, F)
        Ib = np.broadcast_to(_I, (m, 3, 3))
        if self.model == "linear-elastic":
            E = 0.5 * (C - _I)
            trE = np.trace(E, axis1=1, axis2=2)
            S = self.lam * trE[:, None, None] * _I + 2.0 * self.mu * E
            CC = self.lam * _outer(Ib, Ib) + 2.0 * self.mu * _sym_product(Ib, Ib)
            return S, CC
        J = np.linalg.det(F)
        lnJ = np.log(J)
        Cinv = np.linalg.inv(C)
        I1 = np.trace(C, axis1=1, axis2=2)
        dJ = 0.5 * J[:, None, None] * Cinv
        d2J = 0.25 * J[:, None, None, None, None] * _outer(Cinv, Cinv) - 0.5 * J[:, None, None, None, None] * \
            _sym_product(Cinv, Cinv)
        if self.model == "neo-hookean":
            mu, lam = self.mu, self.lam
            W1 = 0.5 * mu
            WJ = (-mu + lam * lnJ) / J
            WJJ = (mu + lam * (1.0 - lnJ)) / J**2
            S = 2.0 * (W1 * Ib + WJ[:, None, None] * dJ)
            CC = 4.0 * (WJJ[:, None, None, None, None] * _outer(dJ, dJ) + WJ[:, None, None, None, None] * d2J)
            return S, CC
        # uncoupled Mooney-Rivlin
        c1, c2, k = self.c10, self.c01, self.bulk_modulus
        I2 = 0.5 * (I1**2 - np.einsum("mij,mji->m", C, C))
        dI2 = I1[:, None, None] * Ib - C
        d2I2 = _outer(Ib, Ib) - _sym_product(Ib, Ib)
        W1 = c1 * J ** (-2.0 / 3.0)
        W2 = c2 * J ** (-4.0 / 3.0)
        WJ = -2.0 / 3.0 * c1 * J ** (-5.0 / 3.0) * I1 - 4.0 / 3.0 * c2 * J ** (-7.0 / 3.0) * I2 + k * lnJ / J
        W1J = -2.0 / 3.0 * c1 * J ** (-5.0 / 3.0)
        W2J = -4.0 / 3.0 * c2 * J ** (-7.0 / 3.0)
        WJJ = (10.0 / 9.0 * c1 * J ** (-8.0 / 3.0) * I1 + 28.0 / 9.0 * c2 * J ** (-10.0 / 3.0) * I2
               + k * (1.0 - lnJ) / J**2)

        def b(x: FloatArray) -> FloatArray:
            return x[:, None, None, None, None]

        S = 2.0 * (W1[:, None, None] * Ib + W2[:, None, None] * dI2 + WJ[:, None, None] * dJ)
        CC = 4.0 * (b(W1J) * (_outer(Ib, dJ) + _outer(dJ, Ib)) + b(W2J) * (_outer(dI2, dJ) + _outer(dJ, dI2))
                    + b(WJJ) * _outer(dJ, dJ) + b(W2) * d2I2 + b(WJ) * d2J)
        return S, CC


def first_piola_and_tangent(material: Material, F: FloatArray) -> tuple[FloatArray, FloatArray]:
    """``P = F S`` (m,3,3) and ``A_iJkL = dP_iJ/dF_kL = delta_ik S_JL + F_iM CC_MJNL F_kN`` (m,3,3,3,3)."""
    if material.model == "neo-hookean":  # closed form, 4x cheaper than going through CC
        Finv = np.linalg.inv(F)
        lnJ = np.log(np.linalg.det(F))
        FinvT = np.swapaxes(Finv, 1, 2)
        P = material.mu * (F - FinvT) + (material.lam * lnJ)[:, None, None] * FinvT
        A = np.einsum("mLi,mJk->miJkL", Finv, Finv) * (material.mu - material.lam * lnJ)[:, None, None, None, None]
        A += material.lam * np.einsum("mJi,mLk->miJkL", Finv, Finv)
        A += material.mu * np.einsum("ik,JL->iJkL", _I, _I)
        return P, A
    S, CC = material.pk2_and_tangent(F)
    P = np.einsum("miK,mKJ->miJ", F, S)
    A = np.einsum("miM,mMJNL,mkN->miJkL", F, CC, F, optimize=True)
    A += np.einsum("ik,mJL->miJkL", _I, S)
    return P, A


def first_piola(material: Material, F: FloatArray) -> FloatArray:
    """``P = F S`` (m, 3, 3) MPa without the tangent (Newton residual checks and line searches)."""
    if material.model == "neo-hookean":
        FinvT = np.swapaxes(np.linalg.inv(F), 1, 2)
        lnJ = np.log(np.linalg.det(F))
        return material.mu * (F - FinvT) + (material.lam * lnJ)[:, None, None] * FinvT
    if material.model == "linear-elastic":  # St. Venant-Kirchhoff
        E = 0.5 * (np.einsum("mki,mkj->mij", F, F) - _I)
        S = material.lam * np.trace(E, axis1=1, axis2=2)[:, None, None] * _I + 2.0 * material.mu * E
        return np.einsum("miK,mKJ->miJ", F, S)
    S, _ = material.pk2_and_tangent(F)
    return np.einsum("miK,mKJ->miJ", F, S)


def cauchy_from_pk2(F: FloatArray, S: FloatArray) -> FloatArray:
    """Cauchy stress ``sigma = F S F^T / J`` (m, 3, 3) MPa."""
    J = np.linalg.det(F)
    return np.einsum("miK,mKL,mjL->mij", F, S, F) / J[:, None, None]


def make_material(a: MaterialAssignment) -> Material:
    """Validate an assignment and build its :class:`Material` (raises :class:`InputError`)."""
    where = f"material {a.name or a.region or ''}".strip()
    density = float(a.density or 0.0)
    if density < 0:
        raise InputError(f"{where}: density must be >= 0 (tonne/mm^3)")
    if a.model in ("linear-elastic", "neo-hookean"):
        if a.youngs_modulus is None or a.poisson_ratio is None:
            raise InputError(f"{where}: {a.model} needs youngs_modulus (MPa) and poisson_ratio")
        E, nu = float(a.youngs_modulus), float(a.poisson_ratio)
        if not E > 0:
            raise InputError(f"{where}: youngs_modulus must be > 0 MPa, got {E}")
        if not -1.0 < nu < 0.5:
            raise InputError(f"{where}: poisson_ratio must be in (-1, 0.5), got {nu}")
        lam, mu = lame_from_young(E, nu)
        return Material(a.model, lam, mu, density=density, youngs_modulus=E, poisson_ratio=nu)
    if a.model == "mooney-rivlin":
        if a.c10 is None or a.bulk_modulus is None:
            raise InputError(f"{where}: mooney-rivlin needs c10, c01 (MPa) and bulk_modulus (MPa)")
        c1, c2, k = float(a.c10), float(a.c01 or 0.0), float(a.bulk_modulus)
        mu = 2.0 * (c1 + c2)
        if not mu > 0 or not k > 0:
            raise InputError(f"{where}: mooney-rivlin needs c10 + c01 > 0 and bulk_modulus > 0")
        lam = k - 2.0 * mu / 3.0
        E = 9.0 * k * mu / (3.0 * k + mu)
        nu = (3.0 * k - 2.0 * mu) / (2.0 * (3.0 * k + mu))
        return Material(a.model, lam, mu, c10=c1, c01=c2, bulk_modulus=k, density=density,
                        youngs_modulus=E, poisson_ratio=nu)
    raise InputError(f"{where}: unknown model {a.model!r} (expected linear-elastic, neo-hookean, mooney-rivlin)")
