"""FE engine on a real organ: the TotalSegmentator example liver (label 5), meshed and loaded by gravity."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "totalseg_example"


@pytest.fixture(scope="module")
def liver_mesh():
    if not (DATA / "example_seg.nii.gz").exists():
        pytest.skip("../shared/data not present")
    from biomech.meshing import tetmesh_from_labelmap
    from twin.io.images import read_labelmap

    lm = read_labelmap(DATA / "example_seg.nii.gz")
    return tetmesh_from_labelmap(lm, [5], target_edge_mm=9.0)


@pytest.mark.data
@pytest.mark.slow
def test_liver_under_gravity_large_and_small_strain_agree(liver_mesh, tmp_path):
    import xml.etree.ElementTree as ET

    from biomech.case import problem_from_dict
    from biomech.febio import export_feb
    from biomech.solver import solve
    from biomech.tissues import get_tissue

    mesh = liver_mesh
    lo, hi = mesh.points_lps.min(axis=0), mesh.points_lps.max(axis=0)
    top = [hi[0] + 1, hi[1] + 1, hi[2] + 1]
    case = {"materials": [{"tissue": "liver"}],
            # hold the superior fifth (LPS: +z is superior), let the rest sag under gravity (-z)
            "boundary_conditions": [{"name": "suspension", "kind": "fixed",
                                     "select": {"box": {"min": [lo[0] - 1, lo[1] - 1, hi[2] - 0.2 * (hi[2] - lo[2])],
                                                        "max": top}}}],
            "loads": [{"name": "gravity", "kind": "gravity", "value": [0, 0, -9810.0]}],
            "solver": {"nonlinear": True, "steps": 2}}
    nl = solve(problem_from_dict(case, mesh))
    assert nl.converged, nl.status
    liver = get_tissue("liver")
    weight = liver.density_tonne_per_mm3 * 9810.0 * mesh.volume_mm3()
    np.testing.assert_allclose(nl.reaction_forces["suspension"], [0, 0, weight], rtol=1e-7, atol=1e-9 * weight)
    case["solver"] = {"nonlinear": False}
    lin = solve(problem_from_dict(case, mesh))
    assert lin.converged and lin.newton_iterations == 0
    # a liver sags a few mm under its own weight; at these strains both theories agree to a few percent
    assert 0.5 < lin.max_displacement_mm < 50.0
    diff = np.abs(nl.displacement_mm - lin.displacement_mm).max() / lin.max_displacement_mm
    assert diff < 0.1
    assert np.all(np.isfinite(nl.von_mises_mpa)) and nl.von_mises_mpa.max() > 0
    root = ET.parse(export_feb(problem_from_dict(case, mesh), tmp_path / "liver.feb")).getroot()
    assert len(root.find("Mesh/Nodes")) == mesh.n_points
