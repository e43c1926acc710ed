"""Selection: ranking, near-duplicate folding, inferred tags, exclusions and the cap."""

from __future__ import annotations

import json
import random
from datetime import timedelta

from digest.curate import DuplicateIndex, Overrides, select, week_window
from digest.models import Article, Block, Tag
from digest.newsletters import Newsletter
from digest.taxonomy import TagDef, Taxonomy

WINDOW = week_window("2026-W10")
MONDAY = WINDOW.since
TAXONOMY = Taxonomy(tags={
    "ai": TagDef("ai", "AI", ("artificial intelligence", "AI Act", "chatbot")),
    "privacy": TagDef("privacy", "Privacy", ("GDPR", "personal data")),
    "trade": TagDef("trade", "Trade", ("tariffs",)),
    "opinion": TagDef("opinion", "Opinion", ()),
})


def article(id: str, hours: float, tags: list[str], title: str | None = None,
            lead: str | None = None, **extra) -> Article:
    return Article(
        id=id,
        title=title or f"Story {id}",
        published_at=MONDAY + timedelta(hours=hours),
        tags=[Tag(slug=t, name=t) for t in tags],
        body=[Block("paragraph", lead or f"Unrelated opening number {id} about {' '.join(tags)}"
                    f" with its own words {id * 3}.")],
        **extra,
    )


def newsletter(**fields) -> Newsletter:
    base = {"slug": "n", "title": "N", "description": "", "tags": ("ai", "privacy")}
    return Newsletter(**{**base, **fields})


def run(items, nl=None, **kwargs):
    return select(nl or newsletter(), WINDOW, items, TAXONOMY,
                  duplicates=DuplicateIndex(items), **kwargs)


def test_more_matched_tags_rank_first_then_newer_then_id():
    items = [
        article("old-both", 1, ["ai", "privacy"]),
        article("new-one", 50, ["ai"]),
        article("b-tie", 20, ["privacy"]),
        article("a-tie", 20, ["ai"]),
        article("newer-both", 30, ["privacy", "ai"]),
    ]
    picks = run(items).picks
    assert [p.article.id for p in picks] == ["newer-both", "old-both", "new-one", "a-tie", "b-tie"]
    assert [p.rank for p in picks] == [1, 2, 3, 4, 5]
    assert picks[0].reason == "matched 2 of the newsletter's tags: ai, privacy; rank 1"
    # The input order does not matter: ties are broken by id, not by arrival.
    assert [p.article.id for p in run(items[::-1]).picks] == [p.article.id for p in picks]


