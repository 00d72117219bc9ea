"""Validation of canonical register tables: every problem named, no row lost."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from estate import InputDataError, Register
from estate.schema import BUILDINGS
from estate.validate import coerce_table, parse_bool, parse_date, parse_number


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1234", 1234.0),
        ("£1,234.50", 1234.5),
        ("1.2m", 1_200_000.0),
        ("15k", 15_000.0),
        ("(500)", -500.0),
        (" 42 ", 42.0),
        (7, 7.0),
    ],
)
def test_parse_number(text: object, expected: float) -> None:
    assert parse_number(text) == expected


@pytest.mark.parametrize("text", ["abc", "1.2.3", "", "nan", "inf", "£"])
def test_parse_number_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        parse_number(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2030-03-31", dt.date(2030, 3, 31)),
        ("31/03/2030", dt.date(2030, 3, 31)),
        ("1/4/30", dt.date(2030, 4, 1)),
        ("31 March 2030", dt.date(2030, 3, 31)),
        ("1st Apr 2031", dt.date(2031, 4, 1)),
        ("31.03.2030", dt.date(2030, 3, 31)),
    ],
)
def test_parse_date_uk_formats(text: str, expected: dt.date) -> None:
    assert parse_date(text) == expected


@pytest.mark.parametrize("text", ["31/02/2030", "2030/31/03", "soon", "13/13/2030"])
def test_parse_date_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        parse_date(text)


def test_parse_bool() -> None:
    assert parse_bool("Yes") and parse_bool("y") and parse_bool("TRUE") and parse_bool("1")
    assert not (parse_bool("no") or parse_bool("N") or parse_bool("false") or parse_bool("0"))
    with pytest.raises(ValueError):
        parse_bool("maybe")


def _raw() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "building_id": ["007", "008", "009", "007"],
            "agency": ["council", "police", "", "council"],
            "easting": ["450000", "451000", "452000", "450500"],
            "northing": ["300000", "300000", "300000", "300000"],
            "capacity_desks": ["10", "lots", "5", "4"],
            "running_cost": ["£12,000", "8000", "1k", "5000"],
            "tenure": ["Freehold", "leasehold", "freehold", "sometimes"],
        }
    )


def test_every_row_is_accepted_or_rejected_with_reasons() -> None:
    coerced = coerce_table(_raw(), BUILDINGS, "register.csv")
    assert coerced.rows_read == 4
    assert list(coerced.accepted["building_id"]) == ["007"]  # leading zeros kept
    assert coerced.accepted["running_cost"].iloc[0] == 12_000.0
    assert coerced.accepted["tenure"].iloc[0] == "freehold"
    assert list(coerced.rejected["source_row"]) == [3, 4, 5]
    found = {(i.row, i.column, i.value) for i in coerced.issues}
    assert (3, "capacity_desks", "lots") in found
    assert (4, "agency", "") in found
    assert (5, "tenure", "sometimes") in found
    assert (5, "building_id", "007") in found  # duplicate of row 2
    assert all(i.file == "register.csv" for i in coerced.issues)


def test_register_raises_listing_every_problem() -> None:
    services = pd.DataFrame(
        {
            "service_id": ["s1"],
            "agency": ["council"],
            "building_id": ["999"],
            "desks": ["2"],
            "service_type": ["library"],
        }
    )
    with pytest.raises(InputDataError) as err:
        Register.from_frames(_raw(), services, "b.csv", "s.csv")
    text = str(err.value)
    assert "b.csv, row 3, column 'capacity_desks'" in text and "'lots'" in text
    assert "s.csv, row 2, column 'building_id'" in text and "'999'" in text


def test_missing_required_column_is_named() -> None:
    with pytest.raises(InputDataError, match="running_cost"):
        coerce_table(_raw().drop(columns=["running_cost"]), BUILDINGS, "register.csv")


def test_coordinates_filled_both_ways() -> None:
    raw = _raw().iloc[:1]
    services = pd.DataFrame(
        {
            "service_id": ["s1"],
            "agency": ["council"],
            "building_id": ["007"],
            "desks": ["2"],
            "service_type": ["library"],
        }
    )
    reg = Register.from_frames(raw, services)
    lat, lon = reg.buildings[["lat", "lon"]].iloc[0]
    assert 52.0 < lat < 53.0 and -1.5 < lon < -0.5
