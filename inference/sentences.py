"""Rule-based sentence splitting for news text in Latin, Cyrillic, Arabic, CJK and Devanagari scripts.

Splits after sentence-final punctuation (``. ! ? … 。 ！ ？ ؟ । ॥``) when what follows looks like a new
sentence; keeps decimals (``3.5``), initials (``J. Smith``), ordinals (``5. Mai``) and common
abbreviations (``Mr.``, ``Dr.``, ``U.S.``, ``e.g.``, ``z.B.``, ``т.е.``, ``г.``) inside the sentence.
Returns character offsets, so results map back into the document.
"""

from __future__ import annotations

import re

ABBREVIATIONS = frozenset(
    """
    mr mrs ms dr prof gen col lt maj capt sgt adm gov sen rep st mt jr sr inc ltd co corp vs etc
    e.g i.e approx dept est fig no nos vol jan feb mar apr jun jul aug sep sept oct nov dec
    u.s u.k u.n e.u a.m p.m
    m mme mlle me st ste av bd cf
    sr sra srta dra ud uds
    hr hrn frau dr z.b d.h u.a bzw ca nr str
    г гг т.е т.д т.п им ул пр др см тыс млн млрд руб
    вул м тис
    """.split()
)
_CJK_TERMINAL = "。！？"
_BOUNDARY = re.compile(r"[.!?…。！？؟।॥]+[\"'”’»)\]」』›]*")


def split_sentences(text: str) -> list[tuple[int, int]]:
    """``(start, end)`` offsets of the sentences in ``text`` (whitespace trimmed, none empty)."""
    spans, start = [], 0
    for match in _BOUNDARY.finditer(text):
        end = match.end()
        if _is_boundary(text, match.start(), end):
            spans.append((start, end))
            start = end
    spans.append((start, len(text)))
    trimmed = []
    for s, e in spans:
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        if e > s:
            trimmed.append((s, e))
    return trimmed


def _is_boundary(text: str, punct_start: int, end: int) -> bool:
    mark = text[punct_start]
    if end >= len(text):
        return True
    if mark in _CJK_TERMINAL:
        return True  # CJK full stops need no following space
    if not text[end].isspace():
        return False  # "3.5", "U.S.-led", "e.g.,"
    following = text[end:].lstrip()
    if not following:
        return True
    if mark != ".":
        return True
    word = re.search(r"(\S+)$", text[:punct_start])
    token = word.group(1).lower().strip("(\"'«„“") if word else ""
    if token in ABBREVIATIONS or token.rstrip(".") in ABBREVIATIONS:
        return False
    if len(token) == 1 and token.isalpha():
        return False  # an initial: "J. Smith"
    if token.isdigit() and following[0].isalpha() and following[0].isupper() and len(token) <= 2:
        return not _looks_like_ordinal_context(following)
    nxt = following[0]
    return not (nxt.islower())  # "... the U.S. army" style continuations start lower-case


def _looks_like_ordinal_context(following: str) -> bool:
    """German/Scandinavian ordinal dates: "am 5. Mai"."""
    month = following.split(maxsplit=1)[0].strip(",.").lower()
    return month in {"januar", "februar", "märz", "april", "mai", "juni", "juli", "august", "september",
                     "oktober", "november", "dezember"}
