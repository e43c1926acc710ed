"""What the model is asked, and the article text it (and the guard) sees.

Bump PROMPT_VERSION with any change to the wording or to `article_text`: cached summaries are
keyed by it, so old answers are not served for a new prompt (a test pins the prompt's hash).
"""

from __future__ import annotations

import hashlib

from digest.models import Article
from digest.summarise.text import clean, is_contact_sentence, split_sentences

PROMPT_VERSION = "1"
# Long reads are cut at a paragraph boundary: the lede and body carry the story, and the
# request stays well inside any model's context.
MAX_ARTICLE_WORDS = 3000

SYSTEM = (
    "You summarise news articles for a newsletter read by regulatory professionals. "
    "Write one paragraph of plain prose in complete sentences, at most {words} words. "
    "Use only facts the article states: every figure, amount, percentage, date, name and "
    "quotation must appear in the article as it gives them. Add no background, opinion or "
    "prediction. Do not restate the headline or begin with 'This article'. "
    "Answer with the summary alone: no title, no quotation marks around it, no notes."
)
USER = "Headline: {title}\n{standfirst}\nArticle:\n{body}\n\nSummary (at most {words} words):"


def article_text(article: Article) -> str:
    """Headline, standfirst and body paragraphs as the model reads them, without the
    editorial-contact boilerplate; the guard checks the summary against exactly this."""
    parts = [clean(article.title), clean(article.standfirst or "")]
    used = 0
    for paragraph in article.paragraphs:
        text = " ".join(s for s in split_sentences(clean(paragraph)) if not is_contact_sentence(s))
        if not text:
            continue
        used += len(text.split())
        if used > MAX_ARTICLE_WORDS and parts[2:]:
            break
        parts.append(text)
    return "\n\n".join(parts)


def messages(article: Article, max_words: int) -> list[dict[str, str]]:
    title, standfirst, *body = article_text(article).split("\n\n")
    return [
        {"role": "system", "content": SYSTEM.format(words=max_words)},
        {"role": "user", "content": USER.format(
            title=title, standfirst=f"Standfirst: {standfirst}\n" if standfirst else "",
            body="\n\n".join(body), words=max_words)},
    ]


def article_hash(article: Article) -> str:
    """The cache key's article part: a hash of what the model is shown, so an edit to the
    article's text asks again and a change to its tags or URL does not."""
    return hashlib.sha256(article_text(article).encode()).hexdigest()
