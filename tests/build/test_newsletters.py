"""newsletters.toml and taxonomy.toml: loading, and mistakes reported with file and line."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from digest.cli import app
from digest.errors import DigestError
from digest.newsletters import load_newsletters, select_newsletters
from digest.taxonomy import load_taxonomy

from .conftest import FIXTURES


def test_the_fixture_files_load_into_typed_objects():
    taxonomy = load_taxonomy(FIXTURES / "taxonomy.toml")
    assert taxonomy.tags["ai-policy"].keywords == ("artificial intelligence", "AI Act", "chatbot",
                                                   "chatbots")
    assert taxonomy.tags["opinion"].keywords == ()
    newsletters = load_newsletters(FIXTURES / "newsletters.toml", taxonomy, publisher="Regwire")
    assert list(newsletters) == ["tech-brief", "markets", "everything"]
    tech = newsletters["tech-brief"]
    assert (tech.tags, tech.exclude_tags, tech.max_articles, tech.sections, tech.summary_words) \
        == (("ai-policy", "privacy"), ("opinion",), 4, "tag", 40)
    everything = newsletters["everything"]
    assert everything.takes_any and everything.max_articles == 10 and everything.sections == "tag"
    assert everything.from_name == "Regwire Everything"  # defaults to publisher + title


def test_the_sample_newsletters_load(tmp_path):
    from pathlib import Path

    sample = Path(__file__).resolve().parents[2] / "subscribers"
    if not (sample / "newsletters.toml").exists():
        pytest.skip("sample subscribers/ not present")
    taxonomy = load_taxonomy(sample / "taxonomy.toml")
    assert set(load_newsletters(sample / "newsletters.toml", taxonomy)) >= {"ai-policy"}


def test_an_unknown_tag_names_file_newsletter_and_line(subscribers_copy):
    folder = subscribers_copy("newsletters.toml", (FIXTURES / "newsletters.toml").read_text()
                              .replace('tags = ["antitrust", "trade"]',
                                       'tags = ["antitrust", "trades"]'))
    taxonomy = load_taxonomy(folder / "taxonomy.toml")
    with pytest.raises(DigestError) as caught:
        load_newsletters(folder / "newsletters.toml", taxonomy)
    message = str(caught.value)
    assert f"{folder / 'newsletters.toml'}:17: newsletter 'markets': unknown tag 'trades' in " \
           "tags (did you mean 'trade'?)" in message
    assert "taxonomy.toml" in message


def test_every_problem_is_reported_at_once(subscribers_copy):
    folder = subscribers_copy("newsletters.toml", """
[newsletters.one]
title = "One"
tags = ["nope"]
max_articles = 0

[newsletters.two]
title = "Two"
tags = ["privacy"]
exclude_tags = ["gone"]
sections = "topic"
subject = "{{ edition.label "
colour = "red"

[newsletters."Bad Slug"]
title = "x"
tags = ["privacy"]
""")
    with pytest.raises(DigestError) as caught:
        load_newsletters(folder / "newsletters.toml", load_taxonomy(folder / "taxonomy.toml"))
    message = str(caught.value)
    for expected in (":5: newsletter 'one': max_articles: Input should be greater than or "
                     "equal to 1",
                     ":11: newsletter 'two': sections: Input should be 'tag' or 'kind'",
                     ":13: newsletter 'two': colour: unknown key",
                     ":15: newsletter key 'Bad Slug' is not a slug; use 'bad-slug'"):
        assert expected in message


def test_a_bad_subject_template_and_a_bad_tag_are_both_reported(subscribers_copy):
    folder = subscribers_copy("newsletters.toml", """
