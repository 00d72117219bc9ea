"""Worked examples built from real public data (see docs/)."""
