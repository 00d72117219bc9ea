"""Process-wide settings: where caches live, and whether online services may be used.

Online features (place-name network download, online geocoding) are opt-in: they run
only when a caller passes an explicit flag, and they cache what they fetch under
:func:`cache_dir`.  Tests never go online.
"""

from __future__ import annotations

import os
from pathlib import Path

CACHE_ENV = "ESTATE_CACHE_DIR"
DEFAULT_CACHE = Path(".estate-cache")


def cache_dir(kind: str) -> Path:
    """The cache folder for one kind of artefact (e.g. ``"travel_times"``, ``"geocode"``).

    ``$ESTATE_CACHE_DIR/<kind>`` when the variable is set, else ``.estate-cache/<kind>``
    under the working directory.  Created on first use.
    """
    root = Path(os.environ.get(CACHE_ENV, DEFAULT_CACHE))
    path = root / kind
    path.mkdir(parents=True, exist_ok=True)
    return path
