"""Tissue material library: constitutive model, parameters and literature source per tissue.

Units: MPa, tonne/mm^3 (1 g/cm^3 = 1e-9 tonne/mm^3). Models use the solver's
names: ``"linear-elastic"`` (E, nu), ``"neo-hookean"`` (compressible, FEBio form,
mu and lambda from E, nu) and ``"mooney-rivlin"`` (uncoupled: c10, c01, bulk modulus).

**Read before using these numbers.** They are *population* values for the
small-strain (initial) stiffness of *healthy* tissue, picked from the cited
studies. Soft-tissue stiffness measured by different methods (MR/ultrasound
elastography in vivo, indentation or compression ex vivo, human or porcine or
bovine, perfused or not, strain rate) routinely differs by a factor of 2-10, and
between patients by a factor of 2 or more; disease (fibrosis, cirrhosis, tumour
type, osteoporosis) changes it further. Each entry therefore carries a
``youngs_modulus_range_mpa`` with the spread we found in its references. Use
patient data (elastography, CT density for bone: :mod:`biomech.bone_density`)
when available, and run a sensitivity study otherwise.

Poisson's ratio: soft tissues are nearly incompressible (nu 0.49-0.499); the
library uses 0.45 for soft organs, a common choice in surgical simulation that
avoids volumetric locking of linear tetrahedra. Use tet10 elements and a value
closer to 0.49 when volume change matters. Elastography measures the shear
modulus G; E = 2 G (1 + nu) ~ 3 G for incompressible tissue.

Densities are from ICRU Report 44 (1989) unless noted (the tissues of interest
lie within ~1-2% of the values tabulated by Duck 1990).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from types import MappingProxyType
from typing import Any

from twin.errors import InputError

G_PER_CM3 = 1e-9
"""1 g/cm^3 in tonne/mm^3."""

ICRU44 = (
    "ICRU Report 44, Tissue Substitutes in Radiation Dosimetry and Measurement, International Commission on "
    "Radiation Units and Measurements, Bethesda MD, 1989 (tissue densities)"
)
DUCK1990 = "Duck FA. Physical Properties of Tissue: A Comprehensive Reference Book. Academic Press, London, 1990"


@dataclass(frozen=True)
class Tissue:
    """Mechanical parameters of one tissue.

    Attributes
    ----------
    name : str
        Library key (``"liver"``).
    display_name : str
    model : str
        ``"linear-elastic"``, ``"neo-hookean"`` or ``"mooney-rivlin"``.
    youngs_modulus_mpa : float
        Small-strain Young's modulus E (MPa); for Mooney-Rivlin the equivalent
        ``2 * 2(c10 + c01) * (1 + nu)``.
    poisson_ratio : float
    density_tonne_per_mm3 : float
    youngs_modulus_range_mpa : tuple of float
        Spread of E reported in the references (MPa).
    references : tuple of str
        Literature sources of the values.
    notes : str
        How the value was derived and its caveats.
    c10_mpa, c01_mpa, bulk_modulus_mpa : float or None
        Mooney-Rivlin parameters (only for that model).
    """

    name: str
    display_name: str
    model: str
    youngs_modulus_mpa: float
    poisson_ratio: float
    density_tonne_per_mm3: float
    youngs_modulus_range_mpa: tuple[float, float]
    references: tuple[str, ...]
    notes: str = ""
    c10_mpa: float | None = None
    c01_mpa: float | None = None
    bulk_modulus_mpa: float | None = None

    @property
    def shear_modulus_mpa(self) -> float:
        """Small-strain shear modulus mu = E / (2 (1 + nu)) (MPa)."""
        return self.youngs_modulus_mpa / (2.0 * (1.0 + self.poisson_ratio))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (units in the key names; ``None`` parameters dropped)."""
        d = asdict(self)
        d["youngs_modulus_range_mpa"] = list(self.youngs_modulus_range_mpa)
        d["references"] = list(self.references)
        d["units"] = {"modulus": "MPa", "density": "tonne/mm^3"}
        return {k: v for k, v in d.items() if v is not None}


def _mr_equivalent_e(c10: float, c01: float, nu: float) -> float:
    return 2.0 * (2.0 * (c10 + c01)) * (1.0 + nu)


def _bulk(mu: float, nu: float) -> float:
    return 2.0 * mu * (1.0 + nu) / (3.0 * (1.0 - 2.0 * nu))


