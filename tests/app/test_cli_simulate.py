"""``vht simulate``: round trip, summary, FEBio export, exit codes."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import numpy as np

from app.cli import main
from tests.biomech.fe_meshes import box_mesh

CASE = """
[mesh]
file = "block.vtu"

[[materials]]
model = "linear-elastic"
youngs_modulus = 10.0
poisson_ratio = 0.3

[[boundary_conditions]]
name = "x0"
kind = "fixed"
components = ["x"]
select = { plane = { point = [0, 0, 0], normal = [1, 0, 0] } }

[[boundary_conditions]]
name = "y0"
kind = "fixed"
components = ["y"]
select = { plane = { point = [0, 0, 0], normal = [0, 1, 0] } }

[[boundary_conditions]]
name = "z0"
kind = "fixed"
components = ["z"]
select = { plane = { point = [0, 0, 0], normal = [0, 0, 1] } }

[[loads]]
name = "pull"
kind = "force"
value = [0.0, 0.0, 2.0]
select = { plane = { point = [0, 0, 2], normal = [0, 0, 1] } }
"""


def _setup(tmp_path, case=CASE):
    box_mesh((1.0, 1.0, 2.0), (2, 2, 3), jitter=0.2).to_pyvista().save(str(tmp_path / "block.vtu"))
    (tmp_path / "case.toml").write_text(case)
    return tmp_path / "case.toml"


def test_simulate_round_trip(tmp_path, capsys):
    import pyvista as pv

    case = _setup(tmp_path)
    out, summ, feb = tmp_path / "res" / "out.vtu", tmp_path / "s.json", tmp_path / "o.feb"
    rc = main(["simulate", str(case), "-o", str(out), "--summary", str(summ), "--export-feb", str(feb), "-q"])
    assert rc == 0
    s = json.loads(summ.read_text())
    assert s["converged"] is True and s["steps"] == 1 and s["newton_iterations"] == 0
    assert set(s["reaction_forces"]) == {"x0", "y0", "z0"}
    np.testing.assert_allclose(s["reaction_forces"]["z0"], [0, 0, -2.0], atol=1e-9)
    assert s["dofs"] > 0 and s["elements"] == 72 and s["solver"] and s["wall_seconds"] > 0
    g = pv.read(str(out))
    u = np.asarray(g.point_data["displacement"])
    assert u.shape == (g.n_points, 3)
    np.testing.assert_allclose(u[:, 2], 0.2 * np.asarray(g.points)[:, 2], atol=1e-9)
    np.testing.assert_allclose(g.cell_data["von_mises"], 2.0, rtol=1e-8)
    assert {"region", "stress", "strain", "principal_stress"} <= set(g.cell_data.keys())
    root = ET.parse(feb).getroot()
    assert root.get("version") == "4.0" and root.find("Boundary") is not None
    assert not list(tmp_path.glob("**/.*tmp*"))


def test_simulate_bad_case_exits_2_with_one_line(tmp_path, capsys):
    case = _setup(tmp_path, CASE.replace('kind = "force"', 'kind = "torque"'))
    rc = main(["simulate", str(case), "-o", str(tmp_path / "o.vtu"), "-q"])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and len(err.splitlines()) == 1
    assert "case.toml" in err and "loads[0].kind" in err
    assert not (tmp_path / "o.vtu").exists()


def test_simulate_singular_exits_1_with_status(tmp_path, capsys):
    no_supports = CASE.split("[[boundary_conditions]]")[0] + "[[loads]]" + CASE.split("[[loads]]")[1]
    case = _setup(tmp_path, no_supports)
    rc = main(["simulate", str(case), "-o", str(tmp_path / "o.vtu"), "--summary", str(tmp_path / "s.json"), "-q"])
    err = capsys.readouterr().err
    assert rc == 1 and "singular" in err
    s = json.loads((tmp_path / "s.json").read_text())
    assert s["converged"] is False and "singular" in s["status"]
    assert not (tmp_path / "o.vtu").exists()
