"""A small synthetic planning case (frame LPS, mm) shared by report tests."""

from __future__ import annotations

import numpy as np

from twin.geometry import ImageGeometry
from twin.labelmap import LabelMap
from twin.plan import (
    AblationZone,
    CutPlane,
    Landmark,
    Measurement,
    Plan,
    Rehearsal,
    Resection,
    SafetyMargin,
    Trajectory,
)
from twin.project import Project
from twin.volume import Volume

H = 1.0
TUMOUR_C = np.array([60.5, 50.5, 40.5])


def make_project(with_plan: bool = True) -> Project:
    """Liver block 40x60x50 mm with a 6 mm tumour and a vessel; CT-like HU; a full plan."""
    geom = ImageGeometry((100, 90, 80), (H, H, H), (0.5, 0.5, 0.5), np.eye(3))
    idx = np.stack(np.meshgrid(*[np.arange(s) for s in geom.shape], indexing="ij"), axis=-1)
    c = geom.index_to_lps(idx.reshape(-1, 3)).reshape(*geom.shape, 3)
    liver = (c[..., 0] >= 30) & (c[..., 0] < 90) & (c[..., 1] >= 20) & (c[..., 1] < 80) & (c[..., 2] >= 15) & (
        c[..., 2] < 65)
    tumour = np.linalg.norm(c - TUMOUR_C, axis=-1) <= 6.0
    vessel = (np.hypot(c[..., 0] - 45.5, c[..., 1] - 50.5) <= 3.0) & (c[..., 2] >= 5)
    labels = np.zeros(geom.shape, np.uint8)
    labels[liver] = 1
    labels[vessel] = 3
    labels[tumour] = 2
    lm = LabelMap.from_array(labels, geom, names={1: "liver", 2: "tumour", 3: "portal_vein"})
    rng = np.random.default_rng(0)
    hu = np.full(geom.shape, -100.0)
    hu[liver] = 60.0
    hu[vessel] = 180.0
    hu[tumour] = 30.0
    hu += rng.normal(0, 5, geom.shape)
    vol = Volume(np.rint(hu).astype(np.int16), geom, "CT", "HU", "ct",
                 {"PatientName": "Doe^Jane", "PatientID": "PID-12345", "SeriesInstanceUID": "1.2.3.4.5.6",
                  "StudyDate": "20240102", "source": "synthetic test case"})
    proj = Project(name="synthetic", volumes={"ct": vol}, labelmaps={"segmentation": lm})
    if with_plan:
        plan = Plan(critical_segments=["portal_vein"], labelmap="segmentation")
        plan.add(Landmark(name="tumour centre", position_lps=TUMOUR_C))
        plan.add(Measurement(name="width", kind="distance", points_lps=((30, 50, 40), (90, 50, 40))))
        # the needle comes from +L, 15 mm anterior... axis distance to the vessel axis (x=45.5,y=50.5) known
        plan.add(Trajectory(name="biopsy", entry_lps=(99.5, 50.5, 40.5), target_lps=tuple(TUMOUR_C), diameter_mm=2.0,
                            length_mm=150.0, kind="needle", target_segment="tumour"))
        plan.add(Resection(name="right cut", organ_segment="liver", tumour_segment="tumour",
                           planes=(CutPlane((50.0, 0, 0), (1, 0, 0)),), vessel_segments=("portal_vein",)))
        plan.add(SafetyMargin(name="tumour-vessel", target_segment="tumour", critical_segments=("portal_vein",)))
        plan.add(AblationZone(name="MWA", center_lps=TUMOUR_C, radii_mm=(12, 12, 12), tumour_segment="tumour",
                              margin_mm=5.0))
        plan.add(Rehearsal(name="retract", organ_segment="liver", point_lps=(60.5, 20.0, 40.5), radius_mm=12.0,
                           displacement_lps=(0, -8, 0)))
        proj.plan = plan.to_dict()
    return proj
