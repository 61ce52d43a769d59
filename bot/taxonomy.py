"""The arXiv category taxonomy (every current code and its name, plus legacy archive codes).

Used to validate user input (`--category`, slash-command options), to suggest the closest valid
code for a typo, and to autocomplete (prefix of the code or words of the name).
"""

from __future__ import annotations

import difflib
import logging
import re

log = logging.getLogger(__name__)

_GROUPS: dict[str, dict[str, str]] = {
    "cs": {
        "AI": "Artificial Intelligence",
        "AR": "Hardware Architecture",
        "CC": "Computational Complexity",
        "CE": "Computational Engineering, Finance, and Science",
        "CG": "Computational Geometry",
        "CL": "Computation and Language",
        "CR": "Cryptography and Security",
        "CV": "Computer Vision and Pattern Recognition",
        "CY": "Computers and Society",
        "DB": "Databases",
        "DC": "Distributed, Parallel, and Cluster Computing",
        "DL": "Digital Libraries",
        "DM": "Discrete Mathematics",
        "DS": "Data Structures and Algorithms",
        "ET": "Emerging Technologies",
        "FL": "Formal Languages and Automata Theory",
        "GL": "General Literature",
        "GR": "Graphics",
        "GT": "Computer Science and Game Theory",
        "HC": "Human-Computer Interaction",
        "IR": "Information Retrieval",
        "IT": "Information Theory",
        "LG": "Machine Learning",
        "LO": "Logic in Computer Science",
        "MA": "Multiagent Systems",
        "MM": "Multimedia",
        "MS": "Mathematical Software",
        "NA": "Numerical Analysis",
        "NE": "Neural and Evolutionary Computing",
        "NI": "Networking and Internet Architecture",
        "OH": "Other Computer Science",
        "OS": "Operating Systems",
        "PF": "Performance",
        "PL": "Programming Languages",
        "RO": "Robotics",
        "SC": "Symbolic Computation",
        "SD": "Sound",
        "SE": "Software Engineering",
        "SI": "Social and Information Networks",
        "SY": "Systems and Control",
    },
    "econ": {
        "EM": "Econometrics",
        "GN": "General Economics",
        "TH": "Theoretical Economics",
    },
    "eess": {
        "AS": "Audio and Speech Processing",
        "IV": "Image and Video Processing",
        "SP": "Signal Processing",
        "SY": "Systems and Control",
    },
    "math": {
        "AC": "Commutative Algebra",
        "AG": "Algebraic Geometry",
        "AP": "Analysis of PDEs",
        "AT": "Algebraic Topology",
        "CA": "Classical Analysis and ODEs",
        "CO": "Combinatorics",
        "CT": "Category Theory",
        "CV": "Complex Variables",
        "DG": "Differential Geometry",
        "DS": "Dynamical Systems",
        "FA": "Functional Analysis",
        "GM": "General Mathematics",
        "GN": "General Topology",
        "GR": "Group Theory",
        "GT": "Geometric Topology",
        "HO": "History and Overview",
        "IT": "Information Theory",
        "KT": "K-Theory and Homology",
        "LO": "Logic",
        "MG": "Metric Geometry",
        "MP": "Mathematical Physics",
        "NA": "Numerical Analysis",
        "NT": "Number Theory",
        "OA": "Operator Algebras",
        "OC": "Optimization and Control",
        "PR": "Probability",
        "QA": "Quantum Algebra",
        "RA": "Rings and Algebras",
        "RT": "Representation Theory",
        "SG": "Symplectic Geometry",
        "SP": "Spectral Theory",
        "ST": "Statistics Theory",
    },
    "astro-ph": {
        "CO": "Cosmology and Nongalactic Astrophysics",
        "EP": "Earth and Planetary Astrophysics",
        "GA": "Astrophysics of Galaxies",
        "HE": "High Energy Astrophysical Phenomena",
        "IM": "Instrumentation and Methods for Astrophysics",
        "SR": "Solar and Stellar Astrophysics",
    },
    "cond-mat": {
        "dis-nn": "Disordered Systems and Neural Networks",
        "mes-hall": "Mesoscale and Nanoscale Physics",
        "mtrl-sci": "Materials Science",
        "other": "Other Condensed Matter",
        "quant-gas": "Quantum Gases",
        "soft": "Soft Condensed Matter",
        "stat-mech": "Statistical Mechanics",
        "str-el": "Strongly Correlated Electrons",
        "supr-con": "Superconductivity",
    },
    "nlin": {
        "AO": "Adaptation and Self-Organizing Systems",
        "CD": "Chaotic Dynamics",
        "CG": "Cellular Automata and Lattice Gases",
        "PS": "Pattern Formation and Solitons",
        "SI": "Exactly Solvable and Integrable Systems",
    },
    "physics": {
        "acc-ph": "Accelerator Physics",
        "ao-ph": "Atmospheric and Oceanic Physics",
        "app-ph": "Applied Physics",
        "atm-clus": "Atomic and Molecular Clusters",
        "atom-ph": "Atomic Physics",
        "bio-ph": "Biological Physics",
        "chem-ph": "Chemical Physics",
        "class-ph": "Classical Physics",
        "comp-ph": "Computational Physics",
        "data-an": "Data Analysis, Statistics and Probability",
        "ed-ph": "Physics Education",
        "flu-dyn": "Fluid Dynamics",
        "gen-ph": "General Physics",
        "geo-ph": "Geophysics",
        "hist-ph": "History and Philosophy of Physics",
        "ins-det": "Instrumentation and Detectors",
        "med-ph": "Medical Physics",
        "optics": "Optics",
        "plasm-ph": "Plasma Physics",
        "pop-ph": "Popular Physics",
        "soc-ph": "Physics and Society",
        "space-ph": "Space Physics",
    },
    "q-bio": {
        "BM": "Biomolecules",
        "CB": "Cell Behavior",
        "GN": "Genomics",
        "MN": "Molecular Networks",
        "NC": "Neurons and Cognition",
        "OT": "Other Quantitative Biology",
        "PE": "Populations and Evolution",
        "QM": "Quantitative Methods",
        "SC": "Subcellular Processes",
        "TO": "Tissues and Organs",
    },
    "q-fin": {
        "CP": "Computational Finance",
        "EC": "Economics",
        "GN": "General Finance",
        "MF": "Mathematical Finance",
        "PM": "Portfolio Management",
        "PR": "Pricing of Securities",
        "RM": "Risk Management",
        "ST": "Statistical Finance",
        "TR": "Trading and Market Microstructure",
    },
    "stat": {
        "AP": "Applications",
        "CO": "Computation",
        "ME": "Methodology",
        "ML": "Machine Learning",
        "OT": "Other Statistics",
        "TH": "Statistics Theory",
    },
}

