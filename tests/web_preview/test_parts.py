"""The preview's parts without a browser: change classification, build problems, odd folders."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import anyio
import httpx

from digest.archive.articles import save_articles
from digest.errors import DigestError, InputError
from digest.models import Article
from digest.settings import Settings
from digest.web.preview.app import create_app
from digest.web.preview.live import archive_mark, classify, watched_roots
from digest.web.preview.rebuild import describe


def fetch(settings: Settings, *paths: str, base: str = "http://127.0.0.1:8025") -> list:
    """GET each path from the preview app in-process (no server, no watcher)."""
    app = create_app(settings, live=False)

    async def run() -> list:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=base) as client:
            return [await client.get(path) for path in paths]

    # In a thread of its own: Playwright's sync API keeps an event loop in the main thread.
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(anyio.run, run).result()


def test_changes_are_sorted_into_rebuild_look_again_and_ignore(settings: Settings) -> None:
    for folder in (settings.templates_dir, settings.out_dir / "2026-W47" / "ai-policy"):
        folder.mkdir(parents=True, exist_ok=True)
    roots = watched_roots(settings)
    templates, out = settings.templates_dir.resolve(), settings.out_dir.resolve()
    subscribers = settings.subscribers_dir.resolve()
    edition = out / "2026-W47" / "ai-policy"

    def verdict(*paths: Path) -> bool | None:
        return classify({(1, str(p)) for p in paths}, roots)

    assert verdict(templates / "partials" / "article.mjml.j2") is True
    assert verdict(subscribers / "newsletters.toml") is True
    assert verdict(subscribers / "taxonomy.toml") is True
    assert verdict(subscribers / "ai-policy.csv") is False  # only the sample reader changes
    assert verdict(edition / "manifest.json") is False
    assert verdict(edition / "outbox" / "test" / "someone@example.com.eml") is None
    assert verdict(Path("/somewhere/else.txt")) is None
    assert verdict(edition / "email.html", templates / "email.mjml.j2") is True


def test_a_build_problem_keeps_its_file_and_line() -> None:
    located = describe(InputError("templates/partials/footer.mjml.j2", "unknown variable: x",
                                  line=7, hint="Fix it."))
    assert (located.file, located.line) == ("templates/partials/footer.mjml.j2", 7)
    assert located.location == "templates/partials/footer.mjml.j2, line 7"
    assert located.message == "unknown variable: x" and located.hint == "Fix it."

    worded = describe(DigestError("templates/email.mjml.j2:12: template syntax error: oops"))
    assert (worded.file, worded.line, worded.message) == (
        "templates/email.mjml.j2", 12, "template syntax error: oops")

    plain = describe(DigestError("unknown newsletter 'x'"))
    assert (plain.file, plain.line, plain.location) == (None, None, "")


def test_the_archive_mark_moves_when_an_article_is_saved(settings: Settings, engine) -> None:
    before = archive_mark(settings)
    save_articles(engine, [Article(id="a1", title="T", source="t",
                                   published_at=datetime(2026, 11, 18, tzinfo=UTC))])
    after = archive_mark(settings)
    assert before != after
    assert archive_mark(settings) == after  # reading does not move it


def test_an_unreadable_manifest_is_listed_with_its_problem(settings: Settings) -> None:
    folder = settings.out_dir / "2026-W46"
    (folder / "broken").mkdir(parents=True)
    (folder / "broken" / "manifest.json").write_text("{ not json")
    (folder / "index.json").write_text(json.dumps({"newsletters": [{"slug": "broken"}]}))
    (settings.out_dir / "notes").mkdir()  # not an edition: not listed

    page, email, notes = fetch(settings, "/", "/preview/2026-W46/broken/email.html",
                               "/preview/notes")
    assert page.status_code == 200
    assert "2026-W46" in page.text and "not valid JSON" in page.text
    assert "notes" not in page.text
    assert email.status_code == 200 and notes.status_code == 404


def test_the_preview_refuses_other_hosts_names(settings: Settings) -> None:
    # A page elsewhere can point a name it controls at 127.0.0.1 (DNS rebinding).
    [rebound] = fetch(settings, "/", base="http://rebound.example")
    assert rebound.status_code == 403
    [local] = fetch(settings, "/", base="http://localhost:8025")
    assert local.status_code == 200


def test_the_public_routes_are_not_mounted_in_the_preview(settings: Settings, caplog) -> None:
    import logging

    with caplog.at_level(logging.WARNING, logger="digest.web"):
        responses = fetch(settings, "/archive", "/u/some-token", "/healthz", "/unsubscribe")
    assert [r.status_code for r in responses] == [404, 404, 404, 404]
    assert not any("webhooks/sendgrid" in r.getMessage() for r in caplog.records)
