"""``vht info PATH [--json] [--series UID]``: geometry and value range of an image."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def run(args: argparse.Namespace) -> int:
    """Print the image description; JSON keys per the CLI contract."""
    from app.cli.progressbar import StderrProgress
    from twin.io.images import is_dicom_path, read_image

    path = Path(args.path)
    info: dict[str, object] = {}
    series_list = None
    if path.exists() and is_dicom_path(path):
        from twin.io.dicom import list_series

        series_list = list_series(path)
    progress = StderrProgress("reading", quiet=args.quiet or args.json)
    vol = read_image(path, series_uid=args.series, progress=progress)
    progress.close()
    info.update(vol.summary())
    if series_list is not None:
        info["series_uid"] = vol.metadata.get("SeriesInstanceUID")
        info["series"] = [s.to_dict() for s in series_list]
    if vol.metadata.get("warnings"):
        info["warnings"] = vol.metadata["warnings"]
    if args.json:
        sys.stdout.write(json.dumps(info) + "\n")
        return 0
    print(f"{path}")
    print(f"  size      {info['size']} voxels (i, j, k)")
    print(f"  spacing   {[round(s, 6) for s in info['spacing']]} mm")
    print(f"  origin    {[round(s, 4) for s in info['origin']]} mm (LPS)")
    print(f"  direction {[round(s, 6) for s in info['direction']]} (row-major, LPS)")
    print(f"  modality  {info['modality']}  dtype {info['dtype']}  range [{info['min']}, {info['max']}] {info['units']}")
    if series_list is not None:
        print(f"  series    {len(series_list)} found; read {info['series_uid']}")
        for s in series_list:
            print(f"    {s.uid}  {s.modality:3s} {s.size}  {s.description}")
    for w in info.get("warnings", []) or []:  # type: ignore[union-attr]
        print(f"  warning   {w}")
    return 0
