"""`make run`: the local stack in the foreground until Ctrl-C."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import threading
from pathlib import Path

from infra.local.stack import STATE_FILE, LocalStack
from infra.local.template import PROJECT_ROOT


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m infra.local", description=__doc__)
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "3000")))
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--state-file", type=Path, default=STATE_FILE, help="where the CLI finds the stack")
    args = parser.parse_args()
    # moto's own request log repeats every emulated AWS call; keep the console for the gateway.
    logging.getLogger("werkzeug").setLevel(logging.ERROR)

    stack = LocalStack(port=args.port, host=args.host, state_file=args.state_file).start()
    example = Path("docs/examples/batch.json")
    print(
        f"""
ceip local stack is up.
  API:        {stack.url}   (routes from template.yaml, handlers {
            ", ".join(f.handler for f in stack.template.functions() if f.routes)
        })
  embedded AWS (moto server): {stack.endpoint}
  resources:  {", ".join(f"{k}={v}" for k, v in stack.resources.items())}

Send the example batch:
  curl -i --data-binary @{example} -H 'content-type: application/json' {stack.url}/v1/reports

List what was stored (another terminal, in {PROJECT_ROOT}):
  .venv/bin/ceip reports list --date today

Build today's prevalence tables from what was stored (where they are and their numbers):
  .venv/bin/ceip aggregate --date today

Mail the privacy inbox as if SES had received it, then work the tickets:
  .venv/bin/ceip privacy deliver tests/fixtures/mail/inquiry-en-erasure.eml
  .venv/bin/ceip privacy list
  (what SES "sent" is in {stack.endpoint}/moto-api/data.json under ses.RawMessage)

Ctrl-C stops the stack; nothing is kept.
""",
        flush=True,
    )
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    try:
        stopped.wait()
    except KeyboardInterrupt:
        pass
    finally:
        stack.stop()


if __name__ == "__main__":
    main()
