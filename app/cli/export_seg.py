"""``vht export-seg LABELS --format seg.nrrd|dicom-seg [--reference DICOM_DIR] [--deidentify] -o OUT``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def run(args: argparse.Namespace) -> int:
    """Export a label map as a Slicer ``.seg.nrrd`` or a DICOM-SEG referencing a series."""
    from app.cli.progressbar import delayed_bar
    from twin.errors import InputError
    from twin.io.images import read_labelmap

    out = Path(args.output)
    notes: list[str] = []
    progress = delayed_bar("exporting", quiet=args.quiet)
    try:
        lm = read_labelmap(args.labels)
        if not lm.segments or not any(lm.mask(seg.value).any() for seg in lm.segments):
            raise InputError("label map has no segments to export (every voxel is 0)", args.labels)
        if args.format == "seg.nrrd":
            from segmentation.slicer_io import write_seg_nrrd

            if not out.name.lower().endswith(".seg.nrrd"):
                raise InputError("a Slicer segmentation file name must end with .seg.nrrd", out)
            write_seg_nrrd(lm, out)
        else:
            if not args.reference:
                raise InputError("--format dicom-seg needs --reference DICOM_DIR (the source series)")
            from segmentation.dicom_seg import write_dicom_seg

            write_dicom_seg(lm, args.reference, out, progress=progress, deidentify=args.deidentify, notes=notes)
    except BaseException:
        progress.close(failed=True)
        raise
    progress.close()
    for note in notes:
        print(f"vht export-seg: warning: {note}", file=sys.stderr)
    return 0
