"""Case files (TOML/JSON) and the FEBio 4.0 export."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from biomech.case import load_case, problem_from_dict
from biomech.febio import export_feb
from biomech.solver import solve
from tests.biomech.fe_meshes import box_mesh
from twin.errors import InputError

CASE_TOML = """
[mesh]
file = "meshes/block.vtu"
element = "tet10"

[[materials]]
model = "neo-hookean"
youngs_modulus = 0.005
poisson_ratio = 0.45
density = 1.06e-9

[[materials]]
region = 2
model = "mooney-rivlin"
c10 = 0.001
c01 = 0.0005
bulk_modulus = 0.05
density = 1.06e-9

[[boundary_conditions]]
name = "base"
kind = "fixed"
select = { node_set = "base" }

[[boundary_conditions]]
name = "lift"
kind = "displacement"
components = ["z"]
value = [0.0, 0.0, 0.2]
select = { box = { min = [-0.1, -0.1, 1.9], max = [0.6, 0.6, 2.1] } }

[[loads]]
name = "push"
kind = "force"
value = [0.0, 0.0001, 0.0]
select = { plane = { point = [0, 2, 0], normal = [0, 1, 0] }, tolerance = 0.01 }

[[loads]]
name = "weight"
kind = "gravity"
value = [0, 0, -9810]

[[contacts]]
name = "finger"
indenter = { sphere = { center = [1.0, 1.0, 3.2], radius = 1.0 } }
displacement = [0, 0, -0.4]
select = { box = { min = [-1, -1, 1.9], max = [3, 3, 2.1] } }

