"""The spam score: SpamAssassin on each message's full .eml, with local rules only.

One `spamassassin -t -L --mbox` process scores every message of a run (its start-up, loading
a few thousand rules, costs more than scoring), started first so it works while Chromium
does. Debian's `spamassassin` package ships its rules in /usr/share/spamassassin, so this
needs no `sa-update` and no network; Bayes is off and nothing is written to the user's home.

    score > DIGEST_SPAM_ERROR_SCORE (5.0)   error: `digest send` refuses
    score > DIGEST_SPAM_WARN_SCORE (2.5)    warning
    otherwise                               info, with the rules that fired
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from digest.checks.findings import Finding, Severity, shorten

if TYPE_CHECKING:
    from digest.checks.message import Message
    from digest.settings import Settings

TIMEOUT = 300  # seconds for the whole run; scoring takes a second or two
HEADLINE = re.compile(r"^Content analysis details:\s+\((-?[\d.]+) points?, (-?[\d.]+) required\)",
                      re.MULTILINE)
RULE = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s+([A-Z0-9_]+)\s+(.*)$")
CONTINUED = re.compile(r"^\s{20,}(\S.*)$")
NO_RULES = "no rules were found"
FROM_LINE = b"From digest-check@localhost Thu Jan  1 00:00:00 1970\n"
SEPARATOR = re.compile(r"^From digest-check@localhost .*$", re.MULTILINE)

Result = tuple[float | None, list[Finding]]


class SpamRun:
    """SpamAssassin working on `messages` in the background; `results()` waits for it."""

    def __init__(self, settings: Settings, messages: Sequence[Message], *,
                 rules_dir: Path | None = None) -> None:
        self.settings = settings
        self.count = len(messages)
        self.problem: str | None = None
        self._process: subprocess.Popen[bytes] | None = None
        executable = Path(settings.spamassassin_path)
        if not (executable.is_file() and os.access(executable, os.X_OK)):
            self.problem = f"no SpamAssassin at {executable}"
            return
        self._folder = tempfile.mkdtemp(prefix="digest-spam-")
        mbox = Path(self._folder) / "messages.mbox"
        mbox.write_bytes(b"".join(_mbox_entry(m.eml) for m in messages))
        prefs = Path(self._folder) / "user_prefs"
        prefs.write_text("")
        # report_safe 0: a spammy message is not wrapped as an attachment (which would carry
        # the report twice); the report -t appends comes once, at the end of each message.
        command = [str(executable), "-t", "-L", "--mbox", "-p", str(prefs),
                   "--cf=use_bayes 0", "--cf=bayes_auto_learn 0", "--cf=report_safe 0"]
        if rules_dir is not None:
            command += ["-C", str(rules_dir)]
        env = {**os.environ, "HOME": self._folder}
        self._process = subprocess.Popen([*command, str(mbox)], stdout=subprocess.PIPE,
                                         stderr=subprocess.PIPE, env=env)

    def results(self) -> list[Result]:
        """(score, findings) for each message, in order."""
        output = self._wait()
        if self.problem is not None:
            return [(None, [_unavailable(self.problem, self.settings)])] * self.count
        # One chunk per message (body lines starting "From " were escaped, so only ours split).
        chunks = [c for c in SEPARATOR.split(output) if c.strip()]
        found = [list(HEADLINE.finditer(chunk)) for chunk in chunks]
        if len(chunks) != self.count or not all(found):
            problem = f"SpamAssassin reported on {sum(map(bool, found))} of {self.count} messages"
            return [(None, [_unavailable(problem, self.settings)])] * self.count
        return [self._judge(float(marks[-1].group(1)), _rules(chunk[marks[-1].end():]))
                for chunk, marks in zip(chunks, found, strict=True)]

    def _wait(self) -> str:
        if self._process is None:
            return ""
        try:
            out, err = self._process.communicate(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.communicate()
            self.problem = f"SpamAssassin did not finish within {TIMEOUT} s"
            return ""
        finally:
            shutil.rmtree(self._folder, ignore_errors=True)
        errors = err.decode("utf-8", "replace")
        if NO_RULES in errors:
            self.problem = ("SpamAssassin found no rules (Debian's spamassassin package installs "
                            "them in /usr/share/spamassassin; reinstall it, or run sa-update "
                            "where the machine has network)")
        elif self._process.returncode not in (0, 1) or not out:
            self.problem = (f"SpamAssassin failed (exit {self._process.returncode}): "
                            f"{shorten(errors, 200)}")
        return out.decode("utf-8", "replace")

    def _judge(self, score: float, rules: list[tuple[float, str, str]]) -> Result:
        error, warn = self.settings.spam_error_score, self.settings.spam_warn_score
        severity: Severity = "error" if score > error else "warning" if score > warn else "info"
        fired = sorted(rules, key=lambda r: -r[0])
        listed = ", ".join(f"{name} {points:+.1f} ({text})" for points, name, text in fired
                           if points) or "none with points"
        problem = (f"SpamAssassin scores the message {score:.1f} (error above {error:g}, "
                   f"warning above {warn:g}). Rules that fired: {listed}.")
        if severity == "info":
            fix = "Nothing to do."
        else:
            fix = ("Work on the rules with the most points (their names explain them: "
                   "https://spamassassin.apache.org/old/tests.html): subject, wording, links, "
                   "images without text.")
        snippet = " ".join(name for _, name, _ in fired)
        return score, [Finding("spam.score", severity, "the whole message (.eml)", problem, fix,
                               shorten(snippet))]


def _rules(block: str) -> list[tuple[float, str, str]]:
    rules: list[tuple[float, str, str]] = []
    lines = block.splitlines()
    start = next((n + 1 for n, line in enumerate(lines) if line.startswith("----")), len(lines))
    for line in lines[start:]:  # the table under " pts rule name  description" and its rule
        if not line.strip():
            break
        if found := RULE.match(line):
            rules.append((float(found.group(1)), found.group(2), found.group(3).strip()))
        elif (more := CONTINUED.match(line)) and rules:
            points, name, text = rules[-1]
            rules[-1] = (points, name, f"{text} {more.group(1)}")
    return rules


def _mbox_entry(eml: bytes) -> bytes:
    body = eml.replace(b"\r\n", b"\n").replace(b"\nFrom ", b"\n>From ")
    return FROM_LINE + body.rstrip(b"\n") + b"\n\n"


def _unavailable(problem: str, settings: Settings) -> Finding:
    return Finding("spam.unavailable", "warning", "setting DIGEST_SPAMASSASSIN_PATH",
                   f"The spam score was not checked: {problem}.",
                   "Install SpamAssassin (Debian: apt-get install spamassassin) or set "
                   "DIGEST_SPAMASSASSIN_PATH to it, then run `digest check` again.",
                   str(settings.spamassassin_path))
