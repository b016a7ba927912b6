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
    # liver touches stomach (127 voxel faces) and right kidney (35) in this scan: they must share mesh faces
    touching = {tuple(sorted(p)) for p in reg[pairs].tolist()}
    assert (5, 6) in touching and (2, 5) in touching
    area = {}
    for key in touching:
        sel = np.all(np.sort(reg[pairs], axis=1) == key, axis=1)
        p = np.asarray(m.points_lps)[faces[sel]]
        area[key] = 0.5 * np.linalg.norm(np.cross(p[:, 1] - p[:, 0], p[:, 2] - p[:, 0]), axis=1).sum()
    assert area[(5, 6)] > area[(2, 5)] > 0
