"""Texts we send to requesters, per language (en, de, fr, es), each with the ticket reference in the
subject. They never quote the inbound message: an auto-acknowledgement must not relay a stranger's text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from string import Template

from ceip.privacy import language
from ceip.privacy.references import subject_tag


class Kind(StrEnum):
    ACKNOWLEDGEMENT = "acknowledgement"
    ANSWER = "answer"
    NEED_INFO = "need-info"
    EXTENSION = "extension"


@dataclass(frozen=True)
class Rendered:
    subject: str
    body: str
    language: str


_MONTHS = {
    "en": "January February March April May June July August September October November December",
    "de": "Januar Februar März April Mai Juni Juli August September Oktober November Dezember",
    "fr": "janvier février mars avril mai juin juillet août septembre octobre novembre décembre",
    "es": "enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre diciembre",
}
_DATE_FORMATS = {"en": "{d} {m} {y}", "de": "{d}. {m} {y}", "fr": "{d} {m} {y}", "es": "{d} de {m} de {y}"}

_SUBJECTS: dict[Kind, dict[str, str]] = {
    Kind.ACKNOWLEDGEMENT: {
        "en": "We have received your privacy request",
        "de": "Wir haben Ihre Datenschutzanfrage erhalten",
        "fr": "Nous avons bien reçu votre demande relative à vos données",
        "es": "Hemos recibido su solicitud de privacidad",
    },
    Kind.ANSWER: {
        "en": "Your privacy request",
        "de": "Ihre Datenschutzanfrage",
        "fr": "Votre demande relative à vos données",
        "es": "Su solicitud de privacidad",
    },
    Kind.NEED_INFO: {
        "en": "We need more information for your privacy request",
        "de": "Wir benötigen weitere Angaben zu Ihrer Datenschutzanfrage",
        "fr": "Nous avons besoin de précisions sur votre demande",
        "es": "Necesitamos más información sobre su solicitud",
    },
    Kind.EXTENSION: {
        "en": "We need more time to answer your privacy request",
        "de": "Wir benötigen mehr Zeit für Ihre Datenschutzanfrage",
        "fr": "Nous avons besoin de plus de temps pour votre demande",
        "es": "Necesitamos más tiempo para su solicitud",
    },
}

_SIGNATURE = {
    "en": "The privacy team of the Customer Experience Improvement Program",
    "de": "Das Datenschutzteam des Programms zur Verbesserung der Benutzerfreundlichkeit",
    "fr": "L'équipe de protection des données du Programme d'amélioration de l'expérience client",
    "es": "El equipo de privacidad del Programa para la mejora de la experiencia del cliente",
}

_BODIES: dict[Kind, dict[str, str]] = {
    Kind.ACKNOWLEDGEMENT: {
        "en": "Hello,\n\nthank you for your message. We have recorded it under the reference $ref; please "
        "keep "
        "this reference in the subject of any reply.\n\nWe will answer by $due at the latest.\n\nThis is an "
        "automatic confirmation of receipt.",
        "de": "Guten Tag,\n\nvielen Dank für Ihre Nachricht. Wir haben sie unter dem Zeichen $ref "
        "erfasst; bitte "
        "behalten Sie dieses Zeichen im Betreff Ihrer Antworten bei.\n\nWir antworten Ihnen spätestens bis "
        "zum $due.\n\nDies ist eine automatische Eingangsbestätigung.",
        "fr": "Bonjour,\n\nnous vous remercions de votre message. Nous l'avons enregistré sous la "
        "référence $ref ; "
        "merci de conserver cette référence dans l'objet de vos réponses.\n\nNous vous répondrons au plus "
        "tard le $due.\n\nCeci est un accusé de réception automatique.",
        "es": "Hola:\n\ngracias por su mensaje. Lo hemos registrado con la referencia $ref; conserve esta "
        "referencia en el asunto de sus respuestas.\n\nLe responderemos a más tardar el $due.\n\nEste es un "
        "acuse de recibo automático.",
    },
    Kind.ANSWER: {
        "en": "Hello,\n\n$text",
        "de": "Guten Tag,\n\n$text",
        "fr": "Bonjour,\n\n$text",
        "es": "Hola:\n\n$text",
    },
    Kind.NEED_INFO: {
        "en": "Hello,\n\nto handle your request $ref we need the following from you:\n\n$text\n\nPlease "
        "reply to "
        "this message, keeping the reference in the subject.",
        "de": "Guten Tag,\n\num Ihre Anfrage $ref bearbeiten zu können, benötigen wir von "
        "Ihnen:\n\n$text\n\nBitte "
        "antworten Sie auf diese Nachricht und behalten Sie das Zeichen im Betreff bei.",
        "fr": "Bonjour,\n\npour traiter votre demande $ref, nous avons besoin des éléments suivants "
        ":\n\n$text\n\n"
        "Merci de répondre à ce message en conservant la référence dans l'objet.",
        "es": "Hola:\n\npara tramitar su solicitud $ref necesitamos lo siguiente:\n\n$text\n\nResponda a "
        "este "
        "mensaje conservando la referencia en el asunto.",
    },
    Kind.EXTENSION: {
        "en": "Hello,\n\nwe need more time to answer your request $ref, for this reason:\n\n$text\n\nWe "
        "will answer "
        "by $due at the latest.",
        "de": "Guten Tag,\n\nfür die Beantwortung Ihrer Anfrage $ref benötigen wir mehr Zeit, aus folgendem "
        "Grund:\n\n$text\n\nWir antworten Ihnen spätestens bis zum $due.",
        "fr": "Bonjour,\n\nnous avons besoin de plus de temps pour répondre à votre demande $ref, pour la "
        "raison "
        "suivante :\n\n$text\n\nNous vous répondrons au plus tard le $due.",
        "es": "Hola:\n\nnecesitamos más tiempo para responder a su solicitud $ref, por el siguiente "
        "motivo:\n\n"
        "$text\n\nLe responderemos a más tardar el $due.",
    },
}


def long_date(day: date, lang: str) -> str:
    month = _MONTHS[lang].split()[day.month - 1]
    return _DATE_FORMATS[lang].format(d=day.day, m=month, y=day.year) + f" ({day.isoformat()})"


def render(kind: Kind, lang: str | None, *, ref: str, due: date | None = None, text: str = "") -> Rendered:
    """Subject and body of a message to the requester, in their language when we have it."""
    chosen = lang if lang in language.SUPPORTED else language.DEFAULT
    values = {"ref": ref, "text": text.strip(), "due": long_date(due, chosen) if due else ""}
    body = Template(_BODIES[kind][chosen]).safe_substitute(values)
    return Rendered(
        subject=f"{subject_tag(ref)} {_SUBJECTS[kind][chosen]}",
        body=f"{body}\n\n{_SIGNATURE[chosen]}\n",
        language=chosen,
    )


def export_text(machines: Sequence[tuple[str, int]], url: str, link_hours: int) -> str:
    """The text of the answer that carries a person's export: the reports per machine (GUID, reports) and
    the one link to the document holding them. It goes out as an ANSWER, so the greeting and signature
    are the requester's language's."""
    counts = "\n".join(f"Machine {guid}: {reports} report(s)" for guid, reports in machines)
    return (
        "Here is every report we hold for the machine identifier(s) you gave us, as one JSON document. "
        f"The link works for {link_hours} hours; the document is deleted after that.\n\n{counts}\n\n{url}"
    )
