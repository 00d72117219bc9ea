"""The PostGIS reader against a real PostgreSQL + PostGIS server.

CI starts one (``.ci/postgis.sh``) and sets ``ESTATE_TEST_POSTGRES_URL``; without it
the test is skipped.  Each test works in its own schema and drops it afterwards.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

from estate.load import load_files

URL = os.environ.get("ESTATE_TEST_POSTGRES_URL", "")

pytestmark = pytest.mark.skipif(
    not URL,
    reason="no PostGIS server configured: set ESTATE_TEST_POSTGRES_URL "
    "(bash .ci/postgis.sh start prints one)",
)


@pytest.fixture
def schema() -> Iterator[str]:
    sqlalchemy = pytest.importorskip("sqlalchemy")
    engine = sqlalchemy.create_engine(URL)
    name = f"estate_test_{uuid.uuid4().hex[:8]}"
    with engine.begin() as conn:
        conn.execute(sqlalchemy.text(f"CREATE SCHEMA {name}"))
        conn.execute(
            sqlalchemy.text(
                f"CREATE TABLE {name}.sites (site_code text, owner text, site_name text, "
                "post_code text, gia text, running_cost text, desks integer, "
                "geom geometry(Point, 27700))"
            )
        )
        conn.execute(
            sqlalchemy.text(
                f"INSERT INTO {name}.sites VALUES "
                "('007', 'Council', 'Library', 'le15 6hw', '1,200', '£25k', 12, "
                " ST_SetSRID(ST_MakePoint(486256, 308721), 27700)), "
                "('008', 'Police', 'Station', 'LE156BQ', 'n/a', 'lots', 8, NULL), "
                "(NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)"
            )
        )
        conn.execute(
            sqlalchemy.text(
                f"CREATE TABLE {name}.wgs (id text, agency text, running_cost numeric, "
                "desks numeric, geom geometry(Point, 4326))"
            )
        )
        conn.execute(
            sqlalchemy.text(
                f"INSERT INTO {name}.wgs VALUES ('W1', 'NHS', 1000, 5, "
                "ST_SetSRID(ST_MakePoint(-0.7258676, 52.6693737), 4326))"
            )
        )
    try:
        yield name
    finally:
        with engine.begin() as conn:
            conn.execute(sqlalchemy.text(f"DROP SCHEMA {name} CASCADE"))
        engine.dispose()


def test_postgis_table_rows_are_all_accounted_for(schema: str) -> None:
    result = load_files([f"{URL}#{schema}.sites"])
    assert not result.unreadable
    (f,) = result.files
    # The blank row is set aside (counted, never an error): read = accepted + rejected + aside.
    assert (f.rows_read, f.rows_accepted, f.rows_rejected, f.rows_set_aside) == (3, 1, 1, 1)
    assert f.blank_rows == [3]
    row = f.accepted.iloc[0]
    assert (row["building_id"], row["postcode"], row["gia_m2"]) == ("007", "LE15 6HW", 1200.0)
    assert (row["easting"], row["northing"]) == (486256.0, 308721.0)
    assert row["running_cost"] == 25_000.0
    errors = {(e.row, e.column, e.value) for e in f.errors}
    assert (2, "running_cost", "lots") in errors
    assert not any(row == 3 for row, _, _ in errors)  # the blank row is no error
    assert f.set_aside_records() == [{"file": f.source, "row": 3, "reason": "blank row"}]


def test_postgis_query_and_wgs84_geometry(schema: str) -> None:
    result = load_files([URL], query=f"SELECT * FROM {schema}.wgs ORDER BY id")
    (f,) = result.files
    assert f.rows_accepted == 1
    assert f.accepted["easting"].iloc[0] == pytest.approx(486256.35, abs=5)


def test_postgis_errors_are_unreadable_sources(schema: str) -> None:
    result = load_files([f"{URL}#{schema}.no_such_table"])
    assert result.exit_code == 2
    assert "does not exist" in result.unreadable[0].message
    assert "password" not in result.unreadable[0].file
