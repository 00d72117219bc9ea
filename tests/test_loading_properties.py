"""Property tests: junk in, only the project's own errors out, and every row counted.

Random cells (text with quotes, delimiters, line breaks, NBSPs, pound signs; numbers;
blanks), random encodings (UTF-8, UTF-8 with BOM, Windows-1252), blank rows, duplicated
headers, stray newlines, ragged rows and broken quoting.  Examples are bounded to keep
the run short (about ten seconds).
"""

from __future__ import annotations

import contextlib
import csv
import io
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from estate.errors import EstateError
from estate.load import load_files
from estate.validate import parse_bool, parse_date, parse_number

HEADERS = [
    "UPRN",
    "Unique Property Reference Number (UPRN)",
    "Property Name",
    "Site",
    "Address 1",
    "Address 2",
    "Post Code",
    "Easting",
    "Northing",
    "Latitude",
    "Longitude",
    "Tenure",
    "GIA",
    "Running Cost",
    "Desks",
    "Agency",
    "Lease End",
    "Site Co-ordinates\n(Geocode)",
    "Notes",
    "",
]

JUNK_TEXT = st.text(
    alphabet=st.sampled_from(list("abcXYZ019 ,;\"'\n\r\t£€–\u00a0é/.-()kmN/A")), max_size=12
)
CELL = st.one_of(
    JUNK_TEXT,
    st.sampled_from(
        [
            "",
            " ",
            "N/A",
            "Not Applicable",
            "£1,234",
            "1.2m",
            "31/03/2030",
            "Freehold",
            "lease",
            "LE15 6BQ",
            "le156bq",
            "440715,354526",
            "SK 40715 54526",
            "-0",
            "1e400",
            "nan",
            "∞",
        ]
    ),
    st.integers(-(10**13), 10**13).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
)

SETTINGS = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)


@st.composite
def messy_csv(draw: st.DrawFn) -> tuple[bytes, str]:
    width = draw(st.integers(1, 8))
    header = draw(st.lists(st.sampled_from(HEADERS), min_size=width, max_size=width))
    rows = draw(st.lists(st.lists(CELL, min_size=0, max_size=width + 2), max_size=12))
    blank_at = draw(st.lists(st.integers(0, max(len(rows), 0)), max_size=3))
    for at in sorted(blank_at, reverse=True):
        rows.insert(at, [])
    quoting = draw(st.sampled_from(["csv", "raw"]))
    if quoting == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator=draw(st.sampled_from(["\n", "\r\n"])))
        writer.writerow(header)
        writer.writerows(rows)
        text = buffer.getvalue()
    else:  # written by hand: stray quotes and newlines break records apart
        text = "\n".join(",".join(r) for r in [header, *rows]) + "\n"
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "cp1252"]))
    return text.encode(encoding, errors="replace"), encoding


def _check_accounting(result: object) -> None:
    for f in result.files:  # type: ignore[attr-defined]
        assert f.rows_read == f.rows_accepted + f.rows_rejected + f.rows_set_aside
        accepted = list(f.accepted["source_row"]) if len(f.accepted) else []
        rejected = list(f.rejected["source_row"]) if len(f.rejected) else []
        aside = list(f.set_aside["source_row"]) if len(f.set_aside) else []
        for rows in (accepted, rejected, aside):
            assert len(set(rows)) == len(rows)
        assert not set(accepted) & set(rejected)
        assert not (set(accepted) | set(rejected)) & set(aside)
        assert len(accepted) + len(rejected) + len(aside) == f.rows_read
        assert set(f.blank_rows) <= set(aside)


@SETTINGS
@given(
    messy_csv(),
    st.sampled_from(["register", "assets", "services", None]),
    st.sampled_from([None, "Council"]),
)
def test_junk_csv_never_escapes_and_rows_always_add_up(
    data: tuple[bytes, str], kind: str | None, agency: str | None
) -> None:
    raw, _ = data
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "junk.csv"
        path.write_bytes(raw)
        try:
            result = load_files([str(path)], kind=kind, agency=agency)  # type: ignore[arg-type]
        except EstateError:
            return
        _check_accounting(result)
        if not result.unreadable:
            (f,) = result.files
            records = list(csv.reader(io.StringIO(_decoded(raw), newline="")))
            header_row = f.header_row or 0
            assert f.rows_read == len(records) - header_row


def _decoded(raw: bytes) -> str:
    if raw.startswith(b"\xef\xbb\xbf"):
        return raw.decode("utf-8-sig")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("cp1252")


@SETTINGS
@given(st.binary(max_size=300))
def test_random_bytes_are_read_or_refused_cleanly(raw: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bytes.csv"
        path.write_bytes(raw)
        try:
            result = load_files([str(path)], kind="assets", agency="X")
        except EstateError:
            return
        _check_accounting(result)


@SETTINGS
@given(st.one_of(JUNK_TEXT, st.text(max_size=20), CELL))
def test_cell_parsers_raise_only_value_errors(text: str) -> None:
    for parse in (parse_number, parse_date, parse_bool):
        with contextlib.suppress(ValueError):
            parse(text)
