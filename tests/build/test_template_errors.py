"""Broken templates: the file, the line and the error, and no half-written edition."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from digest.build import build_editions
from digest.cli import app
from digest.errors import DigestError
from digest.render.mjml import check
from digest.render.templates import PACKAGED

WEEK = "2026-W10"


def override(settings, name: str, edit) -> Path:
    """Copy a packaged template into the editors' folder, changed by `edit(text)`."""
    target = Path(settings.templates_dir) / name
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(edit((PACKAGED / name).read_text(encoding="utf-8")), encoding="utf-8")
    return target


def insert_line(line_no: int, line: str):
    def edit(text: str) -> str:
        lines = text.splitlines(keepends=True)
        lines.insert(line_no - 1, line + "\n")
        return "".join(lines)
    return edit


def tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_a_jinja_syntax_error_names_the_file_and_line(build_settings, archive):
    override(build_settings, "email.mjml.j2", insert_line(7, "{% if newsletter.title %}"))
    with pytest.raises(DigestError) as caught:
        build_editions(build_settings, week=WEEK, engine=archive)
    message = str(caught.value)
    assert "templates/email.mjml.j2:" in message and "template syntax error" in message
    assert caught.value.where.endswith("templates/email.mjml.j2")
    assert isinstance(caught.value.line, int)
    assert not Path(build_settings.out_dir).exists()


def test_an_unknown_variable_names_the_partial_and_line(build_settings, archive):
    target = override(build_settings, "partials/footer.mjml.j2",
                      insert_line(9, "          <p>{{ editorial.phone }}</p>"))
    with pytest.raises(DigestError) as caught:
        build_editions(build_settings, week=WEEK, engine=archive)
    assert str(caught.value).startswith(f"{target.resolve()}:9: unknown variable: 'editorial' "
                                        "is undefined") or \
        "partials/footer.mjml.j2:9: unknown variable: 'editorial' is undefined" in str(caught.value)
    assert caught.value.line == 9


def test_the_text_template_is_checked_too(build_settings, archive):
    override(build_settings, "email.txt.j2", lambda t: t + "{{ lead.nope }}\n")
    with pytest.raises(DigestError, match=r"email\.txt\.j2:\d+: unknown variable"):
        build_editions(build_settings, week=WEEK, engine=archive)


def test_an_unknown_mjml_tag_names_the_template_that_holds_it(build_settings, archive):
    override(build_settings, "partials/more.mjml.j2", lambda t: t)  # untouched
    override(build_settings, "partials/masthead.mjml.j2",
             insert_line(3, '    <mj-sectoin padding="0"></mj-sectoin>'))
    with pytest.raises(DigestError) as caught:
        build_editions(build_settings, week=WEEK, engine=archive)
    message = str(caught.value)
    assert "partials/masthead.mjml.j2:3: invalid MJML: unknown MJML tag <mj-sectoin>" in message
    assert "line 9 of the generated MJML" in message or "of the generated MJML" in message


def test_mjml_that_fails_to_compile_is_reported(build_settings, archive):
    override(build_settings, "email.mjml.j2", lambda t: t.replace(
        "<mj-text css-class=\"pad\"><p class=\"summary\">Nothing new",
        "<mj-text css-class=\"pad\"><p class=\"summary\">a < b. Nothing new")
        .replace("{% if quiet %}", "{% if true %}"))
    with pytest.raises(DigestError, match=r"email\.mjml\.j2: the generated MJML does not compile"):
        build_editions(build_settings, week=WEEK, engine=archive)


@pytest.mark.parametrize(("source", "problem"), [
    ("<mjml><mj-body><mj-section><mj-column></mj-section></mj-body></mjml>",
     "</mj-section> closes <mj-column> opened on line 1"),
    ("<mjml>\n<mj-body>\n<mj-wrapper>\n</mj-body></mjml>", "</mj-body> closes <mj-wrapper>"),
    ("<mjml><mj-body>\n<mj-section>", "<mj-section> is never closed"),
    ("<mjml><mj-body></mj-body></mjml>\n<p>x</p>", "content after </mjml>"),
    ("<mj-body></mj-body>", "does not start with <mjml>"),
])
def test_the_structural_check(source, problem):
    found = check(source)
    assert found is not None and problem in found.message


def test_tags_inside_text_and_comments_are_not_mjml():
    source = ("<mjml><mj-body><mj-section><mj-column><mj-text><p>1 <mj-x> 2</p></mj-text>"
              "<!-- <mj-bogus> --></mj-column></mj-section></mj-body></mjml>")
    assert check(source) is None


def test_a_failure_in_one_newsletter_leaves_no_edition_folder(build_settings, archive):
    # tech-brief renders fine, markets (second) breaks: nothing at all may be written.
    override(build_settings, "partials/footer.mjml.j2", insert_line(
        9, '{% if newsletter.slug == "markets" %}{{ missing_value }}{% endif %}'))
    with pytest.raises(DigestError, match="missing_value"):
        build_editions(build_settings, week=WEEK, engine=archive)
    out = Path(build_settings.out_dir)
    assert not out.exists() or list(out.iterdir()) == []


def test_a_failed_rebuild_keeps_the_previous_edition_intact(build_settings, archive):
    first = build_editions(build_settings, week=WEEK, engine=archive)
    before = tree(first.edition_dir)
    override(build_settings, "partials/article.mjml.j2", lambda t: t + "{{ item.nope }}\n")
    with pytest.raises(DigestError):
        build_editions(build_settings, week=WEEK, engine=archive)
    assert tree(first.edition_dir) == before
    assert sorted(p.name for p in Path(build_settings.out_dir).iterdir()) == [WEEK]


def test_the_cli_prints_file_and_line_and_exits_non_zero(build_settings, archive):
    override(build_settings, "email.mjml.j2", insert_line(5, "{{ subject | nosuchfilter }}"))
    result = CliRunner().invoke(app, ["build", "--week", WEEK])
    assert result.exit_code == 1
    assert "email.mjml.j2" in result.output and "nosuchfilter" in result.output
    assert "Traceback" not in result.output
