"""Scenarios: demo place, runs, outputs, maps and comparisons."""
