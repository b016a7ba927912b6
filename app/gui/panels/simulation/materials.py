"""Material table of the simulation panel: a library tissue (cited values) or a custom model per mesh region.

Mixed into :class:`app.gui.panels.simulation.SimulationPanel`. The table shows the stored set-up
(``documents["simulation_case"]``; regions without an entry show their default,
:func:`biomech.case_commands.default_material`); every change of a row (tissue, model, E, nu) is one
undoable :class:`biomech.case_commands.SetMaterial` (moduli entered in kPa, stored in MPa).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QHeaderView,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.gui.panels.segtools.common import hint_label, spin
from app.gui.panels.simulation import case_builder as cb

MODELS = {"linear-elastic": "linear", "neo-hookean": "neo-Hookean", "mooney-rivlin": "Mooney-R."}
"""Constitutive models offered for custom materials: case-file name -> short label."""


def _set_model(combo: QComboBox, model: str) -> None:
    idx = combo.findData(model)
    if idx < 0:
        combo.addItem(model, model)
        idx = combo.count() - 1
    combo.setCurrentIndex(idx)

class MaterialsMixin:
    """Material page and table (needs ``self.mesh``)."""

    mesh: Any
    main: Any
    material_table: QTableWidget
    _filling: bool

    def _material_page(self) -> QWidget:
        w = QWidget()
        lay = QVBoxLayout(w)
        self.material_table = QTableWidget(0, 5)
        self.material_table.setObjectName("sim_materials")
        self.material_table.setHorizontalHeaderLabels(["Region", "Tissue", "Model", "E (kPa)", "ν"])
        self.material_table.verticalHeader().hide()
        hh = self.material_table.horizontalHeader()
        for c in (0, 2, 3, 4):
            hh.setSectionResizeMode(c, QHeaderView.ResizeMode.ResizeToContents)
        hh.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.material_table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.material_table.setMinimumHeight(120)
        lay.addWidget(self.material_table)
        note = hint_label("Tissue values come from the library (biomech.tissues, cited); choose “custom” to type "
                      "E and ν. Neo-Hookean materials are solved with large-deformation Newton steps.")
        lay.addWidget(note)
        lay.addStretch(1)
        return w

    # ================================================================== materials
    def _refill_materials(self, entries: list[dict[str, Any]] | None = None) -> None:
        """Rows for the mesh regions (rebuilt only when the regions change), values from the stored set-up."""
        t = self.material_table
        if self.mesh is None:
            t.setRowCount(0)
            return
        regions = sorted(int(r) for r in np.unique(self.mesh.region))
        shown = [int(t.item(r, 0).data(Qt.ItemDataRole.UserRole)) for r in range(t.rowCount())]
        if shown != regions or any(t.item(r, 0).text() != self.mesh.region_names.get(reg, f"region {reg}")
                                   for r, reg in enumerate(regions)):
            self._build_rows(regions)
        self._show_materials()

    def _build_rows(self, regions: list[int]) -> None:
        from biomech.tissues import TISSUES

        t = self.material_table
        t.setRowCount(0)
        t.setRowCount(len(regions))
        for r, reg in enumerate(regions):
            name = self.mesh.region_names.get(reg, f"region {reg}")
            it = QTableWidgetItem(name)
            it.setToolTip(f"region {reg}: {name}")
            it.setData(Qt.ItemDataRole.UserRole, reg)
            it.setFlags(Qt.ItemFlag.ItemIsEnabled)
            t.setItem(r, 0, it)
            tissue = QComboBox()
            tissue.addItem("custom")
            tissue.addItems(list(TISSUES))
            model = QComboBox()
            for key, label in MODELS.items():
                model.addItem(label, key)
            e = spin(10.0, 0.001, 1e8, 1, 3, "", f"sim_E_{reg}")
            nu = spin(0.45, 0.0, 0.499, 0.01, 3, "", f"sim_nu_{reg}")
            model.setToolTip("Constitutive model (custom materials)")
            for combo, n in ((tissue, 9), (model, 5)):
                combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
                combo.setMinimumContentsLength(n)
            for wdg in (e, nu):
                wdg.setButtonSymbols(QDoubleSpinBox.ButtonSymbols.NoButtons)
                wdg.setMaximumWidth(64 if wdg is e else 48)
                wdg.setKeyboardTracking(False)  # one command per finished entry, not per keystroke
            t.setCellWidget(r, 1, tissue)
            t.setCellWidget(r, 2, model)
            t.setCellWidget(r, 3, e)
            t.setCellWidget(r, 4, nu)
            tissue.currentTextChanged.connect(lambda _t, row_=r: self._row_edited(row_, tissue_changed=True))
            model.currentIndexChanged.connect(lambda _i, row_=r: self._row_edited(row_))
            e.valueChanged.connect(lambda _v, row_=r: self._row_edited(row_))
            nu.valueChanged.connect(lambda _v, row_=r: self._row_edited(row_))
        t.resizeColumnsToContents()
        hh = t.horizontalHeader()
        hh.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        hh.setSectionResizeMode(2, QHeaderView.ResizeMode.Fixed)
        t.setColumnWidth(2, 94)

    def _show_materials(self) -> None:
        """Set every row from the stored set-up (no commands are pushed meanwhile)."""
        entries = {int(m["region"]): m for m in self.materials()}
        self._filling = True
        try:
            for r in range(self.material_table.rowCount()):
                reg = int(self.material_table.item(r, 0).data(Qt.ItemDataRole.UserRole))
                self._set_row(r, entries[reg])
                self._tissue_changed(r)
        finally:
            self._filling = False

    def _set_row(self, r: int, entry: dict[str, Any]) -> None:
        t = self.material_table
        tissue, model, e, nu = (t.cellWidget(r, c) for c in (1, 2, 3, 4))
        if entry.get("tissue"):
            tissue.setCurrentText(str(entry["tissue"]))
        else:
            tissue.setCurrentText("custom")
            _set_model(model, str(entry.get("model", "linear-elastic")))
            e.setValue(float(entry.get("youngs_modulus", 0.01)) * 1000.0)
            nu.setValue(float(entry.get("poisson_ratio", 0.45)))

    def _tissue_changed(self, r: int) -> None:
        from biomech.tissues import get_tissue

        t = self.material_table
        tissue, model, e, nu = (t.cellWidget(r, c) for c in (1, 2, 3, 4))
        lib = tissue.currentText() != "custom"
        if lib:
            tis = get_tissue(tissue.currentText())
            for wdg in (model, e, nu):
                wdg.blockSignals(True)
            _set_model(model, tis.model)
            e.setValue(tis.youngs_modulus_mpa * 1000.0)
            nu.setValue(tis.poisson_ratio)
            for wdg in (model, e, nu):
                wdg.blockSignals(False)
            tissue.setToolTip(f"{tis.display_name}: E {tis.youngs_modulus_mpa * 1000:g} kPa "
                              f"(range {tis.youngs_modulus_range_mpa[0] * 1000:g}-"
                              f"{tis.youngs_modulus_range_mpa[1] * 1000:g}), ν {tis.poisson_ratio:g}\n"
                              + "\n".join(tis.references[:2]))
        for wdg in (model, e, nu):
            wdg.setEnabled(not lib)

    def _row_entry(self, r: int) -> dict[str, Any]:
        t = self.material_table
        reg = int(t.item(r, 0).data(Qt.ItemDataRole.UserRole))
        tissue, model, e, nu = (t.cellWidget(r, c) for c in (1, 2, 3, 4))
        if tissue.currentText() != "custom":
            return cb.material_entry(reg, tissue.currentText())
        return cb.material_entry(reg, None, model.currentData(), round(e.value() / 1000.0, 12), nu.value())

    def _row_edited(self, r: int, tissue_changed: bool = False) -> None:
        """A row widget changed: one undoable :class:`SetMaterial` (nothing if the entry is unchanged)."""
        if self._filling:
            return
        if tissue_changed:
            self._tissue_changed(r)
        entry = self._row_entry(r)
        reg = entry["region"]
        current = next((m for m in self.materials() if m.get("region") == reg), None)
        if current == entry:
            return
        self._push_material(reg, entry)

    def _push_material(self, region: int, entry: dict[str, Any]) -> bool:
        from biomech.case_commands import SetMaterial

        name = self.mesh.region_names.get(region, f"region {region}") if self.mesh is not None else str(region)
        label = entry.get("tissue") or f"{entry.get('model')} E={entry.get('youngs_modulus', 0) * 1000:g} kPa"
        ok = self.main.push_command(SetMaterial(self.main.project, region, entry, f"Material of {name}: {label}"))
        if not ok:
            self._show_materials()  # back to the stored values
        return ok

    def set_material(self, region: int, tissue: str | None = None, model: str = "linear-elastic",
                     youngs_modulus_mpa: float = 0.01, poisson_ratio: float = 0.45) -> bool:
        """Assign a library tissue, or a custom model with E (MPa) and ν, to a region (one undo step)."""
        if self.mesh is None or int(region) not in set(np.unique(self.mesh.region).tolist()):
            raise KeyError(f"no region {region} in the mesh")
        return self._push_material(int(region), cb.material_entry(region, tissue, model, youngs_modulus_mpa,
                                                                  poisson_ratio))

    def materials(self) -> list[dict[str, Any]]:
        """The ``[[materials]]`` entries the solve uses: one per mesh region (stored, else the default)."""
        from biomech.case_commands import complete_case

        if self.mesh is None:
            return []
        return complete_case(self.setup_case(), self.mesh)["materials"]
