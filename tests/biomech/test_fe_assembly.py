"""Global assembly: equality with scikit-fem, symmetry, rigid-body null space, consistent tangent."""

from __future__ import annotations

import numpy as np
import pytest

from biomech.assembly import Assembler, assemble_linear_stiffness, rigid_body_modes
from biomech.elements import TET10_EDGES
from biomech.problem import MaterialAssignment, Problem, SolverOptions
from biomech.solver import nonlinear_internal, prepare, promote_mesh
from tests.biomech.fe_meshes import box_mesh

skfem = pytest.importorskip("skfem")


def _skfem_mesh():
    m = skfem.MeshTet().refined(2)
    rng = np.random.default_rng(0)
    p = m.p + 0.02 * rng.standard_normal(m.p.shape)
    return skfem.MeshTet(p, m.t)


def test_p1_stiffness_equals_scikit_fem():
    from skfem.models.elasticity import linear_elasticity

    m = _skfem_mesh()
    lam, mu = 1.7, 0.6
    basis = skfem.Basis(m, skfem.ElementVector(skfem.ElementTetP1()), intorder=1)
    K_ref = skfem.asm(linear_elasticity(lam, mu), basis).tocsr()
    K = assemble_linear_stiffness(m.p.T, m.t.T, lam, mu)
    assert abs(K - K_ref).max() <= 1e-10 * abs(K_ref).max()


def test_p2_stiffness_equals_scikit_fem():
    from skfem.models.elasticity import linear_elasticity

    m = _skfem_mesh()
    lam, mu = 1.7, 0.6
    basis = skfem.Basis(m, skfem.ElementVector(skfem.ElementTetP2()), intorder=2)
    K_ref = skfem.asm(linear_elasticity(lam, mu), basis).tocsr()
    pts = np.vstack([m.p.T, m.p[:, m.edges].mean(axis=1).T])
    cells = np.hstack([m.t.T, m.p.shape[1] + m.t2e.T])
    # skfem's local edge order must be VTK's for this comparison to be meaningful
    np.testing.assert_allclose(pts[cells[:, 4:]], pts[cells[:, TET10_EDGES]].mean(axis=2), atol=1e-14)
    K = assemble_linear_stiffness(pts, cells, lam, mu)
    n_v = m.p.shape[1]
    perm = np.empty(3 * len(pts), int)
    for c in range(3):
        perm[3 * np.arange(n_v) + c] = basis.nodal_dofs[c]
        perm[3 * (n_v + np.arange(m.edges.shape[1])) + c] = basis.edge_dofs[c]
    K_ref = K_ref[perm][:, perm]
    assert abs(K - K_ref).max() <= 1e-10 * abs(K_ref).max()


@pytest.mark.parametrize("order", [1, 2])
def test_stiffness_symmetric_with_rigid_body_null_space(order):
    mesh = box_mesh((2.0, 1.0, 1.5), (3, 2, 2), jitter=0.2)
    if order == 2:
        mesh = promote_mesh(mesh)
    K = assemble_linear_stiffness(mesh.points_lps, mesh.cells, 1.0, 0.5)
    assert abs(K - K.T).max() <= 1e-12 * abs(K).max()
    B = rigid_body_modes(mesh.points_lps)
    assert np.abs(K @ B).max() <= 1e-11 * abs(K).max()
    # positive semi-definite with exactly six zero eigenvalues
    w = np.linalg.eigvalsh(K.toarray())
    assert np.sum(np.abs(w) < 1e-9 * w.max()) == 6 and w.min() > -1e-9 * w.max()


