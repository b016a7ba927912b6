"""``vht simulate PROJECT_DIR``: the project's stored simulation set-up solved on its mesh (LPS, mm, N, MPa)."""

from __future__ import annotations

import json

import numpy as np

from app.cli import main
from tests.biomech.test_case_commands import _bar_commands, _project


def test_simulate_a_project_folder_solves_its_stored_setup(tmp_path, capsys):
    import pyvista as pv

    proj = _project()
    for c in _bar_commands(proj):
        proj.undo_stack.push(c)
    proj.save(tmp_path / "proj")
    before = sorted(p.relative_to(tmp_path) for p in (tmp_path / "proj").rglob("*"))
    out, summ, feb = tmp_path / "out.vtu", tmp_path / "s.json", tmp_path / "o.feb"
    rc = main(["simulate", str(tmp_path / "proj"), "-o", str(out), "--summary", str(summ), "--export-feb", str(feb)])
    assert rc == 0
    assert "converged" in capsys.readouterr().out
    s = json.loads(summ.read_text())
    assert s["converged"] and s["case"] == str(tmp_path / "proj")
    np.testing.assert_allclose(s["reaction_forces"]["z0"], [0, 0, -2.0], atol=1e-9)
    g = pv.read(str(out))
    np.testing.assert_allclose(np.asarray(g.point_data["displacement"])[:, 2], 0.2 * np.asarray(g.points)[:, 2],
                               atol=1e-9)
    assert feb.read_text().startswith("<?xml")
    assert sorted(p.relative_to(tmp_path) for p in (tmp_path / "proj").rglob("*")) == before  # untouched


def test_simulate_project_without_setup_or_manifest_exits_2(tmp_path, capsys):
    proj = _project()
    proj.save(tmp_path / "proj")
    assert main(["simulate", str(tmp_path / "proj"), "-o", str(tmp_path / "o.vtu")]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "no simulation set-up" in err and str(tmp_path / "proj") in err
    (tmp_path / "empty").mkdir()
    assert main(["simulate", str(tmp_path / "empty"), "-o", str(tmp_path / "o.vtu")]) == 2
    assert "manifest.json" in capsys.readouterr().err
    assert not (tmp_path / "o.vtu").exists()
