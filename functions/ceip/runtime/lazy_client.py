"""The base of every AWS adapter: a boto3 client passed in, or the adapter's cached factory's.

The factory is asked on every use rather than in the constructor, so the client is built on first use,
after any mock has started; each adapter keeps its own factory (and with it its own timeouts and retries).
"""

from __future__ import annotations

from typing import Any


class LazyClient:
    @staticmethod
    def client_factory() -> Any:
        """The adapter's cached client factory; a subclass names its own: `staticmethod(s3_client)`."""
        raise NotImplementedError

    def __init__(self, client: Any = None) -> None:
        self._client = client

    @property
    def client(self) -> Any:
        return self._client or self.client_factory()
