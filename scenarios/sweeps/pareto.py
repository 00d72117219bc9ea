"""The Pareto frontier of a sweep: NPV saving against the population share with access.

A point is on the frontier when no other point saves at least as much *and* keeps at
least as many people within the access standards, and is strictly better in one.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from estate.io import atomic_write

SAVING = "npv_saving"
ACCESS = "access_share"


def frontier(saving: Sequence[float], access: Sequence[float]) -> np.ndarray:
    """True for each point that no other point dominates (both maximised).

    >>> frontier([10, 8, 12, 9], [0.9, 0.95, 0.8, 0.85]).tolist()
    [True, True, True, False]
    """
    s = np.asarray(saving, dtype=float)
    a = np.asarray(access, dtype=float)
    at_least = (s[None, :] >= s[:, None]) & (a[None, :] >= a[:, None])
    better = (s[None, :] > s[:, None]) | (a[None, :] > a[:, None])
    dominated = (at_least & better).any(axis=1)
    return np.asarray(~dominated)


def plot_frontier(
    results: pd.DataFrame, labels: Sequence[str], title: str, paths: Sequence[Path]
) -> list[Path]:
    """Draw every solved point and the frontier through them; write each of ``paths``
    (the format follows the suffix: .svg, .png)."""
    from matplotlib import rc_context
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    solved = results[SAVING].notna() & results[ACCESS].notna()
    data = results.loc[solved]
    text = [label for label, ok in zip(labels, solved, strict=True) if ok]
    on = data["pareto"].astype(bool).to_numpy()
    fig = Figure(figsize=(8, 5.5), layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    x = data[ACCESS].to_numpy(dtype=float) * 100
    y = data[SAVING].to_numpy(dtype=float) / 1e6
    ax.scatter(x[~on], y[~on], color="#999999", label="dominated", zorder=2)
    order = np.argsort(x[on], kind="stable")
    ax.plot(
        x[on][order],
        y[on][order],
        "o-",
        color="#c0392b",
        label="Pareto frontier",
        zorder=3,
    )
    for xi, yi, label in zip(x, y, text, strict=True):
        # Labels carry settings values (building ids, names): never read "$...$" as maths.
        ax.annotate(
            label,
            (xi, yi),
            textcoords="offset points",
            xytext=(4, 4),
            fontsize=7,
            parse_math=False,
        )
    ax.set_xlabel(
        "Population within the base scenario's access standards (mean over service types, %)"
    )
    ax.set_ylabel("NPV saving (£ million)")
    ax.set_title(title, fontsize=10, parse_math=False)
    ax.grid(True, alpha=0.3)
    ax.legend(loc="best", fontsize=8)
    written = []
    for path in paths:
        fmt = path.suffix.lstrip(".")
        metadata = {"Date": None} if fmt == "svg" else {"Software": None}

        def _save(tmp: Path, fmt: str = fmt, metadata: dict[str, None] = metadata) -> None:
            with rc_context({"svg.hashsalt": "public-estate"}):  # same sweep, same SVG
                fig.savefig(tmp, format=fmt, metadata=metadata)

        written.append(atomic_write(path, _save))
    return written
