"""The PySide6 GUI and the ``vht`` command line. The only package that imports Qt."""
