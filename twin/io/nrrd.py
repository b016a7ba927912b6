"""Our own NRRD reader (attached ``.nrrd`` and detached ``.nhdr``), geometry in LPS mm.

Why not only SimpleITK: it refuses valid files (e.g. VTK's ``headsq/quarter.nhdr`` with
a ``data file: quarter.%d 1 93 1`` list and ``spacings`` without ``space directions``),
and reading raw voxels straight into a NumPy array avoids a copy. Everything here is
checked from the header before any voxel buffer is allocated (size versus memory,
data length versus file size), so a truncated file is an error, never a half-read image.

Supported: dimension 3 (or 4 with a size-1 axis), scalar types, encodings raw, gzip,
bzip2 and ascii, ``byte skip``/``line skip``, single, formatted (``%d min max step``)
and ``LIST`` data files, ``space`` (RAS/LAS/LPS and their long names are converted to
LPS), ``space directions``/``space origin`` or ``spacings``. Anything else raises
:class:`NrrdUnsupported` so the caller can fall back to SimpleITK.
"""

from __future__ import annotations

import bz2
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from twin.errors import GeometryError, InputError

_TYPES = {
    np.dtype("i1"): ("signed char", "int8", "int8_t"),
    np.dtype("u1"): ("uchar", "unsigned char", "uint8", "uint8_t"),
    np.dtype("i2"): ("short", "short int", "signed short", "signed short int", "int16", "int16_t"),
    np.dtype("u2"): ("ushort", "unsigned short", "unsigned short int", "uint16", "uint16_t"),
    np.dtype("i4"): ("int", "signed int", "int32", "int32_t"),
    np.dtype("u4"): ("uint", "unsigned int", "uint32", "uint32_t"),
    np.dtype("i8"): ("longlong", "long long", "long long int", "signed long long", "signed long long int",
                     "int64", "int64_t"),
    np.dtype("u8"): ("ulonglong", "unsigned long long", "unsigned long long int", "uint64", "uint64_t"),
    np.dtype("f4"): ("float",),
    np.dtype("f8"): ("double",),
}
_TYPE_OF = {name: dt for dt, names in _TYPES.items() for name in names}
# sign flips taking coordinates of a named space to LPS
_SPACE_TO_LPS = {
    "left-posterior-superior": (1, 1, 1), "lps": (1, 1, 1),
    "right-anterior-superior": (-1, -1, 1), "ras": (-1, -1, 1),
    "left-anterior-superior": (1, -1, 1), "las": (1, -1, 1),
}


class NrrdUnsupported(Exception):
    """A valid NRRD feature this reader does not handle (caller falls back to SimpleITK)."""


@dataclass
class NrrdHeader:
    """Parsed header. ``data_files`` are absolute; ``offset`` is the attached data start."""

    path: Path
    fields: dict[str, str]
    keyvalues: dict[str, str]
    sizes: list[int]
    dtype: np.dtype[Any]
    encoding: str
    data_files: list[Path]
    offset: int
    spacing: NDArray[np.float64]
    origin: NDArray[np.float64]
    direction: NDArray[np.float64]
    warnings: list[str] = field(default_factory=list)
    n_list: int = 1  # components of a leading "list" axis (layers of a Slicer .seg.nrrd)

    @property
    def n_bytes(self) -> int:
        """Voxel bytes of the whole image."""
        return int(np.prod(self.sizes, dtype=np.float64)) * self.n_list * self.dtype.itemsize


def _vector(text: str, path: Path) -> NDArray[np.float64] | None:
    text = text.strip()
    if text == "none":
        return None
    m = re.fullmatch(r"\(([^)]*)\)", text)
    if not m:
        raise InputError(f"malformed NRRD vector {text!r}", path)
    try:
        return np.array([float(v) for v in m.group(1).split(",")])
    except ValueError:
        raise InputError(f"malformed NRRD vector {text!r}", path) from None


