"""The ``vht`` command line.

Each sub-command lives in its own module under :mod:`app.cli` exposing
``run(args) -> int``; modules are imported only when their command runs so
that ``vht --help`` stays fast. Contract: bad input exits 2 with one line on
stderr (no traceback unless ``--debug``); outputs are written atomically.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

VERSION = "0.1.0"


def _add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--debug", action="store_true", help="show full tracebacks on errors")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every sub-command (no heavy imports)."""
    parser = argparse.ArgumentParser(
        prog="vht",
        description="VHT Planner: surgical planning on a virtual human twin (frame LPS, mm).",
    )
    parser.add_argument("--version", action="version", version=f"vht-planner {VERSION}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("info", help="describe an image or DICOM folder")
    p.add_argument("path")
    p.add_argument("--json", action="store_true", help="one JSON object on stdout")
    p.add_argument("--series", metavar="UID", help="DICOM series instance UID")
    _add_common(p)

    p = sub.add_parser("convert", help="convert an image to another format")
    p.add_argument("input")
    p.add_argument("output")
    p.add_argument("--series", metavar="UID")
    p.add_argument("--deidentify", action="store_true", help="strip identifying metadata (DICOM PS3.15 basic profile)")
    _add_common(p)

    p = sub.add_parser("segment", help="segment an image into a label map")
    p.add_argument("image")
    p.add_argument("--preset", choices=["body", "bone", "lungs", "fat", "muscle"])
    p.add_argument("--threshold", nargs=2, type=float, metavar=("LOW", "HIGH"))
    p.add_argument("--largest", action="store_true", help="keep the largest connected component")
    p.add_argument("--grow", nargs=3, type=float, metavar=("X", "Y", "Z"), help="seed point in LPS mm")
    p.add_argument("--seeds", metavar="SEEDS.json", help="grow from several labelled seed sets")
    p.add_argument("--soft-tissue", action="store_true",
                   help="with --seeds: grow only in the body without bone and lungs (CT presets)")
    p.add_argument("--vessels-in", nargs=2, metavar=("LABELS", "ORGAN"),
                   help="enhanced vessels inside segment ORGAN of LABELS, written into a copy of LABELS")
    p.add_argument("--large-vein", metavar="NAME",
                   help="with --vessels-in: the large vein the vessels join (e.g. the IVC segment)")
    p.add_argument("--resolution", nargs=2, type=float, metavar=("XY", "Z"),
                   help="with --large-vein: scanner resolution, in-plane FWHM and slice thickness (mm)")
    p.add_argument("--series", metavar="UID")
    p.add_argument("-o", "--output", required=True)
    _add_common(p)

    p = sub.add_parser("mesh", help="surface mesh of one segment")
    p.add_argument("labels")
    p.add_argument("--label", required=True, help="label value or segment name")
    p.add_argument("--smoothing", type=float, default=0.5, help="0 = none, 1 = strong")
    p.add_argument("--decimate", type=float, default=0.0, help="fraction of triangles to remove (0-1)")
    p.add_argument("-o", "--output", required=True)
    p.add_argument("--json", action="store_true")
    _add_common(p)

    p = sub.add_parser("export-seg", help="export a label map as Slicer .seg.nrrd or DICOM-SEG")
    p.add_argument("labels")
    p.add_argument("--format", required=True, choices=["seg.nrrd", "dicom-seg"])
    p.add_argument("--reference", metavar="DICOM_DIR")
    p.add_argument("--deidentify", action="store_true",
                   help="DICOM-SEG: de-identify (PS3.15 basic profile; UIDs/dates as `vht convert --deidentify`)")
    p.add_argument("-o", "--output", required=True)
    _add_common(p)

    p = sub.add_parser("simulate", help="run a finite-element case file")
    p.add_argument("case", help="CASE.toml / CASE.json, or a project folder (its stored simulation set-up)")
    p.add_argument("-o", "--output", required=True)
    p.add_argument("--summary", metavar="SUMMARY.json")
    p.add_argument("--export-feb", metavar="OUT.feb")
    _add_common(p)

    p = sub.add_parser("verify", help="run the FE verification suite and print a table")
    p.add_argument("--json", action="store_true")
    p.add_argument("--quick", action="store_true", help="coarser meshes")
    _add_common(p)

    p = sub.add_parser("report", help="write the PDF case report of a project")
    p.add_argument("project")
    p.add_argument("-o", "--output", required=True)
    p.add_argument("--identify", action="store_true", help="show patient name and IDs (default: pseudonymised)")
    p.add_argument("--json", metavar="OUT.json", nargs="?", const="-", help="also write the numbers as JSON")
    _add_common(p)

    p = sub.add_parser("gui", help="open the desktop app")
    p.add_argument("path", nargs="?")
    p.add_argument("--screenshot", metavar="FILE.png")
    _add_common(p)

    p = sub.add_parser("demo", help="open the app on the generated demo case (or run it headless)")
    p.add_argument("--headless", action="store_true")
    p.add_argument("--out", metavar="DIR")
    p.add_argument("--screenshot", metavar="FILE.png")
    _add_common(p)
    return parser


_MODULES = {
    "info": "app.cli.info",
    "convert": "app.cli.convert",
    "segment": "app.cli.segment",
    "mesh": "app.cli.mesh",
    "export-seg": "app.cli.export_seg",
    "simulate": "app.cli.simulate",
    "verify": "app.cli.verify",
    "report": "app.cli.report",
    "gui": "app.cli.gui",
    "demo": "app.cli.demo",
}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``vht``; returns the exit code (0 ok, 1 failed computation, 2 bad input)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.command:
        parser.print_help()
        return 0
    debug = getattr(args, "debug", False) or os.environ.get("VHT_DEBUG") == "1"
    from twin.errors import Cancelled, InputError, VhtError

    try:
        module = importlib.import_module(_MODULES[args.command])
        return int(module.run(args) or 0)
    except InputError as exc:
        if debug:
            raise
        print(f"vht {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except Cancelled:
        print(f"vht {args.command}: cancelled", file=sys.stderr)
        return 130
    except KeyboardInterrupt:
        print(f"vht {args.command}: interrupted", file=sys.stderr)
        return 130
    except MemoryError:
        if debug:
            raise
        print(f"vht {args.command}: error: not enough memory", file=sys.stderr)
        return 2
    except VhtError as exc:
        if debug:
            raise
        print(f"vht {args.command}: failed: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # noqa: BLE001 - last line of defence: no tracebacks for users
        if debug:
            raise
        print(f"vht {args.command}: internal error: {type(exc).__name__}: {exc} (run with --debug for details)",
              file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
