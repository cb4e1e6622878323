"""`ceip aggregate declare FILE` in-process against moto: a valid dictionary is stored where the
aggregation reads it, a dry run stores nothing, an invalid one is refused (exit 1) without echoing it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ceip.cli import main
from ceip.storage import aggregate_keys
from tests.conftest import AGGREGATES_BUCKET

DICTIONARY = {
    "product_id": "contoso.editor",
    "problems": [{"id": "crash.mso.dll", "kind": "program", "description": "The editor closes."}],
    "features": [],
}


def stored(s3: Any) -> list[str]:
    return [o["Key"] for o in s3.list_objects_v2(Bucket=AGGREGATES_BUCKET).get("Contents", [])]


def test_a_dictionary_is_checked_and_stored_for_the_next_run(
    s3: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given an aggregates bucket and a dictionary file
    s3.create_bucket(Bucket=AGGREGATES_BUCKET)
    path = tmp_path / "editor.json"
    path.write_text(json.dumps(DICTIONARY))
    # When it is declared, first as a dry run
    assert main(["aggregate", "declare", str(path), "--dry-run"]) == 0
    assert stored(s3) == []
    assert main(["aggregate", "declare", str(path)]) == 0
    # Then it is stored under the product's key, as parsed
    key = aggregate_keys.dictionary_key("contoso.editor")
    assert stored(s3) == [key]
    body = json.loads(s3.get_object(Bucket=AGGREGATES_BUCKET, Key=key)["Body"].read())
    assert body["problems"][0]["id"] == "crash.mso.dll"
    assert "1 problem ids" in capsys.readouterr().out


def test_an_invalid_dictionary_is_refused_and_nothing_is_stored(
    s3: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    s3.create_bucket(Bucket=AGGREGATES_BUCKET)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({**DICTIONARY, "product_id": "=cmd|'/c calc'!a0"}))
    assert main(["aggregate", "declare", str(path)]) == 1
    err = capsys.readouterr().err
    assert "not a data dictionary" in err and "calc" not in err
    assert stored(s3) == []
