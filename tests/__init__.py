"""Tests for the public-estate optimiser."""
