"""Errors a user can fix. The CLI prints them without a traceback and exits non-zero."""

from __future__ import annotations


class DigestError(Exception):
    """A problem with the user's input or setup: says what is wrong and what to do."""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message}\n  {self.hint}" if self.hint else self.message


class InputError(DigestError):
    """One record of a batch is bad: names where it is, so the rest can go on."""

    def __init__(
        self,
        where: str,
        problem: str,
        *,
        line: int | None = None,
        hint: str | None = None,
    ) -> None:
        self.where = where
        self.line = line
        self.problem = problem
        location = f"{where}:{line}" if line is not None else where
        super().__init__(f"{location}: {problem}", hint=hint)
