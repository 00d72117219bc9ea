"""One name per public body: an agencies table applied while loading.

Registers from several bodies name the same agency differently ("Leicestershire Fire
and Rescue Service", "LFRS", "Leicestershire Fire & Rescue") or by an organisation code
("E06000017", "00FP", an NHS ODS code).  :class:`Agencies` reads a cell and gives the
canonical name; the built-in table (``estate/data/agencies.yaml``) knows the bodies in
the project's examples, and a user's table (``--agencies FILE``, same layout) adds or
overrides entries.  Names the table does not know are kept as written; pairs of them
that look like one body are listed by :func:`near_duplicates` for a person to decide.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from estate.errors import SettingsError

#: Two unmerged names this similar (difflib ratio of their normalised forms) are listed.
NEAR_DUPLICATE_RATIO = 0.85
_STOP = {"the", "of", "and", "nhs", "service", "services", "council", "trust"}


def agency_key(text: object) -> str:
    """Case, punctuation, "&" and runs of spaces ignored: the matching key.

    >>> agency_key("Leicestershire Fire & Rescue")
    'leicestershire fire and rescue'
    """
    s = str(text).lower().replace("&", " and ")
    return " ".join(re.sub(r"[^a-z0-9]+", " ", s).split())


class AgencyEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    aliases: list[str] = Field(default_factory=list)
    codes: list[str] = Field(default_factory=list)


class AgencyTable(BaseModel):
    model_config = ConfigDict(extra="forbid")

    agencies: list[AgencyEntry] = Field(default_factory=list)


@dataclass(frozen=True)
class Agencies:
    """Canonical names by key (names, aliases and codes all lead to one name)."""

    by_key: dict[str, str] = field(default_factory=dict)
    sources: tuple[str, ...] = ()

    def canonical(self, text: str) -> str | None:
        """The canonical name for ``text``, or ``None`` when the table does not know it."""
        return self.by_key.get(agency_key(text))

    def merged(self, other: Agencies) -> Agencies:
        return Agencies({**self.by_key, **other.by_key}, self.sources + other.sources)

    @classmethod
    def from_table(cls, table: AgencyTable, source: str) -> Agencies:
        by_key: dict[str, str] = {}
        for entry in table.agencies:
            for text in [entry.name, *entry.aliases, *entry.codes]:
                by_key[agency_key(text)] = entry.name
        return cls(by_key, (source,))

    @classmethod
    def from_file(cls, path: str | Path) -> Agencies:
        """A user's agencies table (YAML), laid over the built-in one."""
        p = Path(path)
        try:
            data = yaml.safe_load(p.read_text(encoding="utf-8"))
        except OSError as exc:
            raise SettingsError(f"{p}: cannot read the agencies file ({exc.strerror})") from None
        except (yaml.YAMLError, UnicodeDecodeError) as exc:
            raise SettingsError(f"{p}: not valid YAML: {exc}") from None
        return builtin().merged(cls.from_table(_validated(data, str(p)), str(p)))


def _validated(data: Any, source: str) -> AgencyTable:
    try:
        return AgencyTable.model_validate(data or {})
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(x) for x in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
        raise SettingsError(f"{source}: {problems}") from None


@lru_cache(maxsize=1)
def builtin() -> Agencies:
    """The table shipped with the package (``estate/data/agencies.yaml``)."""
    text = resources.files("estate").joinpath("data/agencies.yaml").read_text(encoding="utf-8")
    return Agencies.from_table(_validated(yaml.safe_load(text), "built-in"), "built-in")


def near_duplicates(names: list[str]) -> list[tuple[str, str, str]]:
    """Pairs of distinct agency names that may be one body, with why: one's words start
    the other's ("Derbyshire" / "Derbyshire Fire & Rescue Service"), one is the other's
    initials ("LFRS"), or they are spelled almost alike."""
    unique = sorted(set(names))
    out = []
    for i, a in enumerate(unique):
        for b in unique[i + 1 :]:
            why = _alike(a, b)
            if why:
                out.append((a, b, why))
    return out


def _initials(key: str) -> str:
    return "".join(w[0] for w in key.split() if w not in {"of", "the"})


def _alike(a: str, b: str) -> str:
    ka, kb = agency_key(a), agency_key(b)
    if not ka or not kb or ka == kb:
        return "the same name written differently" if ka == kb and ka else ""
    short, long_ = sorted((ka, kb), key=len)
    if " " not in short and len(short) >= 2 and short == _initials(long_):
        return "initials"
    words_short, words_long = short.split(), long_.split()
    if words_long[: len(words_short)] == words_short and set(words_short) - _STOP:
        return "one name begins the other"
    if difflib.SequenceMatcher(None, ka, kb).ratio() >= NEAR_DUPLICATE_RATIO:
        return "spelled almost alike"
    return ""
