"""Places generated in code: the demo district (:mod:`~scenarios.places.demo`) and
the seeded synthetic estates at district, county and region sizes used by the
benchmarks (:mod:`~scenarios.places.synthetic`).

They build registers, zones and networks from ``estate``, ``geodata`` and ``optimise``
alone, and import nothing else of :mod:`scenarios`.
"""
