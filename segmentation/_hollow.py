"""Hollow organs in :func:`segmentation.grow.grow_from_seeds`: a wall of given thickness around the
lumen contents that look unlike it (frame LPS, arrays ``[i, j, k]``, distances in mm).

A stomach or bowel loop is a thin soft-tissue wall around gas and fluid. Where the content looks
like the wall (fluid at 10-20 HU against a 30-45 HU wall blurred to about 27 HU) the label's own
intensity window already takes the wall with it. Where the content is unlike the wall (gas, positive
oral contrast) the content's model will not enter the wall, and the wall (which looks like the
bowel, muscle and diaphragm it touches) is missed. Its thickness is known: this is the manual
workflow of 3D Slicer's Segment Editor (threshold the gas, "Margin" grow by the wall thickness,
masked by the editable area) done automatically:

1. the wall level: the median of the shell of wall thickness around the grown label;
2. distinct contents: the label's seed-blob models whose mean differs from the wall level by at
   least ``contrast`` standard deviations (gas, not fluid);
3. their lumen: the grown label's voxels nearer one of those means than the wall level (half-way up
   the edge), connected to the seeds, and free voxels next to it that are nearer too (up to two
   layers: a content model may stop short of its partial-volume edge);
4. the wall: free voxels (no other label, inside the region) within the thickness of that lumen,
   measured from its boundary (half a voxel beyond its outermost voxel centres), added to the label.

Before that, stray mixtures are removed (:func:`drop_stray_mixtures`): a label with several contents
(gas and fluid) may grow over the whole span between their levels, since a voxel on the gas-fluid level
is a partial-volume mix of both. A voxel whose value lies *between* two content levels (more than
``contrast`` noise SDs from each) is such a mix only on the blurred edge of the distinct content (the
gas, against fluid or wall), i.e. within a voxel of it; elsewhere it is another tissue of similar
value (fat at -100 HU between gas and fluid, diaphragm-lung partial volume over the fundus) and it
leaves the label.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from segmentation import morphology as morph
from segmentation._common import Mask
from twin.geometry import ImageGeometry
from twin.labelmap import mask_bbox


def add_wall(result: NDArray[np.uint16], label: int, seeds: Mask, smoothed: NDArray[np.float32],
             geometry: ImageGeometry, wall_mm: float, contents: Sequence[float], noise_sd: float,
             region: Mask | None, contrast: float = 3.0) -> int:
    """Add a wall of ``wall_mm`` around the distinct contents of label ``label`` (in place).

    Parameters
    ----------
    result : uint16 (ni, nj, nk)
        Grown labels; modified in place.
    seeds : bool (ni, nj, nk)
        The label's seeds (in the lumen).
    smoothed : float32 (ni, nj, nk)
        The image the labels were grown on.
    wall_mm : float
        Wall thickness (mm).
    contents : sequence of float
        Mean intensities of the lumen's contents (the label's seed-blob models).
    noise_sd : float
        Standard deviation of the label's tissue: a content is distinct from the wall when their
        levels differ by ``contrast`` times it.
    region : bool (ni, nj, nk), optional
        Voxels any label may take.

    Returns
    -------
    int
        Number of voxels added.
    """
    from scipy import ndimage as ndi

    m = result == label
    if not m.any() or wall_mm <= 0:
        return 0
    h = geometry.spacing
    margin = int(np.ceil((2 * wall_mm + 2 * float(h.max())) / float(h.min())))
    box = mask_bbox(m, margin)
    assert box is not None
    mb, sb = m[box], smoothed[box]
    free = result[box] == 0
    if region is not None:
        free &= region[box]
    reach = wall_mm + 0.5 * float(h.min())  # from the lumen's voxel centres: its boundary is half a voxel out
    d = ndi.distance_transform_edt(~mb, sampling=h)
    shell = (d > 0) & (d <= reach)
    if not shell.any():
        return 0
    wall_level = float(np.median(sb[shell]))
    distinct = np.array([c for c in contents if abs(c - wall_level) >= contrast * noise_sd], np.float32)
    if distinct.size == 0:
        return 0
    if drop_stray_mixtures(result, label, smoothed, geometry, contents, distinct.tolist(), noise_sd, contrast):
        m = result == label
        mb = m[box]
        free = result[box] == 0
        if region is not None:
            free &= region[box]
    nearer = np.min(np.abs(sb[..., None] - distinct), axis=-1) < np.abs(sb - wall_level)
    lumen = mb & nearer
    touching = seeds[box] & lumen
    if touching.any():
        lumen = morph.keep_islands_touching(lumen, touching)
    if not lumen.any():
        return 0
    # the content's window may stop short of its partial-volume edge (a gas model of sd 12 HU): the lumen
    # reaches half-way up the edge to the wall
    six = ndi.generate_binary_structure(3, 1)
    for _ in range(2):
        ring = ndi.binary_dilation(lumen, six) & ~lumen & (free | mb) & nearer
        if not ring.any():
            break
        lumen |= ring
    wall = (ndi.distance_transform_edt(~lumen, sampling=h) <= reach) & free
    result[box][wall] = label
    return int(wall.sum())


def drop_stray_mixtures(result: NDArray[np.uint16], label: int, smoothed: NDArray[np.float32],
                        geometry: ImageGeometry, contents: Sequence[float], distinct: Sequence[float],
                        noise_sd: float, contrast: float = 3.0) -> int:
    """Remove voxels of ``label`` valued between two of its contents but away from its distinct content (in place).

    Parameters
    ----------
    result : uint16 (ni, nj, nk)
        Labels; removed voxels become 0.
    smoothed : float32 (ni, nj, nk)
        The image the labels were grown on.
    contents : sequence of float
        Mean intensities of the label's contents (its seed-blob models).
    distinct : sequence of float
        The contents unlike the wall (gas, positive contrast).
    noise_sd : float
        Standard deviation of a content: a value is a content's when within ``contrast`` SDs of it.

    Returns
    -------
    int
        Number of voxels removed.

    Notes
    -----
    For each gap between consecutive content levels (more than ``2 * contrast`` SDs apart), a label
    voxel whose value lies in the gap (more than ``contrast`` SDs from both) stays only when a label
    voxel of a distinct content (within ``contrast`` SDs of its level) lies within one voxel diagonal
    (the blurred edge of the gas, against fluid or wall, spans about a voxel).
    """
    from scipy import ndimage as ndi

    levels = sorted(float(c) for c in contents)
    tol = contrast * max(float(noise_sd), 1e-6)
    gaps = [(a + tol, b - tol) for a, b in zip(levels[:-1], levels[1:]) if b - a > 2 * tol]
    if not gaps or len(distinct) == 0:
        return 0
    m = result == label
    box = mask_bbox(m, 2)
    if box is None:
        return 0
    mb, sb = m[box], smoothed[box]
    mix = np.zeros_like(mb)
    for lo, hi in gaps:
        mix |= mb & (sb > lo) & (sb < hi)
    if not mix.any():
        return 0
    pure = mb & (np.min(np.abs(sb[..., None] - np.asarray(distinct, np.float32)), axis=-1) <= tol)
    h = geometry.spacing
    drop = mix & (ndi.distance_transform_edt(~pure, sampling=h) > float(np.sqrt(np.sum(h**2))))
    result[box][drop] = 0
    return int(drop.sum())
