"""``vht verify [--json] [--quick]``: run the FE verification suite and print a table.

Exit code 0 when every case passes, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import sys


def run(args: argparse.Namespace) -> int:
    """Run the suite; table (or JSON with ``--json``) on stdout."""
    from app.cli.progressbar import StderrProgress
    from biomech.verification import format_table, run_suite

    progress = StderrProgress("verify", quiet=args.quiet or args.json)
    results = run_suite(quick=args.quick, progress=progress)
    progress.close()
    ok = all(r.passed for r in results)
    if args.json:
        out = {"passed": ok, "quick": bool(args.quick), "cases": [r.to_json_dict() for r in results]}
        sys.stdout.write(json.dumps(out) + "\n")
    else:
        print(format_table(results))
    return 0 if ok else 1
