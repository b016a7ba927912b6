"""Two-sided partial-volume boundary for :func:`segmentation.grow.grow_from_seeds` (frame LPS,
arrays ``[i, j, k]``, distances in mm).

Competitive growing places a label's boundary where the fronts meet, which on a weak edge (bile at
8 HU against bowel at 30 HU: 22 HU of contrast under 11 HU of noise) is up to a voxel off either way.
The partial-volume rule puts a voxel inside when its value is nearer the object's level than the
level outside, i.e. its centre lies on the object's side of the half-way point of the blurred edge
(the rule of :func:`segmentation._grow_models._refine_rim`, which only adds voxels). Here it may also
*remove* the label's boundary voxels that are nearer the outside level. On a weak edge a single
voxel's value is too noisy for that decision, so it is taken on the image smoothed by about a voxel
(Gaussian, ``sigma_mm``, by default the voxel size): smoothing a blurred edge keeps its half-way
point where it is (for a boundary that is flat at the scale of ``sigma_mm``) and divides the noise.

Known bias: on a convex object the smoothing pulls the boundary layer towards the outside level,
so a boundary that was already right loses part of its outer layer (a 14 mm ball at 8 HU in 30 HU:
Dice 1 -> 0.92, where a label one layer too large goes 0.82 -> 0.99). The option is for labels a
user sees overshoot a weak edge (phantom gallbladder: bile at 8 HU with bowel and fat in a 1.5 mm gap
to the liver, 0.920 -> 0.954); a variant deciding on the boundary layer's own level averaged along
the boundary keeps right boundaries (0.99) but leaves the gallbladder at 0.91: next to the liver the
gap voxels look like bile-liver partial volume.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from segmentation._common import Mask
from twin.geometry import ImageGeometry
from twin.labelmap import mask_bbox


def trim_boundary(result: NDArray[np.uint16], label: int, smoothed: NDArray[np.float32], geometry: ImageGeometry,
                  contrast: float = 3.0, sigma_mm: float | None = None, iterations: int = 1,
                  region: Mask | None = None) -> int:
    """Remove the boundary voxels of ``label`` that are nearer the local outside level (in place).

    Parameters
    ----------
    result : uint16 (ni, nj, nk)
        Labels; voxels removed from ``label`` become 0.
    smoothed : float32 (ni, nj, nk)
        The image the labels were grown on.
    contrast : float
        An edge counts where the local inside and outside levels differ by at least this many
        standard errors of their difference (a z-test: the label's noise, measured in its interior,
        over the number of voxels in each local mean).
    sigma_mm : float, optional
        Gaussian sigma of the decision image (default: the voxel size, the cube root of its volume).
    iterations : int
        Passes (each peels at most one voxel layer). The default 1: growing misplaces a weak edge by
        up to a voxel; a second pass on the phantom gallbladder peels true bile next to thin fat
        (Dice 0.957 -> 0.929).

    Returns
    -------
    int
        Number of voxels removed.

    Notes
    -----
    Levels are local means: inside over a 5x5x5 window of the label's interior (voxels at least one
    layer deep), outside over a 3x3x3 window of the first voxel layer outside the label (the nearest
    tissue: behind a thin gap lies other tissue). The noise is the standard deviation of ``smoothed``
    over the label's voxels at least three layers deep (at least 1).
    """
    from scipy import ndimage as ndi

    six = ndi.generate_binary_structure(3, 1)
    h = geometry.spacing
    sigma = float(np.prod(h)) ** (1.0 / 3.0) if sigma_mm is None else float(sigma_mm)
    removed = 0
    m_all = result == label
    box = mask_bbox(m_all, 4)
    if box is None:
        return 0
    sb = smoothed[box]
    dec = ndi.gaussian_filter(sb, sigma / h) if sigma > 0 else sb
    for _ in range(iterations):
        m = result[box] == label
        core = ndi.binary_erosion(m, six)
        deep = ndi.binary_erosion(core, six, 2)
        if not deep.any():
            break
        noise = max(float(np.std(sb[deep])), 1.0)
        boundary = m & ~core
        ring = ndi.binary_dilation(m, six) & ~m
        if region is not None:
            ring &= region[box]
        w_in = ndi.uniform_filter(core.astype(np.float32), 5)
        w_out = ndi.uniform_filter(ring.astype(np.float32), 3)
        lvl_in = ndi.uniform_filter(np.where(core, sb, 0).astype(np.float32), 5) / np.maximum(w_in, 1e-6)
        lvl_out = ndi.uniform_filter(np.where(ring, sb, 0).astype(np.float32), 3) / np.maximum(w_out, 1e-6)
        # the edge counts where the two local means differ significantly (z-test on ~125 and ~27 voxel windows)
        n_in, n_out = np.maximum(w_in * 125, 1.0), np.maximum(w_out * 27, 1.0)
        sd_diff = noise * np.sqrt(1.0 / n_in + 1.0 / n_out)
        drop = boundary & (w_in > 0) & (w_out > 0) & (np.abs(lvl_in - lvl_out) >= contrast * sd_diff)
        drop &= np.abs(dec - lvl_out) < np.abs(dec - lvl_in)
        if not drop.any():
            break
        result[box][drop] = 0
        removed += int(drop.sum())
    return removed
