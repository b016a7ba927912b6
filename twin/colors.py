"""Default segment colours for common anatomy (RGB in [0, 1]).

Values follow the spirit of 3D Slicer's GenericAnatomyColors table; unknown
names get a deterministic colour from a qualitative palette.
"""

from __future__ import annotations

ANATOMY_COLORS: dict[str, tuple[float, float, float]] = {
    "body": (0.69, 0.48, 0.40),
    "skin": (0.69, 0.48, 0.40),
    "fat": (0.90, 0.86, 0.27),
    "muscle": (0.75, 0.39, 0.35),
    "bone": (0.95, 0.93, 0.84),
    "spine": (0.95, 0.93, 0.84),
    "vertebrae": (0.95, 0.93, 0.84),
    "ribs": (0.91, 0.86, 0.71),
    "liver": (0.87, 0.51, 0.41),
    "tumor": (0.56, 0.93, 0.56),
    "tumour": (0.56, 0.93, 0.56),
    "hepatic_vessels": (0.0, 0.59, 0.81),
    "portal_vein": (0.0, 0.59, 0.81),
    "kidney": (0.72, 0.45, 0.20),
    "kidney_left": (0.72, 0.45, 0.20),
    "kidney_right": (0.72, 0.45, 0.20),
    "spleen": (0.62, 0.19, 0.38),
    "aorta": (0.85, 0.11, 0.11),
    "ivc": (0.0, 0.35, 0.75),
    "inferior_vena_cava": (0.0, 0.35, 0.75),
    "lung": (0.77, 0.85, 0.96),
    "lungs": (0.77, 0.85, 0.96),
    "heart": (0.81, 0.24, 0.24),
    "stomach": (0.85, 0.73, 0.55),
    "pancreas": (0.98, 0.71, 0.48),
    "gallbladder": (0.54, 0.67, 0.19),
    "brain": (0.98, 0.82, 0.78),
    "vessel": (0.85, 0.11, 0.11),
}

_PALETTE = [
    (0.12, 0.47, 0.71), (1.0, 0.50, 0.05), (0.17, 0.63, 0.17), (0.84, 0.15, 0.16),
    (0.58, 0.40, 0.74), (0.55, 0.34, 0.29), (0.89, 0.47, 0.76), (0.50, 0.50, 0.50),
    (0.74, 0.74, 0.13), (0.09, 0.75, 0.81),
]


def color_for_name(name: str, value: int = 0) -> tuple[float, float, float]:
    """Colour for an anatomy name; falls back to a palette entry chosen by ``value``."""
    key = name.lower().replace(" ", "_").replace("-", "_")
    if key in ANATOMY_COLORS:
        return ANATOMY_COLORS[key]
    words = key.split("_")
    # a lesion inside an organ ("liver_tumor") must not take the organ's colour
    for word in words:
        if word in _LESION_WORDS:
            return ANATOMY_COLORS["tumor"]
    matches = [known for known in ANATOMY_COLORS if key.startswith(known) or key.endswith(known)]
    if matches:
        return ANATOMY_COLORS[max(matches, key=len)]  # the most specific name ("hepatic_vessels" over "vessel")
    return _PALETTE[value % len(_PALETTE)]


_LESION_WORDS = {"tumor", "tumour", "tumors", "tumours", "lesion", "lesions", "metastasis", "metastases", "mass",
                 "nodule", "cyst", "neoplasm", "carcinoma", "hcc"}