[solver]
nonlinear = true
steps = 2
tolerance = 1e-8
"""


@pytest.fixture()
def case_dir(tmp_path):
    mesh = box_mesh((2.0, 2.0, 2.0), (2, 2, 2))
    region = np.where(mesh.cell_volumes_mm3() > 0, 1, 1)
    region[: len(region) // 4] = 2
    base = (np.abs(mesh.points_lps[:, 2]) < 1e-9).astype(np.uint8)
    from twin.meshes import TetMesh

    mesh = TetMesh(mesh.points_lps, mesh.cells, region, point_data={"base": base})
    (tmp_path / "meshes").mkdir()
    mesh.to_pyvista().save(str(tmp_path / "meshes" / "block.vtu"))
    (tmp_path / "case.toml").write_text(CASE_TOML)
    return tmp_path


def test_toml_case_loads_with_relative_mesh_and_all_features(case_dir):
    prob = load_case(case_dir / "case.toml")
    assert prob.options.element == "tet10" and prob.options.steps == 2 and prob.is_nonlinear
    assert [m.model for m in prob.materials] == ["neo-hookean", "mooney-rivlin"]
    assert prob.materials[1].region == 2
    assert prob.boundary_conditions[1].components == ("z",)
    assert prob.loads[1].selector is None and prob.contacts[0].shape == "sphere"
    r = solve(prob)
    assert r.converged, r.status
    assert r.mesh.order == 2 and r.dofs == 3 * r.mesh.n_points
    assert set(r.reaction_forces) == {"base", "lift"} and set(r.contact_forces) == {"finger"}
    s = r.summary()
    for key in ("converged", "steps", "newton_iterations", "max_displacement_mm", "reaction_forces", "dofs",
                "elements", "wall_seconds", "solver"):
        assert key in s
    json.dumps(s)
    # global equilibrium: supports + contact + applied loads balance
    weight = 1.06e-9 * 9810 * 8.0
    total = sum(r.reaction_forces.values()) + r.contact_forces["finger"] + np.array([0, 1e-4, -weight])
    assert np.abs(total).max() < 1e-9


def test_json_case_equals_toml(case_dir):
    import tomllib

    d = tomllib.loads(CASE_TOML)
    (case_dir / "case.json").write_text(json.dumps(d))
    a, b = load_case(case_dir / "case.json"), load_case(case_dir / "case.toml")
    assert a.materials == b.materials and a.boundary_conditions == b.boundary_conditions
    assert a.mesh.n_points == b.mesh.n_points


@pytest.mark.parametrize("mutate,match", [
    (lambda c: c["materials"][0].update(youngs_modulus="stiff"), r"materials\[0\]\.youngs_modulus"),
    (lambda c: c["materials"][0].update(youngs_modulu=1.0), r"materials\[0\]\.youngs_modulu: unknown key"),
    (lambda c: c["boundary_conditions"][0].update(kind="clamp"), r"boundary_conditions\[0\]\.kind"),
    (lambda c: c["boundary_conditions"][1].update(components=["w"]), r"boundary_conditions\[1\]\.components"),
    (lambda c: c["loads"][0].update(select={"cube": {}}), r"loads\[0\]\.select"),
    (lambda c: c["loads"][0].update(select={"plane": {"point": [0, 0, 0], "normal": [0, 0, 0]}}), r"normal"),
    (lambda c: c["contacts"][0].update(indenter={"cone": {}}), r"contacts\[0\]\.indenter"),
    (lambda c: c["solver"].update(steps=0), r"solver\.steps"),
    (lambda c: c["mesh"].update(element="hex8"), r"mesh\.element"),
    (lambda c: c["materials"][1].update(model="ogden"), r"materials\[1\]\.model"),
])
def test_bad_case_names_the_key(case_dir, mutate, match):
    import tomllib

    d = tomllib.loads(CASE_TOML)
    mutate(d)
    (case_dir / "bad.json").write_text(json.dumps(d))
    with pytest.raises(InputError, match=match) as exc:
        load_case(case_dir / "bad.json")
    assert "bad.json" in str(exc.value)


def test_missing_mesh_file_and_syntax_error(tmp_path):
    (tmp_path / "c.toml").write_text('[mesh]\nfile = "nope.vtu"\n[[materials]]\nmodel = "linear-elastic"\n')
    with pytest.raises(InputError, match="nope.vtu"):
        load_case(tmp_path / "c.toml")
    (tmp_path / "d.toml").write_text("[mesh\n")
    with pytest.raises(InputError, match="syntax error"):
        load_case(tmp_path / "d.toml")


def test_febio_export_structure(case_dir, tmp_path):
    prob = load_case(case_dir / "case.toml")
    out = export_feb(prob, tmp_path / "out.feb")
    root = ET.parse(out).getroot()
    assert root.tag == "febio_spec" and root.get("version") == "4.0"
    sections = [c.tag for c in root]
    for tag in ("Module", "Control", "Material", "Mesh", "MeshDomains", "Boundary", "Rigid", "Loads", "Contact",
                "LoadData", "Output"):
        assert tag in sections
    mats = {m.get("name"): m.get("type") for m in root.find("Material")}
    assert sorted(mats.values()) == ["Mooney-Rivlin", "neo-Hookean", "rigid body"]
    tissue_nodes = root.find("Mesh/Nodes[@name='tissue']")
    mesh = prob.mesh
    from biomech.solver import promote_mesh

    q = promote_mesh(mesh)
    assert len(tissue_nodes) == q.n_points
    elems = [e for el in root.findall("Mesh/Elements") if el.get("type") == "tet10" for e in el]
    assert len(elems) == q.n_cells
    ids = sorted(int(e.get("id")) for e in elems)
    assert ids == list(range(1, q.n_cells + 1))
    conn = np.array([[int(v) for v in e.text.split(",")] for e in elems])
    assert conn.min() == 1 and conn.max() == q.n_points
    bcs = {b.get("name"): b.get("type") for b in root.find("Boundary")}
    assert bcs == {"base": "zero displacement", "lift_z": "prescribed displacement"}
    loads = {b.get("name"): b.get("type") for b in root.find("Loads")}
    assert loads == {"push": "traction", "weight": "const"}
    assert float(root.find("Loads/body_load/z").text) == pytest.approx(9810.0)  # FEBio: b = -g
    # traction * area = total force
    surf = root.find("Mesh/Surface[@name='load_push']")
    assert surf is not None and len(surf) > 0 and surf[0].tag == "tri6"
    tr = [float(v) for v in root.find("Loads/surface_load/traction").text.split(",")]
    assert tr[1] * 4.0 == pytest.approx(1e-4)
    domains = [d.get("mat") for d in root.find("MeshDomains")]
    assert set(domains) == set(mats)
    nodesets = {n.get("name") for n in root.findall("Mesh/NodeSet")}
    assert nodesets == {"bc_base", "bc_lift"}


def test_problem_from_dict_needs_a_mesh():
    with pytest.raises(InputError, match="mesh.file"):
        problem_from_dict({"materials": [{"model": "linear-elastic", "youngs_modulus": 1, "poisson_ratio": 0.3}]},
                          None)


def test_tissue_by_name_and_surface_mesh_file(tmp_path):
    pv = pytest.importorskip("pyvista")
    pytest.importorskip("biomech.tissues")
    from biomech.tissues import get_tissue

    pv.Sphere(radius=6.0, theta_resolution=40, phi_resolution=40).save(str(tmp_path / "ball.stl"))
    (tmp_path / "c.toml").write_text("""
