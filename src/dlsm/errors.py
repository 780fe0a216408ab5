"""Errors that the CLI turns into a clear message and an exit status, never a traceback."""

from __future__ import annotations

from collections.abc import Iterable


class DlsmError(Exception):
    """A problem the user can fix (bad data, a missing file); the CLI exits with status 1."""

    exit_status = 1


class ConfigError(DlsmError, ValueError):
    """An unknown key or an invalid value; the CLI exits with status 2 (usage error)."""

    exit_status = 2

    def __init__(self, message: str, key: str | None = None) -> None:
        super().__init__(message)
        self.key = key

    @classmethod
    def not_one_of(cls, key: str, value: object, choices: Iterable[object]) -> ConfigError:
        """The config's own refusal of a value outside a list, "{key}: got {value!r}; allowed: one of: a, b" (the
        glossary's cli.err.bad_value with cli.allowed.one_of, in the current language), naming ``key``."""
        from dlsm.i18n import t  # dlsm.i18n imports this module

        allowed = t("cli.allowed.one_of", choices=", ".join(str(c) for c in choices))
        return cls(t("cli.err.bad_value", key=key, value=value, allowed=allowed), key=key)


class DataError(DlsmError):
    """Missing, partial or corrupt data."""


class InputError(DataError):
    """A file or folder named on the command line that cannot be used (missing, of another lab, finished,
    not a plain weights file): a user error, exit status 2."""

    exit_status = 2


class WriteFailed(DataError):
    """A file of a run could not be written (a full disk, an I/O error): a failure of the run, exit status 1."""

    exit_status = 1
