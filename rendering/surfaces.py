"""The lock that serialises VTK work between worker threads and the GUI's render windows.

Surfaces are not made here: :mod:`segmentation.surfaces` is the one place that contours
label maps (``display_surfaces`` for fast, decimated 3-D view surfaces;
``labelmap_to_surfaces`` for checked, export-grade ones). Callers in ``planning``/``app``
compute them there and pass the :class:`twin.meshes.SurfaceModel` objects (LPS mm) to
:mod:`rendering.scene` / :mod:`rendering.offscreen`, which only draw.
"""

from __future__ import annotations

import threading

VTK_THREAD_LOCK = threading.RLock()
"""Held while VTK filters run off the GUI thread; the GUI takes it while it creates render windows.

Running VTK filters in a worker thread while the GUI thread initialises an OpenGL render window
was seen to hang once; serialising these two (short) sections removes that interleaving.
GUI workers (:mod:`app.gui.workers`) hold it for the whole job, so surface computations
started there (e.g. :func:`segmentation.surfaces.display_surfaces`) run under it.
"""
