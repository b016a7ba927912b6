"""Rehearsal: case building from a plan object and a run through biomech (frame LPS, mm)."""

from __future__ import annotations

import numpy as np
import pytest

from planning.rehearsal import FIXED, LOADED, boundary_faces, build_rehearsal_case, run_rehearsal
from twin.errors import InputError
from twin.meshes import TetMesh
from twin.plan import Rehearsal


def bar_mesh(nx=3, ny=3, nz=10, h=4.0) -> TetMesh:
    """A 12 x 12 x 40 mm bar (x, y centred on 0, z from 0 to 40), 6 tets per cube."""
    g = np.stack(np.meshgrid(np.arange(nx + 1), np.arange(ny + 1), np.arange(nz + 1), indexing="ij"), -1)
    pts = g.reshape(-1, 3) * h - np.array([nx * h / 2, ny * h / 2, 0])
    nid = np.arange(len(pts)).reshape(nx + 1, ny + 1, nz + 1)
    cells = []
    for i in range(nx):
        for j in range(ny):
            for k in range(nz):
                v = [nid[i + a, j + b, k + c] for c in (0, 1) for b in (0, 1) for a in (0, 1)]
                for t in ((0, 1, 3, 7), (0, 1, 5, 7), (0, 2, 3, 7), (0, 2, 6, 7), (0, 4, 5, 7), (0, 4, 6, 7)):
                    cells.append([v[q] for q in t])
    cells = np.array(cells)
    p = pts[cells]
    vol = np.einsum("ij,ij->i", p[:, 1] - p[:, 0], np.cross(p[:, 2] - p[:, 0], p[:, 3] - p[:, 0]))
    cells[vol < 0] = cells[vol < 0][:, [0, 2, 1, 3]]
    return TetMesh(pts, cells, np.ones(len(cells), np.int32), {1: "liver"})


def test_boundary_faces_of_bar():
    m = bar_mesh()
    f = boundary_faces(m.cells)
    # 2 triangles per boundary square: 2*(3*3*2 + 3*10*4)
    assert len(f) == 2 * (9 * 2 + 30 * 4)


def test_case_node_sets():
    m = bar_mesh()
    reh = Rehearsal(name="r", organ_segment="liver", point_lps=(0, 0, 40), radius_mm=8.5,
                    displacement_lps=(0, 0, 0.4), fixed_distance_mm=39.9)
    case, mesh = build_rehearsal_case(reh, m, material_model="linear-elastic")
    top = np.isclose(mesh.points_lps[:, 2], 40)
    bottom = np.isclose(mesh.points_lps[:, 2], 0)
    assert np.all(mesh.point_data[LOADED][top] == 1)
    assert np.array_equal(mesh.point_data[FIXED] == 1, bottom)
    assert case["boundary_conditions"][1]["value"] == [0.0, 0.0, 0.4]
    with pytest.raises(InputError, match="no organ surface"):
        build_rehearsal_case(Rehearsal(name="x", organ_segment="liver", point_lps=(0, 0, 100), radius_mm=5), m)


def test_retraction_runs_and_stores_summary():
    pytest.importorskip("biomech.solver")
    m = bar_mesh()
    reh = Rehearsal(name="r", organ_segment="liver", point_lps=(0, 0, 40), radius_mm=8.5,
                    displacement_lps=(0, 0, 0.4), fixed_distance_mm=39.9)
    # a point 10 mm above the top face: a 13.5 mm radius picks exactly the top face's nodes
    reh = Rehearsal(name="r", organ_segment="liver", point_lps=(0, 0, 50), radius_mm=13.5,
                    displacement_lps=(0, 0, 0.4), fixed_distance_mm=49.9)
    done, case, result_mesh = run_rehearsal(reh, m, material_model="linear-elastic", steps=1)
    assert done.result["rehearsal"]["n_loaded_nodes"] == 16 and done.result["rehearsal"]["n_fixed_nodes"] == 16
    r = done.result
    assert r["converged"] is True
    assert r["max_displacement_mm"] == pytest.approx(0.4, rel=1e-9)  # prescribed on the loaded nodes
    e = r["materials"][0]["youngs_modulus"]
    # 1 % stretch of a bar clamped at both ends: stress about E * 0.01 (end constraints add a little)
    mid = np.abs(result_mesh.points_lps[result_mesh.cells[:, :4]].mean(axis=1)[:, 2] - 20) < 6
    szz = result_mesh.cell_data["stress"].reshape(-1, 3, 3)[mid, 2, 2]
    assert np.median(szz) == pytest.approx(e * 0.01, rel=0.15)
    # the reaction on the retractor balances axial stress times the cross-section
    assert r["retraction_force_n"] == pytest.approx(e * 0.01 * 144, rel=0.2)
    assert r["mesh_quality"]["n_inverted"] == 0


def test_indentation_pushes_the_surface():
    pytest.importorskip("biomech.solver")
    m = bar_mesh()
    reh = Rehearsal(name="finger", kind="indentation", organ_segment="liver", point_lps=(0, 0, 40), radius_mm=20.0,
                    displacement_lps=(0, 0, -1.0), fixed_distance_mm=39.9)
    case, mesh = build_rehearsal_case(reh, m, material_model="linear-elastic")
    sphere = case["contacts"][0]["indenter"]["sphere"]
    np.testing.assert_allclose(sphere["center"], (0, 0, 60))  # touching the top face from outside
    done, _, result_mesh = run_rehearsal(reh, m, material_model="linear-elastic", steps=2)
    r = done.result
    assert r["converged"] is True, r["status"]
    p = result_mesh.points_lps
    central = np.flatnonzero(np.isclose(p[:, 2], 40) & (np.abs(p[:, 0]) < 3) & (np.abs(p[:, 1]) < 3))
    assert len(central) == 4
    # nodes 2.83 mm off the axis sit 20 - sqrt(400 - 8) = 0.20 mm above the sphere's lowest point
    uz = result_mesh.point_data["displacement"][central, 2]
    np.testing.assert_allclose(uz, -(1.0 - (20 - np.sqrt(392))), atol=0.05)
    assert r["retraction_force_n"] > 0
