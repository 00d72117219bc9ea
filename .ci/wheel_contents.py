"""Check that a wheel ships every file the code reads at run time.

Usage: python .ci/wheel_contents.py dist/public_estate-*.whl

Every file under a package's data folders in the source tree (estate/data/*.yaml), a
py.typed marker in every package, the command's module (cli.py) and the LICENSE must be
in the wheel; the Leaflet assets come from the XStatic-Leaflet dependency, which must be
declared.
"""

from __future__ import annotations

import sys
import zipfile
from pathlib import Path

PACKAGES = ("estate", "geodata", "optimise", "scenarios")
ROOT = Path(__file__).resolve().parents[1]


def main(wheel: str) -> int:
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        metadata = next(zf.read(n).decode() for n in names if n.endswith(".dist-info/METADATA"))
    wanted = {"cli.py"} | {f"{p}/py.typed" for p in PACKAGES}
    for package in PACKAGES:
        for data in (ROOT / package).rglob("data"):
            if data.is_dir():
                wanted |= {
                    f.relative_to(ROOT).as_posix()
                    for f in data.rglob("*")
                    if f.is_file() and "__pycache__" not in f.parts
                }
    missing = sorted(w for w in wanted if w not in names)
    if not any(n.endswith("/licenses/LICENSE") for n in names):
        missing.append("LICENSE (dist-info/licenses)")
    if "License-Expression: MIT" not in metadata:
        missing.append("License-Expression: MIT in METADATA")
    if "requires-dist: xstatic-leaflet" not in metadata.lower():
        missing.append("Requires-Dist: xstatic-leaflet (the map's Leaflet)")
    if missing:
        print("CI: the wheel lacks " + ", ".join(missing), file=sys.stderr)
        return 1
    print(f"CI: the wheel ships {len(wanted)} data files and markers, LICENSE and cli.py")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1]))
