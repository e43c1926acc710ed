"""What a check reports: findings, and the record of a run kept in the manifest.

A finding is one thing to look at: which check, how bad, where (an element with a snippet, or
a header) and what to do. A report is the findings of one run over one message, with the
checks that ran and the hash of the content they ran on, so a later run (or `digest send`)
knows whether they still hold.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

Severity = Literal["error", "warning", "info"]
SEVERITIES: tuple[Severity, ...] = ("error", "warning", "info")
SNIPPET = 120  # characters of an element or header shown with a finding


@dataclass(frozen=True)
class Finding:
    check: str  # "links.https", "a11y.alt", "spam.score"...
    severity: Severity
    where: str  # "<a> 'View in browser'", "header List-Unsubscribe", "text part"
    problem: str  # what is wrong, in a sentence
    fix: str  # what to do about it
    snippet: str = ""  # the markup or value in question, cut short

    @property
    def family(self) -> str:
        return self.check.split(".")[0]

    def to_dict(self) -> dict[str, str]:
        data = {"check": self.check, "severity": self.severity, "where": self.where,
                "problem": self.problem, "fix": self.fix}
        if self.snippet:
            data["snippet"] = self.snippet
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Finding:
        severity = data.get("severity")
        return cls(
            check=str(data.get("check") or "unknown"),
            severity=severity if severity in SEVERITIES else "warning",
            where=str(data.get("where") or ""),
            problem=str(data.get("problem") or ""),
            fix=str(data.get("fix") or ""),
            snippet=str(data.get("snippet") or ""),
        )


def shorten(text: str, limit: int = SNIPPET) -> str:
    """One line of at most `limit` characters, an ellipsis where it was cut."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


@dataclass
class Report:
    """The findings of the checks that ran on one message (identified by `content`)."""

    content: str  # hash of the content checked (message.content_hash)
    ran: list[str] = field(default_factory=list)  # check groups that ran: "static", "browser"...
    findings: list[Finding] = field(default_factory=list)
    spam_score: float | None = None

    def add(self, group: str, findings: Iterable[Finding]) -> None:
        if group not in self.ran:
            self.ran.append(group)
        self.findings.extend(findings)

    def count(self, severity: Severity) -> int:
        return sum(1 for f in self.findings if f.severity == severity)

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "error"]

    def counts(self) -> dict[str, int]:
        found = Counter(f.severity for f in self.findings)
        return {s: found.get(s, 0) for s in SEVERITIES}

    def sorted(self) -> list[Finding]:
        rank = {s: n for n, s in enumerate(SEVERITIES)}
        return sorted(self.findings, key=lambda f: (rank[f.severity], f.check))

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"content": self.content, "ran": self.ran,
                                "counts": self.counts()}
        if self.spam_score is not None:
            data["spam_score"] = self.spam_score
        data["findings"] = [f.to_dict() for f in self.sorted()]
        return data

    @classmethod
    def from_dict(cls, data: Any) -> Report | None:
        """The report a manifest holds, or None when it holds none (or an unreadable one)."""
        if not isinstance(data, dict) or not isinstance(data.get("content"), str):
            return None
        findings = [Finding.from_dict(f) for f in data.get("findings") or []
                    if isinstance(f, dict)]
        ran = [str(r) for r in data.get("ran") or [] if isinstance(r, str)]
        score = data.get("spam_score")
        return cls(data["content"], ran, findings,
                   float(score) if isinstance(score, int | float) else None)
