"""Painted patches of a tet mesh's boundary surface: brush dabs replayed on the boundary faces (LPS mm).

A patch is described without reference to node or face numbers, so it survives saving, reopening
and ``vht simulate``: an ordered list of *dabs*, each a sphere (centre LPS mm, radius mm) with an
optional brush normal and an erase flag. A boundary face belongs to a dab when

* its centroid (mean of its three corner nodes) lies in the dab's sphere,
* if the dab has a normal: the angle between the face's outward normal and the dab normal is at
  most ``max_angle_deg`` (the brush does not paint through thin parts or round sharp edges),
* if ``connected``: it is edge-connected, through faces meeting the two tests above, to the face
  closest to the dab centre (the brush does not jump onto a nearby but separate sheet of surface).

Dabs are applied in order; a painting dab adds its faces, an erasing dab removes them. Replaying the
same dabs on the same mesh gives exactly the same faces, for tet4 and for its tet10 promotion (face
centroids and normals use the corner nodes only). The case-file selector is ``surface_spheres``
(see :mod:`biomech.case`); :func:`biomech.bcs.select_faces` loads exactly these faces.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]

DEFAULT_MAX_ANGLE_DEG = 80.0


@dataclass(frozen=True)
class Dab:
    """One brush dab: sphere ``center_lps`` (3,) mm of ``radius_mm``, optional ``normal`` (3,), erase flag."""

    center_lps: tuple[float, float, float]
    radius_mm: float
    normal: tuple[float, float, float] | None = None
    erase: bool = False


def dabs_from_params(params: dict) -> list[Dab]:
    """The dabs of a ``surface_spheres`` selector's parameters (``centers``, ``radius``, ``normals``, ``erase``).

    ``radius`` is one number or one per centre; ``normals`` and ``erase`` are optional, one per centre.
    """
    centers = np.asarray(params["centers"], float).reshape(-1, 3)
    n = len(centers)
    radius = np.broadcast_to(np.asarray(params["radius"], float), (n,)) if n else np.zeros(0)
    normals = params.get("normals")
    normals_a = None if normals is None else np.asarray(normals, float).reshape(n, 3)
    erase = params.get("erase")
    erase_a = np.zeros(n, bool) if erase is None else np.asarray(erase, bool).reshape(n)
    out = []
    for i in range(n):
        nn = None
        if normals_a is not None:
            v = normals_a[i]
            nn = tuple(float(x) for x in v) if np.linalg.norm(v) > 0 else None  # normalised where used
        out.append(Dab(tuple(float(x) for x in centers[i]), float(radius[i]), nn, bool(erase_a[i])))
    return out


def params_from_dabs(dabs: Sequence[Dab], max_angle_deg: float | None = DEFAULT_MAX_ANGLE_DEG,
                     connected: bool = True, decimals: int = 4) -> dict:
    """The ``surface_spheres`` parameters of ``dabs`` (values rounded to ``decimals``, as stored in a case).

    Keys that carry no information are left out (``normals`` if no dab has one, ``erase`` if none erases,
    ``radius`` is a single number when all dabs share it).
    """
    def r(x: float) -> float:
        return round(float(x), decimals)

    radii = [r(d.radius_mm) for d in dabs]
    out: dict = {"centers": [[r(x) for x in d.center_lps] for d in dabs],
                 "radius": radii[0] if radii and all(x == radii[0] for x in radii) else radii}
    if any(d.normal is not None for d in dabs):
        out["normals"] = [[r(x) for x in (d.normal if d.normal is not None else (0.0, 0.0, 0.0))] for d in dabs]
        if max_angle_deg is not None:
            out["max_angle"] = float(max_angle_deg)
    if any(d.erase for d in dabs):
        out["erase"] = [bool(d.erase) for d in dabs]
    if not connected:
        out["connected"] = False
    return out


def canonical_dab(dab: Dab, decimals: int = 4) -> Dab:
    """``dab`` as it reads back from a case file written with :func:`params_from_dabs` (same ``decimals``).

    Painting with canonical dabs makes the live patch exactly the one the stored selector replays.
    """
    return dabs_from_params(params_from_dabs([dab], None, decimals=decimals))[0]


def point_triangle_distance(p: FloatArray, a: FloatArray, b: FloatArray, c: FloatArray) -> FloatArray:
    """Distance (mm) from point ``p`` (3,) to triangles with corners ``a, b, c`` (k, 3) each, ``(k,)``."""
    ab, ac = b - a, c - a
    n = np.cross(ab, ac)
    nn = np.einsum("ij,ij->i", n, n)
    ap = p - a
    # barycentric coordinates of the projection of p onto each triangle's plane
    with np.errstate(invalid="ignore", divide="ignore"):
        v = np.einsum("ij,ij->i", np.cross(ap, ac), n) / nn
        w = np.einsum("ij,ij->i", np.cross(ab, ap), n) / nn
        inside = (v >= 0) & (w >= 0) & (v + w <= 1) & (nn > 0)
        d_plane = np.abs(np.einsum("ij,ij->i", ap, n)) / np.sqrt(nn)

    def seg(u: FloatArray, e: FloatArray) -> FloatArray:  # distance from p to segment u + t e, t in [0, 1]
        ee = np.einsum("ij,ij->i", e, e)
        t = np.clip(np.einsum("ij,ij->i", p - u, e) / np.where(ee > 0, ee, 1.0), 0.0, 1.0)
        return np.linalg.norm(p - (u + t[:, None] * e), axis=1)

    d_edge = np.minimum(np.minimum(seg(a, ab), seg(a, ac)), seg(b, c - b))
    return np.where(inside, d_plane, d_edge)


class SurfacePainter:
    """Incremental painting of boundary faces (the engine of the ``surface_spheres`` selector).

    Parameters
    ----------
    points_lps : (n, 3) float
        Mesh nodes, LPS mm.
    faces : (k, 3) or (k, 6) int
        Boundary faces, outward oriented (tri3 or tri6; only the first three corner nodes are used).
    max_angle_deg : float or None
        Normal-cone limit for dabs with a normal (None: no limit).
    connected : bool
        Keep only the surface-connected part of each dab around its centre.
    tolerance_mm : float
        Added to each dab radius.
    """

    def __init__(self, points_lps: ArrayLike, faces: ArrayLike, max_angle_deg: float | None = DEFAULT_MAX_ANGLE_DEG,
                 connected: bool = True, tolerance_mm: float = 1e-6) -> None:
        from scipy.spatial import cKDTree

        self.points = np.asarray(points_lps, float)
        self.faces = np.asarray(faces, np.int64)
        corners = self.points[self.faces[:, :3]]
        self.centroids = corners.mean(axis=1)
        n = np.cross(corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0])
        norm = np.linalg.norm(n, axis=1)
        self.normals = n / np.where(norm > 0, norm, 1.0)[:, None]
        self.max_angle_deg = max_angle_deg
        self.connected = connected
        self.tolerance_mm = float(tolerance_mm)
        self.mask = np.zeros(len(self.faces), bool)
        self._tree = cKDTree(self.centroids) if len(self.faces) else None

    # ---------------------------------------------------------------- queries
    def nearest_face(self, point_lps: ArrayLike, k: int = 16) -> tuple[int, float]:
        """Index of the boundary face closest to ``point_lps`` and its distance (mm); (-1, inf) if no faces.

        Exact point-triangle distances over the ``k`` faces with the nearest centroids.
        """
        if self._tree is None:
            return -1, float("inf")
        p = np.asarray(point_lps, float).reshape(3)
        k = min(k, len(self.faces))
        _, idx = self._tree.query(p, k=k)
        idx = np.atleast_1d(idx)
        c = self.points[self.faces[idx, :3]]
        d = point_triangle_distance(p, c[:, 0], c[:, 1], c[:, 2])
        j = int(np.argmin(d))
        return int(idx[j]), float(d[j])

    def normal_at(self, point_lps: ArrayLike) -> FloatArray:
        """Outward unit normal of the face closest to ``point_lps``."""
        i, _ = self.nearest_face(point_lps)
        return self.normals[i].copy() if i >= 0 else np.zeros(3)

    def dab_faces(self, dab: Dab) -> IntArray:
        """Indices (sorted) of the faces a dab covers (sphere, normal cone, connectivity)."""
        if self._tree is None:
            return np.zeros(0, np.int64)
        c = np.asarray(dab.center_lps, float)
        cand = np.asarray(sorted(self._tree.query_ball_point(c, float(dab.radius_mm) + self.tolerance_mm)),
                          np.int64)
        if len(cand) and dab.normal is not None and self.max_angle_deg is not None:
            cos_min = np.cos(np.deg2rad(float(self.max_angle_deg)))
            nd = np.asarray(dab.normal, float)
            cand = cand[self.normals[cand] @ (nd / np.linalg.norm(nd)) >= cos_min - 1e-12]
        if len(cand) <= 1 or not self.connected:
            return cand
        # seed: the candidate closest to the centre (exact distance among the 8 nearest centroids)
        near = np.argsort(np.linalg.norm(self.centroids[cand] - c, axis=1), kind="stable")[:8]
        c3 = self.points[self.faces[cand[near], :3]]
        seed = int(near[np.argmin(point_triangle_distance(c, c3[:, 0], c3[:, 1], c3[:, 2]))])
        return cand[_component_of(self.faces[cand, :3], seed)]

    # ---------------------------------------------------------------- edits
    def apply(self, dab: Dab) -> IntArray:
        """Paint (or erase) one dab; return the faces whose state changed."""
        idx = self.dab_faces(dab)
        changed = idx[self.mask[idx] == dab.erase]
        self.mask[idx] = not dab.erase
        return changed

    def apply_all(self, dabs: Iterable[Dab]) -> BoolArray:
        """Apply ``dabs`` in order; return the face mask ``(k,)``."""
        for d in dabs:
            self.apply(d)
        return self.mask

    def clear(self) -> None:
        """Unpaint everything."""
        self.mask[:] = False

    def node_mask(self, n_points: int | None = None) -> BoolArray:
        """Nodes ``(n_points,)`` of the painted faces (every node of a face, mid-side nodes included)."""
        out = np.zeros(len(self.points) if n_points is None else n_points, bool)
        out[self.faces[self.mask].ravel()] = True
        return out

    def painted_area_mm2(self) -> float:
        """Area of the painted faces (flat triangles through the corners), mm^2."""
        c = self.points[self.faces[self.mask, :3]]
        return float(0.5 * np.linalg.norm(np.cross(c[:, 1] - c[:, 0], c[:, 2] - c[:, 0]), axis=1).sum())


def _component_of(tri: IntArray, seed: int) -> BoolArray:
    """Mask of the triangles edge-connected to triangle ``seed`` (among ``tri`` (m, 3)).

    Label propagation with pointer jumping over the shared-edge pairs: a handful of vector passes for a
    brush-sized set (faster than building a sparse graph for ~100 triangles).
    """
    m = len(tri)
    edges = np.sort(np.concatenate([tri[:, [0, 1]], tri[:, [1, 2]], tri[:, [2, 0]]]), axis=1).astype(np.int64)
    owner = np.tile(np.arange(m), 3)
    code = edges[:, 0] * (int(edges.max()) + 1) + edges[:, 1]  # one int64 per edge (node ids < 3e9)
    order = np.argsort(code, kind="stable")
    same = code[order][1:] == code[order][:-1]
    a, b = owner[order][:-1][same], owner[order][1:][same]
    labels = np.arange(m)
    while True:
        new = labels.copy()
        np.minimum.at(new, a, labels[b])
        np.minimum.at(new, b, labels[a])
        new = new[new]  # pointer jumping
        if np.array_equal(new, labels):
            break
        labels = new
    return labels == labels[seed]


def painted_faces(points_lps: ArrayLike, faces: ArrayLike, params: dict, tolerance_mm: float = 1e-6) -> BoolArray:
    """Face mask ``(k,)`` of a ``surface_spheres`` selector on the boundary ``faces`` (see module docstring)."""
    angle = params.get("max_angle", DEFAULT_MAX_ANGLE_DEG)
    painter = SurfacePainter(points_lps, faces, None if angle is None else float(angle),
                             bool(params.get("connected", True)), tolerance_mm)
    return painter.apply_all(dabs_from_params(params)).copy()
