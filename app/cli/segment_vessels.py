"""``vht segment IMAGE --vessels-in LABELS ORGAN [--large-vein NAME] [--resolution XY Z] -o OUT``: the GUI's
vessel tool from the command line (frame LPS, mm).

The organ segment of LABELS (e.g. a grown liver) is closed by 6 mm and hole-filled (the GUI's default, so the
vessel channels a grown organ leaves out are inside it), :func:`segmentation.vessels.segment_vessels` finds the
enhanced vessels in it, and the result is written into segment ``hepatic_vessels`` (liver) or
``<organ>_vessels`` of a copy of LABELS. With ``--large-vein`` (e.g. the IVC segment) vessels and vein are
divided again where they touch and their rims fitted to the CT
(:func:`segmentation.vessels.vessels_at_large_vein`, scanner resolution ``--resolution``: in-plane
FWHM and slice thickness in mm, default the voxel spacing); the organ gets back what neither keeps.
Every change is a label-map command, as in the GUI.
"""

from __future__ import annotations

import argparse
from typing import Any


def vessels_labelmap(args: argparse.Namespace, vol: Any, progress: Any) -> Any:
    """The label map of ``--vessels-in`` with the vessels (and the vein / organ) updated."""
    import numpy as np

    from segmentation import morphology as morph
    from segmentation.vessels import segment_vessels, vessel_segment_name, vessels_at_large_vein
    from twin.commands import UndoStack
    from twin.errors import InputError
    from twin.io.images import read_labelmap
    from twin.labelmap_commands import AddSegment, SetSegmentMask
    from twin.progress import SubProgress

    path, organ = args.vessels_in
    lm = read_labelmap(path)
    if not lm.geometry.is_same_grid(vol.geometry):
        raise InputError("the label map is not on the image's grid (shape, spacing, origin and direction)", path)
    names = [s.name for s in lm.segments]
    if organ not in names or not lm.mask(organ).any():
        raise InputError(f"no non-empty segment {organ!r} in the label map (has: {', '.join(names)})", path)
    vein = args.large_vein
    out_name = vessel_segment_name(organ)
    if vein is not None and (vein not in names or vein in (organ, out_name) or not lm.mask(vein).any()):
        raise InputError(f"--large-vein must name another non-empty segment of the label map, not {vein!r}", path)
    g = vol.geometry
    organ0 = lm.mask(organ)
    region = morph.fill_holes(morph.closing(organ0, g, 6.0))
    progress.raise_if_cancelled()
    vessels = segment_vessels(vol, region, progress=SubProgress(progress, 0.1, 0.5, "vessels: "))
    masks = {out_name: vessels}
    if vein is not None:
        psf = None if args.resolution is None else (args.resolution[0], args.resolution[0], args.resolution[1])
        others = np.zeros(g.shape, bool)
        for s in lm.segments:
            if s.name not in (organ, out_name, vein):
                others |= lm.mask(s.name)
        new_v, new_vein, new_organ = vessels_at_large_vein(vol, organ0, vessels, lm.mask(vein), others, psf,
                                                           progress=SubProgress(progress, 0.5, 1.0, "large vein: "))
        masks = {out_name: new_v, vein: new_vein, organ: new_organ}
    stack = UndoStack()
    for name, m in masks.items():
        if name in names:
            stack.push(SetSegmentMask(lm, name, m, "replace"))
        else:
            stack.push(AddSegment(lm, name, None, mask=m, allow_overlap=True))
    return lm
