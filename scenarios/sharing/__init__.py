"""Who pays, who gains: every coalition of agencies solved through the sweep engine
(:mod:`~scenarios.sharing.share`) and the cooperative-game arithmetic over their values,
Shapley values and the core (:mod:`~scenarios.sharing.shapley`).

Imports :mod:`scenarios.sweeps` and the packages below it.
"""