_STANDALONE: dict[str, str] = {
    "gr-qc": "General Relativity and Quantum Cosmology",
    "hep-ex": "High Energy Physics - Experiment",
    "hep-lat": "High Energy Physics - Lattice",
    "hep-ph": "High Energy Physics - Phenomenology",
    "hep-th": "High Energy Physics - Theory",
    "math-ph": "Mathematical Physics",
    "nucl-ex": "Nuclear Experiment",
    "nucl-th": "Nuclear Theory",
    "quant-ph": "Quantum Physics",
}

_GROUP_NAMES = {
    "cs": "Computer Science",
    "econ": "Economics",
    "eess": "Electrical Engineering and Systems Science",
    "math": "Mathematics",
    "astro-ph": "Astrophysics",
    "cond-mat": "Condensed Matter",
    "nlin": "Nonlinear Sciences",
    "physics": "Physics",
    "q-bio": "Quantitative Biology",
    "q-fin": "Quantitative Finance",
    "stat": "Statistics",
}

# Archives that old papers still carry (merged into the codes above; no new submissions).
LEGACY: dict[str, str] = {
    "acc-phys": "Accelerator Physics (legacy)",
    "adap-org": "Adaptation, Noise, and Self-Organizing Systems (legacy)",
    "alg-geom": "Algebraic Geometry (legacy)",
    "ao-sci": "Atmospheric-Oceanic Sciences (legacy)",
    "astro-ph": "Astrophysics (legacy, before subdivision)",
    "atom-ph": "Atomic, Molecular and Optical Physics (legacy)",
    "bayes-an": "Bayesian Analysis (legacy)",
    "chao-dyn": "Chaotic Dynamics (legacy)",
    "chem-ph": "Chemical Physics (legacy)",
    "cmp-lg": "Computation and Language (legacy)",
    "comp-gas": "Cellular Automata and Lattice Gases (legacy)",
    "cond-mat": "Condensed Matter (legacy, before subdivision)",
    "dg-ga": "Differential Geometry (legacy)",
    "funct-an": "Functional Analysis (legacy)",
    "mtrl-th": "Materials Theory (legacy)",
    "patt-sol": "Pattern Formation and Solitons (legacy)",
    "plasm-ph": "Plasma Physics (legacy)",
    "q-alg": "Quantum Algebra and Topology (legacy)",
    "solv-int": "Exactly Solvable and Integrable Systems (legacy)",
    "supr-con": "Superconductivity (legacy)",
}

