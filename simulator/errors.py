"""The one exception hierarchy of journeysim.

``cli.py`` maps these to exit codes: :class:`ScenarioError` and :class:`UsageError` exit 2,
everything else derived from :class:`JourneySimError` exits 2 as well unless stated otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "JourneySimError",
    "ScenarioError",
    "ScenarioIssue",
    "ConditionError",
    "EngineError",
    "UsageError",
]


class JourneySimError(Exception):
    """Base class of every error journeysim raises on purpose."""


@dataclass(frozen=True)
class ScenarioIssue:
    """One problem found in a scenario file.

    ``path`` is the key path in the user's notation (``journeys[0].steps[3].goto``), ``line`` and
    ``column`` are 1-based positions in the YAML file (``None`` when unknown), ``message`` says what
    is wrong and what was expected, ``hint`` is an optional fix or did-you-mean.
    """

    path: str
    message: str
    line: int | None = None
    column: int | None = None
    hint: str | None = None
    file: str | None = None

    def format(self) -> str:
        where = self.file or "<scenario>"
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        text = f"{where}: {self.path or '<top>'}: {self.message}"
        if self.hint:
            text += f"; {self.hint}"
        return text


class ScenarioError(JourneySimError):
    """A scenario failed to load or validate; carries every issue found, not only the first."""

    def __init__(self, issues: list[ScenarioIssue] | ScenarioIssue, file: str | None = None):
        if isinstance(issues, ScenarioIssue):
            issues = [issues]
        self.file = file
        self.issues = [
            i if i.file or not file else ScenarioIssue(i.path, i.message, i.line, i.column, i.hint, file)
            for i in issues
        ]
        super().__init__(self.format())

    #: At most this many issues are printed; the rest are summarised in one line (all stay in ``issues``).
    SHOWN = 200

    def format(self) -> str:
        n = len(self.issues)
        head = f"{self.file or 'scenario'}: {n} error{'s' if n != 1 else ''}"
        lines = [head] + ["  " + i.format() for i in self.issues[: self.SHOWN]]
        if n > self.SHOWN:
            lines.append(f"  ... and {n - self.SHOWN} more (fix the first ones and validate again)")
        return "\n".join(lines)


class ConditionError(JourneySimError, ValueError):
    """A condition string is not valid in the condition language.

    ``column`` is the 1-based column inside the condition text where the problem starts.
    """

    def __init__(self, message: str, text: str, column: int | None = None):
        self.text = text
        self.column = column
        self.message = message
        pointer = ""
        if column is not None:
            pointer = f"\n    {text}\n    {' ' * (column - 1)}^"
        super().__init__(f"{message} (column {column})" + pointer if column else message)


class EngineError(JourneySimError):
    """The simulation could not run to its end."""


class UsageError(JourneySimError):
    """Bad command-line usage that click's own parameter types could not catch (e.g. ``--set``)."""
