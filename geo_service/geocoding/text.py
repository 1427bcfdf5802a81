"""Text folding and tokenisation shared by the gazetteer and the geocoder.

Folding makes "Hénin-Carvin", "HENIN CARVIN" and "hénin carvin" the same key: lower case, accents and ligatures
removed, hyphens and apostrophes turned into word breaks, "St"/"Ste" spelt out. Tokens keep their position in the
original text, so answers can quote exactly what the user typed.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

SEPARATORS = frozenset(",;&/()+")
_TOKEN = re.compile(r"[^\W_]+|[,;&/()+]")
_LIGATURES = str.maketrans({"œ": "oe", "Œ": "oe", "æ": "ae", "Æ": "ae", "ß": "ss"})
_SPELLED_OUT = {"st": "saint", "ste": "sainte", "sts": "saints", "stes": "saintes"}


@dataclass(frozen=True, slots=True)
class Token:
    norm: str
    start: int
    end: int

    @property
    def is_separator(self) -> bool:
        return self.norm in SEPARATORS


@lru_cache(maxsize=65536)
def fold(word: str) -> str:
    decomposed = unicodedata.normalize("NFKD", word.translate(_LIGATURES)).lower()
    # Compatibility forms can decompose into punctuation ('¼' -> '1⁄4'): keep letters and digits only.
    plain = "".join(ch for ch in decomposed if ch.isalnum())
    return _SPELLED_OUT.get(plain, plain)


def tokenize(text: str) -> list[Token]:
    return [
        Token(raw if raw in SEPARATORS else fold(raw), m.start(), m.end())
        for m in _TOKEN.finditer(text)
        for raw in [m.group()]
    ]


def normalize(text: str) -> str:
    """The folded words of ``text`` joined by single spaces (separators dropped): the gazetteer's key form."""
    return " ".join(t.norm for t in tokenize(text) if not t.is_separator)
