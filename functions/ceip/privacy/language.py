"""Which of the languages we answer in (English, German, French, Spanish) a text is written in.

Counting frequent function words is crude but robust for the few sentences of an inquiry, needs no model
and never fails. Pure functions.
"""

from __future__ import annotations

import re
import unicodedata

SUPPORTED = ("en", "de", "fr", "es")
DEFAULT = "en"
MIN_HITS = 2

_STOPWORDS: dict[str, frozenset[str]] = {
    "en": frozenset(
        [
            "the",
            "and",
            "you",
            "your",
            "my",
            "i",
            "is",
            "are",
            "to",
            "of",
            "for",
            "that",
            "this",
            "with",
            "have",
            "please",
            "not",
            "data",
            "me",
            "we",
            "our",
            "it",
            "what",
            "do",
            "be",
            "was",
            "on",
        ]
    ),
    "de": frozenset(
        [
            "der",
            "die",
            "das",
            "und",
            "ich",
            "sie",
            "ist",
            "nicht",
            "mein",
            "meine",
            "meiner",
            "meinen",
            "mit",
            "bitte",
            "ihre",
            "ihr",
            "wir",
            "sind",
            "zu",
            "von",
            "fur",
            "dass",
            "auf",
            "ein",
            "eine",
            "daten",
            "den",
            "dem",
            "des",
            "wie",
            "was",
        ]
    ),
    "fr": frozenset(
        [
            "le",
            "la",
            "les",
            "et",
            "je",
            "vous",
            "est",
            "pas",
            "mon",
            "ma",
            "mes",
            "de",
            "des",
            "du",
            "pour",
            "que",
            "avec",
            "il",
            "merci",
            "nous",
            "sont",
            "une",
            "un",
            "donnees",
            "votre",
            "vos",
            "ce",
            "cette",
            "au",
            "aux",
        ]
    ),
    "es": frozenset(
        [
            "el",
            "la",
            "los",
            "las",
            "y",
            "yo",
            "usted",
            "es",
            "no",
            "mi",
            "mis",
            "de",
            "del",
            "para",
            "que",
            "con",
            "por",
            "favor",
            "gracias",
            "nosotros",
            "son",
            "una",
            "un",
            "datos",
            "su",
            "sus",
            "este",
            "esta",
            "al",
        ]
    ),
}
_WORD = re.compile(r"[a-z]+")


def fold(text: str) -> str:
    """Lower case without accents (é -> e, ß -> ss), so lexicons need one spelling."""
    decomposed = unicodedata.normalize("NFKD", text.casefold().replace("\u2019", "'"))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def detect(text: str, hint: str | None = None) -> str | None:
    """The supported language with the most function words, or the Content-Language hint, or None."""
    words = _WORD.findall(fold(text)[:20_000])
    scores = {lang: sum(1 for w in words if w in stop) for lang, stop in _STOPWORDS.items()}
    best = max(SUPPORTED, key=lambda lang: scores[lang])
    if scores[best] >= MIN_HITS and list(scores.values()).count(scores[best]) == 1:
        return best
    hinted = (hint or "").strip().lower()[:2]
    return hinted if hinted in SUPPORTED else None
