"""Verification of the FE engine against closed-form solutions (``vht verify``).

Public API: :func:`run_suite`, :func:`format_table`, :class:`CaseResult`,
:func:`mesh_convergence_study`, :class:`GCIResult`, :func:`l2_displacement_error`.
Geometry is in the patient LPS frame, millimetres.
"""

from biomech.verification.convergence import GCIResult, l2_displacement_error, mesh_convergence_study
from biomech.verification.harness import CaseResult
from biomech.verification.suite import format_table, run_suite

__all__ = ["CaseResult", "GCIResult", "format_table", "l2_displacement_error", "mesh_convergence_study", "run_suite"]
