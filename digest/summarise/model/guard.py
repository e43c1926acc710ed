"""The faithfulness guard: a model's summary may state only facts the article states.

Every money amount, percentage, number, date, quoted phrase and proper name in the summary must
be found in the article, after both are brought to one form: "€1.2bn", "1.2 billion euros" and
"EUR 1.2 billion" are all (EUR, 1200000000); "76 per cent" is 76%; "four million" is 4000000;
"March 5, 2026" and "5 March" are the same day. Both texts go through the same extraction, so
a form the guard does not understand is still compared like for like.

It checks what can be checked by matching, and no more: a name recombined from words the
article does use (its "Maria" and its "Lopez"), or a true figure attached to the wrong subject,
passes. The rule is "nothing new", not "nothing wrong".
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from digest.summarise.text import STOPWORDS, stem

_UNITS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
          "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen",
          "eighteen", "nineteen"]
_TENS = ["twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
_WORD_VALUES = {w: n for n, w in enumerate(_UNITS)} | {w: 20 + 10 * n for n, w in enumerate(_TENS)}
_SCALES = {"thousand": 3, "k": 3, "million": 6, "mn": 6, "m": 6, "billion": 9, "bn": 9, "b": 9,
           "trillion": 12, "tn": 12}
_MONTHS = {m: n + 1 for n, m in enumerate([
    "january", "february", "march", "april", "may", "june", "july", "august", "september",
    "october", "november", "december"])}
_MONTHS |= {m[:3]: n for m, n in list(_MONTHS.items())} | {"sept": 9}
_CURRENCY_SIGNS = {"$": "USD", "us$": "USD", "£": "GBP", "€": "EUR", "¥": "JPY"}
_CURRENCY_WORDS = {"euro": "EUR", "euros": "EUR", "dollar": "USD", "dollars": "USD",
                   "pound": "GBP", "pounds": "GBP", "yen": "JPY", "francs": "CHF"}
_CURRENCY_CODES = ["USD", "EUR", "GBP", "CHF", "JPY", "CNY", "CAD", "AUD", "SEK", "NOK", "DKK",
                   "PLN", "INR"]

_NUMBER_WORD = rf"(?:{'|'.join(_TENS)})(?:[- ](?:{'|'.join(_UNITS[1:10])}))?|{'|'.join(_UNITS)}"
_MONTH = r"(?:" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_ORD = r"(?:st|nd|rd|th)?"
_DATES = [
    re.compile(rf"\b(?P<day>[0-3]?\d){_ORD}\s+(?:of\s+)?(?P<month>{_MONTH})(?:,?\s+(?P<year>\d{{4}}))?\b",
               re.IGNORECASE),
    re.compile(rf"\b(?P<month>{_MONTH})\s+(?P<day>[0-3]?\d){_ORD}(?:,?\s+(?P<year>\d{{4}}))?\b",
               re.IGNORECASE),
    re.compile(r"\b(?P<year>\d{4})-(?P<month>[01]\d)-(?P<day>[0-3]\d)\b"),
]
_AMOUNT = re.compile(
    r"(?P<code>\b(?:" + "|".join(_CURRENCY_CODES) + r")\s?)?"
    r"(?P<sign>US\$|[$£€¥])?\s?"
    rf"(?P<number>\d{{1,3}}(?:,\d{{3}})+(?:\.\d+)?|\d+(?:\.\d+)?|\b(?:a|{_NUMBER_WORD})\b)"
    r"(?:(?P<suffix>bn|mn|tn|m|k|b)\b|(?:st|nd|rd|th|s)\b)?"
    r"(?:\s(?P<hundred>hundred)\b)?"
    r"(?:[\s-](?P<scale>thousand|million|billion|trillion)\b)?"
    r"(?P<unit>\s?%|\s(?:per\s?cent|percent)\b|\spercentage\spoints?\b"
    r"|\s(?:US\s)?(?:euros?|dollars?|pounds?|yen|francs)\b"
    r"|\s(?:" + "|".join(_CURRENCY_CODES) + r")\b)?",
    re.IGNORECASE,
)
_QUOTES = re.compile(r"“([^”]+)”|\"([^\"]+)\"|‘([^’]+)’(?!\w)|(?<!\w)'([^']+)'(?!\w)")
_WORDS = re.compile(r"[^\W_]+(?:[-&.’'][^\W_]+)*")  # letters of any script, digits
_POSSESSIVE = re.compile(r"['’]s$")
_SENTENCE_START = re.compile(r"(?:^|[.!?:;]\s+|[\"“‘(]\s*)$")
# Capitalised for courtesy or for starting a sentence, not facts of the story.
_TITLES = {"mr", "mrs", "ms", "dr", "sir", "dame", "lord", "lady", "prof"}
_NOT_NAMES = STOPWORDS | {
    "however", "meanwhile", "also", "separately", "overall", "instead", "still", "yet",
    "although", "despite", "following", "according", "earlier", "later", "last", "next", "new",
}
_CONNECTORS = {"of", "de", "von", "der", "van", "la", "le", "du", "da", "del"}


@dataclass(frozen=True, slots=True)
class Fact:
    kind: str  # money | percent | number | date | quote | name
    text: str  # as the summary writes it
    key: tuple  # the normal form compared with the article's


@dataclass(frozen=True, slots=True)
class Verdict:
    checked: tuple[Fact, ...]
    missing: tuple[Fact, ...]

    @property
    def ok(self) -> bool:
        return not self.missing

    def describe(self) -> str:
        """One line for the manifest and the preview."""
        if self.ok:
            kinds: dict[str, int] = {}
            for kind, _ in _distinct(self.checked):
                kinds[kind] = kinds.get(kind, 0) + 1
            found = ", ".join(f"{n} {_plural(kind, n)}" for kind, n in sorted(kinds.items()))
            return f"every fact found in the article ({found})" if found else (
                "no figures, dates, names or quotes to check")
        missing = _distinct(self.missing)
        shown = "; ".join(f"{_LABELS[kind]} {text!r}" for kind, text in missing[:4])
        more = f" and {len(missing) - 4} more" if len(missing) > 4 else ""
        return f"not in the article: {shown}{more}"


def _distinct(facts: tuple[Fact, ...]) -> list[tuple[str, str]]:
    """(kind, text) once each, in order: a name's words are one fact to a reader."""
    return list(dict.fromkeys((f.kind, f.text) for f in facts))


