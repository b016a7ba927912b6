"""Slicer .seg.nrrd, importers and DICOM-SEG round trips."""

from __future__ import annotations

import json

import numpy as np
import pytest

from segmentation.importers import import_segmentation, import_totalsegmentator_folder, read_label_table
from segmentation.slicer_io import read_seg_nrrd, write_seg_nrrd
from tests.segmentation.conftest import data_dir
from twin.geometry import ImageGeometry
from twin.labelmap import LabelMap, Segment


def _layered():
    rot = np.array([[0.0, -1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    g = ImageGeometry((12, 10, 8), (0.7, 0.8, 2.5), (-5.0, 3.0, 100.0), rot)
    a = np.zeros(g.shape, np.uint8)
    a[2:6, 2:6, 2:6] = 1
    a[7:10, 1:4, 1:3] = 3
    b = np.zeros(g.shape, np.uint8)
    b[3:8, 3:8, 3:7] = 1  # overlaps segment 1 -> second layer
    segs = [Segment(1, "liver", (0.9, 0.5, 0.4), 0, {"scheme": "SCT", "code": "10200004", "meaning": "Liver"}),
            Segment(3, "kidney left", (0.1, 0.2, 0.3), 0), Segment(1, "tumour", (0.5, 0.9, 0.5), 1)]
    return LabelMap([a, b], g, segs, "case")


def test_seg_nrrd_round_trip_layers_names_colours(tmp_path):
    from twin.io import seg_nrrd as twin_seg

    lm = _layered()
    p = write_seg_nrrd(lm, tmp_path / "case.seg.nrrd")
    assert p.read_bytes().startswith(b"NRRD0004")
    for reader in (read_seg_nrrd, twin_seg.read_seg_nrrd):  # ours and the twin reader agree
        back = reader(p)
        assert back.geometry.is_same_grid(lm.geometry)
        assert [(s.name, s.value, s.layer) for s in back.segments] == [(s.name, s.value, s.layer) for s in lm.segments]
        assert np.allclose([s.color for s in back.segments], [s.color for s in lm.segments], atol=1e-5)
        for s in lm.segments:
            assert np.array_equal(back.mask(s.name), lm.mask(s))
    assert read_seg_nrrd(p).segment("liver").terminology["code"] == "10200004"
    single = LabelMap([lm.layers[0]], lm.geometry, lm.segments[:2], "single")
    p2 = twin_seg.write_seg_nrrd(single, tmp_path / "twin.seg.nrrd")
    assert np.array_equal(read_seg_nrrd(p2).layers[0], single.layers[0])


def test_label_tables(tmp_path):
    d = data_dir("totalseg_example")
    names, _ = read_label_table(d / "labels_total_and_total_mr.json", task="total")
    assert names[5] == "liver" and names[117] == "costal_cartilages"
    ctbl = tmp_path / "colors.ctbl"
    ctbl.write_text("# Slicer colour table\n0 Background 0 0 0 0\n1 liver 221 130 101 255\n2 spleen 157 108 162 255\n")
    names, colors = read_label_table(ctbl)
    assert names == {1: "liver", 2: "spleen"} and colors[1] == pytest.approx((221 / 255, 130 / 255, 101 / 255))
    snap = tmp_path / "labels.txt"
    snap.write_text('    1   255    0    0        1  1  1    "Left kidney"\n')
    assert read_label_table(snap)[0] == {1: "Left kidney"}


def test_import_multilabel_and_totalsegmentator_folder(tmp_path):
    from twin.io.images import read_image, write_image

    d = data_dir("totalseg_example")
    lm = import_segmentation(d / "example_seg.nii.gz", d / "labels_total_and_total_mr.json", task="total")
    assert {"liver", "spleen", "aorta"} <= {s.name for s in lm.segments}
    assert lm.segment("liver").color == pytest.approx((0.87, 0.51, 0.41))
    seg = read_image(d / "example_seg.nii.gz")
    folder = tmp_path / "ts"
    folder.mkdir()
    for v, name in [(5, "liver"), (1, "spleen"), (90, "brain")]:
        write_image(seg.with_array((seg.array == v).astype(np.uint8)), folder / f"{name}.nii.gz")
    ts = import_totalsegmentator_folder(folder)
    assert [s.name for s in ts.segments] == ["liver", "spleen"]  # empty brain skipped
    assert np.array_equal(ts.mask("liver"), seg.array == 5)
    assert json.dumps(ts.table())


@pytest.mark.slow
def test_dicom_seg_round_trip(tmp_path):
    from segmentation.dicom_seg import read_dicom_seg, write_dicom_seg
    from twin.io.images import read_image

    d = data_dir("totalseg_example")
    ref = d / "example_ct_dicom"
    labels = read_image(d / "example_seg_dicom.nii.gz")  # y flipped with respect to the series
    names = {5: "liver", 1: "spleen", 52: "aorta"}
    lm = LabelMap.from_array(np.where(np.isin(labels.array, list(names)), labels.array, 0), labels.geometry,
                             names=names)
    out = write_dicom_seg(lm, ref, tmp_path / "seg.dcm")
    import pydicom

    ds = pydicom.dcmread(out)
    assert ds.Modality == "SEG" and len(ds.SegmentSequence) == 3
    series = read_image(ref)
    # every source image is referenced (its UIDs are blank in the files, only the file meta has them)
    referenced = {item.ReferencedSOPInstanceUID for item in ds.ReferencedSeriesSequence[0].ReferencedInstanceSequence}
    source = {pydicom.dcmread(f, stop_before_pixels=True).file_meta.MediaStorageSOPInstanceUID
              for f in ref.iterdir()}
    assert referenced == source and len(source) == 20
    back = read_dicom_seg(out, ref)
    assert back.geometry.is_same_grid(series.geometry)
    for v, n in names.items():
        # same physical voxels: count preserved through the flip/resampling
        assert back.voxel_count(n) == int((labels.array == v).sum())
        assert back.segment(n).color == pytest.approx(lm.segment(n).color, abs=0.01)
