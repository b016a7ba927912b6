"""Display objects (:mod:`rendering.scene`) for an intervention plan (:mod:`twin.plan`), LPS mm.

Landmarks become labelled markers, measurements thin lines, trajectories tubes
of their tool diameter with entry/target markers, resection cut planes
translucent squares, ablation zones translucent ellipsoids.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from rendering.scene import EllipsoidObject, LineObject, MarkerObject, PlaneObject, PlanObject

TRAJECTORY_COLORS = {
    "needle": (1.0, 0.85, 0.1), "screw": (0.75, 0.75, 0.8), "electrode": (0.3, 0.9, 1.0),
    "ablation_probe": (1.0, 0.55, 0.1),
}


def plan_to_objects(plan: Any, plane_size_mm: float = 120.0) -> list[PlanObject]:
    """Scene objects of a :class:`twin.plan.Plan` (or its ``to_dict()`` JSON, as stored in ``Project.plan``)."""
    from twin.plan import Plan

    if not plan:
        return []
    p = plan if isinstance(plan, Plan) else Plan.from_dict(plan)
    out: list[PlanObject] = []
    for lm in p.landmarks:
        out.append(MarkerObject(np.asarray(lm.position_lps), 2.0, (0.2, 0.9, 0.3), lm.name, f"landmark:{lm.id}"))
    for m in p.measurements:
        out.append(LineObject(np.asarray(m.points_lps, float), 0.4, (0.9, 0.9, 0.9), f"measurement:{m.id}"))
    for t in p.trajectories:
        color = TRAJECTORY_COLORS.get(t.kind, (1.0, 0.85, 0.1))
        pts = np.asarray([t.entry_lps, t.target_lps], float)
        out.append(LineObject(pts, max(t.diameter_mm / 2, 0.3), color, f"trajectory:{t.id}"))
        # one label per trajectory, at the target: seen along the path (the usual anterior view of an
        # antero-posterior needle) "entry" and "target" labels landed on top of each other, unreadable;
        # the markers' colours tell the ends apart (green entry, red target, as in the slice views)
        out.append(MarkerObject(pts[0], max(t.diameter_mm, 1.5), (0.2, 0.8, 0.2), "", f"trajectory:{t.id}:entry"))
        out.append(MarkerObject(pts[1], max(t.diameter_mm, 1.5), (0.9, 0.1, 0.1), t.name,
                                f"trajectory:{t.id}:target"))
    for r in p.resections:
        for n, cut in enumerate(r.planes):
            out.append(PlaneObject(np.asarray(cut.origin_lps, float), np.asarray(cut.normal_lps, float), plane_size_mm,
                                   (0.2, 0.6, 1.0), 0.35, f"resection:{r.id}:{n}"))
        if len(r.polyline_lps) >= 2:
            out.append(LineObject(np.asarray(r.polyline_lps, float), 0.6, (0.2, 0.6, 1.0), f"resection:{r.id}:line"))
    for a in p.ablation_zones:
        out.append(EllipsoidObject(np.asarray(a.center_lps, float), tuple(a.radii_mm), np.asarray(a.axes_lps, float),
                                   (1.0, 0.5, 0.0), 0.35, f"ablation:{a.id}"))
    return out
