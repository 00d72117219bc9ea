"""When and at what price: the year-by-year plan of a scenario (``estate plan``,
:mod:`~scenarios.planning.plan`) and the price of keeping each building a run disposes
of (:mod:`~scenarios.planning.keeping`, one re-solve a building through the sweep
engine).

Imports :mod:`scenarios.sweeps` and the packages below it.
"""
