"""3D Slicer segmentation files (``.seg.nrrd``), frame LPS, mm.

The format lives with the other file formats in :mod:`twin.io.seg_nrrd`
(layers, overlaps, names, colours, terminology); this module re-exports it
for the segmentation tools.
"""

from twin.io.seg_nrrd import read_seg_nrrd, write_seg_nrrd

__all__ = ["read_seg_nrrd", "write_seg_nrrd"]