_VESSEL_C10, _VESSEL_C01, _VESSEL_NU = 0.0189, 0.00275, 0.49

_ENTRIES = (
    Tissue(
        "liver", "Liver", "neo-hookean", 0.0066, 0.45, 1.06 * G_PER_CM3, (0.002, 0.02),
        (
            "Yin M, Talwalkar JA, Glaser KJ, et al. Assessment of hepatic fibrosis with magnetic resonance "
            "elastography. Clin Gastroenterol Hepatol 2007;5(10):1207-1213 (healthy liver shear stiffness ~2.2 kPa)",
            "Kerdok AE, Ottensmeyer MP, Howe RD. Effects of perfusion on the viscoelastic characteristics of liver. "
            "J Biomech 2006;39(12):2221-2231",
            "Chui C, Kobayashi E, Chen X, Hisada T, Sakuma I. Combined compression and elongation experiments and "
            "non-linear modelling of liver tissue for surgical simulation. Med Biol Eng Comput 2004;42(6):787-798",
            ICRU44,
        ),
        "E = 3 G from in-vivo MR elastography of healthy human liver (G ~ 2.2 kPa); ex-vivo porcine tests "
        "(Kerdok, Chui) give a few kPa at small strain and strong strain stiffening. Fibrosis raises G to 5-8 kPa.",
    ),
    Tissue(
        "kidney", "Kidney", "neo-hookean", 0.010, 0.45, 1.05 * G_PER_CM3, (0.003, 0.03),
        (
            "Nasseri S, Bilston LE, Phan-Thien N. Viscoelastic properties of pig kidney in shear, experimental "
            "results and modelling. Rheol Acta 2002;41:180-192",
            "Farshad M, Barbezat M, Fluekiger P, et al. Material characterization of the pig kidney in relation "
            "with the biomechanical analysis of renal trauma. J Biomech 1999;32(4):417-425",
            ICRU44,
        ),
        "Order of magnitude only: small-strain shear moduli of a few kPa (porcine, ex vivo); in-vivo MR "
        "elastography of human kidney reports similar values with large perfusion dependence.",
    ),
    Tissue(
        "spleen", "Spleen", "neo-hookean", 0.010, 0.45, 1.06 * G_PER_CM3, (0.005, 0.03),
        (
            "Talwalkar JA, Yin M, Venkatesh S, et al. Feasibility of in vivo MR elastographic splenic stiffness "
            "measurements in the assessment of portal hypertension. AJR Am J Roentgenol 2009;193(1):122-127",
            ICRU44,
        ),
        "E ~ 3 G from MR elastography of the spleen in subjects without portal hypertension (G of a few kPa); "
        "portal hypertension raises it several-fold.",
    ),
    Tissue(
        "brain_grey_matter", "Brain grey matter", "neo-hookean", 0.0014, 0.45, 1.04 * G_PER_CM3, (0.0005, 0.004),
        (
            "Budday S, Nay R, de Rooij R, et al. Mechanical properties of gray and white matter brain tissue by "
            "indentation. J Mech Behav Biomed Mater 2015;46:318-330 (grey matter E ~ 1.4 kPa)",
            "Budday S, Sommer G, Birkl C, et al. Mechanical characterization of human brain tissue. "
            "Acta Biomater 2017;48:319-340",
            ICRU44,
        ),
        "Indentation modulus of (bovine) grey matter; human multi-mode tests (Budday 2017) give shear moduli "
        "of ~0.5-1.5 kPa depending on region and loading mode. Brain is among the softest tissues.",
    ),
    Tissue(
        "brain_white_matter", "Brain white matter", "neo-hookean", 0.0019, 0.45, 1.04 * G_PER_CM3,
        (0.0005, 0.004),
        (
            "Budday S, Nay R, de Rooij R, et al. Mechanical properties of gray and white matter brain tissue by "
            "indentation. J Mech Behav Biomed Mater 2015;46:318-330 (white matter E ~ 1.9 kPa)",
            "Budday S, Sommer G, Birkl C, et al. Mechanical characterization of human brain tissue. "
            "Acta Biomater 2017;48:319-340",
            ICRU44,
        ),
        "Indentation modulus of (bovine) white matter; anisotropic along fibre tracts, which this isotropic model "
        "ignores. In human multi-mode tests the corona radiata came out softer than the cortex (Budday 2017).",
    ),
    Tissue(
        "fat", "Adipose tissue", "neo-hookean", 0.0032, 0.45, 0.95 * G_PER_CM3, (0.001, 0.02),
        (
            "Samani A, Zubovits J, Plewes D. Elastic moduli of normal and pathological human breast tissues: an "
            "inversion-technique-based investigation of 169 samples. Phys Med Biol 2007;52(6):1565-1576 "
            "(fat 3.25 +- 0.91 kPa)",
            "Comley K, Fleck NA. A micromechanical model for the Young's modulus of adipose tissue. "
            "Int J Solids Struct 2010;47(21):2982-2990",
            ICRU44,
        ),
        "Small-strain modulus of human breast fat (ex vivo indentation); subcutaneous and visceral fat vary.",
    ),
    Tissue(
        "muscle", "Skeletal muscle (passive)", "neo-hookean", 0.03, 0.45, 1.05 * G_PER_CM3, (0.01, 0.1),
        (
            "Van Loocke M, Lyons CG, Simms CK. A validated model of passive muscle in compression. "
            "J Biomech 2006;39(16):2999-3009",
            "Bensamoun SF, Ringleb SI, Littrell L, et al. Determination of thigh muscle stiffness using magnetic "
            "resonance elastography. J Magn Reson Imaging 2006;23(2):242-247",
            ICRU44,
        ),
        "Relaxed muscle, isotropic approximation of a strongly anisotropic, viscoelastic tissue; contraction "
        "raises the stiffness several-fold.",
    ),
    Tissue(
        "skin", "Skin", "neo-hookean", 0.2, 0.45, 1.09 * G_PER_CM3, (0.035, 0.85),
        (
            "Agache PG, Monneur C, Leveque JL, De Rigal J. Mechanical properties and Young's modulus of human "
            "skin in vivo. Arch Dermatol Res 1980;269(3):221-232 (torsion: 0.42-0.85 MPa)",
            "Pailler-Mattei C, Bec S, Zahouani H. In vivo measurements of the elastic mechanical properties of "
            "human skin by indentation tests. Med Eng Phys 2008;30(5):599-606 (dermis ~35 kPa)",
            ICRU44,
        ),
        "Skin stiffness depends enormously on method, site, age and pre-tension (Langer lines); the default is a "
        "geometric mean of the in-vivo indentation and torsion values.",
    ),
    Tissue(
        "vessel_wall", "Arterial wall", "mooney-rivlin",
        _mr_equivalent_e(_VESSEL_C10, _VESSEL_C01, _VESSEL_NU), _VESSEL_NU, 1.06 * G_PER_CM3, (0.1, 1.5),
        (
            "Prendergast PJ, Lally C, Daly S, et al. Analysis of prolapse in cardiovascular stents: a constitutive "
            "equation for vascular tissue and finite-element modelling. J Biomech Eng 2003;125(5):692-699 "
            "(human femoral artery, Mooney-Rivlin C10 = 18.9 kPa, C01 = 2.75 kPa plus higher-order terms)",
            "Raghavan ML, Vorp DA. Toward a biomechanical tool to evaluate rupture potential of abdominal aortic "
            "aneurysm. J Biomech 2000;33(4):475-482",
            ICRU44,
        ),
        "Only the first two terms of a five-term fit: valid for the initial (low-strain) response; physiological "
        "incremental moduli at blood pressure are 0.3-1.5 MPa because of collagen recruitment. Bulk modulus from "
        "nu = 0.49.",
        c10_mpa=_VESSEL_C10,
        c01_mpa=_VESSEL_C01,
        bulk_modulus_mpa=_bulk(2.0 * (_VESSEL_C10 + _VESSEL_C01), _VESSEL_NU),
    ),
    Tissue(
        "tumour", "Tumour (malignant liver lesion)", "neo-hookean", 0.030, 0.45, 1.06 * G_PER_CM3, (0.008, 0.06),
        (
            "Venkatesh SK, Yin M, Glockner JF, et al. MR elastography of liver tumors: preliminary results. "
            "AJR Am J Roentgenol 2008;190(6):1534-1540 (malignant ~10 kPa, benign ~2.7 kPa shear stiffness)",
            ICRU44,
        ),
        "E = 3 G for malignant liver tumours by MR elastography; benign lesions are close to liver, other organs' "
        "tumours differ (breast carcinoma ~20-40 kPa, Samani 2007).",
    ),
    Tissue(
        "cortical_bone", "Cortical bone", "linear-elastic", 17000.0, 0.3, 1.92 * G_PER_CM3, (10000.0, 22000.0),
        (
            "Reilly DT, Burstein AH. The elastic and ultimate properties of compact bone tissue. "
            "J Biomech 1975;8(6):393-405 (human femur: longitudinal 17.9 GPa, transverse 10.1 GPa)",
            ICRU44,
        ),
        "Isotropic approximation of transversely isotropic tissue (longitudinal value rounded down).",
    ),
    Tissue(
        "cancellous_bone", "Cancellous (trabecular) bone", "linear-elastic", 400.0, 0.3, 1.18 * G_PER_CM3,
        (50.0, 3000.0),
        (
            "Morgan EF, Bayraktar HH, Keaveny TM. Trabecular bone modulus-density relationships depend on "
            "anatomic site. J Biomech 2003;36(7):897-904",
            "Keaveny TM, Morgan EF, Niebur GL, Yeh OC. Biomechanics of trabecular bone. "
            "Annu Rev Biomed Eng 2001;3:307-333",
            ICRU44,
        ),
        "Strongly density dependent (E ~ rho^1.5-2): use biomech.bone_density.element_moduli_from_ct per element "
        "when CT is available. Default = vertebral/femoral apparent density ~0.2-0.3 g/cm^3; density is of "
        "bone plus marrow (ICRU 44 spongiosa).",
    ),
)

