"""Quality metrics against known values, the quality gate, tet10 promotion and topology helpers (LPS mm)."""

from __future__ import annotations

import numpy as np
import pytest

from biomech.quality import mesh_quality, quality_gate, scaled_jacobian
from biomech.topology import boundary_faces, extract_surface, interface_faces, promote_to_tet10, unique_edges
from twin.errors import InputError
from twin.meshes import TetMesh

REGULAR = np.array([[1.0, 1, 1], [1, -1, -1], [-1, 1, -1], [-1, -1, 1]])
CORNER = np.array([[0.0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1]])


def _positive(points: np.ndarray) -> TetMesh:
    m = TetMesh(points, [[0, 1, 2, 3]])
    return m if m.cell_volumes_mm3()[0] > 0 else TetMesh(points, [[0, 2, 1, 3]])


def _cube_mesh(n: int = 3, h: float = 1.0, seed: int = 0, jitter: float = 0.15) -> TetMesh:
    """n^3 cubes, each split into 6 Kuhn tets (conforming), interior nodes jittered, two regions."""
    g = np.stack(np.meshgrid(*[np.arange(n + 1)] * 3, indexing="ij"), -1).reshape(-1, 3).astype(float)
    inner = np.all((g > 0) & (g < n), axis=1)
    rng = np.random.default_rng(seed)
    g[inner] += rng.uniform(-jitter, jitter, (inner.sum(), 3))
    pts = g * h
    idx = lambda i, j, k: (i * (n + 1) + j) * (n + 1) + k  # noqa: E731
    kuhn = [(0, 1, 3, 7), (0, 1, 5, 7), (0, 2, 3, 7), (0, 2, 6, 7), (0, 4, 5, 7), (0, 4, 6, 7)]
    cells, region = [], []
    for i in range(n):
        for j in range(n):
            for k in range(n):
                corner = [idx(i + (c >> 2 & 1), j + (c >> 1 & 1), k + (c & 1)) for c in range(8)]
                for t in kuhn:
                    cells.append([corner[c] for c in t])
                    region.append(1 if i < n // 2 + 1 else 2)
    cells = np.array(cells)
    p = pts[cells]
    d = p[:, 1:] - p[:, :1]
    neg = np.einsum("ij,ij->i", d[:, 0], np.cross(d[:, 1], d[:, 2])) < 0
    cells[neg] = cells[neg][:, [0, 2, 1, 3]]
    return TetMesh(pts, cells, np.array(region), {1: "a", 2: "b"})


def test_regular_and_corner_tet_values() -> None:
    r = mesh_quality(_positive(REGULAR))
    assert r.min_dihedral_deg[0] == pytest.approx(np.degrees(np.arccos(1 / 3)))
    assert r.radius_ratio[0] == pytest.approx(1.0)
    assert r.scaled_jacobian[0] == pytest.approx(1.0)
    assert r.aspect[0] == pytest.approx(1.0)
    c = mesh_quality(_positive(CORNER))
    assert c.min_dihedral_deg[0] == pytest.approx(np.degrees(np.arccos(1 / np.sqrt(3))))  # 54.74 deg
    assert c.scaled_jacobian[0] == pytest.approx(np.sqrt(2) / 2)
    assert c.radius_ratio[0] == pytest.approx(3 * (3 - np.sqrt(3)) / 6 / (np.sqrt(3) / 2))  # 3 r / R = 0.732
    assert c.volume_mm3[0] == pytest.approx(1 / 6)


def test_inverted_cell_is_negative_and_gate_reports_it() -> None:
    m = TetMesh(CORNER, [[0, 2, 1, 3]])
    r = mesh_quality(m)
    assert r.scaled_jacobian[0] < 0 and r.radius_ratio[0] < 0 and r.summary["n_inverted"] == 1
    with pytest.raises(InputError, match="1 inverted"):
        quality_gate(m)


def test_gate_rejects_sliver_with_count_worst_and_location() -> None:
    good = _cube_mesh(2, jitter=0.0)
    pts = np.vstack([np.asarray(good.points_lps), [[10, 10, 0], [11, 10, 0], [10, 11, 0], [10.5, 10.5, 0.01]]])
    n = len(good.points_lps)
    cells = np.vstack([np.asarray(good.cells), [[n, n + 1, n + 2, n + 3]]])
    sliver = TetMesh(pts, cells)
    assert sliver.cell_volumes_mm3()[-1] > 0
    with pytest.raises(InputError) as err:
        quality_gate(sliver, min_dihedral_deg=5.0)
    msg = str(err.value)
    assert "1 cell(s) with a dihedral angle below 5 deg" in msg
    assert "LPS [10.4, 10.4, 0.0]" in msg  # centroid of the sliver
    rep = quality_gate(good)  # the Kuhn cube mesh itself is fine
    assert rep.summary["n_cells"] == 48
    assert rep.summary["min_dihedral_deg"]["min"] == pytest.approx(45.0)
    with pytest.raises(InputError, match="no cells"):
        quality_gate(TetMesh(pts, np.zeros((0, 4), np.int64)))


def test_report_summary_is_json_ready() -> None:
    import json

    s = mesh_quality(_cube_mesh()).to_dict()
    json.dumps(s)
    assert s["n_cells"] == 162 and s["n_inverted"] == 0
    assert s["min_dihedral_deg"]["min"] <= s["min_dihedral_deg"]["p5"] <= s["min_dihedral_deg"]["p50"]
    assert s["total_volume_mm3"] == pytest.approx(27.0)
    assert s["n_components"] == 1


def test_components_counted() -> None:
    from biomech.topology import cell_components

    a = _cube_mesh(2, jitter=0.0)
    pts = np.asarray(a.points_lps)
    two = TetMesh(np.vstack([pts, pts + [5.0, 0, 0]]), np.vstack([a.cells, np.asarray(a.cells) + len(pts)]))
    n, comp = cell_components(two)
    assert n == 2 and np.bincount(comp).tolist() == [48, 48]
    assert mesh_quality(two).summary["n_components"] == 2



def test_promote_to_tet10_shares_midsides_and_keeps_volume() -> None:
    lin = _cube_mesh(3, h=2.0)
    quad = promote_to_tet10(lin)
    edges, _ = unique_edges(np.asarray(lin.cells))
    assert quad.order == 2 and quad.cells.shape == (lin.n_cells, 10)
    assert quad.n_points == lin.n_points + len(edges)  # one midside node per edge, shared
    pts = np.asarray(quad.points_lps)
    c = np.asarray(quad.cells)
    for m, (a, b) in zip(range(4, 10), [(0, 1), (1, 2), (0, 2), (0, 3), (1, 3), (2, 3)]):
        assert np.allclose(pts[c[:, m]], 0.5 * (pts[c[:, a]] + pts[c[:, b]]))
    # every interior edge's midside node is used by all the cells around that edge
    uses = np.bincount(c[:, 4:].ravel())[lin.n_points :]
    assert uses.min() >= 1 and uses.max() > 2
    # volume by VTK's own quadratic-tetra integration equals the linear volume
    vtk_vol = quad.to_pyvista().compute_cell_sizes(length=False, area=False)["Volume"]
    assert np.allclose(vtk_vol, lin.cell_volumes_mm3())
    assert quad.volume_mm3() == pytest.approx(lin.volume_mm3())
    # straight-sided tet10 has the tet4 scaled Jacobian
    assert np.allclose(scaled_jacobian(pts, c), scaled_jacobian(np.asarray(lin.points_lps), np.asarray(lin.cells)))
    assert promote_to_tet10(quad) is quad


def test_tet10_fold_detected() -> None:
    quad = promote_to_tet10(_positive(CORNER))
    pts = np.array(quad.points_lps)
    assert scaled_jacobian(pts, np.asarray(quad.cells))[0] == pytest.approx(np.sqrt(2) / 2)
    pts[4] = [0.5, 0.0, 0.9]  # push midside of edge 01 across the face: the map folds
    assert scaled_jacobian(pts, np.asarray(quad.cells))[0] < 0


def test_boundary_faces_outward_and_closed() -> None:
    m = _cube_mesh(3, h=1.0)
    faces, cells = boundary_faces(m)
    pts = np.asarray(m.points_lps)
    p = pts[faces]
    n = np.cross(p[:, 1] - p[:, 0], p[:, 2] - p[:, 0])
    out = p.mean(axis=1) - pts[np.asarray(m.cells)[cells]].mean(axis=1)
    assert np.all(np.einsum("ij,ij->i", n, out) > 0)
    assert 0.5 * np.linalg.norm(n, axis=1).sum() == pytest.approx(6 * 9.0)
    assert len(faces) == 6 * 9 * 2
    q = promote_to_tet10(m)
    f10, c10 = boundary_faces(q)
    assert f10.shape == (len(faces), 6) and np.array_equal(c10, cells)
    qp = np.asarray(q.points_lps)
    assert np.allclose(qp[f10[:, 3]], 0.5 * (qp[f10[:, 0]] + qp[f10[:, 1]]))
    assert np.allclose(qp[f10[:, 4]], 0.5 * (qp[f10[:, 1]] + qp[f10[:, 2]]))
    assert np.allclose(qp[f10[:, 5]], 0.5 * (qp[f10[:, 2]] + qp[f10[:, 0]]))


def test_extract_surface_and_interfaces() -> None:
    m = _cube_mesh(3)
    s = extract_surface(m)
    assert s.is_watertight() and s.volume_mm3() == pytest.approx(27.0)
    for r in (1, 2):
        sr = extract_surface(m, r)
        assert sr.is_watertight() and sr.name == {1: "a", 2: "b"}[r]
        assert sr.volume_mm3() == pytest.approx(m.cell_volumes_mm3()[np.asarray(m.region) == r].sum())
    faces, pairs = interface_faces(m)
    assert len(faces) == 2 * 9  # the plane between the two regions: 3x3 squares, 2 triangles each
    with pytest.raises(InputError, match="no cells in region 5"):
        extract_surface(m, 5)
    assert extract_surface(promote_to_tet10(m)).n_triangles == s.n_triangles
