"""DICOM Segmentation objects (DICOM-SEG) with highdicom, referencing the source CT/MR series.

The label map must lie on the grid of the reference series (checked); if it only covers
the same physical space on another grid (e.g. a NIfTI with a flipped axis), it is
resampled onto the series grid with nearest-neighbour interpolation first.
Frame LPS, mm (DICOM's patient frame is LPS).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from twin.errors import InputError
from twin.labelmap import LabelMap, Segment, compact_layers, place_in_layers
from twin.progress import Progress, ensure_progress

_SOFTWARE = "VHT Planner 0.1"


def _read_series(folder: Path, notes: list[str] | None = None):  # type: ignore[no-untyped-def]
    import pydicom

    files = [f for f in sorted(folder.rglob("*")) if f.is_file()]
    datasets = []
    for f in files:
        try:
            ds = pydicom.dcmread(str(f))
        except Exception:  # noqa: BLE001 - non-DICOM files in the folder are skipped
            continue
        if "ImagePositionPatient" in ds and "PixelData" in ds:
            datasets.append(ds)
    if not datasets:
        raise InputError("no DICOM images found", folder)
    invented = _repair_uids(datasets)
    if invented and notes is not None:
        notes.append(f"the reference series has no {', '.join(invented)}: the DICOM-SEG references UIDs derived "
                     "from its images, which other systems holding the original series will not recognise")
    uids = {ds.SeriesInstanceUID for ds in datasets}
    if len(uids) > 1:
        biggest = max(uids, key=lambda u: sum(ds.SeriesInstanceUID == u for ds in datasets))
        datasets = [ds for ds in datasets if ds.SeriesInstanceUID == biggest]
    return datasets


def _repair_uids(datasets: list) -> list[str]:  # type: ignore[type-arg]
    """Fill UIDs that anonymisers blank (in memory only): SOP class/instance from the file meta,
    study / series / frame of reference derived deterministically from what is left.

    Returns the keywords of the study / series / frame-of-reference UIDs that had to be invented.
    """
    from pydicom.uid import generate_uid

    for ds in datasets:
        meta = getattr(ds, "file_meta", None)
        if not ds.get("SOPClassUID") and meta is not None and meta.get("MediaStorageSOPClassUID"):
            ds.SOPClassUID = meta.MediaStorageSOPClassUID
        if not ds.get("SOPInstanceUID") and meta is not None and meta.get("MediaStorageSOPInstanceUID"):
            ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    series = next((str(ds.SeriesInstanceUID) for ds in datasets if ds.get("SeriesInstanceUID")), "")
    seed = [series or str(datasets[0].get("SOPInstanceUID", ""))]
    invented = []
    for key in ("StudyInstanceUID", "SeriesInstanceUID", "FrameOfReferenceUID"):
        present = next((str(ds.get(key)) for ds in datasets if ds.get(key)), None)
        if present is None:
            invented.append(key)
        value = present or generate_uid(entropy_srcs=[*seed, key])
        for ds in datasets:
            if not ds.get(key):
                setattr(ds, key, value)
    return invented


def _on_reference_grid(labelmap: LabelMap, reference) -> LabelMap:  # type: ignore[no-untyped-def]
    """Resample (nearest) the label map onto the reference grid when the grids differ."""
    if labelmap.geometry.is_same_grid(reference):
        return labelmap
    import SimpleITK as sitk

    from twin.volume import array_to_sitk, sitk_to_array

    layers = []
    for layer in labelmap.layers:
        img = array_to_sitk(layer, labelmap.geometry)
        ref = array_to_sitk(np.zeros(reference.shape, np.uint8), reference)
        out = sitk.Resample(img, ref, sitk.Transform(), sitk.sitkNearestNeighbor, 0)
        arr, _ = sitk_to_array(out)
        layers.append(arr.astype(layer.dtype))
    return LabelMap(layers, reference, list(labelmap.segments), labelmap.name)


def _code(seg: Segment):  # type: ignore[no-untyped-def]
    from pydicom.sr.codedict import codes
    from pydicom.sr.coding import Code

    t = seg.terminology or {}
    if t.get("code") and t.get("scheme"):
        return Code(t["code"], t["scheme"], t.get("meaning", seg.name))
    return codes.SCT.Tissue


def write_dicom_seg(labelmap: LabelMap, reference_dir: str | Path, path: str | Path,
                    progress: Progress | None = None, deidentify: bool = False, salt: str | None = None,
                    notes: list[str] | None = None) -> Path:
    """Write ``labelmap`` as a binary DICOM-SEG referencing the series in ``reference_dir``.

    Segments become segment numbers 1..n in table order (label, colour as CIELab, coded
    property type from the segment's terminology or "Tissue"). Empty segments are kept.
    With ``deidentify``, :func:`twin.deid.deidentify_dataset` is applied before writing (same
    pseudonym, date shift and replacement UIDs as ``vht convert --deidentify`` with that
    ``salt``, so the references still match the de-identified series). Warnings for the user
    (e.g. UIDs the reference series lacks and that had to be derived) are appended to ``notes``.
    """
    import highdicom as hd
    from pydicom.sr.codedict import codes

    from twin.io.atomic import atomic_path
    from twin.io.images import read_image

    p = ensure_progress(progress)
    ref_dir = Path(reference_dir)
    if not ref_dir.exists():
        raise InputError("no such reference DICOM folder", ref_dir)
    if not labelmap.segments:
        raise InputError("the segmentation has no segments to export")
    p.update(0.05, "reading the reference series")
    ref_vol = read_image(ref_dir)
    datasets = _read_series(ref_dir, notes)
    lm = _on_reference_grid(labelmap, ref_vol.geometry)
    g = ref_vol.geometry
    # frame index k of each source image from its position
    ks = [int(np.rint(g.lps_to_index(np.array([[float(v) for v in ds.ImagePositionPatient]]))[0, 2]))
          for ds in datasets]
    if sorted(ks) != list(range(g.shape[2])):
        raise InputError("reference series slices do not match the image grid", ref_dir)
    order = np.argsort(ks)
    datasets = [datasets[i] for i in order]
    p.update(0.3, "building DICOM-SEG")
    masks = np.zeros((g.shape[2], g.shape[1], g.shape[0], len(lm.segments)), bool)  # frames, rows, cols, segs
    for n, s in enumerate(lm.segments):
        masks[..., n] = lm.mask(s).transpose(2, 1, 0)
    descriptions = []
    for n, s in enumerate(lm.segments):
        lab = hd.color.CIELabColor(*(_rgb_to_lab(s.color)))
        descriptions.append(hd.seg.SegmentDescription(
            segment_number=n + 1, segment_label=s.name[:64],
            segmented_property_category=codes.SCT.Tissue if not s.terminology else codes.SCT.AnatomicalStructure,
            segmented_property_type=_code(s),
            algorithm_type=hd.seg.SegmentAlgorithmTypeValues.SEMIAUTOMATIC,
            algorithm_identification=hd.AlgorithmIdentificationSequence(
                name="VHT Planner segmentation", version="0.1", family=codes.cid7162.ArtificialIntelligence),
            display_color=lab,
        ))
    seg = hd.seg.Segmentation(
        source_images=datasets, pixel_array=masks,
        segmentation_type=hd.seg.SegmentationTypeValues.BINARY,
        segment_descriptions=descriptions,
        series_instance_uid=hd.UID(), series_number=900, sop_instance_uid=hd.UID(), instance_number=1,
        manufacturer="VHT Planner", manufacturer_model_name="vht", software_versions=_SOFTWARE,
        device_serial_number="0", series_description=f"VHT segmentation {lm.name}"[:64],
        omit_empty_frames=False,
    )
    if deidentify:
        import io

        import pydicom

        from twin.deid import deidentify_dataset

        buf = io.BytesIO()  # a written copy: highdicom shares items between sequences (would be hashed twice)
        seg.save_as(buf)
        buf.seek(0)
        seg = pydicom.dcmread(buf)
        deidentify_dataset(seg, salt)
        seg.SeriesDescription = "VHT segmentation (de-identified)"
    p.update(0.8, "writing")
    out = Path(path)
    with atomic_path(out) as tmp:
        seg.save_as(str(tmp))
    p.update(1.0, "DICOM-SEG written")
    return out


def _rgb_to_lab(rgb: tuple[float, float, float]) -> tuple[float, float, float]:
    """sRGB in [0, 1] -> CIE L*a*b* (D65)."""
    c = np.clip(np.asarray(rgb, float), 0, 1)
    lin = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    m = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]])
    xyz = m @ lin / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > (6 / 29) ** 3, np.cbrt(xyz), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    L = 116 * f[1] - 16
    return float(L), float(500 * (f[0] - f[1])), float(200 * (f[1] - f[2]))


def read_dicom_seg(path: str | Path, reference_dir: str | Path) -> LabelMap:
    """Read a DICOM-SEG written for ``reference_dir`` back onto the reference grid (one layer per overlap).

    Segment names come from the segment labels; every segment gets its own value in layer 0
    unless segments overlap, in which case extra layers are used.
    """
    import highdicom as hd

    from twin.io.images import read_image

    seg = hd.seg.segread(str(path))
    ref_vol = read_image(reference_dir)
    g = ref_vol.geometry
    datasets = _read_series(Path(reference_dir))
    by_uid = {ds.SOPInstanceUID: ds for ds in datasets}
    numbers = list(seg.segment_numbers)
    layers: list[np.ndarray] = []
    segs: list[Segment] = []
    for num in numbers:
        desc = seg.get_segment_description(num)
        mask = np.zeros(g.shape, bool)
        for uid, ds in by_uid.items():
            try:
                px = seg.get_pixels_by_source_instance(
                    source_sop_instance_uids=[uid], segment_numbers=[num], assert_missing_frames_are_empty=True,
                    combine_segments=False)
            except (ValueError, KeyError):
                continue
            k = int(np.rint(g.lps_to_index(np.array([[float(v) for v in ds.ImagePositionPatient]]))[0, 2]))
            mask[:, :, k] = px[0, :, :, 0].T > 0
        li, value = place_in_layers(layers, [s.layer for s in segs], mask)
        code = desc.segmented_property_type
        term = {"scheme": code.scheme_designator, "code": code.value, "meaning": code.meaning}
        segs.append(Segment(value, str(desc.segment_label), _lab_to_rgb(desc), li, term))
    layers = compact_layers(layers) if layers else [np.zeros(g.shape, np.uint8)]
    return LabelMap(layers, g, segs, name=Path(path).stem)


def _lab_to_rgb(desc) -> tuple[float, float, float]:  # type: ignore[no-untyped-def]
    """DICOM RecommendedDisplayCIELabValue (0-65535 scaled) -> sRGB in [0, 1]."""
    lab = desc.get("RecommendedDisplayCIELabValue")
    if not lab or len(lab) != 3:
        return (0.8, 0.8, 0.2)
    L = lab[0] / 65535.0 * 100.0
    a = lab[1] / 65535.0 * 255.0 - 128.0
    b = lab[2] / 65535.0 * 255.0 - 128.0
    fy = (L + 16) / 116
    f = np.array([fy + a / 500, fy, fy - b / 200])
    xyz = np.where(f > 6 / 29, f**3, 3 * (6 / 29) ** 2 * (f - 4 / 29)) * np.array([0.95047, 1.0, 1.08883])
    m = np.array([[3.2406, -1.5372, -0.4986], [-0.9689, 1.8758, 0.0415], [0.0557, -0.2040, 1.0570]])
    lin = np.clip(m @ xyz, 0, 1)
    c = np.where(lin <= 0.0031308, 12.92 * lin, 1.055 * lin ** (1 / 2.4) - 0.055)
    return (float(c[0]), float(c[1]), float(c[2]))
