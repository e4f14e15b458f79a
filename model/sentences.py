"""Sentence boundaries with character offsets, so evidence can point back into the caller's text."""

from __future__ import annotations

import re
from dataclasses import dataclass

# A boundary: terminal punctuation (plus closing quotes/brackets), whitespace, then something that can
# open a sentence. Paragraph breaks are always boundaries.
_BOUNDARY = re.compile(r"""(?<=[.!?…])["'”’)\]]*\s+(?=["'“‘(\[]?[A-Z0-9А-ЯІЇЄҐ])|\n\s*\n|(?<=[.!?])\n""")
_ABBREVIATIONS = {
    "mr",
    "mrs",
    "ms",
    "dr",
    "prof",
    "gen",
    "lt",
    "col",
    "sgt",
    "capt",
    "maj",
    "st",
    "sen",
    "rep",
    "gov",
    "pres",
    "jr",
    "sr",
    "vs",
    "etc",
    "no",
    "fig",
    "inc",
    "ltd",
    "co",
    "corp",
    "jan",
    "feb",
    "mar",
    "apr",
    "jun",
    "jul",
    "aug",
    "sep",
    "sept",
    "oct",
    "nov",
    "dec",
    "u.s",
    "u.k",
    "e.g",
    "i.e",
    "approx",
    "est",
}


@dataclass(frozen=True)
class Sentence:
    start: int
    end: int
    text: str


def _ends_with_abbreviation(chunk: str) -> bool:
    words = chunk.rstrip().rstrip(".").split()
    if not words:
        return False
    last = words[-1].lower().strip("\"'“‘(")
    # Initials such as "J." or "U.S." are abbreviations, not sentence ends.
    return last in _ABBREVIATIONS or (len(last) == 1 and last.isalpha())


def split_sentences(text: str) -> list[Sentence]:
    """Split into sentences; each keeps its [start, end) offsets in `text` (whitespace trimmed)."""
    sentences: list[Sentence] = []
    start = 0
    for match in _BOUNDARY.finditer(text):
        if match.group(0).strip() == "" and "\n" not in match.group(0):
            candidate = text[start : match.start()]
            if _ends_with_abbreviation(candidate):
                continue
        closing = len(match.group(0)) - len(match.group(0).lstrip("\"'”’)]"))
        _append(sentences, text, start, match.start() + closing)
        start = match.end()
    _append(sentences, text, start, len(text))
    return sentences


def _append(sentences: list[Sentence], text: str, start: int, end: int) -> None:
    end = max(end, start)
    chunk = text[start:end]
    lead = len(chunk) - len(chunk.lstrip())
    trail = len(chunk) - len(chunk.rstrip())
    s, e = start + lead, end - trail
    if e > s:
        sentences.append(Sentence(s, e, text[s:e]))
