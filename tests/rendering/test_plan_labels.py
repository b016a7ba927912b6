"""3-D plan labels do not pile up (one label per trajectory).
Frame: LPS mm."""

from __future__ import annotations

import numpy as np


def test_trajectory_has_one_label_at_its_target():
    from rendering.plan_view import plan_to_objects
    from rendering.scene import MarkerObject
    from twin.plan import Plan, Trajectory

    # antero-posterior needle: seen from the front, entry and target project on the same pixels
    plan = Plan(trajectories=[Trajectory(name="Trajectory 1", entry_lps=(-79.0, -80.0, -225.5),
                                         target_lps=(-79.0, -30.0, -225.5), diameter_mm=2.0)])
    markers = [o for o in plan_to_objects(plan.to_dict()) if isinstance(o, MarkerObject)]
    assert len(markers) == 2
    entry, target = markers
    np.testing.assert_allclose(entry.point_lps, [-79.0, -80.0, -225.5])
    np.testing.assert_allclose(target.point_lps, [-79.0, -30.0, -225.5])
    assert entry.label == "" and target.label == "Trajectory 1"  # one label: nothing to overlap
    assert entry.color[1] > entry.color[0] and target.color[0] > target.color[1]  # green entry, red target
