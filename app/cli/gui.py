"""``vht gui [PATH] [--screenshot FILE.png]``: the desktop app (PATH: image, DICOM folder or project folder)."""

from __future__ import annotations

import argparse
from pathlib import Path

from twin.errors import InputError


def run(args: argparse.Namespace) -> int:
    """Open the window; with ``--screenshot`` render every view, save a PNG of the window and exit."""
    if args.path and not Path(args.path).exists():
        raise InputError("no such file or folder", args.path)
    from app.gui.application import run_gui

    return run_gui(args.path, screenshot=args.screenshot)
