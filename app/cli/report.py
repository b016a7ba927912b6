"""``vht report PROJECT_DIR -o REPORT.pdf [--identify] [--json [OUT.json]]``: the PDF case report.

De-identified by default (pseudonym instead of the patient's name and IDs).
``--json`` writes the same numbers as JSON (to stdout when no file is given).
Outputs are written atomically. Frame: LPS mm.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def run(args: argparse.Namespace) -> int:
    """Load the project, build the report, write the PDF (and JSON)."""
    from app.cli.progressbar import delayed_bar
    from planning.report import build_report
    from twin.errors import InputError
    from twin.io.atomic import atomic_write_text
    from twin.progress import SubProgress
    from twin.project import Project

    project_dir = Path(args.project)
    if not project_dir.is_dir():
        raise InputError("project folder not found", project_dir)
    out = Path(args.output)
    if out.suffix.lower() != ".pdf":
        raise InputError("the report must be a .pdf file", out)
    to_stdout = args.json == "-"
    progress = delayed_bar("report", quiet=args.quiet)
    try:
        project = Project.load(project_dir, progress=SubProgress(progress, 0.0, 0.2, "loading: "))
        data = build_report(project, out, identify=args.identify, progress=SubProgress(progress, 0.2, 1.0))
    except BaseException:
        progress.close(failed=True)
        raise
    progress.close()
    if args.json:
        text = json.dumps(data, indent=2)
        if to_stdout:
            sys.stdout.write(text + "\n")
        else:
            atomic_write_text(args.json, text + "\n")
    if not args.quiet and not to_stdout:
        print(f"wrote {out}" + (f" and {args.json}" if args.json else ""), file=sys.stderr)
    return 0
