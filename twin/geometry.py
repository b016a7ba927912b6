"""Image grid geometry in the patient LPS frame, millimetres.

Conventions (used everywhere in VHT Planner):

* Voxel arrays are indexed ``array[i, j, k]``: ``i`` runs along the first image
  axis (DICOM columns, ITK x), ``j`` along the second (rows, ITK y), ``k``
  across slices (ITK z). ``SimpleITK.GetArrayFromImage`` returns ``[k, j, i]``;
  :mod:`twin.volume` transposes once, without copying.
* ``direction`` is a 3x3 matrix whose **columns** are the unit vectors of the
  i, j, k axes in LPS (the ITK convention).
* ``ijk_to_lps`` is the 4x4 affine ``[D @ diag(spacing), origin; 0 0 0 1]``
  mapping voxel *centres* (integer ijk) to LPS mm.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from twin.errors import GeometryError

FRAME = "LPS"
"""Name of the internal patient frame: x to patient Left, y Posterior, z Superior."""

LPS_TO_RAS = np.diag([-1.0, -1.0, 1.0, 1.0])
"""4x4 homogeneous matrix converting LPS coordinates to RAS (its own inverse)."""


def _as_vec3(values: ArrayLike, name: str) -> NDArray[np.float64]:
    arr = np.asarray(values, dtype=np.float64).reshape(-1)
    if arr.shape != (3,):
        raise GeometryError(f"{name} must have 3 components, got {arr.size}")
    if not np.all(np.isfinite(arr)):
        raise GeometryError(f"{name} has non-finite values {arr.tolist()}")
    return arr


@dataclass(frozen=True, eq=False)
class ImageGeometry:
    """The sampling grid of a 3-D image in patient LPS millimetres.

    Parameters
    ----------
    shape : tuple of int, (3,)
        Number of voxels along i, j, k.
    spacing : array_like, (3,)
        Voxel size along i, j, k in mm; strictly positive.
    origin : array_like, (3,)
        LPS position in mm of the centre of voxel (0, 0, 0).
    direction : array_like, (3, 3)
        Columns are the unit LPS directions of the i, j, k axes.
    """

    shape: tuple[int, int, int]
    spacing: NDArray[np.float64] = field(default_factory=lambda: np.ones(3))
    origin: NDArray[np.float64] = field(default_factory=lambda: np.zeros(3))
    direction: NDArray[np.float64] = field(default_factory=lambda: np.eye(3))

    def __post_init__(self) -> None:
        shape = tuple(int(s) for s in self.shape)
        if len(shape) != 3 or any(s <= 0 for s in shape):
            raise GeometryError(f"image shape must be 3 positive integers, got {self.shape}")
        spacing = _as_vec3(self.spacing, "spacing")
        if np.any(spacing <= 0):
            raise GeometryError(f"voxel spacing must be positive, got {spacing.tolist()} mm")
        origin = _as_vec3(self.origin, "origin")
        direction = np.asarray(self.direction, dtype=np.float64).reshape(3, 3)
        if not np.all(np.isfinite(direction)):
            raise GeometryError("direction matrix has non-finite values")
        norms = np.linalg.norm(direction, axis=0)
        if np.any(np.abs(norms - 1.0) > 1e-3):
            raise GeometryError(f"direction columns must be unit vectors, norms {norms.tolist()}")
        if abs(abs(np.linalg.det(direction)) - 1.0) > 1e-3:
            raise GeometryError("direction matrix is not orthonormal")
        direction = direction / norms
        for name, value in (("spacing", spacing), ("origin", origin), ("direction", direction)):
            value.setflags(write=False)
            object.__setattr__(self, name, value)
        object.__setattr__(self, "shape", shape)

    # ------------------------------------------------------------------ affines
    @property
    def ijk_to_lps(self) -> NDArray[np.float64]:
        """4x4 affine from voxel index (i, j, k, 1) to LPS mm."""
        m = np.eye(4)
        m[:3, :3] = self.direction * self.spacing[None, :]
        m[:3, 3] = self.origin
        return m

    @property
    def lps_to_ijk(self) -> NDArray[np.float64]:
        """4x4 affine from LPS mm to continuous voxel index."""
        return np.linalg.inv(self.ijk_to_lps)

    @property
    def ijk_to_ras(self) -> NDArray[np.float64]:
        """4x4 affine from voxel index to RAS mm (NIfTI convention)."""
        return LPS_TO_RAS @ self.ijk_to_lps

    @classmethod
    def from_affine(cls, shape: tuple[int, int, int], ijk_to_lps: ArrayLike) -> ImageGeometry:
        """Build from a 4x4 ``ijk_to_lps`` affine (no shear allowed)."""
        m = np.asarray(ijk_to_lps, dtype=np.float64).reshape(4, 4)
        lin = m[:3, :3]
        spacing = np.linalg.norm(lin, axis=0)
        if np.any(spacing <= 0):
            raise GeometryError("affine has a zero-length axis")
        direction = lin / spacing[None, :]
        if np.max(np.abs(direction.T @ direction - np.eye(3))) > 1e-4:
            raise GeometryError("affine has shear (non-orthogonal axes); cannot represent it exactly")
        return cls(shape, spacing, m[:3, 3], direction)

    # ------------------------------------------------------------- transforms
    def index_to_lps(self, ijk: ArrayLike) -> NDArray[np.float64]:
        """Map voxel indices ``(n, 3)`` (may be fractional) to LPS mm ``(n, 3)``."""
        pts = np.asarray(ijk, dtype=np.float64)
        m = self.ijk_to_lps
        return pts @ m[:3, :3].T + m[:3, 3]

    def lps_to_index(self, points_lps: ArrayLike) -> NDArray[np.float64]:
        """Map LPS mm points ``(n, 3)`` to continuous voxel indices ``(n, 3)``."""
        pts = np.asarray(points_lps, dtype=np.float64)
        m = self.lps_to_ijk
        return pts @ m[:3, :3].T + m[:3, 3]

    def contains_index(self, ijk: ArrayLike) -> NDArray[np.bool_]:
        """Whether rounded indices ``(n, 3)`` fall inside the grid."""
        idx = np.rint(np.asarray(ijk, dtype=np.float64)).astype(np.int64)
        return np.all((idx >= 0) & (idx < np.asarray(self.shape)), axis=-1)

    # ---------------------------------------------------------------- queries
    @property
    def voxel_volume_mm3(self) -> float:
        """Volume of one voxel in mm^3."""
        return float(np.prod(self.spacing))

    @property
    def n_voxels(self) -> int:
        """Total number of voxels."""
        return int(np.prod(self.shape))

    def corners_lps(self) -> NDArray[np.float64]:
        """LPS mm of the 8 corner voxel centres, ``(8, 3)``."""
        n = np.asarray(self.shape) - 1
        c = np.array([[a, b, c] for a in (0, n[0]) for b in (0, n[1]) for c in (0, n[2])], dtype=float)
        return self.index_to_lps(c)

    def bounds_lps(self) -> NDArray[np.float64]:
        """Axis-aligned LPS bounding box of voxel centres, ``[[xmin, ymin, zmin], [xmax, ymax, zmax]]``."""
        c = self.corners_lps()
        return np.stack([c.min(axis=0), c.max(axis=0)])

    def is_same_grid(self, other: ImageGeometry, tol_mm: float = 1e-3) -> bool:
        """Whether ``other`` samples the same points (within ``tol_mm``)."""
        if self.shape != other.shape:
            return False
        return bool(np.max(np.abs(self.corners_lps() - other.corners_lps())) <= tol_mm)

    def is_axis_aligned(self, tol: float = 1e-6) -> bool:
        """Whether every axis is parallel to an LPS axis."""
        return bool(np.all(np.isclose(np.abs(self.direction).max(axis=0), 1.0, atol=tol)))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready description (frame LPS, mm; direction row-major)."""
        return {
            "frame": FRAME,
            "units": "mm",
            "size": list(self.shape),
            "spacing": self.spacing.tolist(),
            "origin": self.origin.tolist(),
            "direction": self.direction.reshape(-1).tolist(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ImageGeometry:
        """Inverse of :meth:`to_dict`."""
        if data.get("frame", FRAME) != FRAME:
            raise GeometryError(f"geometry frame {data.get('frame')!r} is not {FRAME}")
        return cls(tuple(data["size"]), data["spacing"], data["origin"], np.reshape(data["direction"], (3, 3)))

    def __repr__(self) -> str:
        return (
            f"ImageGeometry(shape={self.shape}, spacing={np.round(self.spacing, 4).tolist()}, "
            f"origin={np.round(self.origin, 3).tolist()}, axis_aligned={self.is_axis_aligned()})"
        )
