"""Node selectors, Dirichlet boundary conditions and external loads (LPS mm, N, MPa).

Face loads act on the boundary faces (outward oriented tri3/tri6) of :func:`select_faces`: for
geometric selectors the faces whose nodes are all selected, for a painted ``surface_spheres`` patch
exactly the painted faces (:mod:`biomech.surface_patch`).
Pressure is a follower load in large deformation (with its exact, non-symmetric load stiffness);
the force load is a dead load spread uniformly by reference area.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from biomech import surface_patch
from biomech.elements import TET_FACES_TRI3, TET_FACES_TRI6, reorient_cells, tri_quadrature, tri_shape
from biomech.problem import COMPONENTS, BoundaryCondition, Selector
from twin.errors import InputError
from twin.meshes import TetMesh

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


def _vec(v: object, n: int, what: str) -> FloatArray:
    a = np.asarray(v, dtype=float).ravel()
    if a.shape != (n,) or not np.all(np.isfinite(a)):
        raise InputError(f"{what} must be {n} finite numbers, got {v!r}")
    return a


SURFACE_KINDS = ("surface_spheres",)
"""Selectors defined on the boundary surface (faces), not on nodes."""


def select_nodes(selector: Selector, mesh: TetMesh, what: str = "selector") -> NDArray[np.bool_]:
    """Boolean mask ``(n_points,)`` of the nodes picked by ``selector`` (see :class:`Selector`).

    ``surface_spheres`` picks every node of its painted boundary faces (see :func:`select_faces`).
    """
    p = mesh.points_lps
    tol = float(selector.tolerance)
    q = selector.params
    try:
        if selector.kind == "all":
            return np.ones(len(p), bool)
        if selector.kind in ("plane", "half_space"):
            n = _vec(q["normal"], 3, f"{what}.{selector.kind}.normal")
            if not np.linalg.norm(n) > 0:
                raise InputError(f"{what}.{selector.kind}.normal must be nonzero")
            n = n / np.linalg.norm(n)
            d = (p - _vec(q["point"], 3, f"{what}.{selector.kind}.point")) @ n
            return np.abs(d) <= tol if selector.kind == "plane" else d >= -tol
        if selector.kind == "box":
            lo, hi = _vec(q["min"], 3, f"{what}.box.min"), _vec(q["max"], 3, f"{what}.box.max")
            return np.all((p >= lo - tol) & (p <= hi + tol), axis=1)
        if selector.kind == "sphere":
            c = _vec(q["center"], 3, f"{what}.sphere.center")
            return np.linalg.norm(p - c, axis=1) <= float(q["radius"]) + tol
        if selector.kind == "node_set":
            name = str(q["name"])
            if name not in mesh.point_data:
                raise InputError(f"{what}.node_set: the mesh has no point_data array {name!r} "
                                 f"(available: {', '.join(sorted(mesh.point_data)) or 'none'})")
            arr = np.asarray(mesh.point_data[name])
            return arr.reshape(len(p), -1).any(axis=1)
        if selector.kind in SURFACE_KINDS:
            faces = mesh_boundary_faces(mesh)
            out = np.zeros(len(p), bool)
            out[faces[select_faces(selector, mesh, faces, what, as_mask=True)].ravel()] = True
            return out
    except KeyError as exc:
        raise InputError(f"{what}.{selector.kind}: missing key {exc.args[0]!r}") from None
    raise InputError(f"{what}: unknown selector {selector.kind!r} (expected plane, half_space, box, sphere, "
                     "node_set, surface_spheres)")


def mesh_boundary_faces(mesh: TetMesh) -> IntArray:
    """Outward boundary faces ``(k, 3|6)`` of a mesh (cells reoriented first, as the solver does)."""
    cells, _ = reorient_cells(mesh.points_lps, np.asarray(mesh.cells, np.int64))
    return boundary_faces(cells)


def select_faces(selector: Selector, mesh: TetMesh, faces: IntArray, what: str = "selector",
                 as_mask: bool = False) -> IntArray | NDArray[np.bool_]:
    """The boundary faces a face load or contact acts on (rows of ``faces``, or a mask if ``as_mask``).

    ``faces`` are the outward boundary faces of ``mesh`` (tri3, or tri6 of a tet10 mesh). A
    ``surface_spheres`` selector gives exactly its painted faces; any other selector the faces whose
    nodes are all selected (:func:`faces_on`).
    """
    if selector.kind not in SURFACE_KINDS:
        mask = select_nodes(selector, mesh, what)[faces].all(axis=1)
        return mask if as_mask else faces[mask]
    q = selector.params
    try:
        centers = np.asarray(q["centers"], float).reshape(-1, 3)
        n = len(centers)
        if n == 0 or not np.all(np.isfinite(centers)):
            raise InputError(f"{what}.surface_spheres.centers must be a non-empty list of [x, y, z]")
        radius = np.asarray(q["radius"], float).ravel()
        if radius.size not in (1, n) or not np.all(radius > 0):
            raise InputError(f"{what}.surface_spheres.radius must be one positive number or one per centre")
        for key in ("normals", "erase"):
            if q.get(key) is not None and np.asarray(q[key]).size != (3 * n if key == "normals" else n):
                raise InputError(f"{what}.surface_spheres.{key} must have one entry per centre")
    except KeyError as exc:
        raise InputError(f"{what}.surface_spheres: missing key {exc.args[0]!r}") from None
    except (ValueError, TypeError):
        raise InputError(f"{what}.surface_spheres: malformed centers/radius/normals") from None
    mask = surface_patch.painted_faces(mesh.points_lps, faces, q, float(selector.tolerance))
    return mask if as_mask else faces[mask]


def boundary_faces(cells: IntArray) -> IntArray:
    """Boundary faces of a positively oriented tet4/tet10 mesh, outward, ``(k, 3)`` or ``(k, 6)``."""
    local = TET_FACES_TRI3 if cells.shape[1] == 4 else TET_FACES_TRI6
    faces = cells[:, local].reshape(-1, local.shape[1])
    key = np.sort(faces[:, :3], axis=1).astype(np.int64)
    n = int(key.max()) + 1 if len(key) else 1
    if n < 2_000_000:  # one int64 per face: a 1-D sort, ~20x faster than np.unique(axis=0)
        code = (key[:, 0] * n + key[:, 1]) * n + key[:, 2]
        order = np.argsort(code, kind="stable")
        sc = code[order]
        lone = np.ones(len(sc), bool)
        dup = sc[1:] == sc[:-1]
        lone[1:] &= ~dup
        lone[:-1] &= ~dup
        return faces[np.sort(order[lone])]
    _, inv, counts = np.unique(key, axis=0, return_inverse=True, return_counts=True)
    return faces[counts[inv.ravel()] == 1]


def faces_on(faces: IntArray, mask: NDArray[np.bool_]) -> IntArray:
    """Faces whose nodes are all in ``mask``."""
    return faces[mask[faces].all(axis=1)]


@dataclass(frozen=True)
class FaceRule:
    """Shape functions ``N (nq, nf)``, gradients ``dN (nq, nf, 2)`` and weights ``w (nq,)`` on faces."""

    N: FloatArray
    dN: FloatArray
    w: FloatArray


def face_rule(n_face_nodes: int, degree: int | None = None) -> FaceRule:
    """Quadrature on tri3 (degree 2) / tri6 (degree 4) faces."""
    pts, w = tri_quadrature(degree or (2 if n_face_nodes == 3 else 4))
    N, dN = tri_shape(n_face_nodes, pts)
    return FaceRule(N, dN, w)


def face_area_vectors(x: FloatArray, faces: IntArray, rule: FaceRule) -> FloatArray:
    """``x_xi x x_eta`` at each face quadrature point, ``(k, nq, 3)`` (norm = area Jacobian, mm^2)."""
    X = x[faces]
    t1 = np.einsum("kai,qa->kqi", X, rule.dN[:, :, 0])
    t2 = np.einsum("kai,qa->kqi", X, rule.dN[:, :, 1])
    return np.cross(t1, t2)


def face_areas(x: FloatArray, faces: IntArray) -> FloatArray:
    """Area (mm^2) of every face, ``(k,)``."""
    rule = face_rule(faces.shape[1])
    return np.einsum("kq,q->k", np.linalg.norm(face_area_vectors(x, faces, rule), axis=2), rule.w)


def _scatter(faces: IntArray, fe: FloatArray, n_points: int) -> FloatArray:
    dofs = (3 * faces[:, :, None] + np.arange(3)).ravel()
    return np.bincount(dofs, weights=fe.ravel(), minlength=3 * n_points)


def force_load(x: FloatArray, faces: IntArray, total_force_n: FloatArray) -> FloatArray:
    """Nodal forces ``(3 n,)`` of a total force spread as a uniform traction over ``faces`` (by area)."""
    rule = face_rule(faces.shape[1])
    da = np.linalg.norm(face_area_vectors(x, faces, rule), axis=2) * rule.w  # (k, nq)
    area = da.sum()
    if not area > 0:
        raise InputError("force load: the selected faces have zero area")
    fe = np.einsum("kq,qa,i->kai", da, rule.N, np.asarray(total_force_n, float) / area)
    return _scatter(faces, fe, len(x))


def pressure_load(x: FloatArray, faces: IntArray, pressure_mpa: float, with_tangent: bool = False,
                  symmetric: bool = False) -> tuple[FloatArray, FloatArray | None]:
    """Follower pressure on the current configuration ``x``; positive pushes against the outward normal.

    Returns the nodal force vector ``(3 n,)`` and, if asked, the load stiffness ``-d f / d x`` to add
    to the tangent as face blocks ``(k, nf, nf, 3, 3)`` (N/mm): the exact, non-symmetric one, or its symmetric part
    (FEBio's ``symmetric_stiffness``; exact for a closed surface under uniform pressure).
    """
    rule = face_rule(faces.shape[1])
    av = face_area_vectors(x, faces, rule)  # (k, nq, 3)
    fe = -pressure_mpa * np.einsum("q,qa,kqi->kai", rule.w, rule.N, av)
    f = _scatter(faces, fe, len(x))
    if not with_tangent:
        return f, None
    X = x[faces]
    t1 = np.einsum("kai,qa->kqi", X, rule.dN[:, :, 0])
    t2 = np.einsum("kai,qa->kqi", X, rule.dN[:, :, 1])

    def skew(v: FloatArray) -> FloatArray:
        s = np.zeros(v.shape + (3,))
        s[..., 0, 1], s[..., 0, 2] = -v[..., 2], v[..., 1]
        s[..., 1, 0], s[..., 1, 2] = v[..., 2], -v[..., 0]
        s[..., 2, 0], s[..., 2, 1] = -v[..., 1], v[..., 0]
        return s

    # D_ab = d f_a / d x_b = -p sum_q w N_a (-dN_b/dxi skew(t2) + dN_b/deta skew(t1))
    D = -pressure_mpa * (np.einsum("q,qa,qb,fqik->fabik", rule.w, rule.N, -rule.dN[:, :, 0], skew(t2))
                         + np.einsum("q,qa,qb,fqik->fabik", rule.w, rule.N, rule.dN[:, :, 1], skew(t1)))
    return f, (-0.5 * (D + D.transpose(0, 2, 1, 4, 3)) if symmetric else -D)


def gravity_load(dN_dX: FloatArray, N: FloatArray, dV: FloatArray, cells: IntArray, density: FloatArray,
                 acceleration: FloatArray, n_points: int) -> FloatArray:
    """Body force ``rho g`` integrated with the shape functions, ``(3 n,)`` N (reference configuration)."""
    del dN_dX
    fe = np.einsum("mq,qa,m,i->mai", dV, N, density, np.asarray(acceleration, float))
    return _scatter(cells, fe, n_points)


@dataclass
class Dirichlet:
    """Constrained DOFs: ``fixed (3n,) bool``, full-load ``values (3n,)`` mm, ``owner (3n,)`` BC index or -1."""

    fixed: NDArray[np.bool_]
    values: FloatArray
    owner: IntArray


def dirichlet(bcs: tuple[BoundaryCondition, ...], mesh: TetMesh) -> Dirichlet:
    """Collect the constrained DOFs; the first condition on a DOF owns it (for reaction forces)."""
    n = mesh.n_points
    fixed = np.zeros(3 * n, bool)
    values = np.zeros(3 * n)
    owner = np.full(3 * n, -1, np.int64)
    for i, bc in enumerate(bcs):
        what = f"boundary_conditions[{i}] ({bc.name})"
        if bc.kind not in ("fixed", "displacement"):
            raise InputError(f"{what}.kind: unknown kind {bc.kind!r} (expected fixed or displacement)")
        mask = select_nodes(bc.selector, mesh, f"{what}.select")
        if not mask.any():
            raise InputError(f"{what}.select picks no node of the mesh")
        value = np.zeros(3) if bc.kind == "fixed" else _vec(bc.value, 3, f"{what}.value")
        nodes = np.flatnonzero(mask)
        for c in bc.components:
            if c not in COMPONENTS:
                raise InputError(f"{what}.components: unknown component {c!r} (expected x, y, z)")
            j = COMPONENTS.index(c)
            dofs = 3 * nodes + j
            new = dofs[~fixed[dofs]]
            owner[new] = i
            values[new] = value[j]
            fixed[dofs] = True
    return Dirichlet(fixed, values, owner)
