"""Exact distances from points to a segment of a label map, in mm.

A segment is taken to be the union of its voxel *cubes* (each voxel a box of
size ``spacing`` centred on its LPS centre), which is what a label map says.
The distance from a point to that union is computed exactly: a KD-tree over the
centres of boundary voxels gives candidates, and the point-to-box distance is
evaluated for every candidate that can still be the closest.

:class:`SurfaceDistance` answers the same queries for a triangle surface
(exact point-to-triangle distances through VTK's implicit poly-data distance).

Frame: points in LPS mm; the grid may be oblique (orthonormal direction), the
computation runs in the grid's scaled index frame where distances equal LPS mm.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import ndimage
from scipy.spatial import cKDTree

from twin.geometry import ImageGeometry
from twin.meshes import SurfaceModel


def boundary_voxels(mask: NDArray[np.bool_]) -> NDArray[np.int64]:
    """Indices ``(n, 3)`` of mask voxels with at least one 6-neighbour outside the mask (or the grid)."""
    padded = np.pad(mask, 1, constant_values=False)
    eroded = ndimage.binary_erosion(padded, structure=ndimage.generate_binary_structure(3, 1))[1:-1, 1:-1, 1:-1]
    return np.argwhere(mask & ~eroded).astype(np.int64)


@dataclass
class MaskDistance:
    """Distance queries to one mask on one grid (build once, query many times).

    Parameters
    ----------
    mask : ndarray of bool, (ni, nj, nk)
        The segment.
    geometry : ImageGeometry
        Its grid (LPS mm).
    """

    mask: NDArray[np.bool_]
    geometry: ImageGeometry

    def __post_init__(self) -> None:
        self.mask = np.asarray(self.mask, dtype=bool)
        self._spacing = np.asarray(self.geometry.spacing, dtype=np.float64)
        self._half = self._spacing / 2.0
        self._half_diag = float(np.linalg.norm(self._half))
        idx = boundary_voxels(self.mask)
        self.empty = len(idx) == 0
        self._centres = idx * self._spacing
        self._tree = cKDTree(self._centres) if not self.empty else None

    def _scaled(self, points_lps: ArrayLike) -> NDArray[np.float64]:
        ijk = self.geometry.lps_to_index(np.asarray(points_lps, dtype=np.float64).reshape(-1, 3))
        return ijk * self._spacing

    def inside(self, points_lps: ArrayLike) -> NDArray[np.bool_]:
        """Whether each point ``(n, 3)`` lies in a voxel of the mask."""
        ijk = self.geometry.lps_to_index(np.asarray(points_lps, dtype=np.float64).reshape(-1, 3))
        idx = np.floor(ijk + 0.5).astype(np.int64)
        ok = np.all((idx >= 0) & (idx < np.asarray(self.mask.shape)), axis=1)
        out = np.zeros(len(idx), dtype=bool)
        out[ok] = self.mask[idx[ok, 0], idx[ok, 1], idx[ok, 2]]
        return out

    def distance_mm(self, points_lps: ArrayLike, k: int = 16) -> NDArray[np.float64]:
        """Distance ``(n,)`` in mm from each point to the mask's voxel cubes (0 inside; inf if empty)."""
        q = self._scaled(points_lps)
        n = len(q)
        if self.empty or self._tree is None:
            return np.full(n, np.inf)
        kk = int(min(k, len(self._centres)))
        dist_c, nn = self._tree.query(q, k=kk)
        dist_c = dist_c.reshape(n, kk)
        nn = nn.reshape(n, kk)
        box = self._box_distance(q[:, None, :], self._centres[nn])
        best = box.min(axis=1)
        # A farther centre can still own the closest box if its centre distance - half diagonal < best.
        unsure = (dist_c[:, -1] - self._half_diag < best) & (kk < len(self._centres))
        for i in np.flatnonzero(unsure):
            cand = self._tree.query_ball_point(q[i], best[i] + self._half_diag)
            if cand:
                best[i] = min(best[i], float(self._box_distance(q[i][None], self._centres[cand]).min()))
        best[self.inside(points_lps)] = 0.0
        return best

    def closest_centre_lps(self, point_lps: ArrayLike) -> NDArray[np.float64]:
        """LPS position of the boundary voxel centre nearest to ``point_lps`` (for display)."""
        if self._tree is None:
            return np.full(3, np.nan)
        _, i = self._tree.query(self._scaled(point_lps)[0])
        return self.geometry.index_to_lps((self._centres[int(i)] / self._spacing)[None])[0]

    def _box_distance(self, q: NDArray[np.float64], c: NDArray[np.float64]) -> NDArray[np.float64]:
        d = np.maximum(np.abs(q - c) - self._half, 0.0)
        return np.sqrt(np.sum(d * d, axis=-1))


class SurfaceDistance:
    """Distance queries to a closed triangle surface (LPS mm), e.g. a smoothed segment surface.

    Uses VTK's implicit poly-data distance (exact point-to-triangle distance, sign
    from the surface normals). Same interface as :class:`MaskDistance` so that
    trajectory clearance can use either the label grid or surfaces.

    Parameters
    ----------
    surface : SurfaceModel
        Closed, outward-oriented surface (``is_watertight()`` recommended).
    """

    def __init__(self, surface: SurfaceModel) -> None:
        self.surface = surface
        self.empty = surface.n_triangles == 0
        self._poly = surface.to_pyvista() if not self.empty else None
        lengths = np.linalg.norm(np.diff(surface.points_lps[surface.triangles[:, [0, 1]]], axis=1), axis=-1) \
            if not self.empty else np.ones(1)
        self.resolution_mm = float(np.median(lengths))

    def signed_distance_mm(self, points_lps: ArrayLike) -> NDArray[np.float64]:
        """Signed distance ``(n,)`` in mm, negative inside the surface."""
        import pyvista as pv

        pts = np.asarray(points_lps, dtype=np.float64).reshape(-1, 3)
        if self._poly is None:
            return np.full(len(pts), np.inf)
        out = pv.PolyData(pts).compute_implicit_distance(self._poly)
        return np.asarray(out["implicit_distance"], dtype=np.float64)

    def distance_mm(self, points_lps: ArrayLike, k: int = 16) -> NDArray[np.float64]:
        """Distance ``(n,)`` in mm to the enclosed region (0 inside)."""
        return np.maximum(self.signed_distance_mm(points_lps), 0.0)

    def inside(self, points_lps: ArrayLike) -> NDArray[np.bool_]:
        """Whether each point lies inside the surface."""
        return self.signed_distance_mm(points_lps) < 0