[mesh]
file = "ball.stl"
max_cell_volume_mm3 = 4.0

[[materials]]
tissue = "liver"

[[boundary_conditions]]
name = "base"
kind = "fixed"
select = { sphere = { center = [0, 0, -7], radius = 4.5 } }

[[loads]]
name = "g"
kind = "gravity"
value = [0, 0, -9810]
""")
    prob = load_case(tmp_path / "c.toml")
    liver = get_tissue("liver")
    m = prob.materials[0]
    assert m.model == liver.model and m.youngs_modulus == liver.youngs_modulus_mpa
    assert m.density == liver.density_tonne_per_mm3
    assert prob.mesh.n_cells > 50 and prob.mesh.volume_mm3() == pytest.approx(4 / 3 * np.pi * 6.0**3, rel=0.1)
    r = solve(prob)
    assert r.converged, r.status
    weight = liver.density_tonne_per_mm3 * 9810 * prob.mesh.volume_mm3()
    assert r.reaction_forces["base"][2] == pytest.approx(weight, rel=1e-6)
    assert r.summary()["materials"][0]["tissue"] == "liver"


def test_unknown_tissue_is_an_input_error(case_dir):
    import tomllib

    d = tomllib.loads(CASE_TOML)
    d["materials"][0] = {"tissue": "unobtainium"}
    (case_dir / "t.json").write_text(json.dumps(d))
    with pytest.raises(InputError, match=r"materials\[0\]\.tissue"):
        load_case(case_dir / "t.json")


def test_febio_export_plane_indenter_and_pressure(tmp_path):
    from biomech.febio import _indenter_mesh
    from biomech.problem import Contact

    mesh = box_mesh((2.0, 2.0, 1.0), (2, 2, 1))
    case = {"materials": [{"model": "linear-elastic", "youngs_modulus": 1.0, "poisson_ratio": 0.3}],
            "boundary_conditions": [{"name": "b", "kind": "fixed",
                                     "select": {"plane": {"point": [0, 0, 0], "normal": [0, 0, 1]}}}],
            "loads": [{"name": "p", "kind": "pressure", "value": 0.01,
                       "select": {"plane": {"point": [0, 0, 0], "normal": [1, 0, 0]}}}],
            "contacts": [{"name": "plate", "indenter": {"plane": {"point": [0, 0, 1.2], "normal": [0, 0, -1]}},
                          "displacement": [0, 0, -0.3]}]}
    prob = problem_from_dict(case, mesh)
    root = ET.parse(export_feb(prob, tmp_path / "p.feb")).getroot()
    assert root.find("Loads/surface_load").get("type") == "pressure"
    assert root.find("Contact/contact").get("type") == "sliding-elastic"
    rig = [e.find("dof").text for e in root.findall("Rigid/rigid_bc") if e.get("type") == "rigid_displacement"]
    assert rig == ["x", "y", "z"]
    pts, cells, tri = _indenter_mesh(Contact("plate", "plane", {"point": [0, 0, 1.2], "normal": [0, 0, -1]}),
                                     mesh.points_lps)
    d = pts[cells[:, 1:]] - pts[cells[:, :1]]
    assert (np.einsum("ij,ij->i", d[:, 0], np.cross(d[:, 1], d[:, 2])) > 0).all()
    n = np.cross(pts[tri[:, 1]] - pts[tri[:, 0]], pts[tri[:, 2]] - pts[tri[:, 0]])
    assert (n[:, 2] < 0).all()  # the contact face looks towards the tissue (down)
