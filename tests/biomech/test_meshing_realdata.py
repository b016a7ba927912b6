"""Meshing real TotalSegmentator labels (../shared/data/totalseg_example, 3 mm CT crop)."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from biomech.meshing import tetmesh_from_labelmap
from biomech.quality import quality_gate
from biomech.topology import extract_surface, interface_faces

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "totalseg_example"
pytestmark = pytest.mark.data


@pytest.fixture(scope="module")
def seg():
    path = DATA / "example_seg.nii.gz"
    if not path.exists():
        pytest.skip("../shared/data not present")
    from twin.io.images import read_labelmap

    return read_labelmap(path)


def test_kidneys_mesh_with_good_quality(seg) -> None:
    t0 = time.perf_counter()
    m = tetmesh_from_labelmap(seg, [2, 3], target_edge_mm=4.0)
    elapsed = time.perf_counter() - t0
    rep = quality_gate(m, min_dihedral_deg=12.0, min_scaled_jacobian=0.15)
    assert rep.summary["n_inverted"] == 0
    assert rep.summary["min_dihedral_deg"]["p1"] > 15.0
    reg = np.asarray(m.region)
    assert set(np.unique(reg).tolist()) == {2, 3}
    for v in (2, 3):
        vm = np.abs(m.cell_volumes_mm3())[reg == v].sum()
        assert abs(vm / seg.volume_mm3(v) - 1) < 0.01
        assert extract_surface(m, v).is_watertight()
    assert elapsed < 60


@pytest.mark.slow
def test_liver_stomach_kidney_touching_organs(seg) -> None:
    """Liver (5) and its neighbours: conforming where labels touch, volumes kept, gate passes."""
    m = tetmesh_from_labelmap(seg, ["label_5", 2, 6], target_edge_mm=5.0)
    quality_gate(m, min_dihedral_deg=12.0)
    reg = np.asarray(m.region)
    assert m.region_names[5] == "label_5"
    for v in (5, 2, 6):
        assert abs(np.abs(m.cell_volumes_mm3())[reg == v].sum() / seg.volume_mm3(v) - 1) < 0.01
    faces, pairs = interface_faces(m)
    # liver touches stomach and right kidney in this scan: they must share mesh faces
    touching = {tuple(sorted(p)) for p in reg[pairs].tolist()}
    assert (5, 6) in touching and (2, 5) in touching
    sel = np.all(np.sort(reg[pairs], axis=1) == (5, 6), axis=1)
    p = np.asarray(m.points_lps)[faces[sel]]
    area = 0.5 * np.linalg.norm(np.cross(p[:, 1] - p[:, 0], p[:, 2] - p[:, 0]), axis=1).sum()
    # voxel faces shared by liver and stomach: 257 faces of 9 mm^2 = 2313 mm^2 (one-voxel gaps also bond)
    assert 0.5 * 2313.0 < area < 3.0 * 2313.0


def test_real_surface_path_matches_label_mesh(seg) -> None:
    """Marching-cubes surface of the left kidney (LPS) -> lattice mesh: same volume as the surface."""
    from scipy import ndimage
    from skimage.measure import marching_cubes

    from biomech.meshing import tetmesh_from_surface
    from twin.meshes import SurfaceModel

    mask = np.pad(seg.mask(3).astype(np.float32), 2)
    verts, faces, _, _ = marching_cubes(ndimage.gaussian_filter(mask, 1.0), 0.5)
    surf = SurfaceModel(seg.geometry.index_to_lps(verts - 2.0), faces, name="kidney_left")
    if surf.volume_mm3() < 0:
        surf = SurfaceModel(surf.points_lps, np.asarray(faces)[:, ::-1], name="kidney_left")
    assert surf.is_watertight()
    m = tetmesh_from_surface(surf, target_edge_mm=4.0)
    assert abs(m.volume_mm3() / surf.volume_mm3() - 1) < 0.005
    assert abs(m.volume_mm3() / seg.volume_mm3(3) - 1) < 0.08  # smoothed surface vs voxel count
    quality_gate(m, min_dihedral_deg=12.0)


def test_vertebra_moduli_from_real_ct(seg) -> None:
    """CT-derived moduli of a lumbar vertebra are in the published trabecular range (Morgan 2003)."""
    from biomech.bone_density import element_moduli_from_ct
    from twin.io.images import read_image

    ct = read_image(DATA / "example_ct_sm.nii.gz")
    m = tetmesh_from_labelmap(seg, [31], target_edge_mm=3.0)
    e = element_moduli_from_ct(m, ct)
    assert e.shape == (m.n_cells,) and np.all((e >= 1.0) & (e <= 20000.0))
    med = float(np.median(e))
    assert 100.0 < med < 1500.0  # vertebral trabecular bone: ~100-1000 MPa
    assert np.percentile(e, 99) > 3 * med  # cortical shell / posterior elements are denser