def test_a_one_tag_newsletter_ranks_newer_then_id_whatever_the_input_order():
    """Newest first, then by id, as the archive loads them, or shuffled: the same ranks, and
    the same over-the-cap records in rank order."""
    items = [article(f"s{n:02d}", n // 3, ["ai"]) for n in range(30)]
    newest_first = sorted(items, key=lambda a: (-a.published_at.timestamp(), a.id))
    expected = [a.id for a in newest_first]
    one_tag = newsletter(tags=("ai",), max_articles=5)
    shuffled = items[:]
    random.Random(4).shuffle(shuffled)
    for order in (newest_first, items, shuffled):
        selection = run(order, one_tag)
        assert [p.article.id for p in selection.picks] == expected[:5]
        over = [x for x in selection.left_out if x.code == "over_cap"]
        assert [x.id for x in over] == expected[5:]
        assert over[0].reason == "over the cap: ranked 6, max_articles is 5"
        assert over[0].to_dict() == json.loads(over[0].json)


def test_every_article_left_out_says_why():
    items = [article("keep", 1, ["ai"]), article("opinion", 2, ["ai", "opinion"]),
             article("trade", 3, ["trade"]), article("over-1", 0.5, ["ai"]),
             article("over-2", 0.25, ["ai"])]
    selection = run(items, newsletter(exclude_tags=("opinion",), max_articles=2))
    reasons = {left.id: (left.code, left.reason) for left in selection.left_out}
    assert reasons["opinion"] == ("excluded_tag", "excluded tag: opinion")
    assert reasons["trade"] == ("no_matching_tag", "no matching tag (tags: trade)")
    assert reasons["over-2"] == ("over_cap", "over the cap: ranked 3, max_articles is 2")
    assert [p.article.id for p in selection.picks] == ["keep", "over-1"]


SAME_LEAD = ("The data protection authority fined the chatbot maker four million euros on "
             "Wednesday for processing children's personal data without a lawful basis.")


def test_the_same_story_under_two_ids_folds_into_the_newest():
    items = [
        article("wire-copy", 2, ["ai"], title="Chatbot maker fined €4m over children's data",
                lead=SAME_LEAD),
        article("own-copy", 5, ["ai"], title="Chatbot maker fined €4m over children’s data",
                lead=SAME_LEAD + " It said it would appeal."),
        article("other", 3, ["ai"]),
    ]
    selection = run(items)
    assert [p.article.id for p in selection.picks] == ["own-copy", "other"]
    assert selection.picks[0].folded == ["wire-copy"]
    assert "newest of 2 versions" in selection.picks[0].reason
    (left,) = selection.left_out
    assert (left.id, left.code) == ("wire-copy", "folded")
    assert left.reason.startswith("folded into own-copy (near-duplicate, similarity")


def test_an_update_with_a_reworded_headline_still_folds_keeping_the_latest_revision():
    first = article("first", 1, ["ai"], title="Regulator opens probe into chatbot maker",
                    lead=SAME_LEAD)
    update = article("update", 1, ["ai"],
                     title="UPDATE: Regulator opens probe into chatbot maker, fines it €4m",
                     lead="Updated: " + SAME_LEAD, updated_at=MONDAY + timedelta(hours=9))
    picks = run([first, update]).picks
    assert [p.article.id for p in picks] == ["update"]


def test_weekly_columns_with_the_same_headline_are_not_duplicates():
    items = [
        article("col-1", 1, ["ai"], title="The week ahead in AI policy",
                lead="Parliament votes on the liability directive on Tuesday, while the Council "
                     "meets on Thursday to discuss the chips act review."),
        article("col-2", 90, ["ai"], title="The week ahead in AI policy",
                lead="Ministers gather in Paris for the safety summit, and the AI Office "
                     "publishes its first enforcement report on Friday."),
    ]
    assert len(run(items).picks) == 2


def test_headline_only_articles_fold_on_near_identical_headlines():
    bare = [Article(id=i, title=t, published_at=MONDAY + timedelta(hours=h), tags=[Tag("ai", "ai")])
            for i, t, h in (("x1", "EU fines chatbot maker over data", 1),
                            ("x2", "EU fines chatbot maker over data", 2),
                            ("x3", "EU fines search engine over ads", 3))]
    assert [p.article.id for p in run(bare).picks] == ["x3", "x2"]


def test_untagged_articles_get_inferred_tags_marked_as_such():
    untagged = Article(
        id="seed", title="Chatbot makers face new duties", published_at=MONDAY,
        standfirst="Providers of artificial intelligence systems must label chatbot output.",
        body=[Block("paragraph", "Under the AI Act, providers must also document training.")])
    tags = TAXONOMY.infer(untagged)
    assert tags == [Tag("ai", "AI", inferred=True)]
    (pick,) = run([untagged]).picks
    assert pick.tags[0].inferred
    assert pick.reason == "matched 1 of the newsletter's tags: ai (inferred); rank 1"


def test_inference_needs_enough_evidence():
    once_in_body = Article(id="x", title="Ministers meet", published_at=MONDAY,
                           body=[Block("paragraph", "Tariffs were mentioned once.")])
    twice_in_body = Article(id="y", title="Ministers meet", published_at=MONDAY,
                            body=[Block("paragraph", "Tariffs came up. Tariffs again.")])
    assert TAXONOMY.infer(once_in_body) == []
    assert [t.slug for t in TAXONOMY.infer(twice_in_body)] == ["trade"]


def test_given_tags_are_kept_and_not_inferred():
    tagged = article("t", 1, ["trade"], title="Chatbot GDPR artificial intelligence")
    assert TAXONOMY.effective_tags(tagged) == [Tag("trade", "Trade")]


def test_a_stored_inference_counts_only_with_the_taxonomy_it_was_made_with():
    """Inferred tags are stored at ingest with the taxonomy's fingerprint: what inference
    depends on (keywords, their tags' order, the rules), not the names shown."""
    from dataclasses import replace

    untagged = Article(id="u", title="Tariffs and more tariffs", published_at=MONDAY)
    stored = TAXONOMY.stored_inference(untagged)
    assert stored == f"{TAXONOMY.fingerprint} trade"
    assert TAXONOMY.stored_inference(article("t", 1, ["ai"])) is None  # tagged: nothing to infer
    assert TAXONOMY.from_store(stored) == ["trade"]
    assert TAXONOMY.effective_tags(untagged, stored) == TAXONOMY.infer(untagged)
    nothing = Article(id="n", title="Ministers meet", published_at=MONDAY)
    assert TAXONOMY.from_store(TAXONOMY.stored_inference(nothing)) == []  # none, not "unknown"
    assert TAXONOMY.effective_tags(untagged, f"{TAXONOMY.fingerprint} ai") == [
        Tag("ai", "AI", inferred=True)]  # what is stored is what counts
    for other in (None, "", "0123456789abcdef trade", f"{TAXONOMY.fingerprint} no-such-tag"):
        assert TAXONOMY.from_store(other) is None
        assert TAXONOMY.effective_tags(untagged, other) == TAXONOMY.infer(untagged)
    tags = TAXONOMY.tags
    renamed = Taxonomy({**tags, "ai": replace(tags["ai"], name="Artificial intelligence")})
    assert renamed.fingerprint == TAXONOMY.fingerprint
    assert renamed.effective_tags(untagged, f"{TAXONOMY.fingerprint} ai")[0].name == \
        "Artificial intelligence"
    more = Taxonomy({**tags, "ai": replace(tags["ai"], keywords=(*tags["ai"].keywords, "x"))})
    reordered = Taxonomy(dict(reversed(tags.items())))
    assert len({TAXONOMY.fingerprint, more.fingerprint, reordered.fingerprint}) == 3


def test_a_star_newsletter_takes_untagged_articles_too():
    items = [Article(id="plain", title="Nothing to match", published_at=MONDAY),
             article("tagged", 2, ["trade"])]
    selection = run(items, newsletter(tags=("*",)))
    assert [p.article.id for p in selection.picks] == ["tagged", "plain"]
    assert [s.title for s in selection.sections()] == ["Trade", "Other news"]


def test_sections_by_kind_follow_the_best_ranked_article():
    items = [article("n1", 1, ["ai"], kind="News"), article("c1", 5, ["ai"], kind="Comment"),
             article("n2", 9, ["ai", "privacy"], kind="News"), article("x", 3, ["ai"])]
    sections = run(items, newsletter(sections="kind")).sections()
    assert [(s.title, [p.article.id for p in s.picks]) for s in sections] == [
        ("News", ["n2", "n1"]), ("Comment", ["c1"]), ("Other news", ["x"])]


def test_pins_come_first_and_drops_are_recorded():
    items = [article("top", 9, ["ai", "privacy"]), article("pinned", 1, ["privacy"]),
             article("dropped", 5, ["ai"]), article("trade", 2, ["trade"])]
    overrides = Overrides(pins=["trade", "pinned"], drops={"dropped"})
    selection = run(items, overrides=overrides)
    assert [p.article.id for p in selection.picks] == ["trade", "pinned", "top"]
    assert selection.picks[0].reason == "pinned by the editor"
    assert {(x.id, x.code) for x in selection.left_out} == {("dropped", "dropped")}


def test_pins_outside_the_window_are_taken_from_extra():
    outside = article("last-week", -30, ["ai"])
    selection = run([article("a", 1, ["ai"])], overrides=Overrides(pins=["last-week"]),
                    extra={"last-week": outside})
    assert selection.picks[0].article.id == "last-week"
    assert selection.picks[0].reason == "pinned by the editor (published outside the window)"


def test_window_edges_in_select_use_the_neighbours():
    inside = Article(id="in", title="t", published_at=WINDOW.until.replace(microsecond=0),
                     tags=[Tag("ai", "ai")])
    outside = Article(id="out", title="u", published_at=WINDOW.until + timedelta(microseconds=1),
                      tags=[Tag("ai", "ai")])
    assert inside.published_at in WINDOW and outside.published_at not in WINDOW
    selection = run([inside], neighbours=[outside])
    assert [p.article.id for p in selection.picks] == ["in"]
    assert selection.left_out[0].code == "outside_window"


def test_folding_ten_thousand_articles_finds_only_the_planted_pairs():
    rng = random.Random(7)
    words = [f"w{i}" for i in range(4000)]
    items = []
    for n in range(10000):
        lead = " ".join(rng.choice(words) for _ in range(30))
        items.append(Article(id=f"a{n:05d}", title=f"Title {n}", published_at=MONDAY,
                             body=[Block("paragraph", lead)]))
    items.append(Article(id="dup", title="Title 42", published_at=MONDAY + timedelta(hours=1),
                         body=items[42].body))
    index = DuplicateIndex(items)
    assert index.fold([a.id for a in items]) == {"a00042": ("dup", 1.0)}


def test_a_big_weeks_signatures_worked_out_in_two_processes_find_the_same_pairs(monkeypatch):
    import os

    from digest import forking

    real, pids = forking.map_forked, set()

    def recording(work, count, processes, **options):  # which processes did the work
        done = real(lambda k: (work(k), os.getpid()), count, processes, **options)
        pids.update(pid for _, pid in done)
        return [value for value, _ in done]

    monkeypatch.setattr(forking, "map_forked", recording)

    rng = random.Random(7)
    words = [f"w{n}" for n in range(400)]
    items = []
    for n in range(2400):  # map_chunks forks for 2,000 or more
        lead = " ".join(rng.choices(words, k=40))
        if n % 50 == 49:  # every fiftieth is a copy of an earlier one, slightly reworded
            lead = items[n - 7].body[0].text + " It said more."
        items.append(article(f"a{n:05d}", n / 100, ["ai"], lead=lead))
    one, two = DuplicateIndex(items), DuplicateIndex(items, processes=2)
    assert len(one.edges) >= 2 * (len(items) // 50)
    assert dict(two.edges) == dict(one.edges)
    assert len(pids) == 2


def test_signatures_stored_at_ingest_are_used_and_stale_ones_made_again():
    from digest import signatures

    rng = random.Random(3)
    words = [f"w{n}" for n in range(300)]
    items = [article(f"a{n:03d}", n, ["ai"], lead=" ".join(rng.choices(words, k=40)))
             for n in range(200)]
    items.append(article("copy", 300, ["ai"], lead=items[5].body[0].text + " More."))
    made = DuplicateIndex(items)
    stored = {a.id: signatures.stored(a) for a in items}
    for blob in stored.values():
        title, lead = signatures.from_store(blob)
        assert lead and b"\n" not in title[0].encode()
    assert dict(DuplicateIndex(items, stored=stored).edges) == dict(made.edges) != {}

    # A stored signature is what is compared: two unrelated articles given the same one pair.
    forged = {**stored, "a001": stored["a002"]}
    assert "a002" in {other for other, _ in DuplicateIndex(items, stored=forged).edges["a001"]}
    # Missing (an archive from before), of another version, or cut short: made again.
    old = {**stored, "a001": None, "a002": bytes([signatures.VERSION + 1]) + stored["a002"][1:],
           "a003": stored["a003"][:-1], "copy": b""}
    assert dict(DuplicateIndex(items, stored=old).edges) == dict(made.edges)
