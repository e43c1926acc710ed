"""Text plumbing for the summarisers: cleaning, sentence splitting, word counting, terms."""

from __future__ import annotations

import re
from functools import lru_cache

import pysbd

# Export artefact left where a CMS link was flattened to text.
_SEE_HERE = re.compile(r"\s*\(see here\)", re.IGNORECASE)
_SPACE = re.compile(r"\s+")
_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
# An e-mail address alone is news ("police asked witnesses to e-mail tips@..."); it is
# boilerplate only when it tells readers how to reach the publication's own staff.
_CONTACT_WORDS = re.compile(
    r"\b(?:editors?|editorial|newsroom|news ?desk|corrections?|our staff|contact us)\b",
    re.IGNORECASE,
)
_CONTACT_LEAD = re.compile(r"^\W*(?:please\s+)?(?:e-?mail|contact|write to)\b", re.IGNORECASE)


def clean(text: str) -> str:
    """Drop `(see here)` markers and collapse whitespace (exports leave newlines mid-sentence)."""
    return _SPACE.sub(" ", _SEE_HERE.sub("", text)).strip()


def is_contact_sentence(sentence: str) -> bool:
    """True for 'Please e-mail editors@... to contact the editorial staff' style footers."""
    if not _EMAIL.search(sentence):
        return False
    return bool(_CONTACT_WORDS.search(sentence) or _CONTACT_LEAD.search(sentence))


def word_count(text: str) -> int:
    return len(text.split())


# pysbd builds cheaply but each `segment` call costs a millisecond or more: it runs a
# hundred-odd regex passes and compiles fresh patterns per abbreviation and per sentence.
# Most sentence ends in news copy are unambiguous, so the paragraph is first cut where a
# terminator follows a plain word (two letters or more, not in pysbd's abbreviation list) or a
# number like 2005 or 4%, and precedes space and a capital. Only the pieces still holding an
# ambiguous point (initials, decimals, abbreviations, ellipses) go to pysbd. As in pysbd,
# nothing inside quotes or brackets ends a sentence; text with single quotes or unbalanced
# brackets goes to pysbd whole. `bench/summaries.py` counts paragraphs split differently from
# pysbd run on the whole paragraph: 1 of 6,432 on the BBC set, where pysbd misreads
# "aged 16 to 18. These" as a numbered list and we do not.
_GUARDED = re.compile(r"[«»{}]|(?:^|\s)['‘’]|\s[\"“”](?:\s|$)")
_PROTECTED = re.compile(r'"[^"]*"|“[^“”]*”|\([^()]*\)|\[[^\[\]]*\]')
_STRAY = re.compile(r"[“”()\[\]]")
_TERMINATOR = re.compile(r"[.!?](?<!\d\.(?=\d))")  # not the point of 1.5
_NEXT_SENTENCE = re.compile(r"\s+(?=[\"“]?[A-Z])")
_AFTER_QUOTE = re.compile(r"\s+(?=[A-Z])")  # pysbd keeps '..." "...' together
_LAST_WORD = re.compile(
    r"(?:^|[\s\"“(])(?:[\w'’]+-)*"  # after space or an opening mark; hyphenated compounds
    r"([A-Za-z]{2,}|[$£€]?\d[\d,.]*(?:%|m|bn|k)|[$£€]?\d[\d,.]*\d|(?<=-)\d)"  # 6-2 in scores
    r"[\"”)]?$"  # the word may close a quote or bracket: 'a "trivial matter".'
)


@lru_cache(maxsize=1)
def _segmenter() -> pysbd.Segmenter:
    return pysbd.Segmenter(language="en", clean=False)


@lru_cache(maxsize=1)
def _abbreviations() -> frozenset[str]:
    from pysbd.lang.english import English

    return frozenset(English.Abbreviation.ABBREVIATIONS)


