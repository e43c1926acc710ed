"""The help pages digest.cli.help draws: every command listed, every option explained."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from digest.cli import app
from digest.cli.app import command_paths

runner = CliRunner()


def help_of(*words: str) -> str:
    result = runner.invoke(app, [*words, "--help"], env={"COLUMNS": "100"})
    assert result.exit_code == 0, result.output
    assert "\x1b[" not in result.output  # not a terminal: no colours
    return result.output


def test_the_root_page_lists_every_command_with_its_summary() -> None:
    page = help_of()
    assert "Usage: digest [OPTIONS] COMMAND [ARGS]..." in page
    assert "Build, preview and send the publisher's weekly newsletter digests." in page
    for name in ("build", "config", "ingest", "articles", "preview", "send", "serve",
                 "subscribers"):
        assert f"│ {name} " in page
    assert "List what the archive holds, newest first." in page


def test_a_command_page_has_its_description_arguments_and_options() -> None:
    page = help_of("ingest")
    assert "Usage: digest ingest [OPTIONS] [PATH_OR_URL]..." in page
    assert "Exits 1 when any file or record was rejected" in page  # the second paragraph
    assert "╭─ Arguments" in page and "PATH_OR_URL" in page
    assert "╭─ Options" in page and "--dry-run" in page and "--help" in page


def test_defaults_ranges_and_brackets_print_as_written() -> None:
    page = help_of("serve")
    assert "[1<=x<=65535]" in page  # Click's range note, not eaten as Rich markup
    assert "--access-log / --no-access-log" in page
    assert "[default: access-log]" in page


@pytest.mark.parametrize("path", command_paths(), ids=lambda p: " ".join(p) or "digest")
def test_every_command_has_a_help_page(path: tuple[str, ...]) -> None:
    assert "Usage: digest" in help_of(*path)
