"""Lattice tet mesher: analytic shapes on oblique anisotropic grids, conformity, quality, surfaces (LPS mm)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from biomech.meshing import BCC_MEAN_EDGE, tetmesh_from_labelmap, tetmesh_from_surface
from biomech.meshing.lattice import bcc_lattice
from biomech.quality import dihedral_angles_deg, mesh_quality, quality_gate
from biomech.topology import boundary_faces, cell_faces, extract_surface, interface_faces
from twin.errors import Cancelled, InputError
from twin.geometry import ImageGeometry
from twin.labelmap import LabelMap, Segment
from twin.meshes import SurfaceModel
from twin.progress import CallbackProgress

R_OUT, R_IN = 20.0, 7.0
TUMOUR_OFFSET = np.array([5.0, -3.0, 2.0])


@pytest.fixture(scope="module")
def ball_case() -> tuple[LabelMap, np.ndarray]:
    """Liver-like ball with an off-centre 'tumour' ball inside, on an oblique, anisotropic grid."""
    rot = Rotation.from_euler("xyz", [20, -35, 50], degrees=True).as_matrix()
    shape = (56, 50, 34)
    geom = ImageGeometry(shape, [0.9, 1.1, 1.5], [10.0, -20.0, 5.0], rot)
    ijk = np.stack(np.meshgrid(*[np.arange(s) for s in shape], indexing="ij"), -1).reshape(-1, 3)
    x = geom.index_to_lps(ijk)
    centre = geom.index_to_lps((np.array(shape, float)[None] - 1) / 2)[0]
    lab = np.zeros(len(x), np.uint8)
    lab[np.linalg.norm(x - centre, axis=1) < R_OUT] = 1
    lab[np.linalg.norm(x - centre - TUMOUR_OFFSET, axis=1) < R_IN] = 7
    lm = LabelMap.from_array(lab.reshape(shape), geom, {1: "liver", 7: "tumour"})
    return lm, centre


@pytest.fixture(scope="module")
def ball_mesh(ball_case):
    lm, _ = ball_case
    return tetmesh_from_labelmap(lm, target_edge_mm=2.5)


def test_bcc_lattice_is_congruent_and_fills_the_box() -> None:
    pts, tets, _ = bcc_lattice((3, 4, 5), 2.0)
    d = pts[tets[:, 1:]] - pts[tets[:, :1]]
    vol = np.einsum("ij,ij->i", d[:, 0], np.cross(d[:, 1], d[:, 2])) / 6
    assert np.allclose(vol, 2.0**3 / 12)
    ang = dihedral_angles_deg(pts, tets)
    assert np.allclose(np.sort(ang, axis=1), np.sort([60, 60, 60, 60, 90, 90]), atol=1e-9)
    # four tets around every pair of face-adjacent cube centres
    assert len(tets) == 4 * (2 * 4 * 5 + 3 * 3 * 5 + 3 * 4 * 4)
    _, fid, counts = cell_faces(tets)
    assert counts.max() == 2  # conforming: no face shared by three cells


def test_label_cleanup_removes_salt_and_pepper() -> None:
    from biomech.meshing.lattice import clean_labels, drop_small_components

    pts, tets, _ = bcc_lattice((8, 8, 8), 1.0)
    truth = (np.linalg.norm(pts[tets].mean(axis=1) - 4.0, axis=1) < 3.0).astype(np.int64)
    noisy = truth.copy()
    flip = np.random.default_rng(1).random(len(truth)) < 0.03
    noisy[flip] = 1 - noisy[flip]
    assert (noisy != truth).sum() > 100
    assert (drop_small_components(tets, noisy, 5) != truth).sum() < 0.25 * (noisy != truth).sum()
    assert (clean_labels(tets, noisy) != truth).sum() <= 5


def test_region_volumes_match_analytic_and_voxels(ball_case, ball_mesh) -> None:
    lm, _ = ball_case
    vol = np.abs(ball_mesh.cell_volumes_mm3())
    reg = np.asarray(ball_mesh.region)
    assert set(np.unique(reg).tolist()) == {1, 7}
    assert ball_mesh.region_names == {1: "liver", 7: "tumour"}
    v_t = 4 / 3 * np.pi * R_IN**3
    v_l = 4 / 3 * np.pi * R_OUT**3 - v_t
    for value, analytic in ((1, v_l), (7, v_t)):
        v = vol[reg == value].sum()
        assert abs(v / lm.volume_mm3(value) - 1) < 0.005, (value, v, lm.volume_mm3(value))
        assert abs(v / analytic - 1) < 0.03, (value, v, analytic)


def test_points_are_lps_on_the_oblique_grid(ball_case, ball_mesh) -> None:
    """Outer boundary nodes lie on the analytic sphere in LPS (the full ijk_to_lps affine is used)."""
    _, centre = ball_case
    surf = extract_surface(ball_mesh)
    r = np.linalg.norm(np.asarray(surf.points_lps) - centre, axis=1)
    assert abs(np.mean(r) - R_OUT) < 0.3
    assert np.max(np.abs(r - R_OUT)) < 1.5
    tum = extract_surface(ball_mesh, 7)
    rt = np.linalg.norm(np.asarray(tum.points_lps) - centre - TUMOUR_OFFSET, axis=1)
    assert abs(np.mean(rt) - R_IN) < 0.4


def test_interface_is_conforming(ball_mesh) -> None:
    cells = np.asarray(ball_mesh.cells)
    reg = np.asarray(ball_mesh.region)
    _, fid, counts = cell_faces(cells)
    assert counts.max() == 2  # no duplicated faces anywhere
    faces, pairs = interface_faces(ball_mesh)
    assert len(faces) > 100
    assert np.all(reg[pairs[:, 0]] == 1) and np.all(reg[pairs[:, 1]] == 7)
    # the tumour is enclosed: its whole boundary is interface, seen identically from both sides
    tb = extract_surface(ball_mesh, 7)
    assert tb.n_triangles == len(faces)
    liver_faces, _ = boundary_faces(type(ball_mesh)(ball_mesh.points_lps, cells[reg == 1]))
    key = lambda f: {tuple(sorted(t)) for t in np.asarray(f).tolist()}  # noqa: E731
    assert key(faces) <= key(liver_faces)
    # shared nodes: every tumour-boundary node is used by liver cells too
    tumour_nodes = np.unique(faces)
    liver_nodes = np.unique(cells[reg == 1])
    assert np.isin(tumour_nodes, liver_nodes).all()
    # the outer boundary has no tumour cell
    _, bcells = boundary_faces(ball_mesh)
    assert np.all(reg[bcells] == 1)


def test_quality_and_watertight_surfaces(ball_mesh) -> None:
    rep = quality_gate(ball_mesh, min_dihedral_deg=12.0, min_scaled_jacobian=0.15)
    s = rep.to_dict()
    assert s["n_inverted"] == 0
    assert s["min_dihedral_deg"]["min"] > 12.0
    assert 0.7 < s["radius_ratio"]["mean"] <= 1.0
    assert np.all(ball_mesh.cell_volumes_mm3() > 0)
    edges = np.linalg.norm(np.diff(np.asarray(ball_mesh.points_lps)[np.asarray(ball_mesh.cells)[:, [0, 1]]], axis=1),
                           axis=-1)
    assert 0.8 * 2.5 < np.median(edges) / BCC_MEAN_EDGE * BCC_MEAN_EDGE < 1.25 * 2.5
    for region in (None, 1, 7):
        surf = extract_surface(ball_mesh, region)
        assert surf.is_watertight()
        sub = ball_mesh.cell_volumes_mm3() if region is None else ball_mesh.cell_volumes_mm3()[
            np.asarray(ball_mesh.region) == region]
        assert np.isclose(surf.volume_mm3(), sub.sum(), rtol=1e-9)


def test_segment_selection_and_errors(ball_case) -> None:
    lm, _ = ball_case
    m = tetmesh_from_labelmap(lm, ["tumour"], target_edge_mm=2.0)
    assert set(np.unique(m.region).tolist()) == {7}
    assert abs(m.volume_mm3() / lm.volume_mm3(7) - 1) < 0.01
    with pytest.raises(InputError, match="no segment"):
        tetmesh_from_labelmap(lm, ["spleen"])
    with pytest.raises(InputError, match="positive"):
        tetmesh_from_labelmap(lm, target_edge_mm=-1)
    speck = np.array(lm.layers[0])
    speck[2, 2, 2] = 9
    with pytest.raises(InputError, match="speck.*vanished"):
        tetmesh_from_labelmap(LabelMap.from_array(speck, lm.geometry, {1: "liver", 7: "tumour", 9: "speck"}),
                              target_edge_mm=3.0)
    empty = LabelMap(list(lm.layers), lm.geometry, [*lm.segments, Segment(3, "empty")])
    with pytest.raises(InputError, match="no voxels"):
        tetmesh_from_labelmap(empty, ["empty"])


def test_progress_and_cancel(ball_case) -> None:
    lm, _ = ball_case
    seen = []
    prog = CallbackProgress(lambda f, m: seen.append(f))
    tetmesh_from_labelmap(lm, ["tumour"], target_edge_mm=3.0, progress=prog)
    assert seen and seen[-1] == pytest.approx(1.0) and all(0 <= f <= 1 for f in seen)
    prog = CallbackProgress(lambda f, m: None)
    prog.token.cancel()
    with pytest.raises(Cancelled):
        tetmesh_from_labelmap(lm, target_edge_mm=3.0, progress=prog)


def test_unsmoothed_staircase_still_valid(ball_case) -> None:
    lm, _ = ball_case
    m = tetmesh_from_labelmap(lm, ["liver"], target_edge_mm=3.0, smooth=False)
    assert abs(m.volume_mm3() / lm.volume_mm3("liver") - 1) < 0.01
    quality_gate(m, min_dihedral_deg=10.0)


def _sphere_surface(radius: float, centre=(0.0, 0.0, 0.0), res: int = 48) -> SurfaceModel:
    import pyvista as pv

    return SurfaceModel.from_pyvista(pv.Sphere(radius=radius, center=centre, theta_resolution=res,
                                               phi_resolution=res), name="ball")


def test_surface_lattice_volume_and_max_cell_volume() -> None:
    surf = _sphere_surface(15.0)
    m = tetmesh_from_surface(surf, max_cell_volume_mm3=4.0)
    assert np.all(m.cell_volumes_mm3() > 0)
    assert m.cell_volumes_mm3().max() <= 4.0 * (1 + 1e-6)
    assert abs(m.volume_mm3() / surf.volume_mm3() - 1) < 0.005
    assert m.region_names == {1: "ball"}
    quality_gate(m, min_dihedral_deg=12.0)


def test_surface_robust_path_on_broken_surface() -> None:
    """Two overlapping spheres merged without boolean (self-intersecting) with a hole: union volume."""
    import pyvista as pv

    a = pv.Sphere(radius=12, center=(0, 0, 0), theta_resolution=40, phi_resolution=40)
    b = pv.Sphere(radius=12, center=(10, 0, 0), theta_resolution=40, phi_resolution=40)
    bad = a.merge(b).remove_cells(np.arange(6))
    surf = SurfaceModel.from_pyvista(bad, name="bad")
    assert not surf.is_watertight()
    m = tetmesh_from_surface(surf, target_edge_mm=2.0)
    r, d = 12.0, 10.0
    union = 2 * 4 / 3 * np.pi * r**3 - np.pi * (4 * r + d) * (2 * r - d) ** 2 / 12
    assert abs(m.volume_mm3() / union - 1) < 0.03
    quality_gate(m, min_dihedral_deg=12.0)
    assert extract_surface(m).is_watertight()


@pytest.mark.slow
def test_ftetwild_path() -> None:
    surf = _sphere_surface(12.0, res=30)
    m = tetmesh_from_surface(surf, target_edge_mm=4.0, method="ftetwild")
    assert np.all(m.cell_volumes_mm3() > 0)
    assert abs(m.volume_mm3() / surf.volume_mm3() - 1) < 0.02
    assert mesh_quality(m).summary["n_inverted"] == 0


def test_tetgen_is_optional_and_unknown_method() -> None:
    surf = _sphere_surface(10.0, res=20)
    try:
        import tetgen  # noqa: F401
    except ImportError:
        with pytest.raises(InputError, match="optional"):
            tetmesh_from_surface(surf, target_edge_mm=3.0, method="tetgen")
    with pytest.raises(InputError, match="unknown mesher"):
        tetmesh_from_surface(surf, method="magic")


def test_left_handed_grid_gives_positive_cells() -> None:
    """Image axes with det(direction) = -1 (a flipped axis, common in NIfTI/DICOM) still give positive cells."""
    geom = ImageGeometry((40, 40, 24), [1.0, 1.0, 2.0], [0.0, 0.0, 0.0], np.diag([1.0, -1.0, 1.0]))
    ijk = np.stack(np.meshgrid(*[np.arange(s) for s in geom.shape], indexing="ij"), -1).reshape(-1, 3)
    x = geom.index_to_lps(ijk)
    c = geom.index_to_lps(np.array([[19.5, 19.5, 11.5]]))[0]
    lab = (np.linalg.norm(x - c, axis=1) < 14).astype(np.uint8).reshape(geom.shape)
    lm = LabelMap.from_array(lab, geom, {1: "ball"})
    m = tetmesh_from_labelmap(lm, target_edge_mm=3.0)
    assert np.all(m.cell_volumes_mm3() > 0)
    assert abs(m.volume_mm3() / lm.volume_mm3(1) - 1) < 0.005
    r = np.linalg.norm(np.asarray(extract_surface(m).points_lps) - c, axis=1)
    assert abs(r.mean() - 14) < 0.4


def test_lattice_mesh_promoted_to_tet10_passes_gate(ball_mesh) -> None:
    from biomech.topology import promote_to_tet10

    q = promote_to_tet10(ball_mesh)
    rep = quality_gate(q, min_dihedral_deg=12.0, min_scaled_jacobian=0.15)
    assert rep.summary["order"] == 2
    assert np.isclose(q.volume_mm3(), ball_mesh.volume_mm3())


def test_overlapping_layers_and_fine_voxels(ball_case) -> None:
    """Tumour painted in a second layer over the liver (Slicer-style): later segment wins, region carved out."""
    lm, centre = ball_case
    liver = (lm.layers[0] > 0).astype(np.uint8)  # liver including the tumour voxels
    tumour = (lm.layers[0] == 7).astype(np.uint8) * 2
    two = LabelMap([liver, tumour], lm.geometry, [Segment(1, "liver", layer=0), Segment(2, "tumour", layer=1)])
    m = tetmesh_from_labelmap(two, target_edge_mm=3.0)
    reg = np.asarray(m.region)
    vol = np.abs(m.cell_volumes_mm3())
    assert abs(vol[reg == 2].sum() / lm.volume_mm3(7) - 1) < 0.01
    assert abs(vol[reg == 1].sum() / lm.volume_mm3(1) - 1) < 0.01
    assert len(interface_faces(m)[0]) > 50


def test_coarsening_keeps_lps_position() -> None:
    from biomech.meshing.fields import coarsen_labels

    rot = Rotation.from_euler("xyz", [10, 20, 30], degrees=True).as_matrix()
    geom = ImageGeometry((60, 60, 40), [0.5, 0.5, 0.75], [3.0, -2.0, 1.0], rot)
    lab = np.zeros(geom.shape, np.uint8)
    lab[9:33, 21:45, 8:30] = 4  # block-aligned box: the coarse box must sit exactly where the fine one is
    lab[40:41, 50:52, 36:37] = 4  # a speck, minority of its block: dropped
    coarse, cg = coarsen_labels(lab, geom, (3, 3, 2))
    assert coarse.shape == (20, 20, 20) and np.allclose(cg.spacing, [1.5, 1.5, 1.5])
    fine_c = geom.index_to_lps(np.argwhere(lab == 4).mean(axis=0)[None])[0]
    coarse_c = cg.index_to_lps(np.argwhere(coarse == 4).mean(axis=0)[None])[0]
    box = lab.copy()
    box[40:41, 50:52, 36:37] = 0
    fine_c = geom.index_to_lps(np.argwhere(box == 4).mean(axis=0)[None])[0]
    assert np.allclose(fine_c, coarse_c, atol=1e-9)
    assert (coarse == 4).sum() * cg.voxel_volume_mm3 == pytest.approx((box == 4).sum() * geom.voxel_volume_mm3)


def test_flipped_surface_and_determinism() -> None:
    surf = _sphere_surface(10.0, res=30)
    flipped = SurfaceModel(surf.points_lps, np.asarray(surf.triangles)[:, ::-1], name="flipped")
    assert flipped.volume_mm3() < 0
    a = tetmesh_from_surface(surf, target_edge_mm=2.5)
    b = tetmesh_from_surface(flipped, target_edge_mm=2.5)
    assert abs(b.volume_mm3() / surf.volume_mm3() - 1) < 0.005
    c = tetmesh_from_surface(surf, target_edge_mm=2.5)
    assert np.array_equal(a.cells, c.cells) and np.array_equal(a.points_lps, c.points_lps)  # deterministic


def test_big_hole_is_reported_or_closed() -> None:
    surf = _sphere_surface(12.0, res=40)
    pts = np.asarray(surf.points_lps)
    tri = np.asarray(surf.triangles)
    keep = pts[tri].mean(axis=1)[:, 2] < 9.0  # cut a cap of ~16 mm diameter off the top
    holed = SurfaceModel(pts, tri[keep], name="holed")
    with pytest.raises(InputError, match="holes wider"):
        tetmesh_from_surface(holed, target_edge_mm=2.0)
    m = tetmesh_from_surface(holed, target_edge_mm=2.0, close_holes_mm=20.0)
    cap = np.pi * (12 - 9) ** 2 * (3 * 12 - (12 - 9)) / 3  # spherical cap above z = 9
    assert 0.9 < m.volume_mm3() / (4 / 3 * np.pi * 12**3 - cap) < 1.1


def test_nested_surfaces_give_conforming_regions() -> None:
    from biomech.meshing import tetmesh_from_surfaces

    outer = _sphere_surface(15.0, res=48)
    inner = SurfaceModel(np.asarray(_sphere_surface(6.0, centre=(3.0, 0.0, 1.0), res=32).points_lps),
                         _sphere_surface(6.0, centre=(3.0, 0.0, 1.0), res=32).triangles, name="tumour")
    m = tetmesh_from_surfaces([outer, inner], [1, 2], target_edge_mm=2.0)
    reg = np.asarray(m.region)
    vol = np.abs(m.cell_volumes_mm3())
    assert m.region_names == {1: "ball", 2: "tumour"}
    assert abs(vol[reg == 2].sum() / inner.volume_mm3() - 1) < 0.02
    assert abs(vol[reg == 1].sum() / (outer.volume_mm3() - inner.volume_mm3()) - 1) < 0.02
    faces, _ = interface_faces(m)
    assert len(faces) == extract_surface(m, 2).n_triangles  # the tumour boundary is all interface
    quality_gate(m, min_dihedral_deg=12.0)
    with pytest.raises(InputError, match="vanished"):
        tetmesh_from_surfaces([inner, outer], target_edge_mm=2.0)  # tumour listed first: swallowed
    with pytest.raises(InputError, match="region id"):
        tetmesh_from_surfaces([outer, inner], [1, 1])


def test_gaps_of_two_voxels_stay_open() -> None:
    geom = ImageGeometry((60, 40, 40), [1.0, 1.0, 1.0], [0.0, 0.0, 0.0], np.eye(3))
    lab = np.zeros(geom.shape, np.uint8)
    lab[5:28, 5:35, 5:35] = 1
    lab[30:55, 5:35, 5:35] = 2  # two background voxels between the boxes
    m = tetmesh_from_labelmap(LabelMap.from_array(lab, geom, {1: "a", 2: "b"}), target_edge_mm=3.0)
    assert len(interface_faces(m)[0]) == 0
    lab[28:30, 15:25, 15:25] = 2  # a bridge: now they touch
    m = tetmesh_from_labelmap(LabelMap.from_array(lab, geom, {1: "a", 2: "b"}), target_edge_mm=3.0)
    assert len(interface_faces(m)[0]) > 0
