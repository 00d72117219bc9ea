"""The unit rates and service rules behind ``estate estimate``, per building type.

Both tables ship with the package as documented YAML (``estate/data/unit_rates.yaml``,
``estate/data/services.yaml``), keyed on the building types of
:mod:`estate.building_types`; a user's file in the same layout overrides any entry.
Every rate carries its unit and its basis, and the rates used are written beside every
estimate, so no figure is ever unexplained.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from estate.building_types import TYPE_NAMES
from estate.errors import SettingsError

GENERAL_RATES = ("m2_per_desk", "occupancy", "disposal_cost_share", "footprint_metres")
TYPE_RATES = (
    "running_cost_per_m2",
    "typical_gia_m2",
    "storeys",
    "desk_share",
    "backlog_per_m2",
    "disposal_value_per_m2",
)
#: Rates that are shares of something and so may not exceed 1.
SHARES = {"occupancy", "disposal_cost_share", "desk_share"}
#: Rates that must be above zero (a divisor, or a floor area to multiply).
POSITIVE = {"m2_per_desk", "typical_gia_m2", "storeys"}


@dataclass(frozen=True)
class Rate:
    value: float
    unit: str
    basis: str


@dataclass(frozen=True)
class UnitRates:
    """General rates and per-type rates, each with its unit and basis."""

    general: dict[str, Rate]
    types: dict[str, dict[str, Rate]]
    sources: tuple[str, ...] = ()

    def get(self, name: str, building_type: str | None = None) -> float:
        """The value of a general rate, or of a type's rate."""
        if building_type is None:
            return self.general[name].value
        return self.types[building_type][name].value

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: every rate with its value, unit and basis, and where they came from."""
        return {
            "sources": list(self.sources),
            "general": {k: vars(v) for k, v in sorted(self.general.items())},
            "types": {
                t: {k: vars(v) for k, v in sorted(rates.items())}
                for t, rates in sorted(self.types.items())
            },
        }

    def overridden(self, data: Any, source: str) -> UnitRates:
        """These rates with ``data`` (the file's layout, any subset) laid on top."""
        if data is None:
            return self
        if not isinstance(data, dict) or set(data) - {"general", "types"}:
            raise SettingsError(f"{source}: expected the sections general: and types:")
        general = dict(self.general)
        for name, raw in (data.get("general") or {}).items():
            if name not in GENERAL_RATES:
                raise SettingsError(
                    f"{source}: general.{name}: unknown rate; known: {', '.join(GENERAL_RATES)}"
                )
            general[name] = _rate(raw, general.get(name), source, f"general.{name}")
        types = {t: dict(r) for t, r in self.types.items()}
        for kind, rates in (data.get("types") or {}).items():
            if kind not in TYPE_NAMES:
                raise SettingsError(
                    f"{source}: types.{kind}: unknown building type; known: {', '.join(TYPE_NAMES)}"
                )
            if not isinstance(rates, dict):
                raise SettingsError(f"{source}: types.{kind}: expected rate: value pairs")
            for name, raw in rates.items():
                if name not in TYPE_RATES:
                    raise SettingsError(
                        f"{source}: types.{kind}.{name}: unknown rate; known: "
                        f"{', '.join(TYPE_RATES)}"
                    )
                where = f"types.{kind}.{name}"
                types.setdefault(kind, {})[name] = _rate(
                    raw, types.get(kind, {}).get(name), source, where
                )
        return UnitRates(general, types, (*self.sources, source))


def _rate(raw: Any, previous: Rate | None, source: str, where: str) -> Rate:
    """A rate from ``{value, unit, basis}`` or a plain number (keeping the unit)."""
    if isinstance(raw, dict):
        unknown = set(raw) - {"value", "unit", "basis"}
        if unknown or "value" not in raw:
            raise SettingsError(f"{source}: {where}: expected value (and unit, basis)")
        value, unit, basis = raw["value"], raw.get("unit"), raw.get("basis")
    else:
        value, unit, basis = raw, None, None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise SettingsError(f"{source}: {where}: expected a number, got {value!r}")
    name = where.rsplit(".", 1)[-1]
    if value < 0 or (name in POSITIVE and value <= 0) or (name in SHARES and value > 1):
        bound = "between 0 and 1" if name in SHARES else "above 0" if name in POSITIVE else ">= 0"
        raise SettingsError(f"{source}: {where}: must be {bound}, got {value!r}")
    return Rate(
        float(value),
        str(unit or (previous.unit if previous else "")),
        str(basis or f"given in {Path(source).name}"),
    )


def _read_yaml(path: str | Path) -> Any:
    p = Path(path)
    try:
        return yaml.safe_load(p.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SettingsError(f"{p}: cannot read ({exc.strerror or exc})") from None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise SettingsError(f"{p}: not valid YAML: {exc}") from None


def _packaged(name: str) -> Any:
    text = resources.files("estate").joinpath(f"data/{name}").read_text(encoding="utf-8")
    return yaml.safe_load(text)


def unit_rates(override: str | Path | None = None) -> UnitRates:
    """The built-in unit rates, with ``override`` (a YAML file) laid on top."""
    empty = UnitRates({}, {}, ())
    rates = empty.overridden(_packaged("unit_rates.yaml"), "built-in (estate/data/unit_rates.yaml)")
    missing = [f"types.{t}" for t in TYPE_NAMES if t not in rates.types]
    missing += [f"general.{g}" for g in GENERAL_RATES if g not in rates.general]
    missing += [
        f"types.{t}.{r}" for t in rates.types for r in TYPE_RATES if r not in rates.types[t]
    ]
    if missing:  # pragma: no cover - the packaged file is tested whole
        raise SettingsError(f"the built-in unit rates lack {', '.join(missing)}")
    if override is not None:
        rates = rates.overridden(_read_yaml(override), str(override))
    return rates


# --- service rules ---------------------------------------------------------------------


class ServiceRule(BaseModel):
    """One service an occupied building of a type holds today."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    service_type: str = Field(min_length=1)
    name: str
    share: float = Field(gt=0, le=1, description="share of the desks in use")
    public_facing: bool
    movable: bool
    exclusive: bool


class _RulesFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    types: dict[str, list[ServiceRule]] = Field(default_factory=dict)
    access: dict[str, dict[str, Any]] = Field(default_factory=dict)


@dataclass(frozen=True)
class ServiceRules:
    """Services by building type, and the default access standard by service type."""

    types: dict[str, tuple[ServiceRule, ...]]
    access: dict[str, dict[str, Any]] = field(default_factory=dict)
    sources: tuple[str, ...] = ()

    def for_type(self, building_type: str) -> tuple[ServiceRule, ...]:
        return self.types.get(building_type) or self.types["other"]

    def as_dict(self) -> dict[str, Any]:
        return {
            "sources": list(self.sources),
            "types": {
                t: [r.model_dump() for r in rules] for t, rules in sorted(self.types.items())
            },
            "access": dict(sorted(self.access.items())),
        }


def _rules_file(data: Any, source: str) -> _RulesFile:
    try:
        parsed = _RulesFile.model_validate(data or {})
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(x) for x in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
        raise SettingsError(f"{source}: {problems}") from None
    for kind, rules in parsed.types.items():
        if kind not in TYPE_NAMES:
            raise SettingsError(
                f"{source}: types.{kind}: unknown building type; known: {', '.join(TYPE_NAMES)}"
            )
        total = sum(r.share for r in rules)
        if rules and abs(total - 1.0) > 1e-6:
            raise SettingsError(f"{source}: types.{kind}: the shares add up to {total:g}, not 1")
    return parsed


def service_rules(override: str | Path | None = None) -> ServiceRules:
    """The built-in service rules, with ``override`` (a YAML file) laid on top."""
    base = _rules_file(_packaged("services.yaml"), "built-in")
    types = {k: tuple(v) for k, v in base.types.items()}
    access = dict(base.access)
    sources = ["built-in (estate/data/services.yaml)"]
    if override is not None:
        extra = _rules_file(_read_yaml(override), str(override))
        types.update({k: tuple(v) for k, v in extra.types.items()})
        access.update(extra.access)
        sources.append(str(override))
    return ServiceRules(types, access, tuple(sources))
