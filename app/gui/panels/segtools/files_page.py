"""Surfaces and files page: surface generation with smoothing; import / export of segmentations.

* Generate surface: the target (or every) segment -> smoothed, decimated closed surface
  (:func:`segmentation.surfaces.labelmap_to_surfaces`, windowed-sinc smoothing) stored in
  ``project.surfaces`` (one undoable command) and shown in the 3-D view.
* Import: a TotalSegmentator output folder (one NIfTI per structure), a multilabel
  NIfTI/NRRD (+ ``.segments.json`` table) or a Slicer ``.seg.nrrd``; segments are added
  (names kept, made unique), resampled (nearest) when the grid differs.
* Export: ``.seg.nrrd`` (3D Slicer), NIfTI label image + segment table, binary STL of the
  target segment (frame LPS written in the STL header), DICOM-SEG referencing the DICOM series
  the image was read from (highdicom; optionally de-identified like ``twin.deid``; unavailable,
  with the reason shown, for images that did not come from DICOM), see
  :mod:`app.gui.panels.segtools.dicom_export`.

Frame: patient LPS, mm.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6.QtWidgets import QCheckBox, QFileDialog, QFormLayout, QGroupBox, QLabel, QVBoxLayout

from app.gui.panels.segtools.common import PageBase, button, row, spin
from app.gui.tools.commands import Batch, SetProjectItems
from twin.errors import InputError
from twin.labelmap_commands import AddSegment

if TYPE_CHECKING:
    from app.gui.panels.segtools import SegmentToolsPanel
    from twin.geometry import ImageGeometry

NIFTI_SUFFIXES = (".nii.gz", ".nii", ".nrrd", ".mha", ".mhd")


def resample_mask(mask: np.ndarray, source: ImageGeometry, target: ImageGeometry) -> np.ndarray:
    """Nearest-neighbour resampling of a boolean mask from one grid to another (both LPS)."""
    if source.is_same_grid(target):
        return np.asarray(mask, bool)
    from scipy.ndimage import map_coordinates

    out = np.zeros(target.shape, bool)
    ii, jj = np.meshgrid(np.arange(target.shape[0]), np.arange(target.shape[1]), indexing="ij")
    for k in range(target.shape[2]):  # slab by slab: bounded memory
        ijk = np.stack([ii.ravel(), jj.ravel(), np.full(ii.size, k)], axis=1).astype(float)
        src = source.lps_to_index(target.index_to_lps(ijk))
        out[:, :, k] = map_coordinates(mask.astype(np.uint8), src.T, order=0, mode="constant",
                                       cval=0).reshape(ii.shape) > 0
    return out


def read_label_table(path: Path, values: list[int]) -> dict[int, str]:
    """Value -> name from a JSON label table: ``{"1": "spleen", ...}``, or a dict of such tables
    (e.g. TotalSegmentator's ``{"total": {...}, "total_mr": {...}}``: the first one naming every value is used).
    """
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot read the label table ({exc})", path) from None
    tables = [data] if isinstance(data, dict) and all(str(k).isdigit() for k in data) else (
        [t for t in data.values() if isinstance(t, dict)] if isinstance(data, dict) else [])
    for t in tables:
        try:
            table = {int(k): str(v) for k, v in t.items()}
        except (TypeError, ValueError):
            continue
        if all(v in table for v in values):
            return table
    raise InputError(f"the label table names none of its tables' values for all labels {values[:8]}...", path)


def read_segmentation_items(path: Path, target: ImageGeometry, progress: Any = None,
                            label_table: Path | None = None) -> list[tuple[str, Any, Any]]:
    """``(name, colour, mask on target grid)`` for every structure of a file or TotalSegmentator folder.

    ``label_table`` (JSON) names the values of a multilabel image that has no ``.segments.json`` sidecar.
    """
    from twin.io.images import read_image, read_labelmap

    items: list[tuple[str, Any, Any]] = []
    if path.is_dir():
        files = sorted(f for f in path.iterdir() if f.name.lower().endswith((".nii.gz", ".nii")))
        if not files:
            raise InputError("no NIfTI files in the folder (expected a TotalSegmentator output folder)", path)
        for n, f in enumerate(files):
            if progress is not None:
                progress.update(n / len(files), f"reading {f.name}")
            vol = read_image(f)
            m = np.asarray(vol.array) > 0
            if m.any():
                name = f.name[: -len(".nii.gz")] if f.name.lower().endswith(".nii.gz") else f.stem
                items.append((name, None, resample_mask(m, vol.geometry, target)))
        return items
    lm = read_labelmap(path)
    if label_table is not None:
        from twin.colors import color_for_name
        from twin.labelmap import Segment

        names = read_label_table(Path(label_table), [s.value for s in lm.segments])
        lm.segments = [Segment(s.value, names[s.value], color_for_name(names[s.value], s.value), s.layer)
                       for s in lm.segments]
    for n, s in enumerate(lm.segments):
        if progress is not None:
            progress.update(n / max(1, len(lm.segments)), f"segment {s.name}")
        m = lm.mask(s)
        if m.any():
            items.append((s.name, s.color, resample_mask(m, lm.geometry, target)))
    return items


class FilesPage(PageBase):
    """Surface generation, import and export."""

    def __init__(self, panel: SegmentToolsPanel) -> None:
        super().__init__(panel)
        lay = QVBoxLayout(self)
        surf = QGroupBox("Surface models")
        f = QFormLayout(surf)
        f.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        # the same parameters as `vht mesh --smoothing F --decimate F` (segmentation.surfaces)
        self.smoothing = spin(0.5, 0.0, 1.0, 0.1, 2, "", "surface_smoothing")
        self.decimate = spin(0.0, 0.0, 0.95, 0.05, 2, "", "surface_decimate")
        self.all_segments = QCheckBox("All segments")
        self.all_segments.setObjectName("surface_all")
        f.addRow("Smoothing (0 none - 1 strong)", self.smoothing)
        f.addRow("Decimate (fraction removed)", self.decimate)
        f.addRow(row(self.all_segments, button("Generate", self.generate_surfaces, "surface_generate",
                                               "Closed surfaces into the project (shown in 3D)")))
        self.surface_info = QLabel("")
        self.surface_info.setObjectName("surface_info")
        self.surface_info.setWordWrap(True)
        f.addRow(self.surface_info)
        lay.addWidget(surf)

        imp = QGroupBox("Import segmentation")
        v = QVBoxLayout(imp)
        v.addLayout(row(button("TotalSegmentator folder...", self.import_folder_dialog, "import_totalseg"),
                        button("Label file...", self.import_file_dialog, "import_labels",
                               "Multilabel NIfTI/NRRD (+ .segments.json) or Slicer .seg.nrrd")))
        lay.addWidget(imp)
        exp = QGroupBox("Export")
        v = QVBoxLayout(exp)
        v.addLayout(row(button(".seg.nrrd...", lambda: self.export_dialog("seg.nrrd"), "export_segnrrd"),
                        button("NIfTI...", lambda: self.export_dialog("nifti"), "export_nifti"),
                        button("STL...", lambda: self.export_dialog("stl"), "export_stl", "Target segment")))
        self.dicom_button = button("DICOM-SEG...", lambda: self.export_dialog("dicom-seg"), "export_dicomseg",
                                   "DICOM Segmentation object referencing the source DICOM series")
        self.deidentify = QCheckBox("de-identify")
        self.deidentify.setObjectName("export_deidentify")
        self.deidentify.setChecked(True)
        self.deidentify.setToolTip("Pseudonym instead of the patient's name and ID, dates shifted, UIDs replaced "
                                   "(DICOM PS3.15 basic profile, the same keyed hashes as vht convert --deidentify)")
        v.addLayout(row(self.dicom_button, self.deidentify))
        self.dicom_info = QLabel("")
        self.dicom_info.setObjectName("dicom_seg_info")
        self.dicom_info.setWordWrap(True)
        v.addWidget(self.dicom_info)
        lay.addWidget(exp)
        lay.addStretch(1)
        self._surface_ids: dict[str, int] = {}
        self.main.edited.connect(self._sync_3d)
        from PySide6.QtGui import QAction

        self.dicom_action = QAction("Export segmentation as DICOM-SEG...", self.main)
        self.dicom_action.setObjectName("export_dicomseg_action")
        self.dicom_action.triggered.connect(lambda: self.export_dialog("dicom-seg"))
        self.main.file_menu.insertAction(self.main.file_export_anchor, self.dicom_action)
        self._update_dicom_state()

    def on_project_changed(self) -> None:  # noqa: D102
        self._update_dicom_state()

    def _update_dicom_state(self) -> None:
        from app.gui.panels.segtools.dicom_export import dicom_seg_status

        ok, why, _ = dicom_seg_status(self.main.volume)
        self.dicom_button.setEnabled(ok)
        self.dicom_action.setEnabled(ok)
        self.dicom_action.setToolTip(why)
        self.deidentify.setEnabled(ok)
        self.dicom_info.setText(why if self.main.volume is not None else "")
        self.dicom_button.setToolTip(why)

    def _sync_3d(self) -> None:
        """Redraw the 3-D view when project surfaces came or went (generate, undo, redo)."""
        ids = {k: id(v) for k, v in self.main.project.surfaces.items()}
        if ids != self._surface_ids:
            self._surface_ids = ids
            self.main.scene3d.restyle()

    # ------------------------------------------------------------------ surfaces
    def generate_surfaces(self, names: list[str] | None = None) -> Any:
        """Surfaces of the target (or all / given) segments into ``project.surfaces`` (worker, one command)."""
        if not self.require_volume():
            return None
        lm = self.main.labelmap
        if names is None:
            if self.all_segments.isChecked():
                names = [s.name for s in lm.segments]
            else:
                t = self.require_target()
                if t is None:
                    return None
                names = [t]
        snapshot = lm.copy()
        smoothing, decimate = float(self.smoothing.value()), float(self.decimate.value())

        def work(progress: Any) -> dict[str, Any]:
            from segmentation.surfaces import labelmap_to_surfaces

            results = labelmap_to_surfaces(snapshot, names, smoothing, decimate, progress=progress)
            return {r.segment.name: replace(r.surface, name=f"{r.segment.name} surface", color=r.segment.color)
                    for r in results if r.surface.n_triangles}

        def done(surfaces: dict[str, Any]) -> None:
            if not surfaces:
                self.main.show_error("The chosen segments are empty: no surface")
                return
            changes = [("surfaces", name, s) for name, s in surfaces.items()]
            if self.main.push_command(SetProjectItems(self.main.project, changes,
                                                      f"Surface of {', '.join(surfaces)}")):
                self.surface_info.setText("\n".join(
                    f"{n}: {s.n_triangles} triangles, {s.volume_mm3() / 1000:.2f} mL, {s.area_mm2():.0f} mm², "
                    f"{'closed' if s.is_watertight() else 'NOT closed'}" for n, s in surfaces.items()))

        return self.main.run_worker(work, done, "Surface generation")

    # ------------------------------------------------------------------ import
    def import_folder_dialog(self) -> None:
        """Choose a TotalSegmentator folder."""
        d = QFileDialog.getExistingDirectory(self, "TotalSegmentator output folder")
        if d:
            self.import_path(d)

    def import_file_dialog(self) -> None:
        """Choose a label file."""
        f, _ = QFileDialog.getOpenFileName(self, "Import segmentation", "",
                                           "Segmentations (*.seg.nrrd *.nii.gz *.nii *.nrrd *.mha)")
        if not f:
            return
        table = None
        from twin.io.atomic import full_suffix

        sidecar = Path(f).with_name(Path(f).name[: -len(full_suffix(f))] + ".segments.json")
        if not f.endswith(".seg.nrrd") and not sidecar.exists():
            t, _ = QFileDialog.getOpenFileName(self, "Label table (optional: Cancel keeps label_N names)", "",
                                               "Label table (*.json)")
            table = t or None
        self.import_path(f, table)

    def import_path(self, path: str | Path, label_table: str | Path | None = None) -> Any:
        """Import the structures of a file or folder as new segments (worker, one command).

        ``label_table``: JSON naming the values of a multilabel image (see :func:`read_label_table`).
        """
        if not self.require_volume():
            return None
        p = Path(path)
        lm = self.main.labelmap
        target = lm.geometry

        def done(items: list[tuple[str, Any, Any]]) -> None:
            if self.main.labelmap is not lm:
                return
            if not items:
                self.main.show_error(f"No non-empty segment in {p.name}")
                return
            used = {s.name for s in lm.segments}
            factories = []
            for name, color, mask in items:
                unique, n = name, 2
                while unique in used:
                    unique, n = f"{name}_{n}", n + 1
                used.add(unique)
                factories.append(lambda u=unique, c=color, m=mask: AddSegment(lm, u, c, mask=m, allow_overlap=True))
            self.main.push_command(Batch(f"Import {p.name} ({len(items)} segments)", factories))

        table = Path(label_table) if label_table else None
        return self.main.run_worker(lambda progress: read_segmentation_items(p, target, progress, table), done,
                                    f"Import {p.name}")

    # ------------------------------------------------------------------ export
    def export_dialog(self, fmt: str) -> None:
        """Ask for a file name and export."""
        filters = {"seg.nrrd": "3D Slicer segmentation (*.seg.nrrd)", "nifti": "NIfTI (*.nii.gz)",
                   "stl": "STL (*.stl)", "dicom-seg": "DICOM Segmentation (*.dcm)"}
        default = {"seg.nrrd": "segmentation.seg.nrrd", "nifti": "segmentation.nii.gz",
                   "stl": f"{self.panel.target() or 'segment'}_LPS.stl", "dicom-seg": "segmentation_SEG.dcm"}[fmt]
        reference = None
        if fmt == "dicom-seg":
            from app.gui.panels.segtools.dicom_export import dicom_seg_status

            ok, why, reference = dicom_seg_status(self.main.volume)
            if not ok:
                self.main.show_error(why)
                return
            if reference is None:
                d = QFileDialog.getExistingDirectory(self, "Folder of the image's DICOM series")
                if not d:
                    return
                reference = Path(d)
        f, _ = QFileDialog.getSaveFileName(self, "Export", default, filters[fmt])
        if f:
            self.export_path(fmt, f, reference)

    def export_path(self, fmt: str, path: str | Path, reference: str | Path | None = None,
                    deidentify: bool | None = None) -> Any:
        """Write the segmentation (``seg.nrrd``, ``nifti``, ``dicom-seg``) or the target's surface (``stl``) in a
        worker. ``dicom-seg``: ``reference`` (the series' folder) defaults to where the image was read from;
        ``deidentify`` defaults to the check box."""
        if not self.require_volume():
            return None
        p = Path(path)
        vol = self.main.volume
        if fmt == "dicom-seg":
            from app.gui.panels.segtools.dicom_export import dicom_seg_status

            ok, why, known = dicom_seg_status(vol)
            reference = reference or known
            if not ok or reference is None:
                self.main.show_error(why)
                return None
        deid = self.deidentify.isChecked() if deidentify is None else bool(deidentify)
        lm = self.main.labelmap.copy()
        name = self.panel.target()
        if fmt == "stl" and name is None:
            self.main.show_error("Choose the target segment to export as STL")
            return None
        smoothing, decimate = float(self.smoothing.value()), float(self.decimate.value())

        def work(progress: Any) -> Path:
            from twin.io.images import write_labelmap

            if fmt == "seg.nrrd":
                if not p.name.endswith(".seg.nrrd"):
                    raise InputError("the file name must end with .seg.nrrd", p)
                return write_labelmap(lm, p)
            if fmt == "nifti":
                return write_labelmap(lm, p)
            if fmt == "stl":  # the same surface and writer as `vht mesh`
                from segmentation.surface_io import write_surface
                from segmentation.surfaces import segment_surface

                result = segment_surface(lm, name, smoothing, decimate, progress=progress)
                if result.surface.n_triangles == 0:
                    raise InputError(f"segment {name!r} is empty")
                return write_surface(result.surface, p)
            if fmt == "dicom-seg":
                from app.gui.panels.segtools.dicom_export import export_dicom_seg

                notes: list[str] = []
                out = export_dicom_seg(lm, vol, p, reference, deidentify=deid, progress=progress, notes=notes)
                return f"{out} (warning: {'; '.join(notes)})" if notes else out
            raise InputError(f"unknown export format {fmt!r}")

        return self.main.run_worker(work, lambda out: self.main.statusBar().showMessage(f"Exported {out}", 15000),
                                    f"Export {p.name}")