def chunks(paragraph: str) -> list[tuple[str, bool]]:
    """The paragraph cut at unambiguous sentence ends: (piece, whether pysbd must split it)."""
    if _GUARDED.search(paragraph) or _STRAY.search(_PROTECTED.sub("", paragraph)):
        return [(paragraph, True)]
    spans = [m.span() for m in _PROTECTED.finditer(paragraph)]
    pieces: list[tuple[str, bool]] = []
    start, unsure = 0, False
    for m in _TERMINATOR.finditer(paragraph):
        span = next(((a, b) for a, b in spans if a < m.start() < b), None)
        closing = span is not None and m.end() == span[1] - 1
        if span is not None and not closing:
            continue  # inside quotes or brackets: never a sentence end
        end = span[1] if closing else m.end()
        if end == len(paragraph):
            break
        if closing and paragraph[end - 1] in ")]":
            unsure = True
            continue
        gap = (_AFTER_QUOTE if closing else _NEXT_SENTENCE).match(paragraph, end)
        if gap is None and closing:
            continue
        word = _LAST_WORD.search(paragraph, max(0, m.start() - 40), m.start())
        if gap is None or word is None or word.group(1).lower() in _abbreviations():
            unsure = True
            continue
        piece = paragraph[start : gap.start()]
        pieces.append((piece, unsure))
        start, unsure = gap.end(), False
    piece = paragraph[start:]
    pieces.append((piece, unsure))
    return pieces


def pysbd_split(text: str) -> list[str]:
    return [s.strip() for s in _segmenter().segment(text) if s.strip()]


@lru_cache(maxsize=8192)
def _split_paragraph(paragraph: str) -> tuple[str, ...]:
    sentences: list[str] = []
    for piece, unsure in chunks(paragraph):
        if unsure:
            sentences.extend(pysbd_split(piece))
        elif piece.strip():
            sentences.append(piece.strip())
    return tuple(sentences)


def split_sentences(paragraph: str) -> list[str]:
    """Sentences of one cleaned paragraph (paragraphs are split separately: no sentence spans
    two of them). Cached because a digest build re-summarises the same articles."""
    return list(_split_paragraph(paragraph))


# Function words carry no topic, so they must not count towards similarity. This is the
# classic NLTK English list; news-frequent verbs such as "said" stay in because they mark the
# reported facts a summary wants (dropping them cost ~1 ROUGE point on the bench).
_STOPWORDS = """
    i me my myself we our ours ourselves you you're you've you'll you'd your yours yourself
    yourselves he him his himself she she's her hers herself it it's its itself they them
    their theirs themselves what which who whom this that that'll these those am is are was
    were be been being have has had having do does did doing a an the and but if or because
    as until while of at by for with about against between into through during before after
    above below to from up down in out on off over under again further then once here there
    when where why how all any both each few more most other some such no nor not only own
    same so than too very can will just don don't should should've now aren't couldn't
    didn't doesn't hadn't hasn't haven't isn't mightn't mustn't needn't shan't shouldn't
    wasn't weren't won't wouldn't
"""
STOPWORDS = frozenset(_STOPWORDS.split())
_WORD = re.compile(r"[a-z0-9]+(?:['’][a-z]+)?")


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """A light suffix stripper: enough to match 'profits'/'profit', 'rising'/'rise'."""
    if len(word) <= 3 or word.isdigit():
        return word
    for suffix, repl, min_stem in (
        ("ies", "y", 2),
        ("sses", "ss", 2),
        ("ness", "", 3),
        ("ments", "", 3),
        ("ment", "", 3),
        ("ings", "", 3),
        ("ing", "", 3),
        ("edly", "", 3),
        ("ed", "", 3),
        ("ly", "", 3),
        ("es", "", 3),
        ("s", "", 3),
    ):
        if word.endswith(suffix) and len(word) - len(suffix) >= min_stem:
            if suffix == "s" and word.endswith(("ss", "us", "is")):
                return word
            base = word[: len(word) - len(suffix)] + repl
            # 'ing'/'ed' leave a doubled consonant ('stopped' -> 'stopp'): undo it.
            if suffix in ("ing", "ings", "ed", "edly") and len(base) > 3 and base[-1] == base[-2]:
                base = base[:-1]
            return base.rstrip("e") if len(base) > 3 else base
    return word.rstrip("e") if len(word) > 4 else word


@lru_cache(maxsize=16384)
def terms(sentence: str) -> tuple[str, ...]:
    """Stemmed content words of a sentence, in order (cached: ranking and selection both ask)."""
    words = _WORD.findall(sentence.lower().replace("’", "'"))
    return tuple(stem(w.split("'")[0]) for w in words if w not in STOPWORDS and len(w) > 1)


def clear_caches() -> None:
    """Forget cached splits and terms (for cold-start timing; memory is bounded anyway)."""
    _split_paragraph.cache_clear()
    terms.cache_clear()
    stem.cache_clear()
