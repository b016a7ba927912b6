"""The patient twin: data model and file formats.

Frame: patient LPS, millimetres. Arrays indexed ``[i, j, k]``.
Imports numpy only at package import; SimpleITK, pydicom and VTK load lazily.
"""

from twin.errors import Cancelled, GeometryError, InputError, VhtError
from twin.geometry import FRAME, ImageGeometry
from twin.labelmap import LabelMap, Segment
from twin.meshes import SurfaceModel, TetMesh
from twin.volume import Volume

__version__ = "0.1.0"

__all__ = [
    "FRAME", "Cancelled", "GeometryError", "ImageGeometry", "InputError", "LabelMap",
    "Segment", "SurfaceModel", "TetMesh", "VhtError", "Volume", "__version__",
]
