"""Reading NIfTI-1/2 voxels ourselves (``.nii``, ``.nii.gz``); geometry comes from ITK.

ITK's NIfTI reader silently returns a partly filled image when the file is truncated
(measured with SimpleITK 2.5: a ``.nii``/``.nii.gz`` cut to 2/3 reads without error).
Here the voxel block is read straight into a NumPy array with its length checked
(raw: against the file size, before allocating; gzip: the stream must not end early),
while the LPS geometry is taken from ITK's header-only read, so the qform/sform choice and
the RAS -> LPS conversion are exactly ITK's (and 3D Slicer's).
"""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from twin.errors import GeometryError, InputError

_DTYPES = {2: "u1", 4: "i2", 8: "i4", 16: "f4", 64: "f8", 256: "i1", 512: "u2", 768: "u4", 1024: "i8", 1280: "u8"}


class NiftiUnsupported(Exception):
    """Valid NIfTI this reader does not handle (caller falls back to SimpleITK)."""


def _parse(head: bytes, p: Path) -> dict[str, Any]:
    if len(head) < 348:
        raise InputError("file is too short for a NIfTI header", p)
    for endian in ("<", ">"):
        size = int(np.frombuffer(head[:4], dtype=f"{endian}i4")[0])
        if size in (348, 540):
            break
    else:
        raise InputError("not a NIfTI file (bad sizeof_hdr)", p)
    if size == 348:
        dims = np.frombuffer(head[40:56], dtype=f"{endian}i2").astype(np.int64)
        datatype = int(np.frombuffer(head[70:72], dtype=f"{endian}i2")[0])
        pixdim = np.frombuffer(head[76:108], dtype=f"{endian}f4").astype(np.float64)
        vox_offset = float(np.frombuffer(head[108:112], dtype=f"{endian}f4")[0])
        slope, inter = (float(v) for v in np.frombuffer(head[112:120], dtype=f"{endian}f4"))
    else:
        if len(head) < 540:
            raise InputError("file is too short for a NIfTI-2 header", p)
        datatype = int(np.frombuffer(head[12:14], dtype=f"{endian}i2")[0])
        dims = np.frombuffer(head[16:80], dtype=f"{endian}i8").astype(np.int64)
        pixdim = np.frombuffer(head[104:168], dtype=f"{endian}f8").astype(np.float64)
        vox_offset = float(np.frombuffer(head[168:176], dtype=f"{endian}i8")[0])
        slope, inter = (float(v) for v in np.frombuffer(head[176:192], dtype=f"{endian}f8"))
    ndim = int(dims[0])
    if not 1 <= ndim <= 7:
        raise InputError(f"NIfTI header has an invalid number of dimensions ({ndim})", p)
    shape = [int(d) for d in dims[1:ndim + 1]]
    if any(d <= 0 for d in shape):
        raise InputError(f"NIfTI header has non-positive sizes {shape}", p)
    if any(d != 1 for d in shape[3:]):
        raise InputError(f"expected a 3-D image, got size {shape} (time series are not supported)", p)
    shape = (shape + [1, 1, 1])[:3]
    spacing = pixdim[1:4]
    bad = [float(spacing[a]) for a in range(3) if shape[a] > 1 and not (np.isfinite(spacing[a]) and spacing[a] > 0)]
    if bad:
        raise GeometryError(f"voxel spacing must be positive and finite, header pixdim is {spacing.tolist()} mm", p)
    if datatype not in _DTYPES:
        raise NiftiUnsupported(f"datatype {datatype}")
    return {"shape": shape, "dtype": np.dtype(endian + _DTYPES[datatype]), "offset": int(vox_offset),
            "slope": slope, "inter": inter}


def read_nifti_voxels(path: str | Path, out_dtype: np.dtype[Any], max_bytes: int) -> NDArray[Any]:
    """Voxels ``[i, j, k]`` of a NIfTI file, scaled by ``scl_slope``/``scl_inter`` as ITK does.

    Parameters
    ----------
    out_dtype : dtype
        The pixel type ITK reports for the file (float when the header scales values).
    max_bytes : int
        Refuse larger images (checked from the header before allocating or decompressing).

    Returns
    -------
    ndarray, (ni, nj, nk)
        May be a read-only view of the decompressed buffer (no copy).
    """
    from twin.io.compression import gunzip

    p = Path(path)
    compressed = p.name.lower().endswith(".gz")
    try:
        with (gzip.open(p, "rb") if compressed else open(p, "rb")) as fh:
            head = fh.read(540)
    except (EOFError, OSError) as exc:
        raise InputError(f"NIfTI header is unreadable ({exc})", p) from None
    info = _parse(head, p)
    n_vox = int(np.prod(info["shape"]))
    want = n_vox * info["dtype"].itemsize
    if want > max_bytes or n_vox * np.dtype(out_dtype).itemsize > max_bytes:
        raise InputError(f"header claims {info['shape']} voxels ({want / 2**30:.1f} GiB), more than the "
                         f"{max_bytes / 2**30:.1f} GiB memory allows", p)
    offset = info["offset"]
    if compressed:
        data = gunzip(p.read_bytes(), p, max_out=offset + want)
        if len(data) - offset < want:
            raise InputError(f"image data is truncated ({max(len(data) - offset, 0)} of {want} bytes)", p)
        raw = np.frombuffer(data, dtype=info["dtype"], count=n_vox, offset=offset)
    else:
        have = p.stat().st_size - offset
        if have < want:
            raise InputError(f"image data is truncated ({max(have, 0)} of {want} bytes)", p)
        raw = np.fromfile(p, dtype=info["dtype"], count=n_vox, offset=offset)
        if raw.size < n_vox:
            raise InputError(f"image data is truncated ({raw.size} of {n_vox} voxels)", p)
    if not info["dtype"].isnative:
        raw = raw.byteswap().view(info["dtype"].newbyteorder("="))
    slope, inter = info["slope"], info["inter"]
    scaled = np.isfinite(slope) and slope != 0 and (slope != 1 or inter != 0)
    out_dtype = np.dtype(out_dtype)
    if scaled:
        vals = raw.astype(np.float64 if out_dtype.itemsize > 4 else np.float32) * slope + inter
        raw = vals.astype(out_dtype, copy=False)
    elif raw.dtype != out_dtype:
        raw = raw.astype(out_dtype)
    nx, ny, nz = info["shape"]
    return raw.reshape(nz, ny, nx).transpose(2, 1, 0)


def gzip_size_matches(path: str | Path) -> bool:
    """Whether a ``.nii.gz`` gzip trailer (uncompressed size mod 2**32) equals header + voxel bytes.

    A cheap truncation test: a cut file ends in compressed data, whose last four bytes
    match by chance with probability 2**-32. False also for multi-member or padded
    streams, so False means "check exactly", not "corrupt".
    """
    p = Path(path)
    try:
        with gzip.open(p, "rb") as fh:
            info = _parse(fh.read(540), p)
        with open(p, "rb") as raw:
            raw.seek(-4, 2)
            isize = int.from_bytes(raw.read(4), "little")
    except (OSError, EOFError, InputError):
        return False
    want = info["offset"] + int(np.prod(info["shape"])) * info["dtype"].itemsize
    return isize == want % 2**32
