"""Synthetic DICOM series for tests and benchmarks, written with pydicom (frame LPS, mm).

Every plane ``k`` of ``array_ijk[:, :, k]`` is written as one file (or one frame of an
enhanced multi-frame file) at ``positions_mm[k]`` with orientation ``iop``; pixels are
stored as ``(value - intercept) / slope``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence as DicomSequence
from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian, generate_uid

CT_IMAGE = "1.2.840.10008.5.1.4.1.1.2"
MR_IMAGE = "1.2.840.10008.5.1.4.1.1.4"
ENHANCED_CT = "1.2.840.10008.5.1.4.1.1.2.1"

PATIENT = {
    "PatientName": "Doe^Jane^Q",
    "PatientID": "PID-778899",
    "PatientBirthDate": "19610314",
    "PatientSex": "F",
    "PatientAge": "061Y",
    "PatientAddress": "12 Elm Street, Springfield",
    "OtherPatientIDs": "ALT-5544",
    "InstitutionName": "St Example Hospital",
    "InstitutionAddress": "1 Hospital Road, Springfield",
    "ReferringPhysicianName": "House^Gregory",
    "PerformingPhysicianName": "Quinn^Michaela",
    "OperatorsName": "Tech^Tina",
    "AccessionNumber": "ACC-24680",
    "StudyID": "ST-13579",
    "StudyDate": "20220315",
    "StudyTime": "101500",
    "SeriesDate": "20220315",
    "AcquisitionDate": "20220315",
    "ContentDate": "20220315",
    "StationName": "CTSTATION7",
    "DeviceSerialNumber": "SN-0042",
    "StudyDescription": "CT ABDOMEN Doe",
}


def axial_positions(n: int, origin: Sequence[float] = (-100.0, -80.0, -50.0), dz: float = 2.5) -> NDArray[np.float64]:
    """Positions of ``n`` axial planes ``dz`` mm apart."""
    return np.asarray(origin, float)[None, :] + np.arange(n)[:, None] * np.array([0.0, 0.0, dz])


def _base(modality: str, sop_class: str, series_uid: str, study_uid: str, for_uid: str,
          patient: dict[str, str] | None) -> Dataset:
    ds = Dataset()
    ds.SOPClassUID = sop_class
    ds.Modality = modality
    ds.SeriesInstanceUID = series_uid
    ds.StudyInstanceUID = study_uid
    ds.FrameOfReferenceUID = for_uid
    for k, v in (patient if patient is not None else PATIENT).items():
        setattr(ds, k, v)
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    return ds


def _stored(values: NDArray[Any], slope: float, intercept: float, signed: bool, bits_stored: int) -> NDArray[Any]:
    raw = np.rint((np.asarray(values, float) - intercept) / slope)
    dtype = np.int16 if signed else np.uint16
    info = np.iinfo(dtype)
    if raw.min() < info.min or raw.max() > info.max:
        raise ValueError("values do not fit the stored type")
    if not signed and raw.max() >= 2**bits_stored:
        raise ValueError("values exceed BitsStored")
    return raw.astype(dtype)


def _save(ds: Dataset, path: Path, transfer_syntax: str) -> None:
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = ds.SOPClassUID
    meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.file_meta = meta
    if transfer_syntax in (ExplicitVRLittleEndian, ImplicitVRLittleEndian):
        meta.TransferSyntaxUID = transfer_syntax
    else:
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds.compress(transfer_syntax)
    ds.save_as(path, enforce_file_format=True)


def write_series(
    folder: str | Path,
    array_ijk: NDArray[Any],
    positions_mm: NDArray[np.float64],
    iop: Sequence[float] = (1, 0, 0, 0, 1, 0),
    pixel_spacing_ij: Sequence[float] = (0.8, 0.7),
    modality: str = "CT",
    slope: float | Sequence[float] = 1.0,
    intercept: float | Sequence[float] = -1024.0,
    series_uid: str | None = None,
    study_uid: str | None = None,
    description: str = "synthetic",
    transfer_syntax: str = ExplicitVRLittleEndian,
    signed: bool = False,
    bits_stored: int = 12,
    patient: dict[str, str] | None = None,
    file_order: Sequence[int] | None = None,
    prefix: str = "IM",
    extra: dict[str, Any] | None = None,
) -> list[Path]:
    """Write one file per plane; returns the paths (named in ``file_order``, default shuffled)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    ni, nj, nk = array_ijk.shape
    series_uid = series_uid or generate_uid()
    study_uid = study_uid or generate_uid()
    for_uid = generate_uid()
    slopes = np.broadcast_to(np.asarray(slope, float), (nk,))
    icpts = np.broadcast_to(np.asarray(intercept, float), (nk,))
    order = list(file_order) if file_order is not None else list(np.random.default_rng(nk).permutation(nk))
    paths = []
    for name_index, k in enumerate(order):
        ds = _base(modality, CT_IMAGE if modality == "CT" else MR_IMAGE, series_uid, study_uid, for_uid, patient)
        ds.SOPInstanceUID = generate_uid()
        ds.SeriesDescription = description
        ds.SeriesNumber = 1
        ds.InstanceNumber = int(k) + 1
        ds.ImagePositionPatient = [float(v) for v in positions_mm[k]]
        ds.ImageOrientationPatient = [float(v) for v in iop]
        ds.PixelSpacing = [float(pixel_spacing_ij[1]), float(pixel_spacing_ij[0])]  # (j, i)
        ds.SliceThickness = 2.0
        ds.Rows, ds.Columns = nj, ni
        ds.BitsAllocated, ds.BitsStored, ds.HighBit = 16, bits_stored, bits_stored - 1
        ds.PixelRepresentation = 1 if signed else 0
        ds.RescaleSlope = float(slopes[k])
        ds.RescaleIntercept = float(icpts[k])
        if modality == "CT":
            ds.RescaleType = "HU"
        for key, value in (extra or {}).items():
            setattr(ds, key, value)
        ds.PixelData = _stored(array_ijk[:, :, k].T, slopes[k], icpts[k], signed, bits_stored).tobytes()
        path = folder / f"{prefix}{name_index:04d}"
        _save(ds, path, transfer_syntax)
        paths.append(path)
    return paths