_LABELS = {"money": "amount", "percent": "percentage", "number": "figure", "date": "date",
           "quote": "quote", "name": "name"}


def _plural(kind: str, n: int) -> str:
    label = _LABELS[kind]
    return label if n == 1 else label + "s"


def check(summary: str, article: str) -> Verdict:
    """Which facts of `summary` the `article` text (title, standfirst, body) does not state."""
    facts = list(extract(summary))
    known = _Known(article)
    missing = tuple(f for f in facts if not known.has(f))
    return Verdict(checked=tuple(facts), missing=missing)


def extract(text: str) -> Iterator[Fact]:
    """Every checkable fact in `text`, dates and amounts before the bare numbers inside them."""
    text = _plain(text)
    taken: list[tuple[int, int]] = []
    for pattern in _DATES:
        for m in pattern.finditer(text):
            month = _month(m.group("month"))
            day = int(m.group("day"))
            if month and 1 <= day <= 31 and not _overlaps(m.span(), taken):
                taken.append(m.span())
                yield Fact("date", m.group(0), ("date", month, day))
                if m.group("year"):
                    yield Fact("number", m.group("year"), ("number", Decimal(m.group("year"))))
    for m in _AMOUNT.finditer(text):
        if _overlaps(m.span(), taken) or not m.group("number").strip():
            continue
        fact = _amount(m)
        if fact is not None:
            taken.append(m.span())
            yield fact
    for m in _QUOTES.finditer(text):
        phrase = next(g for g in m.groups() if g is not None)
        if _words(phrase):
            yield Fact("quote", phrase, ("quote", " ".join(_words(phrase))))
    yield from _names(text, taken)


