"""A ticket holds at most MAX_GUIDS_PER_TICKET machine GUIDs: the team's attach refuses past it, naming
the bound; a reply's intake keeps what fits and records how many it dropped, never which."""

from __future__ import annotations

import io
import json
import uuid
from typing import Any

import pytest

from ceip.privacy.tickets import MAX_GUIDS_PER_TICKET
from tests.functional import test_cli_requests, test_privacy_intake
from tests.functional.test_cli_requests import run
from tests.functional.test_privacy_intake import deliver, filed, store, ticket
from tests.support.privacy import PrivacyAws, mail

# The fixtures of those suites, shared by name.
question = test_cli_requests.question
context = test_privacy_intake.context
logs = test_privacy_intake.logs


def guids(count: int) -> list[str]:
    return [str(uuid.uuid4()) for _ in range(count)]


def test_attach_past_the_bound_refuses_with_the_bound_and_attaches_nothing(
    question: str, capsys: Any
) -> None:
    # Given a ticket already holding all but two of the GUIDs it may hold
    first = guids(MAX_GUIDS_PER_TICKET - 2)
    assert run(capsys, "attach", question, *first)[0] == 0
    # When the team attaches three more
    code, _, err = run(capsys, "attach", question, *guids(3))
    # Then the command fails, says the bound, names no GUID, and the ticket is unchanged
    assert code != 0
    assert f"at most {MAX_GUIDS_PER_TICKET}" in err and "3 more do not fit" in err
    assert ticket(question).guids == tuple(first)
    # And two still fit
    assert run(capsys, "attach", question, *guids(2))[0] == 0
    assert len(ticket(question).guids) == MAX_GUIDS_PER_TICKET


def test_replies_past_the_bound_keep_what_fits_and_record_the_dropped_count_only(
    privacy_aws: PrivacyAws, context: Any, logs: io.StringIO, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a ticket whose requester keeps replying with 20 new GUIDs a message (as many as one message gives)
    sent = guids(20)
    ref = filed(
        deliver(privacy_aws, context, mail(message_id="many-0@mail.example.net", body=" ".join(sent)))[0]
    )[0]
    replies = MAX_GUIDS_PER_TICKET // 20
    for n in range(replies):
        batch = guids(20)
        sent += batch
        reply = mail(
            in_reply_to="<many-0@mail.example.net>",
            message_id=f"many-{n + 1}@mail.example.net",
            body=" ".join(batch),
        )
        # When each reply is filed
        assert filed(deliver(privacy_aws, context, reply)[0]) == (ref, "joined")
    # Then the ticket holds the first GUIDs up to the bound, in the order they came
    assert ticket(ref).guids == tuple(sent[:MAX_GUIDS_PER_TICKET])
    # And the last reply's history entry counts what was dropped; earlier ones carry no such count
    history = [h for h in store().history(ref) if h.action == "reply_received"]
    assert [h.details.get("guids_dropped") for h in history] == [None] * (replies - 1) + [20]
    assert history[-1].details["guids_added"] == 0
    # And no dropped GUID appears in the history or the logs
    dropped = sent[MAX_GUIDS_PER_TICKET:]
    written = json.dumps([h.model_dump(mode="json") for h in store().history(ref)]) + logs.getvalue()
    written += capsys.readouterr().out
    assert len(dropped) == 20 and not any(g in written for g in dropped)
