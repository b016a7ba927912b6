"""``vht segment IMAGE (--preset NAME | --threshold LOW HIGH [--largest] | --grow X Y Z --threshold LOW HIGH
| --seeds SEEDS.json [--soft-tissue] | --vessels-in LABELS ORGAN [...]) -o OUT``: write a label map (frame LPS,
mm). ``--vessels-in``: see :mod:`app.cli.segment_vessels`.

Output labels: presets, thresholds and single-seed growing write one segment with value 1
(named after the preset, ``threshold`` or ``grown``); ``--seeds`` writes the seed sets'
segments as 1..n in the file's order, the one named ``background`` as 0. A seeds segment may carry
per-segment grow options, e.g. ``"options": {"bridge_radius_mm": 0, "boundary_refinement": true,
"rim_layers": 3}`` (see ``segmentation.grow.LABEL_OPTIONS``).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def run(args: argparse.Namespace) -> int:
    """Segment the image and write the label map (+ ``<name>.segments.json``)."""
    import numpy as np

    from app.cli.progressbar import delayed_bar
    from twin.errors import InputError
    from twin.io.images import WRITABLE_SUFFIXES, image_format, read_image, write_labelmap
    from twin.labelmap import LabelMap
    from twin.progress import SubProgress

    out = Path(args.output)
    fmt = image_format(out)
    if fmt not in (*WRITABLE_SUFFIXES, ".seg.nrrd"):
        raise InputError(f"cannot write a label map as {fmt or '(no suffix)'}; use .nii.gz, .nrrd or .seg.nrrd", out)
    modes = [m for m in ("preset", "grow", "seeds", "vessels_in") if getattr(args, m, None) is not None]
    if len(modes) > 1:
        raise InputError("choose one of --preset, --grow, --seeds, --vessels-in")
    if not modes and args.threshold is None:
        raise InputError("nothing to do: give --preset, --threshold, --grow, --seeds or --vessels-in")
    if getattr(args, "vessels_in", None) is None and (getattr(args, "large_vein", None) is not None
                                                      or getattr(args, "resolution", None) is not None):
        raise InputError("--large-vein and --resolution apply to --vessels-in")
    if getattr(args, "resolution", None) is not None and (getattr(args, "large_vein", None) is None
                                                         or not all(np.isfinite(args.resolution))
                                                         or min(args.resolution) <= 0):
        raise InputError("--resolution needs --large-vein and two positive sizes in mm")
    if args.grow is not None and args.threshold is None:
        raise InputError("--grow needs --threshold LOW HIGH")
    if args.threshold is not None and (args.preset is not None or args.seeds is not None):
        raise InputError(f"--threshold does not apply to --{modes[0]} (presets and seeds choose their own ranges)")
    if getattr(args, "soft_tissue", False) and args.seeds is None:
        raise InputError("--soft-tissue applies to --seeds")
    if args.largest and (modes or args.threshold is None):
        raise InputError("--largest applies to --threshold alone (grown regions are connected already)")
    if args.threshold is not None and not all(np.isfinite(args.threshold)):
        raise InputError("threshold LOW and HIGH must be finite numbers")
    seed_sets = None
    if args.seeds is not None:
        from segmentation.grow import seed_sets_from_json

        seeds_path = Path(args.seeds)
        if not seeds_path.exists():
            raise InputError("no such seeds file", seeds_path)
        try:
            seed_sets = seed_sets_from_json(json.loads(seeds_path.read_text(encoding="utf-8")))
        except ValueError as exc:
            raise InputError(f"seeds file is not valid JSON ({exc})", seeds_path) from None
    progress = delayed_bar("segmenting", quiet=args.quiet)
    try:
        vol = read_image(args.image, series_uid=args.series, progress=SubProgress(progress, 0.0, 0.2, "read: "))
        work = SubProgress(progress, 0.2, 0.95)
        if getattr(args, "vessels_in", None) is not None:
            from app.cli.segment_vessels import vessels_labelmap

            lm = vessels_labelmap(args, vol, work)
        elif args.preset is not None:
            from segmentation.presets import run_preset

            mask = run_preset(vol, args.preset, work)
            lm = LabelMap.from_array(mask.astype(np.uint8), vol.geometry, names={1: args.preset}, name=out.name)
        elif args.grow is not None:
            from segmentation.grow import region_grow

            low, high = args.threshold
            mask = region_grow(vol, [args.grow], low, high, progress=work)
            lm = LabelMap.from_array(mask.astype(np.uint8), vol.geometry, names={1: "grown"}, name=out.name)
        elif seed_sets is not None:
            from segmentation.grow import grow_from_seeds, label_options_of, seed_image

            region = None
            if getattr(args, "soft_tissue", False):
                from segmentation.presets import soft_tissue_region

                region = soft_tissue_region(vol, SubProgress(work, 0.0, 0.3, "soft tissue: "))
                work = SubProgress(work, 0.3, 1.0)
            img = seed_image(vol.geometry, seed_sets)
            background = [n + 1 for n, s in enumerate(seed_sets) if s.is_background]
            labels = grow_from_seeds(vol, img, background, label_options=label_options_of(seed_sets), region=region,
                                     progress=work)
            names = {n + 1: s.name for n, s in enumerate(seed_sets) if not s.is_background}
            lm = LabelMap.from_array(labels, vol.geometry, names=names, name=out.name)
        else:
            from segmentation.morphology import keep_largest
            from segmentation.threshold import threshold

            low, high = args.threshold
            mask = threshold(vol, low, high, work)
            if args.largest:
                mask = keep_largest(mask)
            lm = LabelMap.from_array(mask.astype(np.uint8), vol.geometry, names={1: "threshold"}, name=out.name)
        write_labelmap(lm, out)
        progress.update(1.0, "written")
    except BaseException:
        progress.close(failed=True)
        raise
    progress.close()
    import sys

    for w in vol.metadata.get("warnings", []) or []:
        print(f"vht segment: warning: {w}", file=sys.stderr)
    empty = [seg.name for seg in lm.segments if not lm.mask(seg.value).any()]
    if not lm.segments or empty:
        what = ", ".join(repr(n) for n in empty) if empty else "every label"
        print(f"vht segment: warning: {what} came out empty (no voxel selected); check the range or seeds",
              file=sys.stderr)
    return 0