def read_header(path: str | Path, allow_list: bool = False) -> NrrdHeader:
    """Parse a NRRD header (without touching voxel data).

    ``allow_list`` accepts a 4-D file whose first axis is a ``list`` (Slicer segmentation layers).

    Raises
    ------
    InputError
        Not a NRRD file, malformed or inconsistent header, invalid spacing.
    NrrdUnsupported
        Valid but unsupported features (vector/4-D data, hex encoding, ...).
    """
    p = Path(path)
    try:
        fh = open(p, "rb")  # noqa: SIM115 - closed by the with-block below
    except OSError as exc:
        raise InputError(f"cannot open file ({exc.strerror or exc})", p) from None
    with fh:
        magic = fh.readline(64)
        if not magic.startswith(b"NRRD000"):
            raise InputError("not a NRRD file (missing NRRD000x magic line)", p)
        fields: dict[str, str] = {}
        keyvalues: dict[str, str] = {}
        list_files: list[str] = []
        in_list = False
        while True:
            raw = fh.readline(1 << 16)
            if not raw:
                break
            line = raw.decode("latin-1").rstrip("\r\n")
            if in_list:
                if line.strip():
                    list_files.append(line.strip())
                continue
            if line == "":
                break
            if line.startswith("#"):
                continue
            if ":=" in line:
                k, v = line.split(":=", 1)
                keyvalues[k] = v
                continue
            if ": " not in line:
                raise InputError(f"malformed NRRD header line {line[:60]!r}", p)
            k, v = line.split(": ", 1)
            k = k.strip().lower()
            fields[k] = v.strip()
            if k in ("data file", "datafile") and v.strip().upper().startswith("LIST"):
                in_list = True
        offset = fh.tell()
    for req in ("type", "dimension", "sizes", "encoding"):
        if req not in fields:
            raise InputError(f"NRRD header lacks the required field {req!r}", p)
    try:
        dim = int(fields["dimension"])
        sizes = [int(s) for s in fields["sizes"].split()]
    except ValueError:
        raise InputError("NRRD dimension/sizes are not integers", p) from None
    if len(sizes) != dim or any(s <= 0 for s in sizes):
        raise InputError(f"NRRD sizes {sizes} do not match dimension {dim} or are not positive", p)
    dtype = _TYPE_OF.get(fields["type"].lower())
    if dtype is None:
        raise NrrdUnsupported(f"type {fields['type']!r}")
    endian = fields.get("endian", "little").lower()
    dtype = dtype.newbyteorder("<" if endian == "little" else ">") if dtype.itemsize > 1 else dtype
    encoding = {"gz": "gzip", "bz2": "bzip2", "txt": "ascii", "text": "ascii"}.get(fields["encoding"].lower(),
                                                                                fields["encoding"].lower())
    if encoding not in ("raw", "gzip", "bzip2", "ascii"):
        raise NrrdUnsupported(f"encoding {encoding!r}")
    kinds = fields.get("kinds", "").split() or ["domain"] * dim
    # squeeze size-1 non-spatial axes (e.g. a 4-D file with one time point)
    if len(kinds) != dim:
        raise InputError(f"NRRD kinds {kinds} do not match dimension {dim}", p)
    n_list = 1
    if allow_list and dim == 4 and kinds[0].lower() in ("list", "vector", "point", "covariant-vector"):
        n_list = sizes[0]
        spatial = [1, 2, 3]
    else:
        spatial = [i for i in range(dim) if kinds[i].lower() in ("domain", "space") or sizes[i] > 1]
    if len(spatial) != 3 or any(kinds[i].lower() not in ("domain", "space") for i in spatial):
        raise NrrdUnsupported(f"{dim}-D data with kinds {kinds}")
    data_files = _data_files(fields, list_files, p)
    warnings: list[str] = []
    spacing, origin, direction = _geometry(fields, spatial, dim, p, warnings)
    return NrrdHeader(p, fields, keyvalues, [sizes[i] for i in spatial], dtype, encoding,
                      data_files, offset, spacing, origin, direction, warnings, n_list)