# Every current category code -> its name, e.g. "cs.CV" -> "Computer Vision and Pattern ...".
CATEGORIES: dict[str, str] = {
    **{f"{group}.{sub}": name for group, subs in _GROUPS.items() for sub, name in subs.items()},
    **_STANDALONE,
}
_ALL: dict[str, str] = {**CATEGORIES, **LEGACY}
_BY_LOWER: dict[str, str] = {code.lower(): code for code in _ALL}


def name(code: str) -> str | None:
    """The category's name ('Machine Learning' for cs.LG), or None if unknown."""
    canonical_code = canonical(code)
    return _ALL.get(canonical_code) if canonical_code else None


def group_name(code: str) -> str | None:
    """The archive a category belongs to ('Computer Science' for cs.LG)."""
    return _GROUP_NAMES.get(code.split(".", 1)[0]) if "." in code else None


def canonical(code: str) -> str | None:
    """The code as arXiv spells it ('cs.cv' -> 'cs.CV'), or None if it is not a category."""
    return _BY_LOWER.get(code.strip().lower())


def is_known(code: str) -> bool:
    """Whether code is a current or legacy arXiv category (case-insensitive)."""
    return canonical(code) is not None


def closest(code: str, extra: tuple[str, ...] | set[str] = ()) -> str | None:
    """The valid code nearest to a typo ('cs.CVV' -> 'cs.CV'), or None if nothing is close."""
    pool = {c.lower(): c for c in (*_ALL, *extra)}
    wanted = code.strip().lower()
    if wanted in pool:
        return pool[wanted]
    found = difflib.get_close_matches(wanted, list(pool), n=1, cutoff=0.6)
    return pool[found[0]] if found else None


def _words(code: str, title: str) -> list[str]:
    return [code.lower(), *re.split(r"[^a-z0-9]+", title.lower())]


def search(query: str, limit: int = 25) -> list[tuple[str, str]]:
    """Categories for autocomplete: code prefix matches first, then words of the name."""
    q = query.strip().lower()
    if not q:
        return list(CATEGORIES.items())[:limit]
    by_code = [(c, n) for c, n in _ALL.items() if c.lower().startswith(q)]
    words = q.split()
    by_name = [
        (c, n)
        for c, n in _ALL.items()
        if (c, n) not in by_code and all(any(t.startswith(w) for t in _words(c, n)) for w in words)
    ]
    return (by_code + by_name)[:limit]
