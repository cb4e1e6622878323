"""The one settings style of every function and the CLI: a frozen pydantic model per function whose
fields are named by their environment variables (aliases), read once, with defaults only here."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Self

from pydantic import BaseModel, ConfigDict, ValidationError


class MissingSettings(ValueError):
    """Required variables are unset or invalid; names the variables, never their values."""

    def __init__(self, names: list[str]) -> None:
        super().__init__(", ".join(names))
        self.names = names


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True, populate_by_name=True, extra="forbid")

    @classmethod
    def variables(cls) -> dict[str, str]:
        """Field name -> environment variable."""
        return {name: field.alias or name.upper() for name, field in cls.model_fields.items()}

    @classmethod
    def from_environment(cls, environment: Mapping[str, str] | None = None) -> Self:
        """An empty variable counts as unset, so the field's default applies."""
        source = os.environ if environment is None else environment
        values = {name: source[var] for name, var in cls.variables().items() if source.get(var)}
        try:
            return cls.model_validate(values)
        except ValidationError as error:
            variables = cls.variables()
            # A missing field is reported by its alias (the variable), an invalid one by either name.
            names = sorted(
                {variables.get(str(e["loc"][0]), str(e["loc"][0])) for e in error.errors() if e["loc"]}
            )
            raise MissingSettings(names) from None
