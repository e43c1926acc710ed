"""Editor overrides for one edition: pins, drops, hand-written summaries, subject, preheader."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from digest.build import build_editions
from digest.errors import DigestError

WEEK = "2026-W10"


def manifest(result, slug: str) -> dict:
    return json.loads((result.edition_dir / slug / "manifest.json").read_text(encoding="utf-8"))


def test_flags_pin_drop_and_set_subject_and_preheader(build_settings, archive):
    result = build_editions(
        build_settings, week=WEEK, newsletters=["tech-brief"], engine=archive,
        pins=["fx-privacy-old"], drops=["fx-ai-guidance"],
        subject="Special edition: {{ lead.title }}", preheader="Picked by hand & checked",
    )
    data = manifest(result, "tech-brief")
    ids = [a["id"] for a in data["articles"]]
    assert ids[0] == "fx-privacy-old" and data["articles"][0]["pinned"]
    assert data["articles"][0]["reason"] == "pinned by the editor"
    assert "fx-ai-guidance" not in ids
    assert {"id": "fx-ai-guidance", "title": "EU publishes AI Act guidance for general-purpose "
            "models", "code": "dropped", "reason": "dropped by the editor"} in data["left_out"]
    assert data["subject"] == "Special edition: Data protection board adopts opinion on " \
                              "pseudonymisation"
    assert data["preheader"] == "Picked by hand & checked"
    html = (result.edition_dir / "tech-brief" / "email.html").read_text()
    assert "Picked by hand &amp; checked</div>" in html  # the hidden preview text


def test_an_edition_file_sets_summaries_and_per_newsletter_overrides(build_settings, archive,
                                                                     tmp_path):
    edition = tmp_path / "w10.toml"
    edition.write_text(
        'week = "2026-W10"\n'
        'drop = ["fx-cartel"]\n'
        "[summaries]\n"
        '"fx-chatbot-fine" = "Hand-written: the regulator\'s first fine on a chatbot maker."\n'
        "[newsletters.tech-brief]\n"
        'subject = "Tech Brief special"\n'
        'pin = ["fx-next-week"]\n', encoding="utf-8")
    result = build_editions(build_settings, edition_file=edition, engine=archive)
    assert result.window.id == WEEK  # taken from the file
    tech = manifest(result, "tech-brief")
    assert tech["subject"] == "Tech Brief special"
    first = tech["articles"][0]
    assert first["id"] == "fx-next-week"
    assert first["reason"] == "pinned by the editor (published outside the window)"
    chatbot = next(a for a in tech["articles"] if a["id"] == "fx-chatbot-fine")
    assert chatbot["summary_method"] == "editor"
    assert chatbot["summary"] == "Hand-written: the regulator's first fine on a chatbot maker."
    html = (result.edition_dir / "tech-brief" / "email.html").read_text()
    assert "Hand-written: the regulator's first fine on a chatbot maker." in html
    markets = manifest(result, "markets")
    assert "fx-next-week" not in [a["id"] for a in markets["articles"]]  # pin was per newsletter
    assert any(x["id"] == "fx-cartel" and x["code"] == "dropped" for x in markets["left_out"])
    assert markets["subject"] == "Markets & Trade — 2–8 March 2026"


def test_a_flag_wins_over_the_file(build_settings, archive, tmp_path):
    edition = tmp_path / "w10.toml"
    edition.write_text('pin = ["fx-cartel"]\n', encoding="utf-8")
    result = build_editions(build_settings, week=WEEK, newsletters=["markets"],
                            edition_file=edition, drops=["fx-cartel"], engine=archive)
    assert "fx-cartel" not in [a["id"] for a in manifest(result, "markets")["articles"]]


def test_an_unknown_article_id_is_an_error(build_settings, archive):
    with pytest.raises(DigestError, match="no article with id 'nope' in the archive"):
        build_editions(build_settings, week=WEEK, pins=["nope"], engine=archive)


@pytest.mark.parametrize(("text", "expected"), [
    ('pins = ["x"]\n', "w10.toml:1: pins: unknown key"),
    ('[newsletters.tech-brief]\nsubjetc = "x"\n', "w10.toml:2: newsletters.tech-brief.subjetc: "
     "unknown key"),
    ('[newsletters.nope]\npin = []\n', "w10.toml:1: unknown newsletter 'nope'"),
    ("pin = [\n", "w10.toml: not valid TOML"),
    ('week = "2026-W11"\n', "--week 2026-W10 differs from week = '2026-W11'"),
])
def test_edition_file_mistakes_name_the_file_and_line(build_settings, archive, tmp_path, text,
                                                      expected):
    edition = tmp_path / "w10.toml"
    edition.write_text(text, encoding="utf-8")
    with pytest.raises(DigestError) as caught:
        build_editions(build_settings, week=WEEK, edition_file=edition, engine=archive)
    assert expected in str(caught.value)
    assert not Path(build_settings.out_dir, WEEK).exists()


def test_pinning_and_dropping_the_same_id_is_refused(build_settings, archive):
    with pytest.raises(DigestError, match="both pinned and dropped"):
        build_editions(build_settings, week=WEEK, pins=["fx-cartel"], drops=["fx-cartel"],
                       engine=archive)


def test_subject_and_preheader_can_never_carry_a_line_break(build_settings, archive):
    result = build_editions(build_settings, week=WEEK, newsletters=["markets"], engine=archive,
                            subject="Hello\r\nBcc: victim@example.com {{ '\n' }}end",
                            preheader="line one\nline two")
    data = manifest(result, "markets")
    assert data["subject"] == "Hello Bcc: victim@example.com end"
    assert data["preheader"] == "line one line two"


def test_a_subject_template_error_names_the_newsletter(build_settings, archive):
    with pytest.raises(DigestError, match="newsletter 'markets': subject: 'nope' is undefined"):
        build_editions(build_settings, week=WEEK, newsletters=["markets"], engine=archive,
                       subject="{{ nope }}")


def test_week_latest_with_an_edition_file_for_another_week_is_refused(build_settings, archive,
                                                                     tmp_path):
    """The file's pins, drops and summaries were chosen for its own week: `--week latest` must
    not quietly apply them to whatever week is newest."""
    edition = tmp_path / "w10.toml"
    edition.write_text('week = "2026-W10"\ndrop = ["fx-cartel"]\n', encoding="utf-8")
    newest = build_editions(build_settings, week="latest", engine=archive).window.id
    assert newest != WEEK  # the fixtures have a later article
    with pytest.raises(DigestError) as caught:
        build_editions(build_settings, week="latest", edition_file=edition, engine=archive)
    assert f"--week latest is {newest}" in str(caught.value)
    assert "is for week = '2026-W10'" in str(caught.value)

    edition.write_text(f'week = "{newest}"\ndrop = ["fx-cartel"]\n', encoding="utf-8")
    assert build_editions(build_settings, week="latest", edition_file=edition,
                          engine=archive).window.id == newest
