"""Many runs: a grid of scenario points solved in parallel and resumable
(:mod:`~scenarios.sweeps.sweep`, :mod:`~scenarios.sweeps.parallel`), its Pareto frontier
(:mod:`~scenarios.sweeps.pareto`), and finished run folders side by side
(:mod:`~scenarios.sweeps.compare`).

Imports :mod:`scenarios.scenario`, :mod:`scenarios.outputs` and :mod:`scenarios.running`.
"""
