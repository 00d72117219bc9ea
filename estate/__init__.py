"""The register: schema, loading, validation and geocoding of public buildings."""

from importlib import metadata as _metadata

from estate.errors import (
    CellIssue,
    EstateError,
    InputDataError,
    SettingsError,
    SolverError,
    UnreadableError,
)
from estate.register import Register

try:
    __version__ = _metadata.version("public-estate")
except _metadata.PackageNotFoundError:  # a source tree that was never installed
    __version__ = "0+unknown"

__all__ = [
    "CellIssue",
    "EstateError",
    "InputDataError",
    "Register",
    "SettingsError",
    "SolverError",
    "UnreadableError",
    "__version__",
]
