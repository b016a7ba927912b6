"""Default segment colours: lesions never take their organ's colour."""

from __future__ import annotations

import pytest

from twin.colors import ANATOMY_COLORS, color_for_name


@pytest.mark.parametrize("name", ["liver_tumor", "liver tumour", "Liver-Lesion", "kidney_cyst_left", "lung_nodule"])
def test_lesion_in_an_organ_gets_the_lesion_colour(name: str) -> None:
    assert color_for_name(name) == ANATOMY_COLORS["tumor"]
    organ = name.lower().replace("-", "_").replace(" ", "_").split("_")[0]
    assert color_for_name(name) != color_for_name(organ)


def test_most_specific_name_wins_and_words_are_whole() -> None:
    assert color_for_name("liver") == ANATOMY_COLORS["liver"]
    assert color_for_name("hepatic_vessels") == ANATOMY_COLORS["hepatic_vessels"]
    assert color_for_name("kidney_left") == ANATOMY_COLORS["kidney_left"]
    assert color_for_name("masseter", 3) != ANATOMY_COLORS["tumor"]  # "mass" only as a whole word


def test_grown_demo_segments_are_distinguishable() -> None:
    """The headless demo names its grown segments like this: liver and its tumour must differ on screen."""
    import numpy as np

    from twin.geometry import ImageGeometry
    from twin.labelmap import LabelMap

    arr = np.zeros((6, 6, 6), np.uint8)
    arr[1:3] = 1
    arr[4:5] = 2
    lm = LabelMap.from_array(arr, ImageGeometry(arr.shape), names={1: "liver", 2: "liver_tumor"})
    assert lm.segment("liver").color != lm.segment("liver_tumor").color
