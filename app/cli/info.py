"""``vht info PATH [--json] [--series UID]``: geometry and value range of an image.

JSON contract (one object on stdout): ``size`` [i, j, k], ``spacing`` [mm x3],
``origin`` [LPS mm x3], ``direction`` [9 floats, row-major, LPS], ``modality``,
``dtype``, ``min``, ``max``; for DICOM also ``series_uid`` and ``series`` (every
series found, largest first). ``warnings`` when the reader had to resample or guess.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from app.cli.progressbar import DelayedProgress  # noqa: F401 - re-exported (convert, older callers)


def run(args: argparse.Namespace) -> int:
    """Print the image description; JSON keys per the CLI contract."""
    from app.cli.progressbar import StderrProgress
    from twin.io.images import read_image_with_series

    path = Path(args.path)
    progress = DelayedProgress(StderrProgress("reading", quiet=args.quiet))
    try:
        vol, series_list = read_image_with_series(path, series_uid=args.series, progress=progress)
    except BaseException:
        progress.close(failed=True)
        raise
    progress.close()
    info: dict[str, Any] = vol.summary()
    if series_list is not None:
        info["series_uid"] = vol.metadata.get("series_key") or vol.metadata.get("SeriesInstanceUID")
        info["series"] = [s.to_dict() for s in series_list]
    if vol.metadata.get("warnings"):
        info["warnings"] = list(vol.metadata["warnings"])
    if args.json:
        sys.stdout.write(json.dumps(info) + "\n")
        return 0
    print(f"{path}")
    print(f"  size      {info['size']} voxels (i, j, k)")
    print(f"  spacing   {[round(s, 6) for s in info['spacing']]} mm")
    print(f"  origin    {[round(s, 4) for s in info['origin']]} mm (LPS)")
    print(f"  direction {[round(s, 6) for s in info['direction']]} (row-major, LPS)")
    print(f"  modality  {info['modality']}  dtype {info['dtype']}  "
          f"range [{info['min']}, {info['max']}] {info['units']}")
    if series_list is not None:
        print(f"  series    {len(series_list)} found; read {info['series_uid']}")
        for s in series_list:
            size = "x".join(str(n) for n in s.size)
            print(f"    {s.uid}  {s.modality:<5s} {size:<14s} {s.n_files:5d} files  {s.description}")
    for w in info.get("warnings", []):
        print(f"  warning   {w}")
    return 0