def _data_files(fields: dict[str, str], list_files: list[str], p: Path) -> list[Path]:
    spec = fields.get("data file", fields.get("datafile"))
    if spec is None:
        return []
    base = p.parent
    if spec.upper().startswith("LIST"):
        if len(spec.split()) > 1:
            raise NrrdUnsupported("LIST data files with a sub-dimension")
        return [base / f for f in list_files]
    parts = spec.split()
    if len(parts) >= 4 and "%" in parts[0]:
        if len(parts) > 4:
            raise NrrdUnsupported("formatted data files with a sub-dimension")
        try:
            lo, hi, step = int(parts[1]), int(parts[2]), int(parts[3])
        except ValueError:
            raise InputError(f"malformed NRRD data file list {spec!r}", p) from None
        if step == 0:
            raise InputError(f"NRRD data file step is zero ({spec!r})", p)
        stop = hi + (1 if step > 0 else -1)
        return [base / (parts[0] % i) for i in range(lo, stop, step)]
    return [base / spec]


def _geometry(fields: dict[str, str], spatial: list[int], dim: int, p: Path,
              warnings: list[str]) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    space = fields.get("space", "").lower()
    flips = np.array(_SPACE_TO_LPS.get(space, (1, 1, 1)), dtype=float)
    if space and space not in _SPACE_TO_LPS:
        warnings.append(f"NRRD space {fields['space']!r} is not an anatomical frame; axes taken as LPS")
    if "space directions" in fields:
        vecs = re.findall(r"\([^)]*\)|none", fields["space directions"])
        if len(vecs) != dim:
            raise InputError(f"NRRD space directions has {len(vecs)} entries for dimension {dim}", p)
        cols = [_vector(vecs[i], p) for i in spatial]
        if any(c is None or c.shape != (3,) for c in cols):
            raise NrrdUnsupported("space directions that are not 3-vectors on the spatial axes")
        mat = np.column_stack(cols) * flips[:, None]  # type: ignore[arg-type]
        spacing = np.linalg.norm(mat, axis=0)
        if not np.all(np.isfinite(spacing)) or np.any(spacing <= 0):
            raise GeometryError(f"voxel spacing must be positive and finite, got {spacing.tolist()} mm", p)
        direction = mat / spacing[None, :]
    else:
        if "spacings" in fields:
            try:
                sp_all = [float(v) for v in fields["spacings"].split()]
            except ValueError:
                raise InputError(f"malformed NRRD spacings {fields['spacings']!r}", p) from None
            spacing = np.array([sp_all[i] for i in spatial])
            if not np.all(np.isfinite(spacing)) or np.any(spacing <= 0):
                raise GeometryError(f"voxel spacing must be positive and finite, got {spacing.tolist()} mm", p)
        else:
            spacing = np.ones(3)
            warnings.append("NRRD header gives no spacing: 1 mm voxels assumed")
        direction = np.diag(flips)
        if not space:
            warnings.append("NRRD header gives no patient space: axes assumed to be L, P, S")
    origin = np.zeros(3)
    if "space origin" in fields:
        o = _vector(fields["space origin"], p)
        if o is None or o.shape != (3,) or not np.all(np.isfinite(o)):
            raise InputError(f"malformed NRRD space origin {fields['space origin']!r}", p)
        origin = o * flips
    return spacing, origin, direction


