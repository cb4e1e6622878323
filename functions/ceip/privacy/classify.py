"""Triage of a privacy inquiry: labels with a confidence and the phrases that decided them, the
language, and the machine GUIDs it mentions. Pure functions over text; a human may override labels.

Lexicon phrases are written lower case without accents and matched against the folded text (see
language.fold), in English, German, French and Spanish alike: a German mail quoting an English one is
still classified by everything it says.
"""

from __future__ import annotations

import re
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from ceip.privacy import language

MAX_TEXT_CHARS = 50_000
MAX_GUIDS = 20
MAX_PHRASES = 5
LABEL_THRESHOLD = 0.5
STRONG, MEDIUM, WEAK = 1.0, 0.6, 0.3

# Random machine GUIDs are UUID version 4 (variant 10xx), as in the wire format.
GUID = re.compile(
    r"(?<![0-9a-f])[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}(?![0-9a-f])", re.I
)


class Label(StrEnum):
    ACCESS = "access"
    ERASURE = "erasure"
    OBJECTION = "objection"
    COMPLAINT = "complaint"
    QUESTION = "question"
    OTHER = "other"


class LabelScore(BaseModel):
    model_config = ConfigDict(frozen=True)

    label: Label
    confidence: float
    phrases: tuple[str, ...]


class Classification(BaseModel):
    model_config = ConfigDict(frozen=True)

    labels: tuple[Label, ...]
    scores: tuple[LabelScore, ...]
    language: str | None
    guids: tuple[str, ...]