def test_assembler_vector_and_chunks_match_one_shot():
    mesh = box_mesh(n=(3, 3, 3), jitter=0.1)
    asm = Assembler(mesh.cells, mesh.n_points)
    small = Assembler(mesh.cells, mesh.n_points)
    small.chunks = lambda chunk_cells=None: Assembler.chunks(small, 7)  # force many chunks
    K1 = assemble_linear_stiffness(mesh.points_lps, mesh.cells, 2.0, 1.0, assembler=asm)
    K2 = assemble_linear_stiffness(mesh.points_lps, mesh.cells, 2.0, 1.0, assembler=small)
    assert abs(K1 - K2).max() <= 1e-13 * abs(K1).max()
    fe = np.ones((mesh.n_cells, 4, 3))
    f = asm.vector([(slice(0, mesh.n_cells), fe)])
    np.testing.assert_allclose(f.reshape(-1, 3)[:, 0], np.bincount(mesh.cells.ravel(), minlength=mesh.n_points))


@pytest.mark.parametrize("model,params", [
    ("neo-hookean", {"youngs_modulus": 2.0, "poisson_ratio": 0.4}),
    ("mooney-rivlin", {"c10": 0.2, "c01": 0.1, "bulk_modulus": 5.0}),
    ("linear-elastic", {"youngs_modulus": 2.0, "poisson_ratio": 0.3}),
])
@pytest.mark.parametrize("element", ["tet4", "tet10"])
def test_global_tangent_matches_finite_difference_of_residual(model, params, element):
    mesh = box_mesh(n=(2, 1, 1), jitter=0.15)
    prob = Problem(mesh, (MaterialAssignment(model, **params),), options=SolverOptions(nonlinear=True,
                                                                                       element=element))
    mdl = prepare(prob)
    rng = np.random.default_rng(5)
    u = (0.08 if element == "tet4" else 0.02) * rng.standard_normal(mdl.n_dofs)
    f, K = nonlinear_internal(mdl, u, tangent=True)
    K = K.toarray()
    h = 1e-6
    cols = rng.choice(mdl.n_dofs, 12, replace=False)
    for j in cols:
        e = np.zeros(mdl.n_dofs)
        e[j] = h
        fd = (nonlinear_internal(mdl, u + e, False)[0] - nonlinear_internal(mdl, u - e, False)[0]) / (2 * h)
        np.testing.assert_allclose(K[:, j], fd, atol=1e-6 * np.abs(K).max())


@pytest.mark.parametrize("order", [1, 2])
def test_compiled_and_numpy_assembly_agree(order):
    from biomech import _kernels

    if not _kernels.AVAILABLE:
        pytest.skip("numba not installed")
    mesh = box_mesh((2.0, 1.0, 1.0), (3, 2, 2), jitter=0.25)
    if order == 2:
        mesh = promote_mesh(mesh)
    lam = np.linspace(1.0, 2.0, mesh.n_cells)
    mu = np.linspace(0.3, 0.6, mesh.n_cells)
    K1 = assemble_linear_stiffness(mesh.points_lps, mesh.cells, lam, mu)
    K2 = assemble_linear_stiffness(mesh.points_lps, mesh.cells, lam, mu, use_numba=False)
    assert abs(K1 - K2).max() <= 1e-13 * abs(K2).max()


def test_compiled_and_numpy_tangent_agree(monkeypatch):
    from biomech import _kernels

    if not _kernels.AVAILABLE:
        pytest.skip("numba not installed")
    mesh = promote_mesh(box_mesh(n=(2, 1, 1), jitter=0.15))
    prob = Problem(mesh, (MaterialAssignment("mooney-rivlin", c10=0.2, c01=0.1, bulk_modulus=5.0),),
                   options=SolverOptions(nonlinear=True, element="tet10"))
    mdl = prepare(prob)
    u = 0.02 * np.random.default_rng(2).standard_normal(mdl.n_dofs)
    f1, K1 = nonlinear_internal(mdl, u, tangent=True)
    monkeypatch.setattr(_kernels, "AVAILABLE", False)
    f2, K2 = nonlinear_internal(mdl, u, tangent=True)
    np.testing.assert_allclose(f1, f2, atol=1e-14 * np.abs(f1).max())
    assert abs(K1 - K2).max() <= 1e-12 * abs(K2).max()
