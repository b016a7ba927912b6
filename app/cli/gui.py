"""``vht gui [PATH] [--screenshot FILE.png]``: the desktop app (PATH: image, DICOM folder or project folder)."""

from __future__ import annotations

import argparse
from pathlib import Path

from twin.errors import InputError


def check_screenshot_path(path: str | None) -> None:
    """Refuse a ``--screenshot`` target that cannot become a PNG file, before any window opens.

    Raises
    ------
    InputError
        Not ending in ``.png``, an existing folder, or a parent that is not a folder.
    """
    if path is None:
        return
    p = Path(path)
    if p.suffix.lower() != ".png":
        raise InputError(f"--screenshot writes PNG images: use a .png file name (got {p.suffix or 'no suffix'})", p)
    if p.is_dir():
        raise InputError("--screenshot target is a folder", p)
    parent = p.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise InputError(f"cannot create the folder: {parent} is a file", p)


def run(args: argparse.Namespace) -> int:
    """Open the window; with ``--screenshot`` render every view, save a PNG of the window and exit."""
    check_screenshot_path(args.screenshot)
    if args.path and not Path(args.path).exists():
        raise InputError("no such file or folder", args.path)
    from app.gui.application import run_gui

    return run_gui(args.path, screenshot=args.screenshot)
