"""Segmentation tools on a real CT (TotalSegmentator example crop, 122 x 101 x 30 voxels of 3 mm).

The reference labels are TotalSegmentator's output (not manual ground truth; see PROVENANCE.md).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytestmark = [pytest.mark.gui, pytest.mark.slow]

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "totalseg_example"


@pytest.fixture
def real(window):
    if not (DATA / "example_ct_sm.nii.gz").exists():
        pytest.skip("../shared/data not present")
    window.open_path(DATA / "example_ct_sm.nii.gz")
    assert window.wait_for_workers(60) and window.volume is not None, window.messages
    return window, window.panels["segment_tools_panel"]


def test_import_totalsegmentator_outputs_then_grow_the_liver(real):
    from segmentation._common import dice
    from twin.io.images import read_image

    window, panel = real
    lm = window.labelmap
    files = panel.files
    # TotalSegmentator folder (one NIfTI per structure)
    n0 = len(window.project.undo_stack)
    files.import_path(DATA / "example_seg_tissue_types")
    assert window.wait_for_workers(60), window.messages
    assert len(window.project.undo_stack) == n0 + 1
    names = [s.name for s in lm.segments]
    assert {"skeletal_muscle", "subcutaneous_fat", "torso_fat"} <= set(names)
    fat = read_image(DATA / "example_seg_tissue_types" / "subcutaneous_fat.nii.gz").array > 0
    assert np.array_equal(lm.mask("subcutaneous_fat"), fat)
    # multilabel NIfTI named by TotalSegmentator's label table
    files.import_path(DATA / "example_seg.nii.gz", DATA / "labels_total_and_total_mr.json")
    assert window.wait_for_workers(60), window.messages
    ref = read_image(DATA / "example_seg.nii.gz").array
    assert np.array_equal(lm.mask("liver"), ref == 5) and np.array_equal(lm.mask("spleen"), ref == 1)
    assert len(lm.segments) == 3 + len(np.unique(ref)) - 1
    # grow from seeds: a few clicks inside the liver, background seeds in its neighbours
    from scipy import ndimage as ndi

    liver = ref == 5
    g = window.volume.geometry
    page = panel.grow
    page.add_set("liver_grown")
    depth = ndi.distance_transform_edt(liver)
    inner = np.argwhere(depth >= 0.6 * depth.max())
    pick = inner[np.linspace(0, len(inner) - 1, 5).astype(int)]
    page.seeds.current().points_lps.extend(list(g.index_to_lps(pick)))
    page.add_set("background")
    for value in (1, 2, 6, 18, 20, 86, 87, 32, 52):  # spleen, kidney, stomach, bowel, colon, muscles, vertebra, aorta
        vox = np.argwhere(ref == value)
        if len(vox):
            page.seeds.current().points_lps.append(g.index_to_lps(vox[len(vox) // 2][None])[0])
    page.place.setChecked(False)
    page.grow()
    assert window.wait_for_workers(120), window.messages
    d = dice(lm.mask("liver_grown"), liver)
    print(f"grow-from-seeds liver Dice vs TotalSegmentator: {d:.3f}")
    assert d > 0.85, d
