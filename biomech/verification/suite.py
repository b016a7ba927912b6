"""The verification suite behind ``vht verify``: every case, and a plain-text table of the results."""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import partial

from biomech.verification import cases
from biomech.verification.harness import CaseResult
from twin.progress import Progress, ensure_progress


def case_functions(quick: bool = False) -> list[tuple[str, Callable[[], CaseResult]]]:
    """``(label, zero-argument callable)`` for every case of the suite, in table order.

    The full suite adds the 3-D (sphere) convergence studies to the quick one and uses finer meshes.
    """
    funcs: list[tuple[str, Callable[[], CaseResult]]] = [
        ("patch test tet4", partial(cases.patch_test, 1, quick)),
        ("patch test tet10", partial(cases.patch_test, 2, quick)),
        ("traction patch tet4", partial(cases.traction_patch_test, 1, quick)),
        ("traction patch tet10", partial(cases.traction_patch_test, 2, quick)),
        ("cantilever", partial(cases.cantilever, quick)),
        ("Lame sphere", partial(cases.lame_sphere, quick)),
        ("Lame cylinder", partial(cases.lame_cylinder, quick)),
        ("L2 order tet4", partial(cases.lame_convergence, 1, quick)),
        ("L2 order tet10", partial(cases.lame_convergence, 2, quick)),
    ]
    if not quick:
        funcs += [("L2 order tet4 sphere", partial(cases.lame_convergence, 1, quick, geometry="sphere")),
                  ("L2 order tet10 sphere", partial(cases.lame_convergence, 2, quick, geometry="sphere"))]
    funcs += [
        ("GCI tet4", partial(cases.lame_gci, 1, quick)),
        ("GCI tet10", partial(cases.lame_gci, 2, quick)),
        ("neo-Hookean", partial(cases.neo_hookean_uniaxial, quick)),
        ("Mooney-Rivlin", partial(cases.mooney_rivlin_uniaxial, quick)),
        ("neo-Hookean sphere", partial(cases.neo_hookean_sphere, quick)),
        ("gravity", partial(cases.hanging_bar, quick)),
        ("FEBio sh13", partial(cases.febio_sh13, quick)),
        ("Hertz", partial(cases.hertz, quick)),
    ]
    return funcs


def run_suite(quick: bool = False, progress: Progress | None = None) -> list[CaseResult]:
    """Run every verification case.

    Parameters
    ----------
    quick : bool
        Coarser meshes (about a minute on 2 cores); the full suite takes a few minutes.
    progress : Progress, optional
        Reports one step per case and honours cancellation between cases.

    Returns
    -------
    list of CaseResult
        One per case; a crashing or non-converging engine gives a failed row, never an exception.
    """
    prog = ensure_progress(progress)
    funcs = case_functions(quick)
    results: list[CaseResult] = []
    for i, (label, fn) in enumerate(funcs):
        prog.raise_if_cancelled()
        prog.update(i / len(funcs), label)
        results.append(fn())
    prog.update(1.0, "done")
    return results


def _num(x: float) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    if isinstance(x, float) and math.isinf(x):
        return "inf"
    return f"{x:.6g}"


def format_table(results: list[CaseResult]) -> str:
    """Fixed-width table: case, quantity, expected, computed, error, tolerance, pass."""
    header = ("case", "quantity", "expected", "computed", "error", "tolerance", "pass")
    rows = [(r.name, r.quantity, _num(r.expected), _num(r.computed), f"{r.rel_error:.3g}",
             f"{r.tolerance:.3g}", "PASS" if r.passed else "FAIL") for r in results]
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(header, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    for row, r in zip(rows, results, strict=True):
        lines.append("  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
        if "error" in r.details:
            lines.append(f"    ^ {r.details['error']}")
    n_pass = sum(r.passed for r in results)
    lines.append(f"{n_pass}/{len(results)} cases passed")
    return "\n".join(lines)
