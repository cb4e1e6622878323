"""Capture every line the code under test prints or logs, wherever it goes.

Powertools loggers write through their own StreamHandler, bound to the sys.stdout of the moment they
were built (often before pytest's capsys took over), so those handlers are pointed at a buffer here.
EMF metrics and the CLI `print` to sys.stdout (capsys). Standard-library loggers (boto, moto's server,
anything else) reach the root logger, where caplog keeps every record with its extra fields.
"""

from __future__ import annotations

import io
import json
import logging
import sys
from types import TracebackType
from typing import Any

import pytest


class OutputCapture:
    def __init__(self, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture) -> None:
        self._capsys = capsys
        self._caplog = caplog
        self._handlers = io.StringIO()
        self._swapped: list[tuple[logging.StreamHandler[Any], Any]] = []
        self._stdout: list[str] = []
        self._stderr: list[str] = []

    def __enter__(self) -> OutputCapture:
        self._caplog.set_level(logging.INFO)
        self.redirect_handlers()
        return self

    def redirect_handlers(self) -> None:
        """Point every plain StreamHandler not yet redirected at the buffer. Call it again after importing
        code that builds loggers: a handler bound to a fixture's setup-phase stdout writes to a closed
        file once that phase is over."""
        loggers = [
            logging.getLogger(),
            *(logging.getLogger(name) for name in logging.root.manager.loggerDict),
        ]
        done = {id(handler) for handler, _ in self._swapped}
        for logger in loggers:
            for handler in logger.handlers:
                # Exactly StreamHandler: pytest's own capture handlers are subclasses and stay as they are.
                if type(handler) is logging.StreamHandler and id(handler) not in done:
                    self._swapped.append((handler, _swap(handler, self._handlers)))
                    done.add(id(handler))

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        for handler, previous in self._swapped:
            # A stream that was closed meanwhile (a finished fixture's) is replaced by the process's own.
            _swap(handler, sys.__stdout__ if getattr(previous, "closed", False) else previous)

    @property
    def handlers_redirected(self) -> int:
        return len(self._swapped)

    def lines(self) -> list[tuple[str, str]]:
        """(source, line) for everything captured so far."""
        out, err = self._capsys.readouterr()
        self._stdout.append(out)
        self._stderr.append(err)
        found = [("stdout", line) for line in "".join(self._stdout).splitlines()]
        found += [("stderr", line) for line in "".join(self._stderr).splitlines()]
        found += [("log-handler", line) for line in self._handlers.getvalue().splitlines()]
        records = [*self._caplog.get_records("setup"), *self._caplog.get_records("call")]
        found += [("log-record", _record_text(record)) for record in records]
        return [(source, line) for source, line in found if line.strip()]


def _swap(handler: logging.StreamHandler[Any], stream: Any) -> Any:
    """handler.setStream without flushing a closed stream (which raises)."""
    previous = handler.stream
    if getattr(previous, "closed", False):
        handler.stream = stream
        return previous
    return handler.setStream(stream)


def _record_text(record: logging.LogRecord) -> str:
    """The whole record: message, arguments, extra keys, exception text."""
    fields = dict(vars(record))
    fields["message"] = record.getMessage()
    if record.exc_info and record.exc_info[1] is not None:
        fields["exc_text"] = logging.Formatter().formatException(record.exc_info)
    fields.pop("exc_info", None)
    return json.dumps(fields, default=str)
