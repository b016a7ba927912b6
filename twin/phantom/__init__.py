"""Generated abdominal CT phantom with ground truth: the demo case of VHT Planner.

Frame: patient LPS, millimetres; arrays ``[i, j, k]`` with i -> patient left,
j -> posterior, k -> superior (an axial CT series).

Public API
----------
make_abdomen_phantom(shape, spacing_mm, seed, progress, noise_sd_hu) -> (Volume, LabelMap)
load_demo_case(cache_dir, progress) -> (Volume, LabelMap)
save_demo_case(out_dir, progress) -> {"ct", "labels", "landmarks", "description"}: paths
DEMO_SEGMENTS : label table; DEMO_LANDMARKS : named LPS points; body_outline_mask(labelmap)
"""

from twin.phantom.demo import (
    PHANTOM_VERSION,
    demo_cache_dir,
    generator_key,
    landmarks_markups,
    load_demo_case,
    make_abdomen_phantom,
    save_demo_case,
)
from twin.phantom.landmarks import DEMO_LANDMARKS
from twin.phantom.segments import DEMO_SEGMENTS, LABEL, body_outline_mask

__all__ = [
    "DEMO_LANDMARKS", "DEMO_SEGMENTS", "LABEL", "PHANTOM_VERSION", "body_outline_mask", "demo_cache_dir",
    "generator_key", "landmarks_markups", "load_demo_case", "make_abdomen_phantom", "save_demo_case",
]
