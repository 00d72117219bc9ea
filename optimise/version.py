"""The version of the estate model, apart from the package's.

A run's results depend on the model's formulation, its pricing (cash flows, discounting,
optimism bias) and how a decision is evaluated, as much as on its settings and inputs.
Bump :data:`MODEL_VERSION` with any change that can change a result: run folders record
it (``summary.json`` ``versions.model``), and a sweep keys its points by it, so a sweep
resumed after such a change computes its points again instead of reusing stale ones.
"""

MODEL_VERSION = "2026.2"  # space types, occupancy costs, walk and drive standards (issue 14)
