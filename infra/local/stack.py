"""The whole local stack in one object: moto server, provisioned resources, HTTP gateway.

Used by `make run` (in the foreground) and by the local tests (on free ports).
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

from moto.server import ThreadedMotoServer

from infra.local.gateway import Gateway, make_server
from infra.local.provision import provision
from infra.local.template import LOCAL_REGION, PROJECT_ROOT, Template

STATE_FILE = PROJECT_ROOT / ".ceip" / "local.json"
"""Where `make run` tells the `ceip` CLI how to reach the local stack."""

LOCAL_PARAMETERS = {
    # A demo budget, for the local stack only (the deployed default stays template.yaml's 16): with it the
    # README's 100-machine example batch (docs/examples/batch.json) shows partner rows after
    # `ceip aggregate --date today`. With the default bounds, partition selection publishes a product's
    # active row once its noisy machine count clears about 120 at epsilon 16, about 30 at 100.
    "PartnerEpsilon": "100",
    # The template's floor (MinValue 10), below its deployed default of 50, for the same demo batch.
    "PartnerMinMachines": "10",
}
"""Parameter values of the local stack that differ from template.yaml's defaults."""


def local_template() -> Template:
    return Template.load().with_parameters(LOCAL_PARAMETERS)


def aws_environment(endpoint: str) -> dict[str, str]:
    """Point every boto3 client of this process at the moto server, with dummy credentials."""
    return {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": LOCAL_REGION,
        "AWS_REGION": LOCAL_REGION,
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_DEV": "false",
    }


@dataclass
class LocalStack:
    port: int = 3000
    host: str = "127.0.0.1"
    moto_port: int = 0
    template: Template = field(default_factory=local_template)
    state_file: Path | None = None

    def __post_init__(self) -> None:
        self._moto: ThreadedMotoServer | None = None
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self.resources: dict[str, str] = {}
        self.endpoint = ""

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> LocalStack:
        self._moto = ThreadedMotoServer(ip_address=self.host, port=self.moto_port, verbose=False)
        self._moto.start()
        host, port = self._moto.get_host_and_port()
        self.endpoint = f"http://{host}:{port}"
        os.environ.update(aws_environment(self.endpoint))
        self.resources = provision(self.template)
        functions = self.template.functions()
        for function in functions:
            # One process hosts every function; their variables do not collide (settings are per function).
            os.environ.update(function.environment)
        self._server = make_server(Gateway(functions), self.host, self.port)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, name="gateway", daemon=True)
        self._thread.start()
        if self.state_file is not None:
            self.write_state(self.state_file)
        return self

    def environment(self) -> dict[str, str]:
        """Environment a separate process (the CLI) needs to reach this stack."""
        env = aws_environment(self.endpoint)
        for function in self.template.functions():
            env.update(function.environment)
        cli = self.template.body.get("Metadata", {}).get("CliEnvironment", {})
        env.update({name: str(self.template.resolve(value)) for name, value in cli.items()})
        return env

    def write_state(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        state = {
            "url": self.url,
            "endpoint": self.endpoint,
            "resources": self.resources,
            "environment": self.environment(),
        }
        path.write_text(json.dumps(state, indent=2) + "\n", encoding="utf-8")

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._moto is not None:
            self._moto.stop()
        if self.state_file is not None and self.state_file.exists():
            self.state_file.unlink()

    def __enter__(self) -> LocalStack:
        return self.start()

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.stop()