# (weight, pattern[, display]): a pattern that spans free text (".{0,80}") reports its fixed display
# phrase instead of the matched words, so no name or address of the message ends up on the ticket.
_LEXICON: dict[Label, tuple[tuple[float, str] | tuple[float, str, str], ...]] = {
    Label.ACCESS: (
        # en
        (STRONG, r"(subject )?access request"),
        (STRONG, r"right (of|to) access"),
        (STRONG, r"copy of (all )?(my|the) (personal )?(data|information)"),
        (STRONG, r"what (personal )?(data|information) (do )?you (hold|have|store|keep|collect)"),
        (MEDIUM, r"(data|information) (you hold|you have|you store|stored) (about|on) me"),
        (MEDIUM, r"send me (all )?(my|the) data"),
        (MEDIUM, r"(gdpr )?art(icle|\.)? ?15\b"),
        # de
        (STRONG, r"auskunft(sersuchen|sanfrage|santrag|srecht)?"),
        (STRONG, r"kopie (meiner|der|aller) (personenbezogenen )?daten"),
        (MEDIUM, r"welche (personenbezogenen )?daten"),
        (MEDIUM, r"(uber mich )?gespeicherten daten"),
        # fr
        (STRONG, r"droit d'acces"),
        (STRONG, r"(acceder|acces) a (mes|toutes mes) donnees"),
        (STRONG, r"copie de (mes|toutes mes) donnees"),
        (MEDIUM, r"quelles donnees"),
        # es
        (STRONG, r"derecho (de|al) acceso"),
        (STRONG, r"acceso a (mis|todos mis) datos"),
        (STRONG, r"copia de (mis|todos mis) datos"),
        (MEDIUM, r"que datos"),
    ),
    Label.ERASURE: (
        # en
        (STRONG, r"right to (be forgotten|erasure)"),
        (
            STRONG,
            r"(delete|erase|remove|purge|wipe) (all )?(of )?(my|the|our|this|its|any) "
            r"((personal|collected|stored|telemetry|usage) )?(data|information|reports?|records)",
        ),
        (STRONG, r"(deletion|erasure|removal) of (all )?(my|the|our) (personal )?(data|information)"),
        (MEDIUM, r"\b(delete|erase|deletion|erasure)\b"),
        (MEDIUM, r"(gdpr )?art(icle|\.)? ?17\b"),
        # de
        (STRONG, r"recht auf (vergessenwerden|loschung)"),
        (STRONG, r"(loschen|loschung|entfernen)\b"),
        (STRONG, r"daten\b.{0,40}(zu )?loschen", "daten ... loschen"),
        # fr
        (STRONG, r"droit a l'(oubli|effacement)"),
        (STRONG, r"(supprimer|effacer|suppression|effacement)"),
        # es
        (STRONG, r"derecho (al olvido|de supresion)"),
        (STRONG, r"(borrar|eliminar|suprimir|supresion|cancelacion|eliminacion|borrado)\b"),
    ),
    Label.OBJECTION: (
        # en
        (STRONG, r"opt(ing)?[ -]?out"),
        (STRONG, r"\bobject(ion)? to\b"),
        (STRONG, r"withdraw (my )?consent"),
        (STRONG, r"(stop|cease) (collecting|sending|processing|tracking)"),
        (STRONG, r"do not (sell|share|collect)"),
        (MEDIUM, r"\b(unsubscribe|objection)\b"),
        (MEDIUM, r"(turn|switch) off (the )?(telemetry|data collection|ceip|program)"),
        (MEDIUM, r"(gdpr )?art(icle|\.)? ?21\b"),
        # de
        (STRONG, r"widerspruch|widerspreche"),
        (STRONG, r"(einwilligung|zustimmung) (zu )?widerruf"),
        (STRONG, r"widerrufe (meine|hiermit)"),
        (MEDIUM, r"nicht (mehr|langer) (erfassen|sammeln|erheben|senden|ubermitteln)"),
        (MEDIUM, r"\babmelden\b"),
        # fr
        (STRONG, r"je m'oppose|droit d'opposition|\bopposition\b"),
        (STRONG, r"retir(er|e) (mon )?consentement"),
        (MEDIUM, r"(ne plus|arreter de) (collecter|envoyer|recueillir)"),
        (MEDIUM, r"desinscri"),
        # es
        (STRONG, r"me opongo|derecho de oposicion|\boposicion\b"),
        (STRONG, r"retir(ar|o) (mi )?consentimiento"),
        (MEDIUM, r"dej(ar|en) de (recopilar|recoger|enviar|recolectar)"),
        (MEDIUM, r"dar(me)? de baja"),
    ),
    Label.COMPLAINT: (
        # en
        (STRONG, r"\bcomplain(t|ts|ing)?\b"),
        (
            STRONG,
            r"(privacy )?statement\b.{0,60}(not|never) (kept|honou?red|respected|followed)",
            "statement ... not kept",
        ),
        (
            STRONG,
            r"(you|your (company|program)) (promised|claimed|said)\b.{0,80}(but|yet|however)",
            "you promised ... but",
        ),
        (
            STRONG,
            r"(violat|breach)(e|ed|es|ing|ion)?\b.{0,40}(privacy|statement|promise|gdpr|law)",
            "violation of privacy",
        ),
        (MEDIUM, r"without (my )?(consent|permission|knowledge)"),
        (MEDIUM, r"(not|isn't|is not|wasn't) (really )?anonymous"),
        (WEAK, r"privacy statement"),
        # de
        (STRONG, r"beschwerde|beschwere mich|beschweren"),
        (STRONG, r"(versprochen|zugesichert)\b.{0,80}(aber|jedoch|trotzdem)", "versprochen ... aber"),
        (STRONG, r"versto(ss|sst|ssen)\b.{0,40}(datenschutz|dsgvo|erklarung)", "verstoss gegen datenschutz"),
        (MEDIUM, r"ohne (meine )?(einwilligung|zustimmung|wissen)"),
        (MEDIUM, r"nicht anonym"),
        (WEAK, r"datenschutzerklarung"),
        # fr
        (STRONG, r"\bplainte\b|reclamation|je me plains"),
        (STRONG, r"(promis\w*|garanti\w*)\b.{0,80}(mais|pourtant|cependant)", "promis ... mais"),
        (
            STRONG,
            r"violation\b.{0,40}(vie privee|rgpd|declaration|confidentialite)",
            "violation de la vie privee",
        ),
        (MEDIUM, r"sans (mon )?(consentement|accord|autorisation)"),
        (MEDIUM, r"pas anonyme"),
        (WEAK, r"declaration de confidentialite|politique de confidentialite"),
        # es
        (STRONG, r"\bqueja\b|reclamacion|me quejo"),
        (STRONG, r"(prometieron|prometio|garantizaron)\b.{0,80}(pero|sin embargo)", "prometieron ... pero"),
        (
            STRONG,
            r"(incumpl\w*|violacion|viola\w*)\b.{0,40}(privacidad|rgpd|declaracion|promesa)",
            "incumplimiento de privacidad",
        ),
        (MEDIUM, r"sin (mi )?(consentimiento|permiso|autorizacion)"),
        (MEDIUM, r"no (es|son) anonim"),
        (WEAK, r"declaracion de privacidad|politica de privacidad"),
    ),
    Label.QUESTION: (
        (WEAK, r"\?"),
        # en
        (MEDIUM, r"\b(how|why|what|which|when|where) (do|does|did|is|are|can|will|would)\b"),
        (
            MEDIUM,
            r"\b(i have a question|i would like to know|could you (tell|explain)|can you (tell|explain))\b",
        ),
        # de
        (
            MEDIUM,
            r"\b(ich habe eine frage|frage zu|konnen sie (mir )?(sagen|erklaren)|warum|wieso|weshalb)\b",
        ),
        (MEDIUM, r"\bwie (werden|wird|lange|kann)\b"),
        # fr
        (
            MEDIUM,
            r"\b(j'ai une question|pourriez-vous|pouvez-vous|pourquoi|comment (sont|est|puis)|est-ce que)\b",
        ),
        # es
        (MEDIUM, r"(tengo una pregunta|podrian|pueden (decirme|explicar)|por que|como (se|puedo|son))"),
    ),
}
_COMPILED = {
    label: tuple((spec[0], re.compile(spec[1]), spec[2] if len(spec) == 3 else None) for spec in entries)
    for label, entries in _LEXICON.items()
}


