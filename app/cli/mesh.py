"""``vht mesh LABELS --label N|NAME [--smoothing F] [--decimate F] -o OUT.(stl|obj|ply|vtp) [--json]``.

Writes the closed surface of one segment in LPS mm (frame recorded in the file). With
``--json`` prints ``{"volume_mm3", "area_mm2", "watertight", "triangles"}`` on stdout.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def run(args: argparse.Namespace) -> int:
    """Contour, smooth, decimate, check and write one segment's surface."""
    from app.cli.progressbar import delayed_bar
    from segmentation.surface_io import SURFACE_SUFFIXES, write_surface
    from segmentation.surfaces import segment_surface
    from twin.errors import InputError
    from twin.io.images import read_labelmap

    out = Path(args.output)
    if out.suffix.lower() not in SURFACE_SUFFIXES:
        raise InputError(f"cannot write {out.suffix or '(no suffix)'}; use one of {', '.join(SURFACE_SUFFIXES)}", out)
    if not 0 <= args.smoothing <= 1:
        raise InputError("--smoothing must be between 0 and 1")
    if not 0 <= args.decimate < 1:
        raise InputError("--decimate must be in [0, 1)")
    progress = delayed_bar("meshing", quiet=args.quiet or args.json)
    try:
        lm = read_labelmap(args.labels)
        if not lm.segments:
            raise InputError("label map has no segments (every voxel is 0)", args.labels)
        seg = lm.segment(args.label)
        if not lm.mask(seg).any():
            raise InputError(f"segment {seg.name!r} is empty")
        res = segment_surface(lm, seg.name, smoothing=args.smoothing, decimate=args.decimate, progress=progress)
        write_surface(res.surface, out)
    except BaseException:
        progress.close(failed=True)
        raise
    progress.close()
    info = {"volume_mm3": res.volume_mm3, "area_mm2": res.area_mm2, "watertight": bool(res.watertight),
            "triangles": int(res.surface.n_triangles)}
    if args.json:
        sys.stdout.write(json.dumps(info) + "\n")
    else:
        print(f"{out}: {info['triangles']} triangles, volume {info['volume_mm3']:.1f} mm^3, "
              f"area {info['area_mm2']:.1f} mm^2, {'watertight' if info['watertight'] else 'NOT watertight'} (LPS)")
    return 0
