"""Reading and writing patient images, label maps and meshes (frame LPS, mm)."""

from twin.io.images import read_image, read_labelmap, write_image, write_labelmap

__all__ = ["read_image", "write_image", "read_labelmap", "write_labelmap"]