def write_enhanced(
    path: str | Path,
    array_ijk: NDArray[Any],
    positions_mm: NDArray[np.float64],
    iop: Sequence[float] = (1, 0, 0, 0, 1, 0),
    pixel_spacing_ij: Sequence[float] = (0.8, 0.7),
    slope: float = 1.0,
    intercept: float = -1024.0,
    frame_order: Sequence[int] | None = None,
    series_uid: str | None = None,
) -> Path:
    """Write an Enhanced CT multi-frame file (functional groups), frames in ``frame_order``."""
    path = Path(path)
    ni, nj, nk = array_ijk.shape
    order = list(frame_order) if frame_order is not None else list(range(nk))
    ds = _base("CT", ENHANCED_CT, series_uid or generate_uid(), generate_uid(), generate_uid(), None)
    ds.SOPInstanceUID = generate_uid()
    ds.SeriesDescription = "enhanced"
    ds.InstanceNumber = 1
    ds.NumberOfFrames = nk
    ds.Rows, ds.Columns = nj, ni
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
    shared = Dataset()
    pm = Dataset()
    pm.PixelSpacing = [float(pixel_spacing_ij[1]), float(pixel_spacing_ij[0])]
    pm.SliceThickness = 1.0
    shared.PixelMeasuresSequence = DicomSequence([pm])
    po = Dataset()
    po.ImageOrientationPatient = [float(v) for v in iop]
    shared.PlaneOrientationSequence = DicomSequence([po])
    pvt = Dataset()
    pvt.RescaleSlope, pvt.RescaleIntercept, pvt.RescaleType = slope, intercept, "HU"
    shared.PixelValueTransformationSequence = DicomSequence([pvt])
    ds.SharedFunctionalGroupsSequence = DicomSequence([shared])
    per_frame = []
    for k in order:
        item = Dataset()
        pp = Dataset()
        pp.ImagePositionPatient = [float(v) for v in positions_mm[k]]
        item.PlanePositionSequence = DicomSequence([pp])
        fc = Dataset()
        fc.InStackPositionNumber = int(k) + 1
        item.FrameContentSequence = DicomSequence([fc])
        per_frame.append(item)
    ds.PerFrameFunctionalGroupsSequence = DicomSequence(per_frame)
    ds.PixelData = b"".join(_stored(array_ijk[:, :, k].T, slope, intercept, False, 12).tobytes() for k in order)
    _save(ds, path, ExplicitVRLittleEndian)
    return path


def ramp_volume(shape: tuple[int, int, int], seed: int = 0) -> NDArray[np.int16]:
    """A CT-like int16 test volume in HU: smooth ramps plus noise, range about -1000..1500."""
    rng = np.random.default_rng(seed)
    i, j, k = np.meshgrid(*[np.arange(s) for s in shape], indexing="ij")
    vol = -1000 + 7 * i + 5 * j + 37 * k + rng.integers(0, 50, size=shape)
    return np.clip(vol, -1024, 3000).astype(np.int16)
