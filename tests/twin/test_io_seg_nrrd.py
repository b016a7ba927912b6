"""Slicer ``.seg.nrrd`` label maps: layers with overlaps, segment table, terminology (frame LPS, mm)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import SimpleITK as sitk

from twin.errors import InputError
from twin.geometry import ImageGeometry
from twin.io.images import read_labelmap, write_labelmap
from twin.labelmap import LabelMap, Segment

LIVER = {"scheme": "SCT", "code": "10200004", "meaning": "Liver"}


def _layered() -> LabelMap:
    q, _ = np.linalg.qr(np.random.default_rng(2).normal(size=(3, 3)))
    if np.linalg.det(q) < 0:
        q[:, 2] *= -1
    geo = ImageGeometry((12, 10, 6), [0.7, 0.8, 2.5], [-50.25, 12.125, 300.5], q)
    a = np.zeros(geo.shape, np.uint8)
    b = np.zeros(geo.shape, np.uint8)
    a[2:8, 2:8, 1:5] = 1  # liver
    a[9:11, 1:3, 0:2] = 2  # kidney
    b[4:6, 4:6, 2:4] = 1  # tumour, inside the liver: overlap needs a second layer
    segs = [Segment(1, "liver", (0.9, 0.5, 0.4), 0, LIVER), Segment(2, "kidney", (0.2, 0.6, 0.9), 0),
            Segment(1, "tumour", (1.0, 1.0, 0.0), 1)]
    return LabelMap([a, b], geo, segs, "case")


def test_layered_roundtrip_keeps_overlap_table_and_geometry(tmp_path: Path) -> None:
    lm = _layered()
    path = write_labelmap(lm, tmp_path / "case.seg.nrrd")
    header = path.read_bytes()[:4000].decode("latin-1")
    assert "kinds: list domain domain domain" in header and "space: left-posterior-superior" in header
    assert "Segment2_Name:=tumour" in header and "Segment2_Layer:=1" in header and "SCT^10200004^Liver" in header
    back = read_labelmap(path)
    assert [(s.name, s.value, s.layer) for s in back.segments] == [("liver", 1, 0), ("kidney", 2, 0), ("tumour", 1, 1)]
    assert back.segment("liver").terminology == LIVER
    np.testing.assert_allclose(back.segment("tumour").color, (1.0, 1.0, 0.0))
    for s in lm.segments:
        np.testing.assert_array_equal(back.mask(s.name), lm.mask(s.name))
    assert back.geometry.is_same_grid(lm.geometry, tol_mm=1e-9)
    # an independent reader (ITK) sees the layers as vector components on the same grid
    img = sitk.ReadImage(str(path))
    assert img.GetNumberOfComponentsPerPixel() == 2
    np.testing.assert_array_equal(sitk.GetArrayFromImage(img)[..., 1].transpose(2, 1, 0), lm.layers[1])
    np.testing.assert_allclose(img.GetOrigin(), lm.geometry.origin, atol=1e-9)
    np.testing.assert_allclose(np.reshape(img.GetDirection(), (3, 3)), lm.geometry.direction, atol=1e-9)


def test_single_layer_and_errors(tmp_path: Path) -> None:
    lm = _layered()
    single = LabelMap([lm.layers[0]], lm.geometry, lm.segments[:2], "one")
    back = read_labelmap(write_labelmap(single, tmp_path / "one.seg.nrrd"))
    assert len(back.layers) == 1 and back.voxel_count("kidney") == single.voxel_count("kidney")
    with pytest.raises(InputError, match="overlap|share a value"):
        write_labelmap(lm, tmp_path / "flat.nrrd")  # overlapping layers cannot be flattened
    with pytest.raises(InputError, match="no such file"):
        read_labelmap(tmp_path / "missing.seg.nrrd")
    cut = tmp_path / "one.seg.nrrd"
    cut.write_bytes(cut.read_bytes()[:-20])
    with pytest.raises(InputError, match="truncated"):
        read_labelmap(cut)
