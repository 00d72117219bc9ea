"""One scenario end to end: :mod:`~scenarios.running.run` (travel times, model, solve,
run folder) and :mod:`~scenarios.running.preflight` (``estate validate SCENARIO``: every
check the run makes before it solves, by the run's own functions).

Imports :mod:`scenarios.scenario` and :mod:`scenarios.outputs`.
"""