def _amount(m: re.Match[str]) -> Fact | None:
    raw = m.group("number").lower()
    value = _number(raw)
    suffix = (m.group("suffix") or "").lower()
    scale = (m.group("scale") or "").lower()
    if value is None or (raw in ("a", "one") and not (suffix or scale or m.group("hundred"))):
        return None  # "a", "one of the": not figures
    if m.group("hundred"):
        value *= 100
    for word in (suffix, scale):
        if word:
            value *= Decimal(10) ** _SCALES[word]
    unit = " ".join((m.group("unit") or "").lower().split())
    currency = (_CURRENCY_SIGNS.get((m.group("sign") or "").lower())
                or (m.group("code") or "").strip().upper()
                or _CURRENCY_WORDS.get(unit.removeprefix("us "))
                or (unit.upper() if unit.upper() in _CURRENCY_CODES else ""))
    text, value = m.group(0).strip(), value.normalize()
    if currency:
        return Fact("money", text, ("money", currency, value))
    if "point" in unit:
        return Fact("percent", text, ("points", value))
    if unit == "%" or "cent" in unit:
        return Fact("percent", text, ("percent", value))
    return Fact("number", text, ("number", value))


def _number(raw: str) -> Decimal | None:
    if raw == "a":
        return Decimal(1)
    if raw[0].isdigit() or raw[0] == ".":
        try:
            return Decimal(raw.replace(",", ""))
        except InvalidOperation:
            return None
    total = 0
    for part in re.split(r"[- ]", raw):
        total += _WORD_VALUES.get(part, 0)
    return Decimal(total)


def _names(text: str, taken: list[tuple[int, int]]) -> Iterator[Fact]:
    """Runs of capitalised words, one fact per word ("Ursula von der Leyen" gives two, each
    shown as the whole run). A word inside a date or an amount ("March", "EUR") is not one, nor
    a courtesy title, nor a function word capitalised because it starts a sentence."""
    run: list[tuple[str, int, int]] = []
    for m in _WORDS.finditer(text):
        if not m.group(0)[0].isupper():
            continue
        word = _POSSESSIVE.sub("", m.group(0)).rstrip(".")
        lower = word.lower()
        at_start = m.start() == 0 or bool(_SENTENCE_START.search(text[:m.start()][-3:]))
        if (_inside(m.span(), taken) or lower in _TITLES
                or (at_start and lower in _NOT_NAMES)):
            continue
        if run and not set(text[run[-1][2]:m.start()].split()) <= _CONNECTORS:
            yield from _run_facts(text, run)
            run = []
        run.append((word, m.start(), m.start() + len(word)))
    if run:
        yield from _run_facts(text, run)


def _run_facts(text: str, run: list[tuple[str, int, int]]) -> Iterator[Fact]:
    shown = text[run[0][1]:run[-1][2]]
    for word, _, _ in run:
        yield Fact("name", shown, ("name", stem(word.lower())))


class _Known:
    """The article's facts, indexed by normal form."""

    def __init__(self, article: str) -> None:
        plain = _plain(article)
        self.keys: set[tuple] = set()
        self.values: set[Decimal] = set()
        for fact in extract(plain):
            self.keys.add(fact.key)
            if fact.kind in ("money", "percent", "number"):
                self.values.add(fact.key[-1])
        words = {_POSSESSIVE.sub("", w) for w in _WORDS.findall(plain.lower())}
        words |= {part for w in words for part in re.split(r"[-&.’']", w) if part}
        self.words = {stem(w) for w in words}
        self.text = " " + " ".join(_words(plain)) + " "

    def has(self, fact: Fact) -> bool:
        if fact.kind == "name":
            return fact.key[1] in self.words
        if fact.kind == "quote":
            return f" {fact.key[1]} " in self.text
        if fact.kind == "number":  # a bare figure may be the article's amount or percentage
            return fact.key[1] in self.values
        return fact.key in self.keys


def _plain(text: str) -> str:
    """One form for the look-alikes models and CMSs swap: dashes, spaces, apostrophes."""
    return (text.replace("\u00a0", " ").replace("\u2009", " ").replace("\u202f", " ")
            .replace("–", "-").replace("—", " - ").replace("\u2212", "-"))


def _words(text: str) -> list[str]:
    return _WORDS.findall(text.lower().replace("’", "'"))


def _month(name: str) -> int | None:
    if name.isdigit():
        return int(name) if 1 <= int(name) <= 12 else None
    return _MONTHS.get(name.lower().rstrip("."))


def _overlaps(span: tuple[int, int], taken: list[tuple[int, int]]) -> bool:
    return any(span[0] < b and a < span[1] for a, b in taken)


def _inside(span: tuple[int, int], taken: list[tuple[int, int]]) -> bool:
    return any(a <= span[0] and span[1] <= b for a, b in taken)
