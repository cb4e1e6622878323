"""Fixtures shared by the fault-injection tests."""

from __future__ import annotations

import pytest

from tests.support import faults
from tests.support.faults import Backoff


@pytest.fixture
def backoff(monkeypatch: pytest.MonkeyPatch) -> Backoff:
    """botocore's retry waits recorded instead of slept."""
    return faults.skip_backoff(monkeypatch)
