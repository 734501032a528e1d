"""The exceptions apiward raises, all under :class:`ApiwardError`.

Every error carries a message written for the person running the tool and an
``exit_code`` the CLI returns (see ``docs/exit-codes.md``)::

    ApiwardError                  3  something apiward itself got wrong
    ├── UsageError                2  bad command-line usage
    ├── ConfigError               2  apiward.yaml is missing, not YAML, or fails validation
    └── InputError                2  an input the user gave us is unusable
        ├── SourceError           2  a file or URL cannot be read (missing, too large, not loopback)
        ├── ParseError            2  not valid JSON/YAML (names file and line)
        └── SpecError             2  valid JSON/YAML but not a usable API document
            └── RefError          2  a $ref that does not resolve, or a reference bomb

Findings are data, never exceptions: an audit that finds problems returns them.
Third-party errors are translated at the boundary (``raise ParseError(...) from None``)
so that users never see a traceback for bad input.
"""

from __future__ import annotations

__all__ = [
    "ApiwardError",
    "ConfigError",
    "InputError",
    "ParseError",
    "RefError",
    "SourceError",
    "SpecError",
    "UsageError",
]


class ApiwardError(Exception):
    """Base class. An uncaught one that is not a subclass means a bug in apiward."""

    exit_code = 3

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class UsageError(ApiwardError):
    exit_code = 2


class ConfigError(ApiwardError):
    """The config file is unusable. ``path`` and ``key`` say where."""

    exit_code = 2

    def __init__(self, message: str, *, path: str | None = None, key: str | None = None) -> None:
        where = ": ".join(p for p in (path, key) if p)
        super().__init__(f"{where}: {message}" if where else message)
        self.path = path
        self.key = key


class InputError(ApiwardError):
    """An input (spec, log file, token, ...) cannot be used.

    ``file``, ``pointer`` and ``line`` locate the problem where they are known.
    """

    exit_code = 2

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        pointer: str | None = None,
        line: int | None = None,
        column: int | None = None,
    ) -> None:
        self.file = file
        self.pointer = pointer
        self.line = line
        self.column = column
        self.reason = message
        super().__init__(self._format(message))

    def _format(self, message: str) -> str:
        where = self.file or ""
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        if self.pointer:
            where += f" (at {self.pointer or '/'})" if where else f"at {self.pointer}"
        return f"{where}: {message}" if where else message


class SourceError(InputError):
    """A file or URL cannot be read."""


class ParseError(InputError):
    """The text is not valid JSON or YAML."""


class SpecError(InputError):
    """The document parses but is not an OpenAPI/Swagger document we can use."""


class RefError(SpecError):
    """A ``$ref`` does not resolve, or references expand beyond the configured limits."""
