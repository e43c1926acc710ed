"""Compiled templates kept between builds (Jinja's bytecode cache): reused, never stale."""

from __future__ import annotations

from pathlib import Path

from jinja2.bccache import Bucket

from digest.build import build_editions
from digest.render.templates import PACKAGED, _compiled_templates, _CompiledTemplates, template_env

WEEK = "2026-W10"


def _cached_code(env, name: str, filename: str) -> object:
    """What the cache holds for this template as it reads now (None: nothing usable)."""
    cache = _compiled_templates()
    source = Path(filename).read_text(encoding="utf-8")
    return cache.get_bucket(env, name, filename, source).code


def test_a_build_leaves_its_templates_compiled_for_the_next_process(build_settings, archive):
    build_editions(build_settings, week=WEEK, engine=archive)
    env = template_env(None)
    assert env.bytecode_cache is _compiled_templates()
    for name in ("email.mjml.j2", "email.txt.j2", "partials/article.mjml.j2"):
        assert _cached_code(env, name, str(PACKAGED / name)) is not None, name


def test_an_edited_template_is_compiled_again_not_served_from_the_cache(build_settings,
                                                                       archive, tmp_path):
    footer = Path(build_settings.templates_dir) / "partials" / "footer.mjml.j2"
    footer.parent.mkdir(parents=True, exist_ok=True)
    packaged = (PACKAGED / "partials" / "footer.mjml.j2").read_text(encoding="utf-8")
    marked = packaged.replace("</mj-text>", "<p>FIRST-MARK</p></mj-text>", 1)
    assert marked != packaged
    footer.write_text(marked, encoding="utf-8")
    first = build_editions(build_settings, week=WEEK, engine=archive, out_dir=tmp_path / "a")
    assert _cached_code(template_env(None), "partials/footer.mjml.j2", str(footer)) is not None

    footer.write_text(marked.replace("FIRST-MARK", "NEXT-MARK"), encoding="utf-8")
    second = build_editions(build_settings, week=WEEK, engine=archive, out_dir=tmp_path / "b")
    slug = first.built[0].slug
    assert "FIRST-MARK" in (first.edition_dir / slug / "email.html").read_text()
    html = (second.edition_dir / slug / "email.html").read_text()
    assert "NEXT-MARK" in html and "FIRST-MARK" not in html


def test_a_cache_that_cannot_be_written_only_costs_time(tmp_path):
    cache = _CompiledTemplates(str(tmp_path / "gone"))  # no such folder: every write fails
    bucket = Bucket(template_env(None), "key", "checksum")
    bucket.code = compile("x = 1", "<test>", "exec")
    cache.dump_bytecode(bucket)  # no error
    assert not (tmp_path / "gone").exists()
