"""``vht verify [--json] [--quick]``: run the FE verification suite and print a table.

Exit code 0 when every case passes, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import math
import sys


def _clean(x: object) -> object:
    """JSON has no NaN/inf: map them to null / strings."""
    if isinstance(x, float):
        if math.isnan(x):
            return None
        if math.isinf(x):
            return "inf" if x > 0 else "-inf"
    if isinstance(x, dict):
        return {k: _clean(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_clean(v) for v in x]
    return x


def run(args: argparse.Namespace) -> int:
    """Run the suite; table (or JSON with ``--json``) on stdout."""
    from app.cli.progressbar import StderrProgress
    from biomech.verification import format_table, run_suite

    progress = StderrProgress("verify", quiet=args.quiet or args.json)
    results = run_suite(quick=args.quick, progress=progress)
    progress.close()
    ok = all(r.passed for r in results)
    if args.json:
        out = {"passed": ok, "quick": bool(args.quick), "cases": [_clean(r.to_dict()) for r in results]}
        sys.stdout.write(json.dumps(out) + "\n")
    else:
        print(format_table(results))
    return 0 if ok else 1