[newsletters.one]
title = "One"
tags = ["privacy"]
exclude_tags = ["gone"]
subject = "{{ edition.label "
""")
    with pytest.raises(DigestError) as caught:
        load_newsletters(folder / "newsletters.toml", load_taxonomy(folder / "taxonomy.toml"))
    assert "unknown tag 'gone' in exclude_tags" in str(caught.value)
    assert "newsletter 'one': subject template: line 1:" in str(caught.value)


def test_taxonomy_mistakes(subscribers_copy):
    folder = subscribers_copy("taxonomy.toml", '[tags.ok]\nkeywords = ["a"]\n\n'
                              '[tags.Bad]\nname = "x"\n\n[tags.two]\nkeyword = ["b"]\n')
    with pytest.raises(DigestError) as caught:
        load_taxonomy(folder / "taxonomy.toml")
    message = str(caught.value)
    assert ":4: tag key 'Bad' is not a slug; use 'bad'" in message
    assert ":8: tag 'two': keyword: unknown key" in message


def test_toml_syntax_errors_and_missing_files_name_the_file(subscribers_copy, tmp_path):
    folder = subscribers_copy("taxonomy.toml", "[tags.x\n")
    with pytest.raises(DigestError, match=r"taxonomy.toml: not valid TOML: .*line 1"):
        load_taxonomy(folder / "taxonomy.toml")
    with pytest.raises(DigestError, match=r"nowhere/taxonomy\.toml: tag taxonomy file not found"):
        load_taxonomy(tmp_path / "nowhere" / "taxonomy.toml")


def test_an_unknown_newsletter_slug_is_an_error():
    taxonomy = load_taxonomy(FIXTURES / "taxonomy.toml")
    available = load_newsletters(FIXTURES / "newsletters.toml", taxonomy)
    with pytest.raises(DigestError, match="unknown newsletter 'tech'") as caught:
        select_newsletters(available, ["tech-brief", "tech"], FIXTURES / "newsletters.toml")
    assert caught.value.hint == "Known newsletters: tech-brief, markets, everything"


def test_cli_unknown_slug_and_unknown_tag_exit_non_zero(build_settings, archive,
                                                        subscribers_copy):
    runner = CliRunner()
    result = runner.invoke(app, ["build", "--week", "2026-W10", "--newsletter", "nope"])
    assert result.exit_code == 1 and "unknown newsletter 'nope'" in result.output
    subscribers_copy("newsletters.toml", (FIXTURES / "newsletters.toml").read_text()
                     .replace('exclude_tags = ["opinion"]', 'exclude_tags = ["opinions"]'))
    result = runner.invoke(app, ["build", "--week", "2026-W10"])
    assert result.exit_code == 1
    assert "newsletter 'tech-brief': unknown tag 'opinions' in exclude_tags" in result.output
    assert "Traceback" not in result.output


def test_topics_are_a_subset_of_the_newsletters_tags(subscribers_copy):
    text = (FIXTURES / "newsletters.toml").read_text()
    ok = subscribers_copy("newsletters.toml", text.replace(
        'topics = ["antitrust", "trade"]', 'topics = ["trade", "antitrust"]').replace(
        'tags = ["*"]', 'tags = ["*"]\ntopics = ["privacy", "trade"]'))
    loaded = load_newsletters(ok / "newsletters.toml", load_taxonomy(ok / "taxonomy.toml"))
    assert loaded["markets"].topics == ("trade", "antitrust")  # in the file's order
    assert loaded["everything"].topics == ("privacy", "trade")  # any tag, for a "*" newsletter
    assert loaded["tech-brief"].topics == ()


@pytest.mark.parametrize(("topics", "says"), [
    ('["trade", "ai-policy"]', "newsletter 'markets': topic 'ai-policy' is not one of its tags "
                               "(antitrust, trade); topics must be a subset of tags"),
    ('["*"]', "newsletter 'markets': topics cannot be \"*\""),
    ('"trade"', "newsletter 'markets': topics: "),
])
def test_a_bad_topic_names_file_newsletter_and_line(subscribers_copy, topics, says):
    text = (FIXTURES / "newsletters.toml").read_text().replace(
        'topics = ["antitrust", "trade"]', f'topics = {topics}')
    folder = subscribers_copy("newsletters.toml", text)
    with pytest.raises(DigestError) as caught:
        load_newsletters(folder / "newsletters.toml", load_taxonomy(folder / "taxonomy.toml"))
    assert f"{folder / 'newsletters.toml'}:" in str(caught.value)
    assert says in str(caught.value)
    assert "Fix newsletters.toml" in str(caught.value)


def test_an_unknown_topic_of_a_star_newsletter_is_an_unknown_tag(subscribers_copy):
    text = (FIXTURES / "newsletters.toml").read_text().replace(
        'tags = ["*"]', 'tags = ["*"]\ntopics = ["privacy", "tarde"]')
    folder = subscribers_copy("newsletters.toml", text)
    with pytest.raises(DigestError, match=r"newsletter 'everything': unknown tag 'tarde' in "
                                          r"topics \(did you mean 'trade'\?\)"):
        load_newsletters(folder / "newsletters.toml", load_taxonomy(folder / "taxonomy.toml"))


def test_a_tag_named_twice_counts_once(subscribers_copy):
    """Ranking counts the newsletter's tags an article carries: a tag listed twice in the file
    must not count double (nor show twice among the matched tags)."""
    text = (FIXTURES / "newsletters.toml").read_text()
    folder = subscribers_copy("newsletters.toml", text.replace(
        'tags = ["ai-policy", "privacy"]\nexclude_tags = ["opinion"]',
        'tags = ["ai-policy", "privacy", "ai-policy"]\nexclude_tags = ["opinion", "opinion"]'))
    loaded = load_newsletters(folder / "newsletters.toml", load_taxonomy(folder / "taxonomy.toml"))
    assert loaded["tech-brief"].tags == ("ai-policy", "privacy")
    assert loaded["tech-brief"].exclude_tags == ("opinion",)
