"""UK postcodes: normalisation and format checks.

Registers write postcodes every way: ``le15 6bq``, ``LE156BQ``, ``LE15  6BQ``, with a
non-breaking space.  :func:`normalise_postcode` gives the one canonical form
(``LE15 6BQ``) and :func:`postcode_key` the unspaced join key used with lookup files
such as OS Code-Point Open, whose 7-character unit codes have no space after a
4-character outward code (``LE150AQ``).
"""

from __future__ import annotations

import re

# Outward code (area, district, optional sub-district letter) + inward code.  The
# letters the Royal Mail never uses in certain positions are not enforced: this is a
# shape check, the lookup file is the authority.
_POSTCODE = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?)([0-9][A-Z]{2})$")
_SPECIAL = {"GIR0AA"}


def postcode_key(value: object) -> str:
    """Upper case with every kind of whitespace removed: the join key."""
    return re.sub(r"\s+", "", str(value), flags=re.UNICODE).upper()


def normalise_postcode(value: object) -> str | None:
    """The canonical ``OUTWARD INWARD`` form, or ``None`` when it is not shaped like a
    UK postcode.

    >>> normalise_postcode(" le15\\u00a06bq ")
    'LE15 6BQ'
    >>> normalise_postcode("LE150AQ")
    'LE15 0AQ'
    >>> normalise_postcode("CH65 OEZ") is None   # letter O for zero
    True
    """
    key = postcode_key(value)
    if key in _SPECIAL:
        return "GIR 0AA"
    match = _POSTCODE.match(key)
    if not match:
        return None
    return f"{match[1]} {match[2]}"


def postcode_problem(value: object) -> str:
    """A short explanation of why ``value`` is not a postcode (for messages)."""
    key = postcode_key(value)
    if not key:
        return "blank"
    if len(key) > 7 or len(key) < 5:
        return "not shaped like a UK postcode (5 to 7 letters and digits)"
    inward = key[-3:]
    if inward[0] == "O":
        return "not a UK postcode: the inward code starts with the letter O (zero meant?)"
    return "not shaped like a UK postcode"
