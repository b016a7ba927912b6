"""Painted surface patches (``surface_spheres``) and half-space selectors on box meshes (LPS mm, N, MPa).

Expected face sets are enumerated independently from the structured box (faces with all corners on a
box side, centroid inside the dab) rather than through :mod:`biomech.surface_patch`.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

import numpy as np
import pytest

from biomech import bcs
from biomech.case import load_case, parse_selector, problem_from_dict
from biomech.problem import Selector
from biomech.surface_patch import Dab, SurfacePainter, dabs_from_params, params_from_dabs, point_triangle_distance
from tests.biomech.fe_meshes import box_mesh
from twin.errors import InputError


def _side_faces(mesh, axis, value):
    """Sorted-corner keys of the boundary triangles lying on the box side ``x[axis] == value``."""
    faces = bcs.mesh_boundary_faces(mesh)
    on = np.all(np.isclose(mesh.points_lps[faces[:, :3], axis], value), axis=1)
    return faces[on]


def _keys(faces):
    return {tuple(sorted(int(v) for v in f[:3])) for f in faces}


def _centroids(mesh, faces):
    return mesh.points_lps[faces[:, :3]].mean(axis=1)


def test_dab_on_a_box_top_paints_exactly_the_top_faces_in_the_sphere():
    mesh = box_mesh((10, 10, 10), (10, 10, 10))
    top = _side_faces(mesh, 2, 10.0)
    assert len(top) == 200
    c = np.array([4.3, 5.1, 10.0])
    expected = top[np.linalg.norm(_centroids(mesh, top) - c, axis=1) <= 2.5]
    sel = parse_selector({"surface_spheres": {"centers": [c.tolist()], "radius": 2.5, "normals": [[0, 0, 1]]}},
                         "t")
    faces = bcs.mesh_boundary_faces(mesh)
    got = bcs.select_faces(sel, mesh, faces)
    assert len(expected) > 10 and _keys(got) == _keys(expected)
    # nodes: every corner of the painted faces, nothing else
    nodes = bcs.select_nodes(sel, mesh)
    assert set(np.flatnonzero(nodes)) == set(expected.ravel().tolist())
    # a big brush with the normal cone stays on the top (200 faces) although it reaches the sides
    big = parse_selector({"surface_spheres": {"centers": [c.tolist()], "radius": 30.0, "normals": [[0, 0, 1]],
                                              "max_angle": 80}}, "t")
    assert _keys(bcs.select_faces(big, mesh, faces)) == _keys(top)
    # without a normal, everything within 30 mm (the whole surface)
    big_all = parse_selector({"surface_spheres": {"centers": [c.tolist()], "radius": 30.0}}, "t")
    assert len(bcs.select_faces(big_all, mesh, faces)) == len(faces)


def test_thin_plate_is_not_painted_through():
    """1 mm plate: the opposite side is 1 mm away but excluded by the normal cone, or by connectivity."""
    mesh = box_mesh((20, 20, 1), (10, 10, 1))
    faces = bcs.mesh_boundary_faces(mesh)
    top, bottom = _side_faces(mesh, 2, 1.0), _side_faces(mesh, 2, 0.0)
    c = [10.0, 10.0, 1.0]
    inside = np.linalg.norm(_centroids(mesh, top) - c, axis=1) <= 4.0
    for params in ({"normals": [[0, 0, 1]]}, {}):  # normal cone / connectivity alone
        sel = parse_selector({"surface_spheres": {"centers": [c], "radius": 4.0, **params}}, "t")
        assert _keys(bcs.select_faces(sel, mesh, faces)) == _keys(top[inside])
    # both off: the bottom faces under the brush are painted too
    sel = parse_selector({"surface_spheres": {"centers": [c], "radius": 4.0, "connected": False}}, "t")
    got = _keys(bcs.select_faces(sel, mesh, faces))
    below = np.linalg.norm(_centroids(mesh, bottom) - c, axis=1) <= 4.0
    assert got == _keys(top[inside]) | _keys(bottom[below]) and below.sum() > 0


def test_erase_dabs_apply_in_order():
    mesh = box_mesh((10, 10, 10), (10, 10, 10))
    faces = bcs.mesh_boundary_faces(mesh)
    top = _side_faces(mesh, 2, 10.0)
    d = np.linalg.norm(_centroids(mesh, top) - [5, 5, 10], axis=1)
    ring = top[(d <= 4.0) & (d > 2.0)]
    sel = parse_selector({"surface_spheres": {"centers": [[5, 5, 10], [5, 5, 10]], "radius": [4.0, 2.0],
                                              "normals": [[0, 0, 1], [0, 0, 1]], "erase": [False, True]}}, "t")
    assert _keys(bcs.select_faces(sel, mesh, faces)) == _keys(ring)
    # erase first, paint after: the erase does nothing
    sel = parse_selector({"surface_spheres": {"centers": [[5, 5, 10], [5, 5, 10]], "radius": [2.0, 4.0],
                                              "erase": [True, False]}}, "t")
    assert _keys(bcs.select_faces(sel, mesh, faces)) == _keys(top[d <= 4.0])


def test_painter_incremental_equals_replay_and_params_round_trip():
    mesh = box_mesh((10, 10, 10), (8, 8, 8), jitter=0.2, seed=3)
    faces = bcs.mesh_boundary_faces(mesh)
    painter = SurfacePainter(mesh.points_lps, faces)
    rng = np.random.default_rng(0)
    dabs = []
    for k in range(12):  # random dabs on the boundary, a few erasing
        f = int(rng.integers(len(faces)))
        p = mesh.points_lps[faces[f]].mean(axis=0)
        dab = Dab(tuple(p), float(rng.uniform(1, 3)), tuple(painter.normal_at(p)), erase=k % 4 == 3)
        changed = painter.apply(dab)
        assert np.all(painter.mask[changed] == (not dab.erase))
        dabs.append(dab)
    params = params_from_dabs(dabs, decimals=12)
    again = dabs_from_params(params)
    assert len(again) == 12 and [d.erase for d in again] == [d.erase for d in dabs]
    sel = parse_selector({"surface_spheres": params}, "t")
    assert np.array_equal(bcs.select_faces(sel, mesh, faces, as_mask=True), painter.mask)
    assert painter.mask.any()


def test_point_triangle_distance_against_brute_force():
    rng = np.random.default_rng(1)
    a, b, c = (rng.normal(size=(50, 3)) for _ in range(3))
    p = rng.normal(size=3)
    got = point_triangle_distance(p, a, b, c)
    u, v = np.meshgrid(np.linspace(0, 1, 301), np.linspace(0, 1, 301))
    keep = u + v <= 1
    u, v = u[keep], v[keep]
    for i in range(50):
        pts = a[i] + u[:, None] * (b[i] - a[i]) + v[:, None] * (c[i] - a[i])
        brute = np.linalg.norm(pts - p, axis=1).min()
        assert got[i] <= brute + 1e-12 and got[i] == pytest.approx(brute, abs=5e-3)


def test_half_space_selector():
    mesh = box_mesh((10, 10, 10), (5, 5, 5))
    n = np.array([1.0, 1.0, 0.0]) / np.sqrt(2)
    sel = parse_selector({"half_space": {"point": [6, 6, 0], "normal": [1, 1, 0]}}, "t")
    got = bcs.select_nodes(sel, mesh)
    assert np.array_equal(got, (mesh.points_lps - [6, 6, 0]) @ n >= -1e-6)
    assert 0 < got.sum() < mesh.n_points
    with pytest.raises(InputError, match="half_space.normal"):
        parse_selector({"half_space": {"point": [0, 0, 0], "normal": [0, 0, 0]}}, "t")


@pytest.mark.parametrize("bad, match", [
    ({"centers": [], "radius": 1.0}, "centers"),
    ({"centers": [[0, 0, 0]], "radius": [1.0, 2.0]}, "radius"),
    ({"centers": [[0, 0, 0]], "radius": -1.0}, "radius"),
    ({"centers": [[0, 0, 0]], "radius": 1.0, "normals": [[0, 0, 1], [0, 0, 1]]}, "normals"),
    ({"centers": [[0, 0, 0]], "radius": 1.0, "erase": [1]}, "erase"),
    ({"centers": [[0, 0, 0]], "radius": 1.0, "max_angle": 0}, "max_angle"),
    ({"centers": [[0, 0]], "radius": 1.0}, r"centers\[0\]"),
    ({"centers": [[0, 0, 0]]}, "expected keys"),
    ({"centers": [[0, 0, 0]], "radius": 1.0, "colour": 1}, "expected keys"),
])
def test_bad_surface_spheres_name_the_key(bad, match):
    with pytest.raises(InputError, match=match):
        parse_selector({"surface_spheres": bad}, "loads[0].select")


def _plate_case(force=None, pressure=None):
    """20 x 20 x 4 mm block; painted support under it, painted load on top (linear, E = 1 MPa)."""
    case = {
        "materials": [{"model": "linear-elastic", "youngs_modulus": 1.0, "poisson_ratio": 0.3}],
        "boundary_conditions": [{"name": "base", "kind": "fixed", "select": {"surface_spheres": {
            "centers": [[10, 10, 0]], "radius": 30.0, "normals": [[0, 0, -1]], "max_angle": 30}}}],
        "loads": [{"name": "push", "kind": "force" if force is not None else "pressure",
                   "value": force if force is not None else pressure,
                   "select": {"surface_spheres": {"centers": [[6, 6, 4], [9, 6, 4]], "radius": 3.0,
                                                  "normals": [[0, 0, 1], [0, 0, 1]]}}}],
        "solver": {"steps": 1},
    }
    return case


def test_force_on_a_painted_patch_loads_only_its_faces_and_balances():
    from biomech.solver import solve

    mesh = box_mesh((20, 20, 4), (10, 10, 2))
    case = _plate_case(force=[0.3, -0.2, -1.5])
    prob = problem_from_dict(case, mesh)
    faces = bcs.mesh_boundary_faces(mesh)
    top = _side_faces(mesh, 2, 4.0)
    cen = _centroids(mesh, top)
    painted = top[(np.linalg.norm(cen - [6, 6, 4], axis=1) <= 3) | (np.linalg.norm(cen - [9, 6, 4], axis=1) <= 3)]
    sel = bcs.select_faces(prob.loads[0].selector, mesh, faces)
    assert _keys(sel) == _keys(painted)
    f = bcs.force_load(mesh.points_lps, sel, np.array([0.3, -0.2, -1.5])).reshape(-1, 3)
    assert f.sum(axis=0) == pytest.approx([0.3, -0.2, -1.5], abs=1e-12)
    loaded = np.flatnonzero(np.abs(f).sum(axis=1) > 0)
    assert set(loaded) == set(painted.ravel().tolist())
    res = solve(prob)
    assert res.converged
    assert res.reaction_forces["base"] == pytest.approx([-0.3, 0.2, 1.5], abs=1e-8)
    u = res.displacement_mm
    base = bcs.select_nodes(prob.boundary_conditions[0].selector, mesh)
    assert np.allclose(u[base], 0) and set(np.flatnonzero(base)) == set(_side_faces(mesh, 2, 0.0).ravel().tolist())
    # pushed down under the patch, much more than on the far corner
    under = np.unique(painted.ravel())
    assert u[under, 2].mean() < -1e-3
    far = np.flatnonzero(np.all(np.isclose(mesh.points_lps, [20, 20, 4]), axis=1))
    assert abs(u[far, 2]).max() < 0.2 * abs(u[under, 2].mean())


@pytest.mark.parametrize("element", ["tet4", "tet10"])
def test_pressure_on_a_painted_patch_integrates_to_p_times_area(element):
    from biomech.solver import promote_mesh, solve

    mesh = box_mesh((20, 20, 4), (10, 10, 2))
    m = promote_mesh(mesh) if element == "tet10" else mesh
    case = _plate_case(pressure=0.01)
    case["mesh"] = {"element": element}
    prob = problem_from_dict(case, mesh)
    faces = bcs.mesh_boundary_faces(m)
    sel = bcs.select_faces(prob.loads[0].selector, m, faces)
    top = _side_faces(m, 2, 4.0)
    cen = _centroids(m, top)
    painted = top[(np.linalg.norm(cen - [6, 6, 4], axis=1) <= 3) | (np.linalg.norm(cen - [9, 6, 4], axis=1) <= 3)]
    assert _keys(sel) == _keys(painted) and sel.shape[1] == (3 if element == "tet4" else 6)
    c = m.points_lps[painted[:, :3]]
    area = 0.5 * np.linalg.norm(np.cross(c[:, 1] - c[:, 0], c[:, 2] - c[:, 0]), axis=1).sum()
    f, _ = bcs.pressure_load(m.points_lps, sel, 0.01)
    assert f.reshape(-1, 3).sum(axis=0) == pytest.approx([0, 0, -0.01 * area], abs=1e-12)
    res = solve(prob)
    assert res.converged and res.reaction_forces["base"] == pytest.approx([0, 0, 0.01 * area], abs=1e-8)


def test_toml_round_trip_and_febio_export_of_a_painted_patch(tmp_path):
    import tomli_w

    mesh = box_mesh((20, 20, 4), (10, 10, 2))
    mesh.to_pyvista().save(str(tmp_path / "plate.vtu"))
    case = _plate_case(force=[0.0, 0.0, -1.0])
    case["loads"][0]["select"]["surface_spheres"]["erase"] = [False, False]
    case["mesh"] = {"file": "plate.vtu"}
    (tmp_path / "case.toml").write_text(tomli_w.dumps(case))
    prob = load_case(tmp_path / "case.toml")
    direct = problem_from_dict(case, mesh)
    faces = bcs.mesh_boundary_faces(prob.mesh)
    for a, b in ((prob.loads[0].selector, direct.loads[0].selector),
                 (prob.boundary_conditions[0].selector, direct.boundary_conditions[0].selector)):
        assert np.array_equal(bcs.select_faces(a, prob.mesh, faces, as_mask=True),
                              bcs.select_faces(b, mesh, bcs.mesh_boundary_faces(mesh), as_mask=True))
    from biomech.febio import export_feb

    root = ET.parse(export_feb(prob, tmp_path / "case.feb")).getroot()
    surf = root.find("Mesh/Surface[@name='load_push']")
    sel = bcs.select_faces(prob.loads[0].selector, prob.mesh, faces)
    written = {tuple(sorted(int(v) - 1 for v in e.text.split(","))) for e in surf}
    assert written == _keys(sel) and len(written) == len(sel)
    area = float(bcs.face_areas(prob.mesh.points_lps, sel).sum())
    tr = [float(v) for v in root.find("Loads/surface_load/traction").text.split(",")]
    assert tr[2] * area == pytest.approx(-1.0)
    ns = root.find("Mesh/NodeSet[@name='bc_base']")
    ids = {int(v) - 1 for v in ns.text.split(",")}
    assert ids == set(_side_faces(mesh, 2, 0.0).ravel().tolist())


def test_empty_patch_is_an_input_error():
    from biomech.solver import solve

    mesh = box_mesh((20, 20, 4), (10, 10, 2))
    case = _plate_case(force=[0, 0, -1.0])
    case["loads"][0]["select"]["surface_spheres"]["centers"] = [[100, 100, 100], [100, 100, 100]]
    with pytest.raises(InputError, match="no boundary face"):
        solve(problem_from_dict(case, mesh))


def test_selector_without_normals_selector_dataclass():
    mesh = box_mesh((10, 10, 10), (2, 2, 2))
    sel = Selector("surface_spheres", {"centers": [[5, 5, 10]], "radius": 100.0})
    assert bcs.select_nodes(sel, mesh).sum() == 26  # every boundary node of the 3x3x3 grid (27 minus centre)


def test_component_labels_match_scipy_connected_components():
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    from biomech.surface_patch import _component_of

    mesh = box_mesh((10, 10, 10), (6, 6, 6))
    faces = bcs.mesh_boundary_faces(mesh)[:, :3]
    rng = np.random.default_rng(5)
    for _trial in range(20):
        tri = faces[rng.random(len(faces)) < 0.45]  # random holes: many components
        m = len(tri)
        key = {}
        rows, cols = [], []
        for i, t in enumerate(tri):
            for e in ((t[0], t[1]), (t[1], t[2]), (t[2], t[0])):
                k = tuple(sorted(e))
                if k in key:
                    rows.append(key[k])
                    cols.append(i)
                key.setdefault(k, i)
        _, labels = connected_components(coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(m, m)),
                                         directed=False)
        seed = int(rng.integers(m))
        assert np.array_equal(_component_of(tri, seed), labels == labels[seed])


def test_canonical_dab_is_what_the_case_file_replays():
    import tomllib

    import tomli_w

    from biomech.surface_patch import canonical_dab

    rng = np.random.default_rng(2)
    dabs = []
    for _ in range(30):
        n = rng.normal(size=3)
        d = canonical_dab(Dab(tuple(rng.uniform(-200, 200, 3)), float(rng.uniform(0.5, 20)),
                              tuple(n / np.linalg.norm(n)), bool(rng.random() < 0.3)))
        assert canonical_dab(d) == d  # a fixed point
        dabs.append(d)
    text = tomli_w.dumps({"select": {"surface_spheres": params_from_dabs(dabs)}})
    back = dabs_from_params(tomllib.loads(text)["select"]["surface_spheres"])
    assert back == dabs
