"""``Volume``: voxels with their geometry, modality and de-identifiable metadata.

Internal frame: patient LPS, millimetres. Arrays are indexed ``[i, j, k]``
(see :mod:`twin.geometry`).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from twin.errors import GeometryError, InputError
from twin.geometry import ImageGeometry

if TYPE_CHECKING:
    import SimpleITK as sitk


@dataclass(frozen=True, eq=False)
class Volume:
    """A scalar 3-D image on a patient grid.

    Parameters
    ----------
    array : ndarray, shape (ni, nj, nk)
        Voxel values indexed ``[i, j, k]``. Stored read-only.
    geometry : ImageGeometry
        Spacing, origin, direction in LPS mm.
    modality : str
        DICOM modality (``"CT"``, ``"MR"``, ...) or ``"OT"`` when unknown.
    units : str
        Unit of the voxel values (``"HU"`` for CT after rescale, ``""`` when arbitrary).
    name : str
        Display name (never patient-identifying).
    metadata : dict
        Source metadata (DICOM tags by keyword, file names). May identify the
        patient; see :func:`twin.deid.deidentify_metadata`.
    """

    array: NDArray[Any]
    geometry: ImageGeometry
    modality: str = "OT"
    units: str = ""
    name: str = "volume"
    metadata: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        arr = np.asarray(self.array)
        if arr.ndim != 3:
            raise GeometryError(f"a volume must be 3-D, got an array of shape {arr.shape}")
        if tuple(arr.shape) != tuple(self.geometry.shape):
            raise GeometryError(f"array shape {arr.shape} does not match geometry shape {self.geometry.shape}")
        if arr.dtype.kind == "f" and arr.size and not np.all(np.isfinite(arr)):
            raise InputError("volume contains NaN or infinite voxel values")
        if arr.flags.writeable:
            arr = arr.view()
            arr.setflags(write=False)
        object.__setattr__(self, "array", arr)

    # -------------------------------------------------------------- shortcuts
    @property
    def shape(self) -> tuple[int, int, int]:
        """Voxels along i, j, k."""
        return self.geometry.shape

    @property
    def spacing(self) -> NDArray[np.float64]:
        """Voxel size along i, j, k in mm."""
        return self.geometry.spacing

    @property
    def origin(self) -> NDArray[np.float64]:
        """LPS mm of voxel (0, 0, 0)."""
        return self.geometry.origin

    @property
    def direction(self) -> NDArray[np.float64]:
        """3x3, columns are i, j, k unit vectors in LPS."""
        return self.geometry.direction

    @property
    def ijk_to_lps(self) -> NDArray[np.float64]:
        """4x4 voxel-index to LPS mm affine."""
        return self.geometry.ijk_to_lps

    def with_array(self, array: NDArray[Any], **changes: Any) -> Volume:
        """A new volume on the same grid with other voxels (and optional field changes)."""
        return replace(self, array=array, **changes)

    def value_at_lps(self, point_lps: NDArray[np.float64]) -> float | None:
        """Nearest-voxel value at an LPS point (mm), or ``None`` outside the grid."""
        ijk = np.rint(self.geometry.lps_to_index(np.asarray(point_lps, float)[None]))[0].astype(int)
        if not self.geometry.contains_index(ijk[None])[0]:
            return None
        return float(self.array[tuple(ijk)])

    def summary(self) -> dict[str, Any]:
        """Geometry and value range as a JSON-ready dict (frame LPS, mm)."""
        g = self.geometry.to_dict()
        g.update(
            {
                "modality": self.modality,
                "units": self.units,
                "dtype": str(self.array.dtype),
                "min": float(self.array.min()) if self.array.size else None,
                "max": float(self.array.max()) if self.array.size else None,
            }
        )
        return g

    # ------------------------------------------------------------ SimpleITK
    def to_sitk(self) -> sitk.Image:
        """Convert to a SimpleITK image (shares no memory; geometry exact)."""
        return array_to_sitk(self.array, self.geometry)

    @classmethod
    def from_sitk(cls, image: sitk.Image, **fields: Any) -> Volume:
        """Wrap a 3-D scalar SimpleITK image (geometry copied exactly)."""
        array, geometry = sitk_to_array(image)
        return cls(array=array, geometry=geometry, **fields)


def sitk_to_array(image: sitk.Image) -> tuple[NDArray[Any], ImageGeometry]:
    """SimpleITK image -> (``[i, j, k]`` array view, geometry).

    Raises
    ------
    GeometryError
        If the image is not 3-D scalar or has invalid spacing/direction.
    """
    import SimpleITK as sitk

    if image.GetDimension() == 2:
        image = sitk.JoinSeries(image)
    if image.GetDimension() != 3:
        raise GeometryError(f"expected a 3-D image, got {image.GetDimension()}-D")
    if image.GetNumberOfComponentsPerPixel() != 1:
        raise InputError(f"expected a scalar image, got {image.GetNumberOfComponentsPerPixel()} components per voxel")
    array = sitk.GetArrayViewFromImage(image).copy().transpose(2, 1, 0)  # [k,j,i] -> [i,j,k]
    geometry = ImageGeometry(
        shape=tuple(int(s) for s in image.GetSize()),  # type: ignore[arg-type]
        spacing=np.array(image.GetSpacing()),
        origin=np.array(image.GetOrigin()),
        direction=np.array(image.GetDirection()).reshape(3, 3),
    )
    return array, geometry


def array_to_sitk(array: NDArray[Any], geometry: ImageGeometry) -> sitk.Image:
    """``[i, j, k]`` array + geometry -> SimpleITK image."""
    import SimpleITK as sitk

    arr = np.asarray(array)
    if arr.dtype == np.bool_:
        arr = arr.astype(np.uint8)
    image = sitk.GetImageFromArray(np.ascontiguousarray(arr.transpose(2, 1, 0)))
    image.SetSpacing([float(s) for s in geometry.spacing])
    image.SetOrigin([float(s) for s in geometry.origin])
    image.SetDirection([float(s) for s in geometry.direction.reshape(-1)])
    return image
