"""Parsing DICOM headers into per-frame geometry records and JSON metadata.

Frame LPS, mm (DICOM's patient coordinate system). Used by :mod:`twin.io.dicom`.
Classic single-frame files, legacy multi-frame files (``GridFrameOffsetVector``,
``SpacingBetweenSlices``) and enhanced multi-frame files (shared and per-frame
functional groups) all become a list of :class:`Frame` records.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

_BINARY_VRS = {"OB", "OW", "OF", "OD", "OL", "OV", "UN", "SQ"}
_PER_FRAME_KEYWORDS = {
    "SOPInstanceUID", "MediaStorageSOPInstanceUID", "ImagePositionPatient", "SliceLocation", "InstanceNumber",
    "ImageIndex", "WindowCenter", "WindowWidth", "LargestImagePixelValue", "SmallestImagePixelValue",
    "AcquisitionNumber", "ContentTime", "InstanceCreationTime", "AcquisitionTime", "TriggerTime",
    "RescaleSlope", "RescaleIntercept", "PixelData", "FloatPixelData", "DoubleFloatPixelData",
}


@dataclass
class Frame:
    """One 2-D plane: which file/frame, where, and how to rescale it."""

    file: int
    index: int
    rows: int
    cols: int
    iop: tuple[float, ...] | None
    ipp: tuple[float, float, float] | None
    pixel_spacing: tuple[float, float] | None  # (along i, along j) mm
    slope: float
    intercept: float
    volume_key: tuple[float, ...]
    instance: int


def _float_list(value: Any) -> list[float] | None:
    if value is None:
        return None
    try:
        out = [float(v) for v in (value if hasattr(value, "__iter__") and not isinstance(value, str) else [value])]
    except (TypeError, ValueError):
        return None
    return out if all(math.isfinite(v) for v in out) else None


def first_item(ds: Any, keyword: str) -> Any:
    seq = ds.get(keyword) if ds is not None else None
    return seq[0] if seq else None


def group_attr(per_frame: Any, shared: Any, seq: str, attr: str) -> Any:
    for group in (per_frame, shared):
        item = first_item(group, seq)
        if item is not None and attr in item:
            return item.get(attr)
    return None


def number_or(value: Any, default: float) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return default
    return v if math.isfinite(v) else default


_TEXT_NUMBER_TAGS = {
    "NumberOfFrames": 0x00280008, "InstanceNumber": 0x00200013, "RescaleSlope": 0x00281053,
    "RescaleIntercept": 0x00281052, "DoseGridScaling": 0x3004000E, "ImageOrientationPatient": 0x00200037,
    "ImagePositionPatient": 0x00200032, "PixelSpacing": 0x00280030, "ImagerPixelSpacing": 0x00181164,
    "TemporalPositionIdentifier": 0x00200100, "AcquisitionNumber": 0x00200012, "EchoNumbers": 0x00180086,
    "TriggerTime": 0x00181060,
}


NO_UID_PREFIX = "noUID-"


def series_key(ds: Any) -> str:
    """The series an image belongs to: its ``SeriesInstanceUID``, or a stable stand-in when blank.

    Images without a SeriesInstanceUID (anonymisers that blank UIDs, test files) are grouped by
    what still distinguishes a series: study UID, series number and description, modality,
    frame of reference, image size and photometric interpretation. The stand-in is
    ``"noUID-<10 hex>"`` (a hash of those values), usable wherever a series UID is asked for
    (``--series``); it is never written out as a UID.
    """
    uid = str(ds.get("SeriesInstanceUID", "") or "").strip()
    if uid:
        return uid
    import hashlib

    parts = [str(ds.get(k, "") or "").strip() for k in (
        "StudyInstanceUID", "SeriesNumber", "SeriesDescription", "Modality", "FrameOfReferenceUID",
        "Rows", "Columns", "SamplesPerPixel", "PhotometricInterpretation", "BitsAllocated")]
    return NO_UID_PREFIX + hashlib.sha1("\x00".join(parts).encode("utf-8")).hexdigest()[:10]


def text_numbers(ds: Any, keyword: str) -> list[float] | None:
    """Values of a DS/IS attribute as floats, parsed from the raw text when not yet converted.

    pydicom's own conversion (validated ``DSfloat`` objects) is the main cost of reading
    hundreds of headers; a plain ``float()`` of the backslash-separated text is exact.
    """
    tag = _TEXT_NUMBER_TAGS[keyword]
    if tag not in ds:
        return None
    elem = ds.get_item(tag)
    value = getattr(elem, "value", None)
    if isinstance(value, (bytes, bytearray)):
        text = bytes(value).decode("latin-1").strip(" \0")
        if not text:
            return None
        try:
            out = [float(v) for v in text.split("\\")]
        except ValueError:
            out = None
        if out is not None:
            return out if all(math.isfinite(v) for v in out) else None
    return _float_list(ds.get(keyword))


def _first(values: list[float] | None, default: float) -> float:
    return values[0] if values else default


def frames_of(ds: Any, file_index: int) -> list[Frame]:
    rows, cols = int(ds.get("Rows", 0) or 0), int(ds.get("Columns", 0) or 0)
    n_frames = int(_first(text_numbers(ds, "NumberOfFrames"), 1) or 1)
    instance = int(_first(text_numbers(ds, "InstanceNumber"), 0))
    slope = _first(text_numbers(ds, "RescaleSlope"), 1.0) or 1.0
    intercept = _first(text_numbers(ds, "RescaleIntercept"), 0.0)
    if "DoseGridScaling" in ds:
        slope = _first(text_numbers(ds, "DoseGridScaling"), 1.0) or 1.0
    iop = text_numbers(ds, "ImageOrientationPatient")
    ipp = text_numbers(ds, "ImagePositionPatient")
    ps = text_numbers(ds, "PixelSpacing") or text_numbers(ds, "ImagerPixelSpacing")
    echoes = text_numbers(ds, "EchoNumbers")
    key_base = (
        _first(text_numbers(ds, "TemporalPositionIdentifier"), 0),
        _first(text_numbers(ds, "AcquisitionNumber"), 0),
        echoes[0] if echoes and len(echoes) == 1 else 0.0,
        _first(text_numbers(ds, "TriggerTime"), 0),
    )
    per_frame_seq = ds.get("PerFrameFunctionalGroupsSequence")
    shared = first_item(ds, "SharedFunctionalGroupsSequence")
    frames: list[Frame] = []
    if per_frame_seq is not None:  # enhanced multi-frame
        for f in range(n_frames):
            pf = per_frame_seq[f] if f < len(per_frame_seq) else None
            f_iop = _float_list(group_attr(pf, shared, "PlaneOrientationSequence", "ImageOrientationPatient"))
            f_ipp = _float_list(group_attr(pf, shared, "PlanePositionSequence", "ImagePositionPatient"))
            f_ps = _float_list(group_attr(pf, shared, "PixelMeasuresSequence", "PixelSpacing"))
            pvt = "PixelValueTransformationSequence"
            f_slope = number_or(group_attr(pf, shared, pvt, "RescaleSlope"), slope)
            f_icpt = number_or(group_attr(pf, shared, pvt, "RescaleIntercept"), intercept)
            content = first_item(pf, "FrameContentSequence")
            key = (
                number_or(content.get("TemporalPositionIndex", 0), 0) if content is not None else 0.0,
                number_or(content.get("StackID", 0), 0) if content is not None else 0.0,
            ) + key_base
            frames.append(Frame(file_index, f, rows, cols, tuple(f_iop) if f_iop else None,
                                 tuple(f_ipp[:3]) if f_ipp and len(f_ipp) >= 3 else None,  # type: ignore[arg-type]
                                 (f_ps[1], f_ps[0]) if f_ps and len(f_ps) >= 2 else None,
                                 f_slope or 1.0, f_icpt, key, instance))
        return frames
    ps_ij = (ps[1], ps[0]) if ps and len(ps) >= 2 else None
    ipp3 = tuple(ipp[:3]) if ipp and len(ipp) >= 3 else None
    if n_frames == 1 or ipp3 is None or not iop or len(iop) != 6:
        return [Frame(file_index, f, rows, cols, tuple(iop) if iop else None, ipp3 if n_frames == 1 else None,  # type: ignore[arg-type]
                       ps_ij, slope, intercept, key_base, instance) for f in range(n_frames)]
    # legacy multi-frame (NM, RT dose, some MR): positions along the normal
    normal = np.cross(np.asarray(iop[:3]), np.asarray(iop[3:]))
    offsets = _float_list(ds.get("GridFrameOffsetVector"))
    if offsets and len(offsets) == n_frames:
        rel = np.asarray(offsets) - (offsets[0] if offsets[0] != 0 else 0.0)
    else:
        step = number_or(ds.get("SpacingBetweenSlices"), 0.0) or number_or(ds.get("SliceThickness"), 0.0) or 1.0
        rel = np.arange(n_frames) * step
    return [Frame(file_index, f, rows, cols, tuple(iop), tuple((np.asarray(ipp3) + rel[f] * normal).tolist()),  # type: ignore[arg-type]
                   ps_ij, slope, intercept, key_base, instance) for f in range(n_frames)]


def _json_value(elem: Any) -> Any:
    from pydicom.multival import MultiValue
    from pydicom.valuerep import PersonName

    v = elem.value
    if isinstance(v, PersonName):
        return str(v)
    if isinstance(v, MultiValue) or isinstance(v, list):
        return [_json_scalar(x) for x in v]
    return _json_scalar(v)


def _json_scalar(v: Any) -> Any:
    if v is None or isinstance(v, (bool, str)):
        return v
    if isinstance(v, int):
        return int(v)
    if isinstance(v, float):
        return float(v) if math.isfinite(v) else str(v)
    if isinstance(v, bytes):
        return None
    return str(v)


def dicom_metadata(ds: Any) -> dict[str, Any]:
    """Series-level attributes of a header, by keyword, JSON-serialisable (may identify the patient)."""
    meta: dict[str, Any] = {}
    for elem in ds:
        if elem.tag.is_private or elem.VR in _BINARY_VRS or not elem.keyword:
            continue
        if elem.keyword in _PER_FRAME_KEYWORDS or elem.tag.group in (0x0002, 0x7FE0, 0x6000):
            continue
        value = _json_value(elem)
        if value is not None and value != "" and value != []:
            meta[elem.keyword] = value
    fm = getattr(ds, "file_meta", None)
    if fm is not None and "TransferSyntaxUID" in fm:
        meta["TransferSyntaxUID"] = str(fm.TransferSyntaxUID)
    return meta


def units_of(ds: Any, modality: str) -> str:
    if modality == "CT":
        rtype = str(ds.get("RescaleType", "") or "HU").upper()
        return "HU" if rtype in ("HU", "") else rtype
    if modality == "PT":
        return str(ds.get("Units", "") or "")
    if modality == "RTDOSE":
        return str(ds.get("DoseUnits", "") or "")
    return ""
