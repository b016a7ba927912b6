"""Painted patches on a real organ: the TotalSegmentator example liver (label 5) meshed at 9 mm (LPS mm, N, MPa).

The brush is checked against a brute-force reading of the ``surface_spheres`` definition (every boundary
face tested, scipy connected components), then used for a support and a load in a solve.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from biomech import bcs
from biomech.case import parse_selector, problem_from_dict
from biomech.surface_patch import Dab, SurfacePainter, params_from_dabs

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "totalseg_example"

pytestmark = pytest.mark.data


@pytest.fixture(scope="module")
def liver_mesh():
    if not (DATA / "example_seg.nii.gz").exists():
        pytest.skip("../shared/data not present")
    from biomech.meshing import tetmesh_from_labelmap
    from twin.io.images import read_labelmap

    return tetmesh_from_labelmap(read_labelmap(DATA / "example_seg.nii.gz"), [5], target_edge_mm=9.0)


def _brute_force(points, faces, dab, max_angle_deg):
    """Faces of one dab by the definition, with nothing shared with biomech.surface_patch."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    c = points[faces[:, :3]]
    cen = c.mean(axis=1)
    nrm = np.cross(c[:, 1] - c[:, 0], c[:, 2] - c[:, 0])
    nrm /= np.linalg.norm(nrm, axis=1)[:, None]
    nd = np.asarray(dab.normal) / np.linalg.norm(dab.normal)
    cand = np.flatnonzero((np.linalg.norm(cen - dab.center_lps, axis=1) <= dab.radius_mm + 1e-6)
                          & (nrm @ nd >= np.cos(np.deg2rad(max_angle_deg)) - 1e-12))
    if len(cand) <= 1:
        return set(cand.tolist())
    # the candidate containing / closest to the centre: dense sampling of each triangle
    u, v = np.meshgrid(np.linspace(0, 1, 41), np.linspace(0, 1, 41))
    keep = u + v <= 1
    u, v = u[keep], v[keep]
    d = [np.linalg.norm(c[i, 0] + u[:, None] * (c[i, 1] - c[i, 0]) + v[:, None] * (c[i, 2] - c[i, 0])
                        - dab.center_lps, axis=1).min() for i in cand]
    seed = int(np.argmin(d))
    edges = {}
    rows, cols = [], []
    for k, f in enumerate(faces[cand, :3]):
        for e in ((f[0], f[1]), (f[1], f[2]), (f[2], f[0])):
            key = tuple(sorted(int(x) for x in e))
            if key in edges:
                rows.append(edges[key])
                cols.append(k)
            edges.setdefault(key, k)
    _, lab = connected_components(coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(cand),) * 2),
                                  directed=False)
    return set(cand[lab == lab[seed]].tolist())


def test_dabs_on_a_real_liver_match_the_definition(liver_mesh):
    mesh = liver_mesh
    faces = bcs.mesh_boundary_faces(mesh)
    painter = SurfacePainter(mesh.points_lps, faces, max_angle_deg=70.0)
    rng = np.random.default_rng(11)
    tested = 0
    for f in rng.choice(len(faces), 25, replace=False):
        p = mesh.points_lps[faces[f, :3]].mean(axis=0)
        dab = Dab(tuple(p), float(rng.uniform(4, 25)), tuple(painter.normals[f]))
        got = set(painter.dab_faces(dab).tolist())
        want = _brute_force(mesh.points_lps, faces, dab, 70.0)
        assert got == want
        tested += len(got) > 3
    assert tested > 15
    # a big brush without the cone on this curved, non-convex surface still stays one connected sheet
    big = Dab(tuple(mesh.points_lps[faces[0, :3]].mean(axis=0)), 40.0, None)
    assert set(painter.dab_faces(big).tolist()) == _brute_force(mesh.points_lps, faces,
                                                                 Dab(big.center_lps, 40.0, (1.0, 0, 0)), 180.0)


def test_painted_support_and_pressure_on_a_real_liver(liver_mesh):
    from biomech.solver import solve

    mesh = liver_mesh
    faces = bcs.mesh_boundary_faces(mesh)
    painter = SurfacePainter(mesh.points_lps, faces)
    lo, hi = mesh.points_lps.min(axis=0), mesh.points_lps.max(axis=0)
    # support: dabs along the superior surface (LPS +z); load: a patch on the most anterior faces (-P)
    cen = painter.centroids

    def dabs_near(targets, r, toward):
        out = []
        for t in targets:
            ok = painter.normals @ toward > 0.5
            i = np.flatnonzero(ok)[np.argmin(np.linalg.norm(cen[ok] - t, axis=1))]
            out.append(Dab(tuple(np.round(cen[i], 4)), r, tuple(np.round(painter.normals[i], 4))))
        return out

    mid = 0.5 * (lo + hi)
    top = dabs_near([[x, mid[1], hi[2]] for x in np.linspace(lo[0], hi[0], 6)], 25.0, np.array([0, 0, 1.0]))
    front = dabs_near([[mid[0], lo[1], mid[2]]], 20.0, np.array([0, -1.0, 0]))
    case = {"materials": [{"model": "linear-elastic", "youngs_modulus": 0.01, "poisson_ratio": 0.45}],
            "boundary_conditions": [{"name": "top", "kind": "fixed",
                                     "select": {"surface_spheres": params_from_dabs(top)}}],
            "loads": [{"name": "press", "kind": "pressure", "value": 5e-4,
                       "select": {"surface_spheres": params_from_dabs(front)}}],
            "solver": {"nonlinear": False}}
    prob = problem_from_dict(case, mesh)
    loaded = bcs.select_faces(prob.loads[0].selector, mesh, faces)
    assert 3 < len(loaded) < 0.2 * len(faces)
    c = mesh.points_lps[loaded]
    area_vec = 0.5 * np.cross(c[:, 1] - c[:, 0], c[:, 2] - c[:, 0]).sum(axis=0)
    res = solve(prob)
    assert res.converged
    # the support carries the pressure resultant: p * sum of (outward) area vectors, pushing inward
    np.testing.assert_allclose(res.reaction_forces["top"], 5e-4 * area_vec, atol=1e-9)
    assert area_vec[1] < 0  # the patch faces anteriorly
    u = res.displacement_mm
    pressed = np.unique(loaded.ravel())
    held = bcs.select_nodes(prob.boundary_conditions[0].selector, mesh)
    assert np.abs(u[held]).max() == 0.0 and u[pressed, 1].mean() > 0.05  # pushed posteriorly (+P)
    # the selector survives parsing from its TOML-like dict
    again = parse_selector(case["loads"][0]["select"], "s")
    assert np.array_equal(bcs.select_faces(again, mesh, faces), loaded)
