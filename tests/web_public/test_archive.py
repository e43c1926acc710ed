"""The web archive: newest first, neutral placeholders, and nothing outside the editions folder."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from digest.web.public.archive import email_file, list_editions, web_version

EMAIL_HTML = """<!doctype html><html><body>
<p>Dear %%name%%,</p><p>{body}</p>
<p>Sent to %%email%%. <a href="%%unsubscribe_url%%">Unsubscribe</a></p>
</body></html>"""


def write_edition(out: Path, edition: str, label: str, newsletters: dict[str, str],
                  index: bool = True) -> None:
    folder = out / edition
    for slug, title in newsletters.items():
        (folder / slug).mkdir(parents=True)
        (folder / slug / "email.html").write_text(EMAIL_HTML.format(body=f"{title} {edition}"))
        manifest = {"edition": {"id": edition, "label": label}, "subject": f"{title}: {label}",
                    "newsletter": {"slug": slug, "title": title}}
        (folder / slug / "manifest.json").write_text(json.dumps(manifest))
    if index:
        (folder / "index.json").write_text(json.dumps(list(newsletters)))


@pytest.fixture
def out(public_settings) -> Path:
    out = public_settings.out_dir
    write_edition(out, "2026-W45", "Week 45, 2026",
                  {"antitrust-weekly": "Antitrust Weekly", "ai-policy": "AI Policy"})
    write_edition(out, "2026-W47", "Week 47, 2026", {"antitrust-weekly": "Antitrust Weekly"})
    # A range ending 10 November sorts between week 45 (ends 8 Nov) and week 47 (ends 22 Nov).
    write_edition(out, "2026-11-02_2026-11-10", "2-10 November 2026",
                  {"trade-brief": "Trade Brief"}, index=False)
    (out / "notes").mkdir()  # not an edition: ignored
    return out


def test_the_archive_lists_editions_newest_first(client, out):
    response = client.get("/archive")

    assert response.status_code == 200
    labels = re.findall(r"<h2>([^<]+)</h2>", response.text)
    assert labels == ["Week 47, 2026", "2-10 November 2026", "Week 45, 2026"]
    assert 'href="/archive/2026-W47/antitrust-weekly"' in response.text
    assert 'href="/archive/2026-11-02_2026-11-10/trade-brief"' in response.text
    assert "Antitrust Weekly: Week 47, 2026" in response.text


def test_an_empty_archive_says_so(client, public_settings):
    response = client.get("/archive")
    assert response.status_code == 200
    assert "No editions have been published yet" in response.text


def test_the_web_version_has_neutral_placeholders(client, out):
    response = client.get("/archive/2026-W47/antitrust-weekly")

    assert response.status_code == 200
    assert "Antitrust Weekly 2026-W47" in response.text
    assert "%%" not in response.text
    assert "Dear reader," in response.text
    assert 'href="/unsubscribe"' in response.text
    assert "script-src" not in response.headers["content-security-policy"]  # no script runs
    help_page = client.get("/unsubscribe")
    assert help_page.status_code == 200 and "How to unsubscribe" in help_page.text


def test_a_missing_email_is_404(client, out):
    assert client.get("/archive/2026-W46/antitrust-weekly").status_code == 404
    assert client.get("/archive/2026-W47/ai-policy").status_code == 404


TRAVERSALS = [
    "/archive/../../etc/passwd",
    "/archive/%2e%2e/%2e%2e",
    "/archive/2026-W47/%2e%2e",
    "/archive/2026-W47/..%2f..%2fsecret",
    "/archive/%2e%2e%2fsecret/email",
    "/archive/2026-W47/%2fetc%2fpasswd",
    "/archive//etc/passwd",
    "/archive/2026-W47//etc/passwd",
    "/archive/2026-W47/antitrust-weekly%2f..%2f..%2f..%2fsecret",
]


@pytest.mark.parametrize("path", TRAVERSALS)
def test_paths_leaving_the_editions_folder_are_404(client, out, path):
    (out.parent / "secret").mkdir(exist_ok=True)
    (out.parent / "secret" / "email.html").write_text("TOP SECRET")
    response = client.get(path)
    assert response.status_code == 404
    assert "TOP SECRET" not in response.text


@pytest.mark.parametrize(
    ("edition", "slug"),
    [("..", "secret"), ("2026-W47", ".."), ("/etc", "passwd"), ("2026-W47", "/etc/passwd"),
     ("2026-W47/../..", "secret"), ("2026-W47", "antitrust-weekly/../../../secret"),
     ("2026-W47\x00", "antitrust-weekly"), ("2026-w47", "antitrust-weekly"),
     ("2026-W47", "Antitrust-Weekly")],
)
def test_the_library_refuses_anything_but_strict_names(out, edition, slug):
    (out.parent / "secret").mkdir(exist_ok=True)
    (out.parent / "secret" / "email.html").write_text("TOP SECRET")
    assert email_file(out, edition, slug) is None
    assert web_version(out, edition, slug, "/unsubscribe") is None


def test_a_symlink_out_of_the_editions_folder_is_not_followed(client, out, tmp_path):
    outside = tmp_path / "elsewhere" / "antitrust-weekly"
    outside.mkdir(parents=True)
    (outside / "email.html").write_text("TOP SECRET")
    (out / "2026-W48").symlink_to(tmp_path / "elsewhere", target_is_directory=True)

    response = client.get("/archive/2026-W48/antitrust-weekly")

    assert response.status_code == 404
    assert "TOP SECRET" not in response.text
    assert [e.id for e in list_editions(out)] == ["2026-W47", "2026-11-02_2026-11-10", "2026-W45"]
