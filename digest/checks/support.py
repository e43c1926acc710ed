"""Client support: every HTML element, attribute and CSS feature the email uses, looked up in
the support table (support_table.py), reported for the clients that fall short.

    not supported, layout feature      warning: the layout breaks there
    not supported, cosmetic feature    info: it looks plainer there
    partly supported                   info, where our table says what degrades
    MJML's own Outlook tables stand in for it     not reported for Outlook for Windows

One finding per feature, at its first use, with how many places use it.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import tinycss2

from digest.checks.document import Document, describe, markup
from digest.checks.findings import Finding, shorten
from digest.checks.message import Message
from digest.checks.support_table import Feature, Table, load_table

GMAIL_STYLE_LIMIT = 16 * 1024  # Gmail drops a <style> block larger than this
MJML_RESET = "#outlook a"  # how MJML's reset <style> block starts
# name: value, where a value may hold parenthesised parts with ; or : in them (url(data:...)).
DECLARATION = re.compile(r"([-\w]+)\s*:\s*((?:[^;(]|\([^)]*\))*)")
IMPORTANT = re.compile(r"!\s*important\s*$", re.IGNORECASE)
FUNCTION = re.compile(r"([-\w]+)\(")
UNIT = re.compile(r"(?<![\w#.-])(?:\d*\.)?\d+(%|[a-zA-Z]+)")  # 16px, 1.5rem, 100% (not #1b1f24)

TAGS = {
    "style": "html-style", "link": "html-link", "svg": "html-svg", "video": "html-video",
    "audio": "html-audio", "form": "html-form", "select": "html-select",
    "textarea": "html-textarea", "object": "html-object", "marquee": "html-marquee",
    "dialog": "html-dialog", "map": "html-image-maps", "base": "html-base", "div": "html-div",
    "p": "html-p", "span": "html-span", "table": "html-table", "img": "html-img",
    "ul": "html-lists", "ol": "html-lists", "dl": "html-lists", "strong": "html-strong",
    "small": "html-small", "blockquote": "html-blockquote", "hr": "html-hr", "code": "html-code",
    "pre": "html-pre", "body": "html-body", "meter": "html-meter", "progress": "html-progress",
    **{f"h{n}": "html-h1-h6" for n in range(1, 7)},
    **{t: "html-semantics" for t in ("article", "aside", "details", "figcaption", "figure",
                                     "footer", "header", "main", "mark", "nav", "section",
                                     "summary", "time")},
}
ATTRIBUTES = {
    name: f"html-{name}" for name in (
        "align", "valign", "cellpadding", "cellspacing", "width", "height", "background",
        "role", "lang", "dir", "aria-label", "aria-hidden", "aria-labelledby",
        "aria-describedby", "aria-live", "target", "hidden", "required", "popover")
} | {"srcset": "html-srcset", "loading": "html-loading-attribute"}
ATTRIBUTE_NAMES = frozenset(ATTRIBUTES)
IMAGE_TYPES = {"svg": "image-svg", "webp": "image-webp", "avif": "image-avif",
               "bmp": "image-bmp", "tif": "image-tiff", "tiff": "image-tiff",
               "heic": "image-heif", "heif": "image-heif", "png": "image-png",
               "jpg": "image-jpg", "jpeg": "image-jpg", "gif": "image-gif"}
PROPERTY_FAMILIES = [
    (re.compile(r"^border(-(top|right|bottom|left))?-.*radius$|^border-radius$"),
     "css-border-radius"),
    (re.compile(r"^border(-(top|right|bottom|left))?(-(color|width|style))?$"), "css-border"),
    (re.compile(r"^margin-(top|right|bottom|left)$"), "css-margin"),
    (re.compile(r"^padding-(top|right|bottom|left)$"), "css-padding"),
    (re.compile(r"^(top|right|bottom|left)$"), "css-left-right-top-bottom"),
    (re.compile(r"^(row-|column-)?gap$"), "css-gap"),
    (re.compile(r"^grid-template"), "css-grid-template"),
]
DISPLAY = {"flex": "css-display-flex", "inline-flex": "css-display-flex",
           "grid": "css-display-grid", "inline-grid": "css-display-grid",
           "none": "css-display-none"}
FUNCTIONS = {"linear-gradient": "css-linear-gradient", "radial-gradient": "css-radial-gradient",
             "conic-gradient": "css-conic-gradient", "calc": "css-unit-calc",
             "var": "css-variables", "rgb": "css-rgb", "rgba": "css-rgba",
             "min": "css-function-min", "max": "css-function-max",
             "clamp": "css-function-clamp", "light-dark": "css-function-light-dark",
             **{f: "css-modern-color" for f in ("lab", "lch", "oklab", "oklch")}}
MEDIA_FEATURES = {"prefers-color-scheme": "css-at-media-prefers-color-scheme",
                  "prefers-reduced-motion": "css-at-media-prefers-reduced-motion",
                  "hover": "css-at-media-hover", "any-hover": "css-at-media-hover",
                  "orientation": "css-at-media-orientation",
                  "device-pixel-ratio": "css-at-media-device-pixel-ratio"}
AT_RULES = {"media": "css-at-media", "font-face": "css-at-font-face",
            "import": "css-at-import", "keyframes": "css-at-keyframes",
            "supports": "css-at-supports"}
SELECTORS = [(re.compile(r"(?<!:):(hover|active|focus|visited|checked|target|has|not|"
                         r"first-child|last-child|nth-child)\b"), "css-pseudo-class-{}"),
             (re.compile(r"::(before|after|first-letter|first-line|marker|placeholder)\b"),
              "css-pseudo-element-{}"),
             (re.compile(r"\["), "css-selector-attribute"),
             (re.compile(r">"), "css-selector-child"),
             (re.compile(r"\+"), "css-selector-adjacent-sibling"),
             (re.compile(r"~"), "css-selector-general-sibling"),
             (re.compile(r"#[A-Za-z_-]"), "css-selector-id")]


@dataclass
class Use:
    where: str
    snippet: str
    count: int = 1


def check_support(message: Message) -> Iterator[Finding]:
    doc = message.document
    table = load_table(message.settings.data_dir)
    for slug, use in features_used(doc, table).items():
        feature = table.features.get(slug)
        if feature is not None:
            yield from _judge(feature, use, table, doc)
    size = sum(len(css.encode()) for css in doc.stylesheets)
    if size > GMAIL_STYLE_LIMIT:
        yield Finding("support.gmail-style-size", "warning", "<style> in <head>",
                      f"The email's <style> blocks hold {size / 1024:.1f} KB of CSS: Gmail drops "
                      "a <style> block over 16 KB, and with it the phone layout and dark mode.",
                      "Trim the template's <mj-style> (inline styles are not affected).")


def _judge(feature: Feature, use: Use, table: Table, doc: Document) -> Iterator[Finding]:
    if feature.impact == "none":
        return
    lacking, partly = [], []
    for client, word in feature.support.items():
        if client == "outlook-windows" and feature.mso and doc.has_mso_fallback:
            continue
        name = table.clients.get(client, client)
        note = feature.notes.get(client)
        if word == "no":
            lacking.append(name)
        elif word == "partial" and feature.partial:
            partly.append(f"{name} ({note})" if note else name)
    if not lacking and not partly:
        return
    where = use.where + (f" (and {use.count - 1} more)" if use.count > 1 else "")
    if lacking:
        severity = "warning" if feature.impact == "layout" else "info"
        problem = (f"{feature.title} is not supported in {_names(lacking)}: "
                   f"{feature.degrades or 'it is ignored there'}.")
        if partly:
            problem += f" Partly in {_names(partly)}: {feature.partial}."
    else:
        severity = "info"
        problem = (f"{feature.title} is only partly supported in {_names(partly)}: "
                   f"{feature.partial}.")
    fix = ("Use MJML's sections and columns (tables) for layout, or accept the fallback."
           if feature.impact == "layout" else "Nothing breaks: check it still reads well.")
    yield Finding(f"support.{feature.slug}", severity, where, problem, fix, use.snippet)


def _names(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


# -- what a document uses ----------------------------------------------------------------------


def features_used(doc: Document, table: Table) -> dict[str, Use]:
    """slug -> where it is first used and how often. Runs in every build over every element,
    so the loop only counts: each feature's first place is described once, at the end."""
    counts: Counter[str] = Counter()
    first: dict[str, tuple[Any, str | None]] = {}  # slug -> (element or description, snippet)

    def seen(slugs: Iterable[str], where: Any, snippets: dict[str, str] | None = None) -> None:
        for slug in slugs:
            counts[slug] += 1
            if slug not in first:
                first[slug] = (where, snippets.get(slug) if snippets else None)

    if doc.html.lstrip()[:15].lower() == "<!doctype html>":
        seen(["html-doctype"], "<!DOCTYPE html>")
    hidden: set[Any] = set()  # inside display:none (the preheader): what it uses never shows
    # MJML's output repeats a few dozen kinds of element (same tag, attributes and style)
    # hundreds of times: each kind is worked out once, then only counted.
    kinds: dict[tuple[Any, ...], tuple[str, ...]] = {}
    known = table.known
    for element in doc.elements:
        if element in hidden:
            continue
        tag, style = element.tag, element.get("style")
        kind = (tag, tuple(element.keys()), style)
        slugs = kinds.get(kind)
        if slugs is None:
            found = [TAGS[tag]] if tag in TAGS else []
            seen(found, element)
            for name in ATTRIBUTE_NAMES.intersection(kind[1]):
                seen([ATTRIBUTES[name]], f"{name}= on <{tag}>")
                found.append(ATTRIBUTES[name])
            if style:
                styled, snippets = _inline(style, known)
                if "css-display-none" in styled:  # what hides it is not what shows
                    styled = ("css-display-none",)
                seen(styled, element, snippets)
                found.extend(styled)
            slugs = kinds[kind] = tuple(found)
        else:
            counts.update(slugs)
        if "css-display-none" in slugs:
            # Hidden text (MJML's preheader) hides itself with several tricks at once, for
            # clients that ignore one of them; none of it shows where they do.
            hidden.update(element.iterdescendants())
        if tag == "a":
            href = (element.get("href") or "").strip().lower()
            if href.startswith("#") and len(href) > 1:
                seen(["html-anchor-links"], element)
            elif href.startswith("mailto:"):
                seen(["html-mailto-links"], element)
        elif tag == "img":
            seen(_image(element), element)
        elif tag == "input":
            seen([f"html-input-{(element.get('type') or 'text').lower()}"], element)
        elif tag == "button" and (element.get("type") or "submit").lower() in ("submit", "reset"):
            seen([f"html-button-{(element.get('type') or 'submit').lower()}"], element)
        elif tag == "meta" and (element.get("name") or "").lower() == "color-scheme":
            seen(["html-meta-color-scheme"], '<meta name="color-scheme">')
        elif tag == "style" and not (element.text or "").lstrip().startswith(MJML_RESET):
            # (MJML's own reset block is written for every client on purpose.)
            for slug, where, snippet in _sheet(element.text or "", known):
                seen([slug], where, {slug: snippet})
    uses = {}
    for slug, (where, snippet) in first.items():
        if isinstance(where, str):
            uses[slug] = Use(where, snippet or "", counts[slug])
        else:
            uses[slug] = Use(describe(where), markup(where) if snippet is None else snippet,
                             counts[slug])
    return uses


