"""Plug-ins from a real installed distribution: readers, summarisers and senders through their
entry-point groups; a broken or shadowing plug-in is reported and the built-ins keep working."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.conftest import ROOT

PLUGIN_MODULE = '''
from datetime import UTC, datetime

from digest.ingest import Reader
from digest.models import Article
from digest.summarise import Summary


class DummyReader(Reader):
    name = "dummy"
    extensions = (".dummy",)

    def read(self, source):
        for number, line in enumerate(source.text().splitlines(), start=1):
            yield Article(id=f"dummy-{number}", title=line, published_at=datetime.now(UTC))


class Shout:
    name = "shout"

    def summarise(self, article, max_words):
        return Summary(article.title.upper(), "extractive", 1, len(article.title.split()))


class Pigeon:
    name = "pigeon"
    batch_limit = 10

    def __init__(self, settings, mail):
        self.mail = mail

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return None

    def prepare(self, batch):
        return [who.email for who in batch]

    def deliver(self, prepared):
        return [f"coo-{email}" for email in prepared]


class FakeSmtp(Pigeon):
    name = "smtp"  # tries to stand in for the built-in SMTP backend


NOT_A_CLASS = 42
'''

ENTRY_POINTS = """
[digest.readers]
dummy = digest_dummy_plugins:DummyReader
broken = digest_dummy_plugins.missing:Reader

[digest.summarisers]
shout = digest_dummy_plugins:Shout
number = digest_dummy_plugins:NOT_A_CLASS

[digest.senders]
pigeon = digest_dummy_plugins:Pigeon
smtp = digest_dummy_plugins:FakeSmtp
"""

SCRIPT = """
import json, sys
from pathlib import Path
from digest.ingest import choose, Source
from digest.send.backends import backend_names, open_backend
from digest.send.backends.base import SENDERS
from digest.editions import load_built
from digest.send.message import EditionMail
from digest.send.runner import run_send
from digest.archive import connect
from digest.settings import Settings
from digest.summarise import SUMMARISERS, summarise
from digest.ingest.registry import READERS
from digest.models import Article
from tests.support.data import EDITION, PUBLIC_BASE_URL, SLUG, add_subscribers, make_edition
from datetime import UTC, datetime

# A plug-in backend sends to readers: public links, as the pre-send checks require (their
# browser and SpamAssassin parts are off here, as in the suite's settings fixture).
settings = Settings(data_dir=Path("data"), out_dir=Path("editions"), secret_key="k",
                    base_url=PUBLIC_BASE_URL, chromium_path=Path("no-chromium"),
                    spamassassin_path=Path("no-spamassassin"))
make_edition(settings.out_dir)
add_subscribers(connect(settings.database), SLUG, 3)
article = Article(id="a", title="quiet news", published_at=datetime.now(UTC), body=[])
mail = EditionMail(settings, load_built(settings.out_dir, EDITION, SLUG))
report = run_send(settings.model_copy(update={"sender": "pigeon"}), EDITION, SLUG)
print(json.dumps({
    "reader": choose(Source("x.dummy", b"a")).name,
    "builtin_reader": choose(Source("x.md", b"")).name,
    "summary": summarise(article, backend="shout").text,
    "extractive": summarise(article).method,
    "senders": backend_names(),
    "smtp": type(open_backend(settings.model_copy(update={"sender": "smtp"}), mail)).__module__,
    "pigeon_sent": report.sent,
    "problems": READERS.problems + SUMMARISERS.problems + SENDERS.problems,
}))
"""


def install_plugins(site: Path) -> None:
    """What `pip install` leaves behind: the module and its .dist-info with entry points."""
    (site / "digest_dummy_plugins").mkdir(parents=True)
    (site / "digest_dummy_plugins" / "__init__.py").write_text(PLUGIN_MODULE)
    info = site / "digest_dummy_plugins-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: digest-dummy-plugins\n"
                                   "Version: 1.0\n")
    (info / "entry_points.txt").write_text(ENTRY_POINTS)


def run(args: list[str], site: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIGEST_")}
    env["PYTHONPATH"] = os.pathsep.join([str(site), str(ROOT)])
    return subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=120, check=False)


def test_plugins_of_all_three_kinds_load_and_bad_ones_are_reported(tmp_path: Path) -> None:
    install_plugins(tmp_path / "site")
    result = run(["-c", textwrap.dedent(SCRIPT)], tmp_path / "site", tmp_path)
    assert result.returncode == 0, result.stderr
    got = json.loads(result.stdout)
    assert got["reader"] == "dummy" and got["builtin_reader"] == "markdown"
    assert got["summary"] == "QUIET NEWS" and got["extractive"] == "lead"
    assert "pigeon" in got["senders"] and got["pigeon_sent"] == 3
    assert got["smtp"] == "digest.send.backends.smtp"  # the built-in, not the impostor
    problems = "\n".join(got["problems"])
    assert len(got["problems"]) == 3, problems
    assert "reader plug-in 'broken'" in problems and "ModuleNotFoundError" in problems
    assert "summariser plug-in 'number'" in problems and "42 is not a class" in problems
    assert ("sender name 'smtp' is taken twice: by digest.send.backends.smtp.SmtpBackend and by "
            "digest_dummy_plugins:FakeSmtp from the package digest-dummy-plugins 1.0") in problems
    for problem in got["problems"]:
        assert f"warning: {problem}" in result.stderr  # said where the user sees it


def test_the_cli_reports_a_broken_reader_and_ingests_with_the_rest(tmp_path: Path) -> None:
    install_plugins(tmp_path / "site")
    (tmp_path / "news.dummy").write_text("First story\nSecond story\n")
    result = run(["-m", "digest", "ingest", "news.dummy"], tmp_path / "site", tmp_path)
    assert result.returncode == 0, result.stderr
    assert "reader plug-in 'broken'" in result.stderr and "Traceback" not in result.stderr
    assert re.search(r"news\.dummy\s+dummy\s+2\s", result.stdout), result.stdout


def test_a_name_taken_twice_is_an_error_naming_both() -> None:
    from digest.errors import DigestError
    from digest.ingest import Reader, register
    from digest.send.backends import register as register_sender

    class Markdown2(Reader):
        name = "markdown"

    class Smtp2:
        name = "smtp"

    with pytest.raises(DigestError) as reader:
        register(Markdown2)
    assert "reader name 'markdown' is taken twice" in str(reader.value)
    assert "MarkdownReader" in str(reader.value) and "Markdown2" in str(reader.value)
    with pytest.raises(DigestError) as sender:
        register_sender("smtp")(Smtp2)  # type: ignore[arg-type]
    assert "SmtpBackend" in str(sender.value) and "Smtp2" in str(sender.value)
