"""Triage: labels with confidence and deciding phrases in four languages, language, GUIDs."""

from __future__ import annotations

import pytest

from ceip.privacy.classify import Label, classify, extract_guids
from ceip.privacy.language import detect, fold

GUID = "3f1c9a2e-5b7d-4c8e-9f21-6a4b8c0d2e7f"

CASES = [
    ("en", Label.ERASURE, "Please delete my data", "I want you to erase all my data. Right to be forgotten."),
    ("en", Label.ACCESS, "Data request", "Please send me a copy of my personal data that you hold."),
    ("en", Label.OBJECTION, "Stop", "I object to the processing and I want to opt out of the program."),
    ("en", Label.COMPLAINT, "Complaint", "This is a complaint: you promised anonymity but you sent my name."),
    ("en", Label.QUESTION, "Question", "Hello, how do you store the reports? Thank you for the answer."),
    ("de", Label.ERASURE, "Daten löschen", "Bitte löschen Sie meine Daten, die Sie gespeichert haben."),
    ("de", Label.ACCESS, "Auskunft", "Ich bitte um Auskunft nach Art. 15 und eine Kopie meiner Daten."),
    (
        "de",
        Label.OBJECTION,
        "Widerspruch",
        "Ich widerspreche der Verarbeitung und widerrufe meine Einwilligung.",
    ),
    (
        "de",
        Label.COMPLAINT,
        "Beschwerde",
        "Ich beschwere mich, die Daten wurden ohne meine Einwilligung gesendet.",
    ),
    ("de", Label.QUESTION, "Frage", "Ich habe eine Frage: warum brauchen Sie die Daten und wie lange?"),
    ("fr", Label.ERASURE, "Suppression", "Merci de supprimer toutes mes données, droit à l'oubli."),
    ("fr", Label.ACCESS, "Accès", "Je demande l'accès à mes données et une copie de mes données."),
    ("fr", Label.OBJECTION, "Opposition", "Je m'oppose au traitement et je veux retirer mon consentement."),
    (
        "fr",
        Label.COMPLAINT,
        "Plainte",
        "Je dépose une plainte, vous avez envoyé mes données sans mon accord.",
    ),
    ("fr", Label.QUESTION, "Question", "J'ai une question : pourquoi collectez-vous ces données ?"),
    ("es", Label.ERASURE, "Borrar", "Por favor borren mis datos y eliminen todo lo que tengan."),
    ("es", Label.ACCESS, "Acceso", "Quiero ejercer mi derecho de acceso y una copia de mis datos."),
    ("es", Label.OBJECTION, "Oposición", "Me opongo al tratamiento y quiero retirar mi consentimiento."),
    ("es", Label.COMPLAINT, "Queja", "Presento una queja, enviaron mis datos sin mi consentimiento."),
    ("es", Label.QUESTION, "Pregunta", "Tengo una pregunta: ¿por qué recogen estos datos de mi equipo?"),
]


@pytest.mark.parametrize(
    ("language", "label", "subject", "text"), CASES, ids=[f"{c[0]}-{c[1]}" for c in CASES]
)
def test_each_label_is_recognised_in_each_language(
    language: str, label: Label, subject: str, text: str
) -> None:
    # When an inquiry is classified
    result = classify(subject, text)
    # Then it carries the label with a confidence of at least one half and the phrases that decided it
    assert label in result.labels
    score = next(s for s in result.scores if s.label is label)
    assert 0.5 <= score.confidence < 1.0
    assert score.phrases
    assert result.language == language


def test_several_labels_at_once_strongest_first() -> None:
    result = classify(
        "Complaint and deletion", "This is a complaint. Delete my data and stop collecting data."
    )
    assert set(result.labels) >= {Label.COMPLAINT, Label.ERASURE, Label.OBJECTION}
    confidences = [s.confidence for s in result.scores]
    assert confidences == sorted(confidences, reverse=True)


def test_more_evidence_means_more_confidence() -> None:
    weak = classify("", "Please delete it.")
    strong = classify("Right to erasure", "Please delete my data. I ask for the erasure of my personal data.")
    weak_score = next(s for s in weak.scores if s.label is Label.ERASURE)
    strong_score = next(s for s in strong.scores if s.label is Label.ERASURE)
    assert strong_score.confidence > weak_score.confidence


def test_text_without_any_phrase_is_other() -> None:
    result = classify("Hello", "Nice weather today.")
    assert result.labels == (Label.OTHER,)
    assert result.scores[-1].label is Label.OTHER


def test_a_lone_question_mark_is_not_enough_for_a_question() -> None:
    assert classify("", "ok?").labels == (Label.OTHER,)


def test_phrases_spanning_free_text_report_a_fixed_phrase_not_the_words_in_between() -> None:
    # Given a complaint whose deciding pattern spans a name
    result = classify("", "Your privacy statement, written for John Smith at 12 Main Street, was not kept.")
    score = next(s for s in result.scores if s.label is Label.COMPLAINT)
    # Then the phrase on the ticket does not repeat what was written between
    assert "statement ... not kept" in score.phrases
    assert not any("smith" in p or "main street" in p for p in score.phrases)


def test_guids_are_extracted_lower_case_once_from_subject_and_body() -> None:
    upper = GUID.upper()
    found = extract_guids(f"Machine {{{upper}}}", f"again {GUID}, and c0ffee00-1234-4abc-8def-0123456789ab")
    assert found == (GUID, "c0ffee00-1234-4abc-8def-0123456789ab")


def test_only_version_4_guids_are_machine_ids() -> None:
    assert (
        extract_guids(
            "v1 6ba7b810-9dad-11d1-80b4-00c04fd430c8, v4-bad-variant 3f1c9a2e-5b7d-4c8e-7f21-6a4b8c0d2e7f"
        )
        == ()
    )
    assert extract_guids(f"x{GUID}0") == ()  # part of a longer hex run


def test_language_detection_and_hint() -> None:
    assert detect("the data and the program") == "en"
    assert detect("Bitte löschen Sie die Daten und das Konto") == "de"
    assert detect("12345", hint="fr-FR") == "fr"
    assert detect("12345", hint="ja") is None
    assert fold("Löschung Straße Données ÉTÉ") == "loschung strasse donnees ete"
