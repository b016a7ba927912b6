"""Child process of Help > Run FE verification suite: runs the cases of :mod:`biomech.verification` one by one.

Run as a script (``python verify_job.py [--quick] [--case LABEL ...]``); imports no Qt.
Writes one line per event on stdout, parsed by :mod:`app.gui.verify_dialog`:

* ``START <n>`` - number of cases that will run;
* ``CASE <i> <label>`` - case ``i`` (0-based) starts;
* ``RESULT <i> <json>`` - its :meth:`~biomech.verification.harness.CaseResult.to_dict` (NaN -> null);
* exit status 0 (every case ran; failed cases are rows, not errors), 2 for an unknown case label.

The parent cancels by killing the process: no cooperative checks are needed.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the checkout importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))


def main(argv: list[str] | None = None) -> int:
    """Entry point of the child (see the module docstring)."""
    ap = argparse.ArgumentParser(prog="verify_job")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--case", action="append", default=[], help="run only these case labels (repeatable)")
    args = ap.parse_args(argv)
    from biomech.verification.suite import case_functions

    funcs = case_functions(quick=args.quick)
    if args.case:
        known = {label for label, _ in funcs}
        unknown = [c for c in args.case if c not in known]
        if unknown:
            print(f"ERROR unknown case(s) {unknown}; known: {sorted(known)}", flush=True)
            return 2
        funcs = [(label, fn) for label, fn in funcs if label in set(args.case)]
    print(f"START {len(funcs)}", flush=True)
    for i, (label, fn) in enumerate(funcs):
        print(f"CASE {i} {label}", flush=True)
        result = fn()  # the suite's cases never raise: a crashing engine is a failed row
        row = result.to_json_dict()
        row["label"] = label
        print(f"RESULT {i} {json.dumps(row)}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
