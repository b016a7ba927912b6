"""CLI contracts of ``vht segment``, ``vht mesh`` and ``vht export-seg`` (run in-process through ``main``)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from app.cli import main

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"


@pytest.fixture()
def small_ct(tmp_path):
    """A synthetic CT: body cylinder with a bone rod and a bright ball (NIfTI)."""
    from twin.geometry import ImageGeometry
    from twin.io.images import write_image
    from twin.volume import Volume

    g = ImageGeometry((48, 48, 24), (2.0, 2.0, 3.0), (-48.0, -48.0, 0.0))
    ijk = np.indices(g.shape).transpose(1, 2, 3, 0).astype(float)
    r = np.hypot(ijk[..., 0] - 24, ijk[..., 1] - 24)
    img = np.full(g.shape, -1000.0)
    img[r < 20] = 40.0
    img[np.hypot(ijk[..., 0] - 24, ijk[..., 1] - 34) < 3] = 700.0  # bone rod
    ball = np.linalg.norm((ijk - [18, 20, 12]) * g.spacing, axis=-1) < 10
    img[ball] = 120.0
    img += np.random.default_rng(0).normal(0, 5, g.shape)
    p = tmp_path / "ct.nii.gz"
    write_image(Volume(img.astype(np.int16), g, modality="CT", units="HU"), p)
    centre = g.index_to_lps(np.array([[18, 20, 12]]))[0]
    return p, g, ball, centre


def _labels(path):
    from twin.io.images import read_labelmap

    return read_labelmap(path)


def test_segment_threshold_largest_preset_grow_seeds(small_ct, tmp_path, capsys):
    img, g, ball, centre = small_ct
    out = tmp_path / "thr.nii.gz"
    assert main(["segment", str(img), "--threshold", "100", "200", "--largest", "-o", str(out), "-q"]) == 0
    lm = _labels(out)
    assert lm.segments[0].value == 1 and (lm.mask(1) == ball).mean() > 0.99
    out = tmp_path / "bone.nrrd"
    assert main(["segment", str(img), "--preset", "bone", "-o", str(out), "-q"]) == 0
    assert _labels(out).segment(1).name == "bone" and _labels(out).voxel_count(1) > 0
    out = tmp_path / "grow.nii.gz"
    assert main(["segment", str(img), "--grow", *map(str, centre), "--threshold", "80", "200", "-o", str(out),
                 "-q"]) == 0
    assert np.array_equal(_labels(out).mask(1), ball)
    seeds = tmp_path / "seeds.json"
    far = g.index_to_lps(np.array([[30, 30, 12], [24, 6, 12]]))
    seeds.write_text(json.dumps({"segments": [
        {"name": "background", "points_lps": far.tolist()},
        {"name": "lesion", "points_lps": [centre.tolist()]}]}))
    out = tmp_path / "seeds.nii.gz"
    assert main(["segment", str(img), "--seeds", str(seeds), "-o", str(out), "-q"]) == 0
    lm = _labels(out)
    assert [(s.value, s.name) for s in lm.segments] == [(2, "lesion")]  # file order, background -> 0
    assert (lm.mask("lesion") & ball).sum() / ball.sum() > 0.8


def test_segment_bad_input_exits_2(small_ct, tmp_path, capsys):
    img, *_ = small_ct
    out = str(tmp_path / "o.nii.gz")
    assert main(["segment", str(tmp_path / "missing.nii.gz"), "--preset", "bone", "-o", out]) == 2
    assert main(["segment", str(img), "--grow", "0", "0", "0", "-o", str(tmp_path / "o.nii.gz")]) == 2
    assert main(["segment", str(img), "--grow", "900", "0", "0", "--threshold", "0", "1",
                 "-o", str(tmp_path / "o.nii.gz")]) == 2
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    assert main(["segment", str(img), "--seeds", str(bad), "-o", str(tmp_path / "o.nii.gz")]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.count("error:") == 4
    assert not (tmp_path / "o.nii.gz").exists()


def test_mesh_json_and_formats(small_ct, tmp_path, capsys):
    img, g, ball, _ = small_ct
    labels = tmp_path / "l.nii.gz"
    assert main(["segment", str(img), "--threshold", "100", "200", "--largest", "-o", str(labels), "-q"]) == 0
    capsys.readouterr()
    for suffix in (".stl", ".obj", ".ply", ".vtp"):
        out = tmp_path / f"m{suffix}"
        assert main(["mesh", str(labels), "--label", "1", "--smoothing", "0", "-o", str(out), "--json"]) == 0
        info = json.loads(capsys.readouterr().out)
        assert set(info) == {"volume_mm3", "area_mm2", "watertight", "triangles"}
        assert info["watertight"] is True and info["triangles"] > 0 and out.exists()
        assert info["volume_mm3"] == pytest.approx(ball.sum() * g.voxel_volume_mm3, rel=0.08)
    assert main(["mesh", str(labels), "--label", "threshold", "--smoothing", "0.5", "--decimate", "0.5",
                 "-o", str(tmp_path / "d.stl"), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["watertight"] is True
    assert main(["mesh", str(labels), "--label", "7", "-o", str(tmp_path / "x.stl")]) == 2
    assert main(["mesh", str(labels), "--label", "1", "-o", str(tmp_path / "x.xyz")]) == 2


def test_export_seg_nrrd_and_dicom(tmp_path):
    from segmentation.slicer_io import read_seg_nrrd

    src = DATA / "totalseg_example"
    if not src.exists():
        pytest.skip("../shared/data not present")
    out = tmp_path / "seg.seg.nrrd"
    assert main(["export-seg", str(src / "example_seg.nii.gz"), "--format", "seg.nrrd", "-o", str(out), "-q"]) == 0
    lm = read_seg_nrrd(out)
    assert len(lm.segments) == 41
    assert main(["export-seg", str(src / "example_seg.nii.gz"), "--format", "dicom-seg", "-o",
                 str(tmp_path / "x.dcm"), "-q"]) == 2  # needs --reference


@pytest.mark.slow
def test_export_dicom_seg_with_reference(tmp_path):
    import pydicom

    src = DATA / "totalseg_example"
    if not src.exists():
        pytest.skip("../shared/data not present")
    out = tmp_path / "seg.dcm"
    assert main(["export-seg", str(src / "example_seg_dicom.nii.gz"), "--format", "dicom-seg", "--reference",
                 str(src / "example_ct_dicom"), "-o", str(out), "-q"]) == 0
    ds = pydicom.dcmread(out)
    assert ds.Modality == "SEG" and len(ds.SegmentSequence) == 31


def test_segment_seeds_soft_tissue_is_the_grow_in_the_soft_tissue_region(tmp_path, capsys):
    """``--soft-tissue``: the grow's region is ``segmentation.presets.soft_tissue_region`` (body without bone and
    lungs), as the accuracy tests use it; refused without --seeds."""
    from segmentation import grow, presets
    from twin.io.images import write_image
    from twin.phantom import make_abdomen_phantom

    vol, lm = make_abdomen_phantom(shape=(64, 54, 32), spacing_mm=(6.0, 6.0, 7.5))
    img = write_image(vol, tmp_path / "ct.nii.gz")
    g = vol.geometry
    liver = np.argwhere(lm.mask("liver"))
    sets = [grow.SeedSet("liver", g.index_to_lps(liver[len(liver) // 2][None].astype(float))),
            grow.SeedSet("background", g.index_to_lps(np.array([[32.0, 20.0, 16.0], [10.0, 27.0, 16.0]])))]
    seeds = tmp_path / "seeds.json"
    seeds.write_text(json.dumps({"segments": [{"name": s.name, "points_lps": s.points_lps.tolist()} for s in sets]}))
    out = tmp_path / "soft.nrrd"
    assert main(["segment", str(img), "--seeds", str(seeds), "--soft-tissue", "-o", str(out), "-q"]) == 0
    region = presets.soft_tissue_region(vol)
    ref = grow.grow_from_seeds(vol, grow.seed_image(g, sets), [2], region=region) == 1
    got = _labels(out).mask("liver")
    assert np.array_equal(got, ref) and not (got & ~region).any() and got.any()
    assert main(["segment", str(img), "--preset", "bone", "--soft-tissue", "-o", str(tmp_path / "x.nrrd")]) == 2
    assert "--soft-tissue applies to --seeds" in capsys.readouterr().err


@pytest.mark.slow
def test_the_phantom_accuracy_grow_runs_from_the_command_line(tmp_path):
    """The soft-tissue grow of tests/segmentation/test_phantom_accuracy.py (its clicks and per-segment options
    as a SEEDS.json) gives the same labels through ``vht segment --seeds --soft-tissue``."""
    from segmentation import grow, presets
    from tests.segmentation.test_phantom_accuracy import GROWN, grow_seed_sets
    from twin.io.images import write_image
    from twin.phantom import make_abdomen_phantom

    vol, lm = make_abdomen_phantom()
    sets = grow_seed_sets(vol.geometry, {n: lm.mask(n) for n in GROWN})
    doc = {"segments": [{"name": s.name, "points_lps": s.points_lps.tolist(), **({"options": dict(s.options)}
                                                                                  if s.options else {})}
                        for s in sets]}
    seeds = tmp_path / "seeds.json"
    seeds.write_text(json.dumps(doc))
    img = write_image(vol, tmp_path / "ct.nii.gz")
    out = tmp_path / "grown.seg.nrrd"
    assert main(["segment", str(img), "--seeds", str(seeds), "--soft-tissue", "-o", str(out), "-q"]) == 0
    ref = grow.grow_from_seeds(vol, grow.seed_image(vol.geometry, sets), [len(sets)],
                               region=presets.soft_tissue_region(vol), label_options=grow.label_options_of(sets))
    got = _labels(out)
    assert [s.name for s in got.segments] == list(GROWN)
    for n, name in enumerate(GROWN):
        assert np.array_equal(got.mask(name), ref == n + 1), name


def test_segment_vessels_in_an_organ_and_at_a_large_vein(tmp_path, capsys):
    """``--vessels-in LABELS ORGAN [--large-vein NAME --resolution XY Z]``: the GUI vessel tool's steps (organ
    closed by 6 mm, segment_vessels, then refine_vessels_at_large_vein), written into a copy of LABELS."""
    from segmentation import morphology as morph
    from segmentation.vessels import refine_vessels_at_large_vein, segment_vessels
    from twin.io.images import write_image, write_labelmap
    from twin.phantom import make_abdomen_phantom

    vol, lm = make_abdomen_phantom(shape=(96, 80, 48), spacing_mm=(4.0, 4.0, 5.0))
    img = write_image(vol, tmp_path / "ct.nii.gz")
    labels = tmp_path / "labels.nrrd"
    write_labelmap(lm, labels)
    g = vol.geometry
    liver0, ivc0 = lm.mask("liver"), lm.mask("inferior_vena_cava")
    v0 = segment_vessels(vol, morph.fill_holes(morph.closing(liver0, g, 6.0)))
    out = tmp_path / "v.nrrd"
    assert main(["segment", str(img), "--vessels-in", str(labels), "liver", "-o", str(out), "-q"]) == 0
    got = _labels(out)
    assert np.array_equal(got.mask("hepatic_vessels"), v0) and np.array_equal(got.mask("liver"), liver0 & ~v0)
    out = tmp_path / "vv.nrrd"
    assert main(["segment", str(img), "--vessels-in", str(labels), "liver", "--large-vein", "inferior_vena_cava",
                 "--resolution", "4", "5", "-o", str(out), "-q"]) == 0
    got = _labels(out)
    others = np.zeros(g.shape, bool)
    for s in lm.segments:
        if s.name not in ("liver", "hepatic_vessels", "inferior_vena_cava"):
            others |= lm.mask(s.name)
    ref_v, ref_ivc = refine_vessels_at_large_vein(vol, v0, ivc0, morph.fill_holes(liver0 | v0, "3d") & ~others,
                                                  (4.0, 4.0, 5.0))
    assert np.array_equal(got.mask("hepatic_vessels"), ref_v) and np.array_equal(got.mask("inferior_vena_cava"),
                                                                                  ref_ivc)
    assert not (got.mask("liver") & (ref_v | ref_ivc)).any()
    assert np.array_equal(got.mask("spleen"), lm.mask("spleen"))  # other segments untouched
    for bad in (["--vessels-in", str(labels), "pancreas"], ["--vessels-in", str(labels), "liver", "--large-vein",
                                                             "liver"], ["--large-vein", "inferior_vena_cava"],
                ["--vessels-in", str(labels), "liver", "--large-vein", "inferior_vena_cava", "--resolution", "0",
                 "5"]):
        assert main(["segment", str(img), *bad, "-o", str(tmp_path / "x.nrrd")]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.count("error:") == 4
