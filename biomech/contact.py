"""Rigid frictionless indenters (sphere or plane) on candidate boundary nodes, LPS mm.

Node-to-rigid-surface contact: each candidate node ``a`` with tributary area ``A_a`` and signed gap
``g_a`` (negative = penetration) carries the contact pressure ``p_a = max(0, lambda_a - kappa g_a)``
along the indenter's outward normal. ``kappa = penalty * E / h`` (MPa/mm). The augmented-Lagrangian
loop (in :mod:`biomech.solver`) updates ``lambda_a <- p_a`` until the largest penetration is below
the gap tolerance; the active set is the nodes with ``p_a > 0`` at the current iterate.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from biomech.bcs import face_areas, select_faces
from biomech.problem import Contact
from twin.errors import InputError
from twin.meshes import TetMesh

FloatArray = NDArray[np.float64]


@dataclass
class RigidIndenter:
    """Runtime state of one :class:`~biomech.problem.Contact`."""

    contact: Contact
    nodes: NDArray[np.int64]
    area_mm2: FloatArray
    kappa_mpa_per_mm: float
    gap_tolerance_mm: float
    multipliers_mpa: FloatArray = field(default_factory=lambda: np.zeros(0))

    def position(self, t: float) -> tuple[FloatArray, FloatArray]:
        """Indenter reference point (sphere center / plane point) and normal at load fraction ``t``."""
        q = self.contact.params
        disp = t * np.asarray(self.contact.displacement_mm, float)
        if self.contact.shape == "sphere":
            return np.asarray(q["center"], float) + disp, np.zeros(3)
        n = np.asarray(q["normal"], float)
        return np.asarray(q["point"], float) + disp, n / np.linalg.norm(n)

    def gaps(self, x: FloatArray, t: float) -> tuple[FloatArray, FloatArray, FloatArray]:
        """Signed gaps ``(k,)`` mm, unit normals ``(k, 3)`` (indenter -> tissue), distances to the center."""
        c, n = self.position(t)
        xa = x[self.nodes]
        if self.contact.shape == "sphere":
            d = xa - c
            r = np.linalg.norm(d, axis=1)
            normals = d / np.where(r > 0, r, 1.0)[:, None]
            return r - float(self.contact.params["radius"]), normals, r
        g = (xa - c) @ n
        return g, np.broadcast_to(n, xa.shape).copy(), np.full(len(xa), np.inf)

    def pressures(self, x: FloatArray, t: float) -> FloatArray:
        """Contact pressure at each candidate node (MPa)."""
        g, _, _ = self.gaps(x, t)
        return np.maximum(0.0, self.multipliers_mpa - self.kappa_mpa_per_mm * g)

    def force_and_tangent(self, x: FloatArray, t: float, n_points: int) -> tuple[FloatArray, FloatArray]:
        """Contact forces on the tissue ``(3 n,)`` N and the consistent stiffness ``-d f_a / d x_a`` of every
        candidate node, ``(k, 3, 3)`` N/mm (nodal contact does not couple nodes)."""
        g, normals, r = self.gaps(x, t)
        p = np.maximum(0.0, self.multipliers_mpa - self.kappa_mpa_per_mm * g)
        active = p > 0
        f = np.zeros(3 * n_points)
        fa = (p * self.area_mm2)[:, None] * normals
        dofs = 3 * self.nodes[:, None] + np.arange(3)
        f[dofs.ravel()] = fa.ravel()
        nn = np.einsum("ai,aj->aij", normals, normals)
        k = (self.kappa_mpa_per_mm * self.area_mm2 * active)[:, None, None] * nn
        if self.contact.shape == "sphere":  # rotation of the normal: -p A (I - n n) / |x - c|
            k -= (p * self.area_mm2 / r)[:, None, None] * (np.eye(3) - nn)
        return f, k

    def augment(self, x: FloatArray, t: float) -> float:
        """Update the multipliers; return the largest penetration (mm) before the update."""
        g, _, _ = self.gaps(x, t)
        p = np.maximum(0.0, self.multipliers_mpa - self.kappa_mpa_per_mm * g)
        self.multipliers_mpa = p
        return float(max(0.0, -(g[p > 0].min(initial=0.0))))

    def max_penetration(self, x: FloatArray, t: float) -> float:
        """Largest penetration (mm) among active nodes."""
        g, _, _ = self.gaps(x, t)
        return float(max(0.0, -g.min(initial=0.0)))


def build_indenter(contact: Contact, mesh: TetMesh, faces: NDArray[np.int64], modulus_mpa: float,
                   index: int = 0) -> RigidIndenter:
    """Candidate nodes, tributary areas and penalty of ``contact`` on a mesh with boundary ``faces``."""
    what = f"contacts[{index}] ({contact.name})"
    q = contact.params
    try:
        if contact.shape == "sphere":
            if not float(q["radius"]) > 0:
                raise InputError(f"{what}.indenter.sphere.radius must be > 0")
            np.asarray(q["center"], float).reshape(3)
        elif contact.shape == "plane":
            n = np.asarray(q["normal"], float).reshape(3)
            np.asarray(q["point"], float).reshape(3)
            if not np.linalg.norm(n) > 0:
                raise InputError(f"{what}.indenter.plane.normal must be nonzero")
        else:
            raise InputError(f"{what}.indenter: expected sphere or plane, got {contact.shape!r}")
    except (KeyError, ValueError) as exc:
        raise InputError(f"{what}.indenter.{contact.shape}: bad or missing parameter ({exc})") from None
    cand = select_faces(contact.selector, mesh, faces, f"{what}.select") if contact.selector else faces
    if len(cand) == 0:
        raise InputError(f"{what}.select contains no boundary face of the mesh")
    areas = face_areas(mesh.points_lps, cand)
    nf = cand.shape[1]
    # tributary areas: tri3 one third per corner; tri6 HRZ lumping (diagonal of the consistent face mass
    # scaled to the area: 1/19 per corner, 16/57 per midside node), positive unlike the consistent load
    share = np.full(3, 1.0 / 3.0) if nf == 3 else np.array([1 / 19, 1 / 19, 1 / 19, 16 / 57, 16 / 57, 16 / 57])
    node_area = np.bincount(cand.ravel(), weights=(areas[:, None] * share).ravel(), minlength=mesh.n_points)
    nodes = np.unique(cand.ravel())
    h = float(np.sqrt(np.mean(areas) * 2.0)) * (1.0 if nf == 3 else 0.5)
    kappa = float(contact.penalty) * modulus_mpa / h
    disp = float(np.linalg.norm(contact.displacement_mm))
    tol = contact.gap_tolerance_mm if contact.gap_tolerance_mm is not None else (
        2e-3 * disp if disp > 0 else 1e-3 * h)
    return RigidIndenter(contact, nodes, node_area[nodes], kappa, float(tol), np.zeros(len(nodes)))
