"""The register: schema, loading, validation and geocoding of public buildings."""

from estate.errors import CellIssue, EstateError, InputDataError, SettingsError, SolverError
from estate.register import Register

__all__ = [
    "CellIssue",
    "EstateError",
    "InputDataError",
    "Register",
    "SettingsError",
    "SolverError",
]
