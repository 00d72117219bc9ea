"""The estate MILP: candidates, formulation, finance, solving and results."""

from estate import __version__
from optimise.evaluate import Evaluation, evaluate
from optimise.instance import EstateInstance
from optimise.model import EstateModel, Result
from optimise.settings import AccessStandard, FinanceSettings, PolicySettings, SolverSettings
from optimise.solve import SolveStatus

__all__ = [
    "AccessStandard",
    "EstateInstance",
    "EstateModel",
    "Evaluation",
    "FinanceSettings",
    "PolicySettings",
    "Result",
    "SolveStatus",
    "SolverSettings",
    "__version__",
    "evaluate",
]
