"""``vht convert IN OUT [--series UID] [--deidentify]``: any readable image to NIfTI/NRRD/MetaImage.

The output format follows OUT's suffix; the file is written atomically (nothing is left
behind on failure). ``--deidentify`` applies the DICOM PS3.15 E.1 basic profile to the
metadata and records it in the output header (no identifying metadata is ever written
into image files; see :func:`twin.io.images.write_image`).
"""

from __future__ import annotations

import argparse
from pathlib import Path


def run(args: argparse.Namespace) -> int:
    """Read any supported image and write it in the format of OUT's suffix."""
    from app.cli.info import DelayedProgress
    from app.cli.progressbar import StderrProgress
    from twin.errors import InputError
    from twin.io.images import WRITABLE_SUFFIXES, image_format, read_image, write_image
    from twin.progress import SubProgress

    out = Path(args.output)
    if image_format(out) not in WRITABLE_SUFFIXES:
        raise InputError(f"cannot write {image_format(out) or '(no suffix)'}; "
                         f"use one of {', '.join(WRITABLE_SUFFIXES)}", out)
    if out.is_dir():
        raise InputError("output is a folder", out)
    progress = DelayedProgress(StderrProgress("converting", quiet=args.quiet))
    try:
        vol = read_image(args.input, series_uid=args.series, progress=SubProgress(progress, 0.0, 0.8))
        if args.deidentify:
            from twin.deid import deidentify_volume

            vol = deidentify_volume(vol)
        progress.update(0.85, f"writing {out.name}")
        write_image(vol, out)
        progress.update(1.0, "done")
    except BaseException:
        progress.close(failed=True)
        raise
    progress.close()
    for w in vol.metadata.get("warnings", []) or []:
        import sys

        print(f"vht convert: warning: {w}", file=sys.stderr)
    return 0
