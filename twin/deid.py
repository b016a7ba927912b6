"""De-identification of DICOM-derived metadata (DICOM PS3.15 Annex E).

Implements the **Basic Application Level Confidentiality Profile** (PS3.15 E.1, code
113100) for the attribute dictionaries we keep in ``Volume.metadata`` (tags by keyword),
with two standard options:

* **Retain Longitudinal Temporal Information with Modified Dates** (113107): dates are
  shifted back by a per-patient offset (1..3650 days, derived from a keyed hash of the
  patient's identity), so intervals between a patient's studies are preserved; times are
  removed. ``shift_dates=False`` removes dates instead.
* **Retain Patient Characteristics** (113108): sex, age, size and weight are kept
  (they matter for biomechanics); ``keep_characteristics=False`` removes them.

Actions (PS3.15 Table E.1-1 codes): names, IDs, birth date, addresses, institution,
physicians, operators, accession number, station, device serial numbers, free-text
descriptions and comments are removed (X/Z); ``PatientName``/``PatientID`` get the
pseudonym (a dummy value, allowed for Z); instance UIDs are replaced (U) by
deterministic ``2.25.<int>`` UIDs from a keyed SHA-256 so that references stay
consistent. Anything not known to be safe is removed (stricter than the profile,
which would retain unlisted attributes). The result records ``PatientIdentityRemoved``
``YES``, ``DeidentificationMethod`` and ``DeidentificationMethodCodeSequence``.

The key (``salt``) defaults to the environment variable ``VHT_DEID_SALT`` or a fixed
project string; set a secret salt when sharing data outside the site, otherwise a
known original UID can be linked to its replacement by recomputing the hash.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import os
import re
from dataclasses import replace
from typing import Any

from twin.volume import Volume

PROFILE_CODES = {
    "113100": "Basic Application Confidentiality Profile",
    "113107": "Retain Longitudinal Temporal Information Modified Dates Option",
    "113108": "Retain Patient Characteristics Option",
}
_DEFAULT_SALT = "vht-planner-deid-v1"

# PS3.15 Table E.1-1 attributes that identify (X/Z/D, removed) ...
_REMOVE = {
    "series_key",  # our stand-in for a blank SeriesInstanceUID: a hash of study/series attributes
    "PatientBirthDate", "PatientBirthTime", "PatientBirthName", "PatientMotherBirthName", "PatientAddress",
    "PatientTelephoneNumbers", "PatientTelecomInformation", "OtherPatientIDs", "OtherPatientNames",
    "OtherPatientIDsSequence", "IssuerOfPatientID", "PatientInsurancePlanCodeSequence", "MilitaryRank",
    "BranchOfService", "MedicalRecordLocator", "EthnicGroup", "Occupation", "AdditionalPatientHistory",
    "PatientComments", "PatientReligiousPreference", "PregnancyStatus", "LastMenstrualDate", "ResponsiblePerson",
    "ResponsibleOrganization", "CountryOfResidence", "RegionOfResidence", "PatientState", "MedicalAlerts",
    "Allergies", "SmokingStatus", "SpecialNeeds", "PatientSexNeutered", "PatientBreedDescription",
    "AccessionNumber", "StudyID", "InstitutionName", "InstitutionAddress", "InstitutionalDepartmentName",
    "InstitutionCodeSequence", "ReferringPhysicianName", "ReferringPhysicianAddress",
    "ReferringPhysicianTelephoneNumbers", "ConsultingPhysicianName", "PhysiciansOfRecord",
    "PerformingPhysicianName", "NameOfPhysiciansReadingStudy", "RequestingPhysician", "OperatorsName",
    "ScheduledPerformingPhysicianName", "StationName", "DeviceSerialNumber", "DeviceUID", "PlateID",
    "DetectorID", "CassetteID", "GantryID", "StudyDescription", "SeriesDescription", "ProtocolName",
    "PerformedProcedureStepDescription", "PerformedProcedureStepID", "RequestedProcedureDescription",
    "RequestedProcedureID", "ScheduledProcedureStepDescription", "ScheduledProcedureStepID",
    "AdmittingDiagnosesDescription", "DerivationDescription", "ImageComments", "StudyComments",
    "AcquisitionComments", "Modified", "TextString", "TextComments", "IdentifyingComments",
    "AdmissionID", "ServiceEpisodeID", "ServiceEpisodeDescription", "VisitComments", "CurrentPatientLocation",
    "PatientInstitutionResidence", "ReasonForStudy", "RequestingService", "ContentCreatorName",
    "VerifyingObserverName", "PersonName", "PersonAddress", "OrderEnteredBy", "OrderEntererLocation",
    "OrderCallbackPhoneNumber", "FillerOrderNumberImagingServiceRequest", "PlacerOrderNumberImagingServiceRequest",
    "SoftwareVersions", "SourceApplicationEntityTitle", "ContrastBolusAgent", "PositionReferenceIndicator",
    "ClinicalTrialSponsorName", "ClinicalTrialProtocolID", "ClinicalTrialSiteID", "ClinicalTrialSiteName",
    "ClinicalTrialSubjectID", "ClinicalTrialSubjectReadingID", "ClinicalTrialTimePointID",
    "ClinicalTrialTimePointDescription", "ClinicalTrialCoordinatingCenterName", "ClinicalTrialProtocolName",
    "InstanceCreatorUID", "TimezoneOffsetFromUTC", "source_file", "source_path",
}
_CHARACTERISTICS = {"PatientSex", "PatientAge", "PatientSize", "PatientWeight"}
# ... and technical attributes that are kept (not listed in Table E.1-1, needed to use the image)
_KEEP = {
    "Modality", "Manufacturer", "ManufacturerModelName", "BodyPartExamined", "PatientPosition", "ImageType",
    "SOPClassUID", "TransferSyntaxUID", "SpecificCharacterSet", "SeriesNumber", "InstanceNumber",
    "SliceThickness", "SpacingBetweenSlices", "PixelSpacing", "ImageOrientationPatient", "Rows", "Columns",
    "NumberOfFrames", "SamplesPerPixel", "PhotometricInterpretation", "BitsAllocated", "BitsStored", "HighBit",
    "PixelRepresentation", "RescaleType", "KVP", "XRayTubeCurrent", "ExposureTime", "Exposure",
    "ConvolutionKernel", "ReconstructionDiameter", "DataCollectionDiameter", "GantryDetectorTilt",
    "TableHeight", "RotationDirection", "FilterType", "GeneratorPower", "FocalSpots", "SpiralPitchFactor",
    "CTDIvol", "DistanceSourceToDetector", "DistanceSourceToPatient", "RepetitionTime", "EchoTime",
    "InversionTime", "EchoTrainLength", "FlipAngle", "MagneticFieldStrength", "ImagingFrequency", "ImagedNucleus",
    "NumberOfAverages", "PixelBandwidth", "ScanningSequence", "SequenceVariant", "ScanOptions", "MRAcquisitionType",
    "SequenceName", "EchoNumbers", "PercentSampling", "PercentPhaseFieldOfView", "AcquisitionMatrix",
    "InPlanePhaseEncodingDirection", "Units", "DecayCorrection", "CorrectedImage", "DoseUnits", "DoseType",
    "DoseSummationType", "LossyImageCompression", "LossyImageCompressionRatio", "BurnedInAnnotation",
    "Laterality", "ImageLaterality", "PresentationIntentType", "ContrastBolusRoute", "RescaleSlope",
    "RescaleIntercept", "WindowCenter", "WindowWidth", "AcquisitionNumber", "TemporalPositionIdentifier",
    "NumberOfTemporalPositions", "LongitudinalTemporalInformationModified",
    # our own keys
    "source_format", "n_files", "warnings", "gantry_tilt_deg", "units",
}
_DATE_KEYS = {"StudyDate", "SeriesDate", "AcquisitionDate", "ContentDate", "InstanceCreationDate",
              "PerformedProcedureStepStartDate", "DateOfLastCalibration", "OverlayDate", "CurveDate"}
_DATETIME_KEYS = {"AcquisitionDateTime", "FrameAcquisitionDateTime", "StartAcquisitionDateTime",
                  "EndAcquisitionDateTime", "ContributionDateTime"}
_NON_INSTANCE_UIDS = {"SOPClassUID", "TransferSyntaxUID", "MediaStorageSOPClassUID", "ReferencedSOPClassUID",
                      "CodingSchemeUID", "ImplementationClassUID"}


def _salt(salt: str | None) -> str:
    return salt if salt is not None else os.environ.get("VHT_DEID_SALT", _DEFAULT_SALT)


def _digest(salt: str, *parts: str) -> bytes:
    h = hashlib.sha256(salt.encode("utf-8"))
    for part in parts:
        h.update(b"\x00" + part.encode("utf-8"))
    return h.digest()


def _patient_key(meta: dict[str, Any]) -> str:
    for key in ("PatientID", "PatientName"):
        value = str(meta.get(key, "") or "").strip()
        if value:
            return f"{key}={value}|{meta.get('PatientBirthDate', '')}" if key == "PatientName" else f"{key}={value}"
    for key in ("StudyInstanceUID", "SeriesInstanceUID", "source_file"):
        value = str(meta.get(key, "") or "").strip()
        if value and value != "unknown":
            return f"{key}={value}"
    return "unknown"


def pseudonym(meta: dict[str, Any], salt: str | None = None) -> str:
    """Stable pseudonym of the patient, e.g. ``"Case-3F9A2C"`` (same patient, same salt: same pseudonym).

    A de-identified dictionary returns the pseudonym it was given.
    """
    if str(meta.get("PatientIdentityRemoved", "")).upper() == "YES" and meta.get("pseudonym"):
        return str(meta["pseudonym"])
    return "Case-" + _digest(_salt(salt), "pseudonym", _patient_key(meta)).hex()[:6].upper()


def replacement_uid(uid: str, salt: str | None = None) -> str:
    """Deterministic replacement UID ``2.25.<128-bit integer>`` (PS3.5 B.2 UUID-derived form)."""
    value = int.from_bytes(_digest(_salt(salt), "uid", uid)[:16], "big")
    return f"2.25.{value}"


def date_offset_days(meta: dict[str, Any], salt: str | None = None) -> int:
    """Per-patient date shift in days (1..3650, applied backwards)."""
    return 1 + int.from_bytes(_digest(_salt(salt), "date", _patient_key(meta))[:4], "big") % 3650


def _shift_date(value: Any, days: int) -> str | None:
    text = str(value).strip()
    m = re.fullmatch(r"(\d{8})(.*)", text)
    if not m:
        return None
    try:
        d = _dt.datetime.strptime(m.group(1), "%Y%m%d").date()
    except ValueError:
        return None
    return (d - _dt.timedelta(days=days)).strftime("%Y%m%d")


def _is_instance_uid(key: str, value: Any) -> bool:
    if key in _NON_INSTANCE_UIDS or not key.endswith("UID"):
        return False
    return isinstance(value, str) and bool(re.fullmatch(r"[0-9.]+", value)) or key == "SeriesInstanceUID"


def deidentify_metadata(
    meta: dict[str, Any],
    salt: str | None = None,
    shift_dates: bool = True,
    keep_characteristics: bool = True,
) -> dict[str, Any]:
    """Apply the PS3.15 E.1 basic profile to a metadata dictionary (tags by keyword).

    Parameters
    ----------
    meta : dict
        ``Volume.metadata``: DICOM keywords -> JSON values, plus our own keys.
    salt : str, optional
        Key of the hashes (pseudonym, UIDs, date offset); default ``$VHT_DEID_SALT``
        or a fixed project string.
    shift_dates : bool
        Shift dates by the per-patient offset (option 113107); False removes them.
    keep_characteristics : bool
        Keep sex, age, size, weight (option 113108).

    Returns
    -------
    dict
        A new dictionary; the input is not modified. Applying it twice changes nothing more.
    """
    s = _salt(salt)
    if str(meta.get("PatientIdentityRemoved", "")).upper() == "YES" and meta.get("pseudonym"):
        return dict(meta)
    pseudo = pseudonym(meta, s)
    days = date_offset_days(meta, s)
    out: dict[str, Any] = {}
    replaced: dict[str, str] = {}
    for key, value in meta.items():
        if key in ("PatientName", "PatientID"):
            if value not in (None, ""):
                replaced[str(value)] = pseudo
            continue
        if key in _REMOVE or (key in _CHARACTERISTICS and not keep_characteristics):
            continue
        if _is_instance_uid(key, value):
            if isinstance(value, str) and value and value != "unknown":
                new = replacement_uid(value, s)
                replaced[value] = new
                out[key] = new
            else:
                out[key] = value
            continue
        if key in _DATE_KEYS or key in _DATETIME_KEYS:
            if shift_dates:
                shifted = _shift_date(value, days)
                if shifted is not None:
                    out[key] = shifted
            continue
        if key.endswith("Time") and key not in _KEEP:
            continue  # times of day are removed (dates carry the longitudinal information)
        if key in _KEEP or key in _CHARACTERISTICS:
            out[key] = value
        # anything else: removed (not known to be safe)
    # identifying strings must not survive inside kept free text (e.g. UIDs quoted in warnings)
    needles = {k: v for k, v in replaced.items() if len(k) >= 3}
    for part in re.split(r"[\^ ,]+", str(meta.get("PatientName", "") or "")):
        if len(part) >= 3:
            needles[part] = pseudo
    out = {k: _scrub(v, needles) for k, v in out.items()}
    out["PatientName"] = pseudo
    out["PatientID"] = pseudo
    out["pseudonym"] = pseudo
    out["PatientIdentityRemoved"] = "YES"
    codes = ["113100"] + (["113107"] if shift_dates else []) + (["113108"] if keep_characteristics else [])
    out["DeidentificationMethod"] = "DICOM PS3.15 E.1 " + "; ".join(PROFILE_CODES[c] for c in codes) + " (vht)"
    out["DeidentificationMethodCodeSequence"] = [
        {"CodeValue": c, "CodingSchemeDesignator": "DCM", "CodeMeaning": PROFILE_CODES[c]} for c in codes
    ]
    if shift_dates:
        out["LongitudinalTemporalInformationModified"] = "MODIFIED"
    return out


def _scrub(value: Any, needles: dict[str, str]) -> Any:
    if isinstance(value, str):
        for old, new in needles.items():
            value = re.sub(re.escape(old), new, value, flags=re.IGNORECASE)
        return value
    if isinstance(value, list):
        return [_scrub(v, needles) for v in value]
    if isinstance(value, dict):
        return {k: _scrub(v, needles) for k, v in value.items()}
    return value


def deidentify_volume(vol: Volume, salt: str | None = None, shift_dates: bool = True,
                      keep_characteristics: bool = True) -> Volume:
    """The same volume with de-identified metadata and a non-identifying name (``<pseudonym> <modality>``)."""
    meta = deidentify_metadata(vol.metadata, salt, shift_dates, keep_characteristics)
    return replace(vol, metadata=meta, name=f"{meta['pseudonym']} {vol.modality}")


_TEXT_VRS = {"AE", "AS", "CS", "DA", "DS", "DT", "IS", "LO", "LT", "PN", "SH", "ST", "TM", "UC", "UI", "UR", "UT"}


def deidentify_dataset(ds: Any, salt: str | None = None) -> Any:
    """De-identify a pydicom dataset in place (PS3.15 E.1 basic profile, the rules above).

    Patient name and ID become the pseudonym of :func:`twin.deid.pseudonym` (computed from the
    dataset's own patient attributes, i.e. the source series'); attributes of
    ``twin._REMOVE`` and person names are emptied (kept zero-length, as the IOD's type-2
    attributes must be present); dates are shifted back by :func:`twin.deid.date_offset_days`
    (times of day emptied, except the SEG's own ``ContentTime``); every instance UID (own and
    referenced, also in the file meta) becomes :func:`twin.deid.replacement_uid`. Adds
    ``PatientIdentityRemoved``, ``DeidentificationMethod(CodeSequence)``.
    """
    from pydicom.dataset import Dataset
    from pydicom.sequence import Sequence

    s = _salt(salt)
    meta = {k: str(ds.get(k, "") or "") for k in ("PatientID", "PatientName", "PatientBirthDate",
                                                   "StudyInstanceUID")}
    pseudo = pseudonym(meta, s)
    days = date_offset_days(meta, s)

    def walk(d: Any) -> None:
        for elem in list(d):
            kw, vr = elem.keyword, elem.VR
            if vr == "SQ":
                if kw in _REMOVE:
                    elem.value = Sequence([])
                else:
                    for item in elem.value:
                        walk(item)
                continue
            if kw in ("PatientName", "PatientID"):
                elem.value = pseudo
            elif kw in _REMOVE or vr == "PN":
                elem.value = "" if vr in _TEXT_VRS else None  # zero length (type-2 attributes stay present)
            elif vr == "UI" and kw not in _NON_INSTANCE_UIDS and elem.value:
                elem.value = replacement_uid(str(elem.value), s)
            elif vr in ("DA", "DT") and elem.value:
                elem.value = _shift_date(elem.value, days) or ""
            elif vr == "TM" and kw != "ContentTime":
                elem.value = ""

    walk(ds)
    fm = getattr(ds, "file_meta", None)
    if fm is not None and fm.get("MediaStorageSOPInstanceUID"):
        fm.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.PatientIdentityRemoved = "YES"
    ds.LongitudinalTemporalInformationModified = "MODIFIED"
    codes = ["113100", "113107", "113108"]
    ds.DeidentificationMethod = [PROFILE_CODES[c] for c in codes]  # LO: 64 characters per value
    seq = []
    for c in codes:
        item = Dataset()
        item.CodeValue = c
        item.CodingSchemeDesignator = "DCM"
        item.CodeMeaning = PROFILE_CODES[c]
        seq.append(item)
    ds.DeidentificationMethodCodeSequence = Sequence(seq)
    return ds
