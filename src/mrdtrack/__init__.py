"""mrdtrack: MRD-guided immunotherapy of B-cell acute lymphoblastic leukemia.

Measurable residual disease from lab data, a longitudinal registry, versioned protocols
and outcome analytics. Research software that supports clinicians; it does not replace
them: dose and protocol outputs are verifications that show their basis and source.

Packages: :mod:`mrdtrack.mrd` (the MRD engine), :mod:`mrdtrack.cli` (the command line).
"""

from mrdtrack.errors import (
    ImportValidationError,
    InputError,
    MrdtrackError,
    NotFoundError,
    PermissionDeniedError,
    ProtocolError,
    QcError,
)

__version__ = "0.1.0"

__all__ = [
    "ImportValidationError",
    "InputError",
    "MrdtrackError",
    "NotFoundError",
    "PermissionDeniedError",
    "ProtocolError",
    "QcError",
    "__version__",
]
