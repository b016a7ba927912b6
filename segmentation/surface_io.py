"""Surface exports with the coordinate frame recorded (LPS, mm): STL (binary), OBJ, PLY, VTP.

The frame is written where each format allows a note, following 3D Slicer (which writes
``SPACE=LPS`` / ``SPACE=RAS`` into model file headers): the STL 80-byte header, an OBJ
comment, a PLY ``comment`` line, and VTP field data ``frame``. Writes are atomic.
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np

from twin.errors import InputError
from twin.geometry import FRAME
from twin.io.atomic import atomic_path
from twin.meshes import SurfaceModel

SURFACE_SUFFIXES = (".stl", ".obj", ".ply", ".vtp")


def _header(surface: SurfaceModel) -> str:
    return f"SPACE={FRAME} units=mm VHT Planner surface {surface.name}"


def write_surface(surface: SurfaceModel, path: str | Path) -> Path:
    """Write a surface; the format follows the suffix (.stl binary, .obj, .ply binary, .vtp)."""
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix not in SURFACE_SUFFIXES:
        raise InputError(f"cannot write surface format {suffix or '(none)'}; use {', '.join(SURFACE_SUFFIXES)}", p)
    with atomic_path(p) as tmp:
        if suffix == ".stl":
            _write_stl(surface, tmp)
        elif suffix == ".obj":
            _write_obj(surface, tmp)
        elif suffix == ".ply":
            _write_ply(surface, tmp)
        else:
            poly = surface.to_pyvista()
            poly.field_data["units"] = np.array(["mm"])
            poly.save(str(tmp), binary=True)
    return p


def _write_stl(surface: SurfaceModel, path: Path) -> None:
    pts = surface.points_lps
    tri = surface.triangles
    p = pts[tri].astype(np.float32)
    n = np.cross(p[:, 1] - p[:, 0], p[:, 2] - p[:, 0])
    norm = np.linalg.norm(n, axis=1, keepdims=True)
    n = np.divide(n, norm, out=np.zeros_like(n), where=norm > 0).astype(np.float32)
    rec = np.zeros(len(tri), dtype=[("n", "<f4", 3), ("v", "<f4", (3, 3)), ("attr", "<u2")])
    rec["n"] = n
    rec["v"] = p
    header = _header(surface).encode("ascii", "replace")[:80].ljust(80, b" ")
    with open(path, "wb") as fh:
        fh.write(header)
        fh.write(struct.pack("<I", len(tri)))
        fh.write(rec.tobytes())


def _write_obj(surface: SurfaceModel, path: Path) -> None:
    lines = [f"# {_header(surface)}", f"o {surface.name.replace(' ', '_')}"]
    lines += [f"v {x:.6f} {y:.6f} {z:.6f}" for x, y, z in surface.points_lps]
    normals = surface.point_data.get("normals")
    if normals is not None and len(normals) == surface.n_points:
        lines += [f"vn {x:.6f} {y:.6f} {z:.6f}" for x, y, z in normals]
        lines += [f"f {a}//{a} {b}//{b} {c}//{c}" for a, b, c in surface.triangles + 1]
    else:
        lines += [f"f {a} {b} {c}" for a, b, c in surface.triangles + 1]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _write_ply(surface: SurfaceModel, path: Path) -> None:
    header = "\n".join([
        "ply", "format binary_little_endian 1.0", f"comment {_header(surface)}",
        f"element vertex {surface.n_points}", "property float x", "property float y", "property float z",
        f"element face {surface.n_triangles}", "property list uchar int vertex_indices", "end_header",
    ]) + "\n"
    faces = np.zeros(surface.n_triangles, dtype=[("n", "u1"), ("v", "<i4", 3)])
    faces["n"] = 3
    faces["v"] = surface.triangles
    with open(path, "wb") as fh:
        fh.write(header.encode("ascii"))
        fh.write(np.asarray(surface.points_lps, "<f4").tobytes())
        fh.write(faces.tobytes())


def read_surface_frame(path: str | Path) -> str | None:
    """The frame recorded in a surface file written here (``"LPS"``), or None if absent."""
    p = Path(path)
    head = p.read_bytes()[:400].decode("latin-1")
    for token in ("SPACE=LPS", "SPACE=RAS"):
        if token in head:
            return token.split("=")[1]
    if p.suffix.lower() == ".vtp":
        import pyvista as pv

        mesh = pv.read(str(p))
        if "frame" in mesh.field_data:
            return str(mesh.field_data["frame"][0])
    return None