def read_nrrd(path: str | Path, max_bytes: int, allow_list: bool = False) -> tuple[NDArray[Any], NrrdHeader]:
    """Read voxels ``[i, j, k]`` and the header; sizes/lengths checked before allocating.

    With ``allow_list`` the array is ``[c, i, j, k]`` (``c`` the leading list axis, 1 for 3-D files).

    Raises
    ------
    InputError
        Truncated or missing data files, too large for ``max_bytes``.
    NrrdUnsupported
        Features for the SimpleITK fallback.
    """
    hdr = read_header(path, allow_list)
    p = hdr.path
    if hdr.n_bytes > max_bytes:
        raise InputError(f"header claims {hdr.sizes} voxels ({hdr.n_bytes / 2**30:.1f} GiB), more than the "
                         f"{max_bytes / 2**30:.1f} GiB memory allows", p)
    line_skip = int(hdr.fields.get("line skip", hdr.fields.get("lineskip", "0")))
    byte_skip = int(hdr.fields.get("byte skip", hdr.fields.get("byteskip", "0")))
    sources = hdr.data_files or [p]
    for f in sources:
        if not f.is_file():
            raise InputError(f"NRRD data file {f.name} is missing", p)
    n_vox = int(np.prod(hdr.sizes)) * hdr.n_list
    if n_vox % len(sources):
        raise InputError(f"{n_vox} voxels cannot be split over {len(sources)} data files", p)
    per_file = n_vox // len(sources)
    flat = np.empty(n_vox, dtype=hdr.dtype.newbyteorder("="))
    for n, f in enumerate(sources):
        start = hdr.offset if f == p else 0
        chunk = flat[n * per_file:(n + 1) * per_file]
        _read_chunk(f, chunk, hdr, start, line_skip, byte_skip, p)
    if hdr.dtype.kind == "f" and not np.all(np.isfinite(flat)):
        raise InputError("image contains NaN or infinite voxel values", p)
    if allow_list:
        return flat.reshape([*hdr.sizes[::-1], hdr.n_list]).transpose(3, 2, 1, 0), hdr
    array = flat.reshape(hdr.sizes[::-1]).transpose(2, 1, 0)
    return array, hdr


def _read_chunk(f: Path, out: NDArray[Any], hdr: NrrdHeader, start: int, line_skip: int, byte_skip: int,
                p: Path) -> None:
    want = out.size * hdr.dtype.itemsize
    with open(f, "rb") as fh:
        fh.seek(start)
        for _ in range(line_skip):
            fh.readline()
        if hdr.encoding == "ascii":
            text = fh.read()
            values = np.array(text.split(), dtype=np.float64) if text.strip() else np.empty(0)
            if values.size < out.size:
                raise InputError(f"NRRD data is truncated ({values.size} of {out.size} values) in {f.name}", p)
            out[:] = values[: out.size]
            return
        if hdr.encoding == "raw":
            if byte_skip == -1:
                fh.seek(0, 2)
                fh.seek(fh.tell() - want)
            else:
                fh.seek(byte_skip, 1)
            pos = fh.tell()
            fh.seek(0, 2)
            have = fh.tell() - pos
            if have < want:
                raise InputError(f"NRRD data is truncated ({have} of {want} bytes) in {f.name}", p)
            fh.seek(pos)
            view = memoryview(out.view(np.uint8))
            got = fh.readinto(view)
        else:
            try:
                if hdr.encoding == "gzip":
                    from twin.io.compression import gunzip

                    data = gunzip(fh.read(), p, max(byte_skip, 0) + want, f"NRRD compressed data in {f.name}")
                else:
                    data = bz2.decompress(fh.read())
            except (EOFError, OSError, ValueError) as exc:
                raise InputError(f"NRRD compressed data is truncated or corrupt in {f.name} ({exc})", p) from None
            skip = max(byte_skip, 0)
            got = min(max(len(data) - skip, 0), want)
            out.view(np.uint8)[:got] = np.frombuffer(data, np.uint8, count=got, offset=skip) if got else 0
        if got < want:
            raise InputError(f"NRRD data is truncated ({got} of {want} bytes) in {f.name}", p)
    if hdr.dtype.itemsize > 1 and not hdr.dtype.isnative:
        out.byteswap(inplace=True)
