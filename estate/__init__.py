"""The register: schema, loading, validation and geocoding of public buildings."""

from estate.errors import (
    CellIssue,
    EstateError,
    InputDataError,
    SettingsError,
    SolverError,
    UnreadableError,
)
from estate.register import Register

__all__ = [
    "CellIssue",
    "EstateError",
    "InputDataError",
    "Register",
    "SettingsError",
    "SolverError",
    "UnreadableError",
]