def confidence(score: float) -> float:
    """Saturating: one strong phrase 0.67, two 0.8, a weak one alone 0.38 (below the label threshold)."""
    return round(score / (score + 0.5), 2)


def extract_guids(*texts: str) -> tuple[str, ...]:
    """Machine GUIDs (UUID v4) in order of first mention, lower case, without repeats."""
    found: dict[str, None] = {}
    for text in texts:
        for match in GUID.finditer(text[:MAX_TEXT_CHARS]):
            found.setdefault(match.group(0).lower(), None)
            if len(found) >= MAX_GUIDS:
                return tuple(found)
    return tuple(found)


def score_labels(text: str) -> tuple[LabelScore, ...]:
    """Every label with at least one matching phrase, strongest first."""
    folded = " ".join(language.fold(text[:MAX_TEXT_CHARS]).split())
    scores = []
    for label, entries in _COMPILED.items():
        phrases: dict[str, float] = {}
        for weight, pattern, display in entries:
            for match in pattern.finditer(folded):
                phrase = display or match.group(0).strip()
                # Each distinct phrase counts once, so a repeated word does not inflate the confidence.
                phrases[phrase] = max(phrases.get(phrase, 0.0), weight)
                if pattern.pattern == r"\?":
                    break
        if phrases:
            total = sum(sorted(phrases.values(), reverse=True)[:MAX_PHRASES])
            top = sorted(phrases, key=lambda p: (-phrases[p], p))[:MAX_PHRASES]
            scores.append(LabelScore(label=label, confidence=confidence(total), phrases=tuple(top)))
    return tuple(sorted(scores, key=lambda s: (-s.confidence, s.label.value)))


def classify(subject: str, text: str, *, language_hint: str | None = None) -> Classification:
    body = f"{subject}\n{text}"
    scores = score_labels(body)
    labels = tuple(s.label for s in scores if s.confidence >= LABEL_THRESHOLD)
    if not labels:
        best = max((s.confidence for s in scores), default=0.0)
        other = LabelScore(label=Label.OTHER, confidence=round(1.0 - best, 2), phrases=())
        scores = (*scores, other)
        labels = (Label.OTHER,)
    return Classification(
        labels=labels,
        scores=scores,
        language=language.detect(body, language_hint),
        guids=extract_guids(subject, text),
    )


def untriaged(text: str, *, language_hint: str | None = None) -> Classification:
    """`other` only, no GUIDs: for list mail, whose text is not the sender's request."""
    return Classification(
        labels=(Label.OTHER,),
        scores=(LabelScore(label=Label.OTHER, confidence=1.0, phrases=()),),
        language=language.detect(text, language_hint),
        guids=(),
    )