def _image(element: Any) -> list[str]:
    src = (element.get("src") or "").strip()
    if src.lower().startswith("data:"):
        return ["image-base64"]
    path = src.split("?")[0].split("#")[0]
    extension = path.rpartition(".")[2].lower() if "." in path.rpartition("/")[2] else ""
    return [IMAGE_TYPES[extension]] if extension in IMAGE_TYPES else []


@lru_cache(maxsize=8192)
def _inline(style: str, known: frozenset[str]) -> tuple[tuple[str, ...], dict[str, str]]:
    """A style attribute's features and, for each, the declaration that uses it (MJML repeats
    the same few dozen attributes hundreds of times: each distinct one is read once)."""
    found = list(_declarations(style, known))
    snippets: dict[str, str] = {}
    for slug, snippet in found:
        snippets.setdefault(slug, snippet)
    return tuple(slug for slug, _ in found), snippets


@lru_cache(maxsize=64)
def _sheet(css: str, known: frozenset[str]) -> tuple[tuple[str, str, str], ...]:
    found: list[tuple[str, str, str]] = []
    _rules(tinycss2.parse_stylesheet(css, skip_comments=True, skip_whitespace=True), known,
           found)
    return tuple(found)


def _rules(rules: list[Any], known: frozenset[str], found: list[tuple[str, str, str]]) -> None:
    for rule in rules:
        if rule.type == "qualified-rule":
            selector = tinycss2.serialize(rule.prelude).strip()
            where = f"<style> rule {shorten(selector, 50)!r}"
            for pattern, slug in SELECTORS:
                for match in pattern.finditer(selector):
                    found.append((slug.format(*match.groups()) if "{}" in slug else slug,
                                  where, selector))
            content = tinycss2.serialize(rule.content or [])
            found.extend((slug, where, snippet) for slug, snippet in _declarations(content, known))
        elif rule.type == "at-rule":
            name = rule.lower_at_keyword
            prelude = tinycss2.serialize(rule.prelude).strip()
            where = f"<style> @{name} {shorten(prelude, 50)}".rstrip()
            if name in AT_RULES:
                found.append((AT_RULES[name], where, f"@{name} {prelude}"))
            if name == "media":
                found.extend((slug, where, f"@media {prelude}")
                             for feature, slug in MEDIA_FEATURES.items()
                             if feature in prelude.lower())
            if name in ("media", "supports") and rule.content:
                _rules(tinycss2.parse_rule_list(rule.content, skip_comments=True,
                                                skip_whitespace=True), known, found)


def _declarations(css: str, known: frozenset[str]) -> Iterator[tuple[str, str]]:
    """(feature, "name: value") for each declaration of a declaration list. A regular
    expression, not a CSS parser: this runs over every distinct style attribute of every
    newsletter in every build, and only names, functions, units and !important matter."""
    for match in DECLARATION.finditer(css):
        name, value = match.group(1).lower(), match.group(2).strip()
        if name.startswith("-"):
            continue  # vendor and mso- properties are deliberate client hacks
        snippet = f"{name}: {shorten(value, 60)}"
        important = IMPORTANT.search(value)
        if important:
            value = value[: important.start()].strip()
            yield "css-important", snippet
        if f"css-{name}" in known:
            yield f"css-{name}", snippet
        else:
            yield from ((slug, snippet) for pattern, slug in PROPERTY_FAMILIES
                        if pattern.match(name))
        if name == "display" and value.lower() in DISPLAY:
            yield DISPLAY[value.lower()], snippet
        for function in FUNCTION.findall(value):
            if function.lower() in FUNCTIONS:
                yield FUNCTIONS[function.lower()], snippet
        for unit in UNIT.findall(value):
            yield ("css-unit-percent" if unit == "%" else f"css-unit-{unit.lower()}"), snippet


