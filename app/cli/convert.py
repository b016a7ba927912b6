"""``vht convert IN OUT [--series UID] [--deidentify]``."""

from __future__ import annotations

import argparse
from pathlib import Path


def run(args: argparse.Namespace) -> int:
    """Read any supported image and write it in the format of OUT's suffix."""
    from app.cli.progressbar import StderrProgress
    from twin.errors import InputError
    from twin.io.images import WRITABLE_SUFFIXES, image_format, read_image, write_image

    out = Path(args.output)
    if image_format(out) not in WRITABLE_SUFFIXES:
        raise InputError(f"cannot write {image_format(out) or '(no suffix)'}; use one of {', '.join(WRITABLE_SUFFIXES)}", out)
    progress = StderrProgress("converting", quiet=args.quiet)
    vol = read_image(args.input, series_uid=args.series, progress=progress)
    if args.deidentify:
        from twin.deid import deidentify_volume

        vol = deidentify_volume(vol)
    write_image(vol, out)
    progress.close()
    return 0
