"""Tissue library entries and the CT HU -> density -> modulus mapping for bone."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from biomech.bone_density import (
    RELATIONS,
    apparent_density_from_hu,
    element_moduli_from_ct,
    modulus_from_density,
    sample_hu,
)
from biomech.tissues import TISSUES, get_tissue, guess_tissue
from twin.errors import InputError
from twin.geometry import ImageGeometry
from twin.meshes import TetMesh
from twin.volume import Volume

REQUIRED = [
    "liver", "kidney", "spleen", "brain_grey_matter", "brain_white_matter", "fat", "muscle", "skin",
    "vessel_wall", "tumour", "cortical_bone", "cancellous_bone",
]


def test_every_required_tissue_present_with_sane_values_and_citations() -> None:
    assert set(REQUIRED) <= set(TISSUES)
    for name in REQUIRED:
        t = TISSUES[name]
        assert t.model in ("linear-elastic", "neo-hookean", "mooney-rivlin")
        assert t.youngs_modulus_mpa > 0 and 0.0 < t.poisson_ratio < 0.5
        assert 0.9e-9 < t.density_tonne_per_mm3 < 2.0e-9  # tonne/mm^3 (0.9-2.0 g/cm^3)
        lo, hi = t.youngs_modulus_range_mpa
        assert lo <= t.youngs_modulus_mpa <= hi
        assert t.references and all(re.search(r"(19|20)\d\d", r) for r in t.references)
        json.dumps(t.to_dict())
    # orders of magnitude that every FE engineer would check
    assert TISSUES["brain_grey_matter"].youngs_modulus_mpa < TISSUES["liver"].youngs_modulus_mpa
    assert TISSUES["liver"].youngs_modulus_mpa < TISSUES["tumour"].youngs_modulus_mpa
    assert TISSUES["cancellous_bone"].youngs_modulus_mpa < TISSUES["cortical_bone"].youngs_modulus_mpa
    assert 1e4 < TISSUES["cortical_bone"].youngs_modulus_mpa < 2.5e4


def test_mooney_rivlin_entry_is_consistent() -> None:
    v = TISSUES["vessel_wall"]
    assert v.model == "mooney-rivlin" and v.c10_mpa and v.c01_mpa and v.bulk_modulus_mpa
    mu = 2 * (v.c10_mpa + v.c01_mpa)
    assert v.shear_modulus_mpa == pytest.approx(mu)
    assert v.bulk_modulus_mpa == pytest.approx(2 * mu * (1 + v.poisson_ratio) / (3 * (1 - 2 * v.poisson_ratio)))
    assert "c10_mpa" in v.to_dict() and "c10_mpa" not in TISSUES["liver"].to_dict()


def test_lookup_aliases_and_error_lists_names() -> None:
    assert get_tissue("Liver") is TISSUES["liver"]
    assert get_tissue("grey matter").name == "brain_grey_matter"
    assert get_tissue("tumor").name == "tumour"
    assert get_tissue("trabecular-bone").name == "cancellous_bone"
    with pytest.raises(InputError) as err:
        get_tissue("unobtainium")
    assert "liver" in str(err.value) and "cortical_bone" in str(err.value)
    with pytest.raises(TypeError):
        TISSUES["x"] = TISSUES["liver"]  # type: ignore[index]


def test_guess_from_segment_names() -> None:
    expect = {
        "liver": "liver", "kidney_left": "kidney", "spleen": "spleen", "liver_tumor": "tumour",
        "vertebrae_L1": "cancellous_bone", "rib_left_3": "cancellous_bone", "aorta": "vessel_wall",
        "portal_vein_and_splenic_vein": "vessel_wall", "liver_vessels": "vessel_wall",
        "iliopsoas_right": "muscle", "subcutaneous_fat": "fat", "brain": "brain_grey_matter",
    }
    for seg, tissue in expect.items():
        assert guess_tissue(seg) is TISSUES[tissue], seg
    assert guess_tissue("stomach") is None and guess_tissue("lung_upper_lobe_left") is None


def test_density_modulus_relations() -> None:
    assert modulus_from_density(1.0) == pytest.approx(6850.0)  # Morgan 2003 femoral neck
    assert modulus_from_density(0.5) == pytest.approx(6850.0 * 0.5**1.49)
    assert modulus_from_density(0.3, "morgan2003_vertebra") == pytest.approx(4730.0 * 0.3**1.56)
    assert modulus_from_density(0.5, "carter_hayes1977", 1.0) == pytest.approx(3790.0 * 0.125)
    assert set(RELATIONS) >= {"morgan2003_femoral_neck", "carter_hayes1977"}
    assert np.allclose(apparent_density_from_hu([-1000, 0, 500]), [0.0, 0.0, 0.5])
    assert apparent_density_from_hu(500, slope=8e-4, intercept=0.1) == pytest.approx(0.5)
    with pytest.raises(InputError, match="unknown density-modulus"):
        modulus_from_density(0.5, "guess")


@pytest.fixture()
def ramp_ct() -> Volume:
    """CT whose HU is a linear function of LPS position, on an oblique anisotropic grid."""
    rot = Rotation.from_euler("zyx", [30, 10, -20], degrees=True).as_matrix()
    geom = ImageGeometry((40, 36, 20), [0.8, 0.9, 2.5], [-10.0, 5.0, 20.0], rot)
    ijk = np.stack(np.meshgrid(*[np.arange(s) for s in geom.shape], indexing="ij"), -1).reshape(-1, 3)
    x = geom.index_to_lps(ijk)
    hu = 200.0 + 20.0 * (x[:, 0] - geom.origin[0]) + 5.0 * (x[:, 2] - geom.origin[2])
    return Volume(hu.reshape(geom.shape).astype(np.float32), geom, modality="CT", units="HU")


def test_element_moduli_sample_ct_in_lps(ramp_ct: Volume) -> None:
    g = ramp_ct.geometry
    centre = g.index_to_lps(np.array([[20.0, 18.0, 10.0]]))[0]
    corners = centre + np.array([[0.0, 0, 0], [4, 0, 0], [0, 4, 0], [0, 0, 4]])
    mesh = TetMesh(np.vstack([corners, corners + [0.0, 0, 3.0]]), [[0, 1, 2, 3], [4, 5, 6, 7]])
    cent = np.asarray(mesh.points_lps)[np.asarray(mesh.cells)].mean(axis=1)
    expected_hu = 200.0 + 20.0 * (cent[:, 0] - g.origin[0]) + 5.0 * (cent[:, 2] - g.origin[2])
    assert np.allclose(sample_hu(ramp_ct, cent), expected_hu, rtol=1e-4)  # trilinear is exact on a ramp
    e = element_moduli_from_ct(mesh, ramp_ct, min_modulus_mpa=0.01)
    assert np.allclose(e, 6850.0 * (expected_hu / 1000.0) ** 1.49, rtol=1e-3)
    e4 = element_moduli_from_ct(mesh, ramp_ct, sample="gauss4", min_modulus_mpa=0.01)
    assert np.allclose(e4, e, rtol=0.02)  # mean over Gauss points of a convex power of a ramp


def test_floor_cap_outside_and_modality(ramp_ct: Volume) -> None:
    far = TetMesh(np.array([[1e4, 0, 0], [1e4 + 1, 0, 0], [1e4, 1, 0], [1e4, 0, 1]]), [[0, 1, 2, 3]])
    assert element_moduli_from_ct(far, ramp_ct, min_modulus_mpa=2.0)[0] == 2.0  # outside = air -> floor
    hot = ramp_ct.with_array(np.full(ramp_ct.shape, 5000.0, np.float32))
    g = ramp_ct.geometry
    p = g.index_to_lps(np.array([[10.0, 10, 5], [12, 10, 5], [10, 12, 5], [10, 10, 7]]))
    mesh = TetMesh(p, [[0, 1, 2, 3]] if TetMesh(p, [[0, 1, 2, 3]]).cell_volumes_mm3()[0] > 0 else [[0, 2, 1, 3]])
    assert element_moduli_from_ct(mesh, hot, max_modulus_mpa=18000.0)[0] == 18000.0
    with pytest.raises(InputError, match="CT"):
        element_moduli_from_ct(mesh, ramp_ct.with_array(np.asarray(ramp_ct.array), modality="MR"))
    with pytest.raises(InputError):
        element_moduli_from_ct(mesh, ramp_ct, min_modulus_mpa=10.0, max_modulus_mpa=1.0)
