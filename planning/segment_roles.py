"""What a needle may pass through: a role for each segment, from its name or terminology.

A percutaneous tool necessarily traverses the body wall (skin, subcutaneous
fat, muscle) and the organ that contains its target; those are *traversed*
(reported with the path length through each), not violations. Structures at
risk (vessels, hollow viscera, gallbladder, kidneys, spleen, pancreas, lungs and
pleura, bone, nerves, heart ...) are *critical*: they are checked for crossing
and for the clearance to the tool against a safety margin.

Roles
-----
``container``
    Body wall and envelopes, always traversed: body, skin, subcutaneous / torso
    fat, skeletal muscle (TotalSegmentator ``autochthon_*``, ``iliopsoas_*``, ``gluteus_*``).
``traversable``
    Parenchyma a needle may cross without special risk: liver (transhepatic routes).
``target``
    Lesions: tumour/tumor, lesion, neoplasm, metastasis, nodule, mass, cyst.
``critical``
    Everything else, including any name not recognised (a false alarm is safer
    than a missed vessel). ``category`` refines it (``vessel``, ``hollow_viscus``,
    ``organ``, ``bone``, ``lung``, ``nerve``, ``other``).
``ignore``
    Never a default; only a user override (:attr:`twin.plan.Plan.segment_roles`):
    neither checked for clearance nor treated as the target's organ (e.g. an
    auxiliary or duplicate segment). Still listed, with its length, as traversed.

Per trajectory, :func:`planning.trajectories.evaluate_trajectory` promotes the
solid organ (category ``organ`` or role ``traversable``) that contains the
target to ``target_organ``; vessels, bone, lungs and hollow viscera stay critical
even when they contain the target (name them as the target segment to exclude them).
The defaults are overridden by the plan (``Plan.segment_roles``, per call ``roles=``)
and by an explicit critical list (``Plan.critical_segments``); a role override wins
over the list (see :func:`planning.trajectories.evaluate_trajectory`).
Names follow TotalSegmentator and 3D Slicer conventions; matching is on lower-case
tokens of the name (split on ``_``, ``-``, space), then on the terminology's ``meaning``.
No geometry here (Qt-free, frame-free).
"""

from __future__ import annotations

import re
from typing import Any

from twin.plan import SEGMENT_ROLES

ROLES = SEGMENT_ROLES
"""Role names a user may give (see the module docstring); the same tuple as :data:`twin.plan.SEGMENT_ROLES`."""

# (regular expression on the normalised name " tok tok ", role, category); first match wins.
DEFAULT_ROLE_RULES: tuple[tuple[str, str, str], ...] = (
    (r" (tumou?rs?|lesions?|neoplasms?|metastas[ie]s|nodules?|mass|masses|cysts?|hcc|carcinoma) ", "target", "lesion"),
    (r" (aorta|ivc|vena|cava|veins?|vena|venous|arter(y|ies)|arterial|vessels?|vascular|vasculature|portal|"
     r"trunk|carotid|jugular|subclavian|iliac|renal_vessels|hepatic_vessels|pulmonary_(artery|vein)|blood) ",
     "critical", "vessel"),
    (r" (body|skin|subcutaneous|subcutaneous_fat|torso_fat|fat|adipose|muscles?|skeletal|autochthon|iliopsoas|"
     r"psoas|gluteus|abdominal_wall|soft_tissue|tissue|background) ", "container", "body_wall"),
    (r" (liver|hepatic|parenchyma) ", "traversable", "organ"),
    (r" (stomach|bowel|colon|duodenum|jejunum|ileum|rectum|esophagus|oesophagus|intestines?|gut|caecum|cecum|"
     r"appendix|gallbladder|bladder|urinary_bladder|trachea|bile|biliary) ", "critical", "hollow_viscus"),
    (r" (lungs?|lobe|pleura|pleural|airway|bronch\w*) ", "critical", "lung"),
    (r" (spine|spinal_column|vertebrae?|rib|ribs|sternum|sacrum|hip|femur|humerus|scapula|clavicula|clavicle|skull|"
     r"bone|bones|costal|cartilages?|intervertebral|discs?|pelvis|ilium) ", "critical", "bone"),
    (r" (nerves?|spinal_cord|cord|plexus|brain) ", "critical", "nerve"),
    (r" (kidneys?|renal|spleen|pancreas|adrenal|gland|heart|atri(al|um)|ventricles?|myocardium|prostate|uterus|"
     r"ovary|thyroid|organ) ",
     "critical", "organ"),
)


