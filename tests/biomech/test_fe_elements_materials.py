"""Elements and constitutive models of the FE engine: exactness and consistent tangents."""

from __future__ import annotations

import numpy as np
import pytest

from biomech.elements import element_geometry, tet_quadrature, tet_shape, tri_quadrature, tri_shape
from biomech.materials import Material, first_piola_and_tangent, lame_from_young, make_material
from biomech.problem import MaterialAssignment
from twin.errors import InputError


@pytest.mark.parametrize("nn", [4, 10])
def test_shape_functions_partition_of_unity_and_nodal_delta(nn):
    ref = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1.0]])
    nodes = ref if nn == 4 else np.vstack([ref, 0.5 * (ref[[0, 1, 0, 0, 1, 2]] + ref[[1, 2, 2, 3, 3, 3]])])
    N, dN = tet_shape(nn, nodes)
    np.testing.assert_allclose(N, np.eye(nn), atol=1e-14)
    rng = np.random.default_rng(1)
    x = rng.dirichlet(np.ones(4), 20)[:, 1:]
    N, dN = tet_shape(nn, x)
    np.testing.assert_allclose(N.sum(axis=1), 1.0, atol=1e-14)
    np.testing.assert_allclose(dN.sum(axis=1), 0.0, atol=1e-13)
    # gradients against central finite differences
    h = 1e-6
    for j in range(3):
        e = np.zeros(3)
        e[j] = h
        fd = (tet_shape(nn, x + e)[0] - tet_shape(nn, x - e)[0]) / (2 * h)
        np.testing.assert_allclose(dN[:, :, j], fd, atol=1e-8)


@pytest.mark.parametrize("degree", [1, 2, 3])
def test_tet_quadrature_exact_for_monomials(degree):
    pts, w = tet_quadrature(degree)
    # integral of r^a s^b t^c over the unit tet = a! b! c! / (a+b+c+3)!
    from math import factorial

    for a in range(degree + 1):
        for b in range(degree + 1 - a):
            for c in range(degree + 1 - a - b):
                exact = factorial(a) * factorial(b) * factorial(c) / factorial(a + b + c + 3)
                approx = float(np.sum(w * pts[:, 0] ** a * pts[:, 1] ** b * pts[:, 2] ** c))
                assert approx == pytest.approx(exact, rel=1e-12, abs=1e-15)


@pytest.mark.parametrize("degree", [1, 2, 4])
def test_tri_quadrature_exact(degree):
    from math import factorial

    pts, w = tri_quadrature(degree)
    for a in range(degree + 1):
        for b in range(degree + 1 - a):
            exact = factorial(a) * factorial(b) / factorial(a + b + 2)
            assert float(np.sum(w * pts[:, 0] ** a * pts[:, 1] ** b)) == pytest.approx(exact, rel=1e-9)
    N, _ = tri_shape(6, pts)
    np.testing.assert_allclose(N.sum(axis=1), 1.0, atol=1e-14)


def test_element_geometry_volume_and_gradients():
    rng = np.random.default_rng(3)
    pts = np.array([[0, 0, 0], [2.0, 0.1, 0], [0.3, 1.5, 0.2], [0.1, 0.2, 3.0]])
    cells = np.array([[0, 1, 2, 3]])
    geo = element_geometry(pts, cells)
    vol = np.linalg.det(pts[1:] - pts[0]) / 6
    assert geo.dV.sum() == pytest.approx(vol, rel=1e-14)
    # a linear field is reproduced: grad of u = A x
    A = rng.normal(size=(3, 3))
    u = pts @ A.T
    G = np.einsum("ai,qaJ->qiJ", u[cells[0]], geo.dN_dX[0])
    np.testing.assert_allclose(G[0], A, atol=1e-12)


MODELS = [
    Material("linear-elastic", *lame_from_young(3.0, 0.3)),
    Material("neo-hookean", *lame_from_young(3.0, 0.45)),
    make_material(MaterialAssignment("mooney-rivlin", c10=0.3, c01=0.12, bulk_modulus=20.0)),
]


@pytest.mark.parametrize("mat", MODELS, ids=lambda m: m.model)
def test_stress_and_tangent_are_consistent_with_the_energy(mat):
    """P = dW/dF and A = dP/dF checked by central finite differences at random deformations."""
    rng = np.random.default_rng(7)
    F = np.eye(3) + 0.25 * rng.standard_normal((6, 3, 3))
    F[np.linalg.det(F) < 0.2] = np.eye(3)
    P, A = first_piola_and_tangent(mat, F)
    h = 1e-6
    P_fd = np.zeros_like(P)
    A_fd = np.zeros_like(A)
    for k in range(3):
        for L in range(3):
            d = np.zeros((3, 3))
            d[k, L] = h
            P_fd[:, k, L] = (mat.energy(F + d) - mat.energy(F - d)) / (2 * h)
            dP = first_piola_and_tangent(mat, F + d)[0] - first_piola_and_tangent(mat, F - d)[0]
            A_fd[..., k, L] = dP / (2 * h)
    np.testing.assert_allclose(P, P_fd, atol=1e-7 * np.abs(P).max())
    np.testing.assert_allclose(A, A_fd, atol=1e-7 * np.abs(A).max())


@pytest.mark.parametrize("mat", MODELS, ids=lambda m: m.model)
def test_linearization_at_identity_is_hooke(mat):
    _, A = first_piola_and_tangent(mat, np.eye(3)[None])
    I = np.eye(3)
    hooke = mat.lam * np.einsum("ij,kl->ijkl", I, I) + mat.mu * (np.einsum("ik,jl->ijkl", I, I)
                                                                  + np.einsum("il,jk->ijkl", I, I))
    np.testing.assert_allclose(A[0], hooke, atol=1e-12 * np.abs(hooke).max())
    P, _ = first_piola_and_tangent(mat, np.eye(3)[None])
    np.testing.assert_allclose(P, 0.0, atol=1e-14)


def test_material_validation():
    with pytest.raises(InputError, match="poisson_ratio"):
        make_material(MaterialAssignment("neo-hookean", youngs_modulus=1.0, poisson_ratio=0.5))
    with pytest.raises(InputError, match="youngs_modulus"):
        make_material(MaterialAssignment("linear-elastic", youngs_modulus=-1.0, poisson_ratio=0.3))
    with pytest.raises(InputError, match="unknown model"):
        make_material(MaterialAssignment("ogden", youngs_modulus=1.0, poisson_ratio=0.3))
    mr = make_material(MaterialAssignment("mooney-rivlin", c10=0.1, c01=0.05, bulk_modulus=10.0))
    assert mr.mu == pytest.approx(0.3) and mr.lam == pytest.approx(10.0 - 0.2)
