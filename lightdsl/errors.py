"""Exceptions for mistakes a user can make outside a spec's text.

Problems *inside* a spec are reported as :class:`lightdsl.frontend.diagnostics.Diagnostic` values,
collected, never raised. The exceptions here cover what only shows up at run time: a data file
that is malformed, a device that is absent, a bad command-line option. The CLI prints them as one
clear message and exits non-zero, without a traceback.
"""

from __future__ import annotations


class LightdslError(Exception):
    """A user-facing error: printed as ``error: <message>``, never with a traceback."""

    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None, location: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.location = location  # ``spec.lit:4:16`` where the error is a spec line's

    def __str__(self) -> str:
        body = self.message if not self.hint else f"{self.message}\n  hint: {self.hint}"
        return f"{self.location}: {body}" if self.location else body

    def report(self) -> str:
        """What the command line prints: ``error: message``, or ``spec.lit:4:16: error:
        message`` (the location first, as check prints it), and the hint below."""
        if not self.location:
            return f"error: {self}"
        return f"{self.location}: error: " + str(self).removeprefix(f"{self.location}: ")


class UsageError(LightdslError):
    """A bad command-line argument or a file that cannot be read (exit code 2)."""

    exit_code = 2


class DataError(LightdslError):
    """A data file or data setting that cannot be used; names the file and the row or index."""

    def __init__(self, message: str, *, path: str | None = None, where: str | None = None,
                 hint: str | None = None):
        location = ":".join(part for part in (path, where) if part)
        super().__init__(f"{location}: {message}" if location else message, hint=hint)
        self.path = path
        self.where = where


class ConfigError(LightdslError):
    """A trainer setting that is invalid or inconsistent (e.g. val_check_interval without val data)."""


class DeviceError(LightdslError):
    """An accelerator or precision that was asked for but is not available here."""


class TrainingError(LightdslError):
    """Training had to stop (e.g. a NaN loss); the message says where and what was kept."""


class WeightsError(UsageError):
    """A weights file to start from that cannot be read or does not fit the model; the message
    names the file and the tensors that are missing, unexpected or of another shape."""