def _normalise(text: str) -> str:
    toks = [t for t in re.split(r"[\s_\-./]+", text.lower()) if t]
    # single tokens plus adjacent pairs joined by "_" (``spinal_cord``, ``subcutaneous_fat``)
    pairs = [f"{a}_{b}" for a, b in zip(toks, toks[1:], strict=False)]
    return " " + " ".join(toks + pairs) + " "


def classify_name(name: str, meaning: str | None = None) -> tuple[str, str]:
    """Default ``(role, category)`` of a segment from its name (then its terminology meaning).

    Unknown names are ``("critical", "other")``.

    Examples
    --------
    >>> classify_name("subcutaneous_fat")
    ('container', 'body_wall')
    >>> classify_name("portal_vein_and_splenic_vein")
    ('critical', 'vessel')
    >>> classify_name("Segment_1", "Liver")
    ('traversable', 'organ')
    """
    for text in (name, meaning):
        if not text:
            continue
        norm = _normalise(text)
        for pattern, role, category in DEFAULT_ROLE_RULES:
            if re.search(pattern, norm):
                return role, category
    return "critical", "other"


def default_roles(segments: Any) -> dict[str, dict[str, str]]:
    """``{name: {"role", "category"}}`` for segments (``twin.labelmap.Segment`` objects or plain names)."""
    out: dict[str, dict[str, str]] = {}
    for s in segments:
        name = s if isinstance(s, str) else s.name
        term = None if isinstance(s, str) else (getattr(s, "terminology", None) or {}).get("meaning")
        role, category = classify_name(name, term)
        out[name] = {"role": role, "category": category}
    return out


def default_critical_names(segments: Any, exclude: tuple[str | None, ...] = ()) -> list[str]:
    """Names of the segments whose default role is ``critical`` (in the given order), minus ``exclude``."""
    return [n for n, r in default_roles(segments).items() if r["role"] == "critical" and n not in exclude]


def checked_names(segments: Any, critical_segments: list[str] | None = None, roles: dict[str, str] | None = None,
                  exclude: tuple[str | None, ...] = ()) -> list[str]:
    """Segments checked for clearance under a plan's settings (before the per-trajectory target organ).

    The explicit list (else the default critical set by name, with ``roles``
    applied), minus segments overridden to a non-critical role, plus segments
    overridden to ``critical``, minus ``exclude``. Same rule as
    :func:`planning.trajectories.evaluate_trajectory`.

    Examples
    --------
    >>> checked_names(["aorta", "ribs", "liver"], None, {"ribs": "ignore", "liver": "critical"})
    ['aorta', 'liver']
    >>> checked_names(["aorta", "ribs", "liver"], ["ribs", "aorta"], {"aorta": "container"})
    ['ribs']
    """
    given = roles or {}
    names = [s if isinstance(s, str) else s.name for s in segments]
    if critical_segments:
        out = [n for n in critical_segments if given.get(n, "critical") == "critical"]
        out += [n for n, r in given.items() if r == "critical" and n in names and n not in out]
    else:
        table = default_roles(segments)
        out = [n for n in names if given.get(n, table[n]["role"]) == "critical"]
    return [n for n in out if n not in exclude]


def role_overrides_text(overrides: dict[str, str] | None) -> str:
    """``"default"`` or ``"N override(s)"`` for reports and the panel.

    Examples
    --------
    >>> role_overrides_text({})
    'default'
    >>> role_overrides_text({"ribs": "traversable", "stomach": "ignore"})
    '2 overrides'
    """
    n = len(overrides or {})
    return "default" if n == 0 else f"{n} override{'s' if n > 1 else ''}"