TISSUES: Mapping[str, Tissue] = MappingProxyType({t.name: t for t in _ENTRIES})
"""The library, read-only, keyed by :attr:`Tissue.name`."""

_ALIASES = {
    "grey_matter": "brain_grey_matter", "gray_matter": "brain_grey_matter", "brain_gray_matter": "brain_grey_matter",
    "white_matter": "brain_white_matter", "adipose": "fat", "adipose_tissue": "fat", "tumor": "tumour",
    "lesion": "tumour", "artery": "vessel_wall", "vessel": "vessel_wall", "trabecular_bone": "cancellous_bone",
    "spongy_bone": "cancellous_bone", "compact_bone": "cortical_bone", "skeletal_muscle": "muscle",
}


# keyword (in a segment name) -> tissue; first match wins, so specific words come first
_SEGMENT_KEYWORDS = (
    (("tumor", "tumour", "lesion", "metasta", "carcinoma", "nodule"), "tumour"),
    (("aorta", "artery", "arteria", "vessel", "vena", "vein", "portal", "iliac_a", "carotid"), "vessel_wall"),
    (("white_matter", "white matter"), "brain_white_matter"),
    (("grey_matter", "gray_matter", "grey matter", "gray matter", "cortex_cerebr", "brain"), "brain_grey_matter"),
    (("liver", "hepat"), "liver"),
    (("kidney", "renal"), "kidney"),
    (("spleen", "splen"), "spleen"),
    (("fat", "adipose"), "fat"),
    (("muscle", "autochthon", "iliopsoas", "gluteus", "psoas"), "muscle"),
    (("skin", "dermis"), "skin"),
    (("cortical",), "cortical_bone"),
    (("vertebra", "rib", "femur", "hip", "sacrum", "humerus", "scapula", "clavic", "sternum", "skull", "bone",
      "pelvis", "tibia", "fibula"), "cancellous_bone"),
)


def guess_tissue(segment_name: str) -> Tissue | None:
    """Library tissue suggested by a segment name (e.g. TotalSegmentator's ``"kidney_left"``), or ``None``.

    A suggestion for pre-filling a material table, never a silent choice: bones map to
    cancellous bone (use CT moduli, :mod:`biomech.bone_density`), vessels to the arterial wall.
    """
    key = str(segment_name).strip().lower().replace("-", "_")
    for words, tissue in _SEGMENT_KEYWORDS:
        if any(w in key for w in words):
            return TISSUES[tissue]
    return None


def get_tissue(name: str) -> Tissue:
    """Look up a tissue by name (case, spaces and hyphens ignored; a few aliases such as ``"tumor"``).

    Raises
    ------
    InputError
        Listing the known names.
    """
    key = str(name).strip().lower().replace("-", "_").replace(" ", "_")
    key = _ALIASES.get(key, key)
    if key in TISSUES:
        return TISSUES[key]
    raise InputError(f"unknown tissue {name!r}; known tissues: {', '.join(sorted(TISSUES))}")
