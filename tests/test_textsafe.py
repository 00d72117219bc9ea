"""Escaping for HTML, inline scripts and spreadsheets (estate.textsafe)."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from estate.textsafe import (
    from_spreadsheet_text,
    html_text,
    looks_like_formula,
    script_json,
    spreadsheet_text,
    strip_control_characters,
)

TEXT = st.text(alphabet=st.characters(codec="utf-8"), max_size=40)


@given(TEXT)
def test_spreadsheet_quoting_is_undone_exactly(value: str) -> None:
    assert from_spreadsheet_text(spreadsheet_text(value)) == value


@given(TEXT)
def test_quoted_text_never_starts_a_formula(value: str) -> None:
    quoted = spreadsheet_text(value)
    assert not looks_like_formula(quoted)


def test_formula_starts_are_quoted_and_numbers_are_not() -> None:
    for text in ("=1+1", "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)", "\t=x", "\r=x"):
        assert spreadsheet_text(text) == "'" + text, text
    for text in ("-12.5", "+44", "1e9", "plain", "-", "'quoted", " =x"):
        assert spreadsheet_text(text) == text, text
    assert spreadsheet_text("'=x") == "''=x"


@given(st.recursive(st.none() | st.booleans() | TEXT | st.integers(), st.lists, max_leaves=8))
def test_script_json_reads_back_and_cannot_end_a_script(value: object) -> None:
    text = script_json(value)
    assert json.loads(text) == value
    for bad in ("<", ">", "&", "'", "\u2028", "\u2029"):
        assert bad not in text


def test_html_text_escapes_quotes_and_tags() -> None:
    assert html_text("<a href='x'>\"</a>") == "&lt;a href=&#x27;x&#x27;&gt;&quot;&lt;/a&gt;"


def test_control_characters_become_replacement_characters() -> None:
    assert strip_control_characters("a\x00b\x07c\td\ne") == "a\ufffdb\ufffdc\td\ne"
