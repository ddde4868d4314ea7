"""The per-article pipeline: clean text in, the records ingest stores out (no I/O, no session).

It returns :class:`storage.documents.NewArticle` records (plain data) and opens nothing:
:mod:`briefings.ingest` writes them.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime

from briefings.stories.duplicates import content_hash, minhash_signature
from briefings.stories.linking import DEFAULT_WINDOW_DAYS, link_keys
from briefings.summary.headline import build_headline, is_fallback_title
from briefings.summary.keyphrases import keyphrases
from briefings.summary.summarise import summarise
from briefings.text.article import ParsedArticle
from briefings.text.language import detect_language
from briefings.text.read import parse_document
from briefings.topics.taxonomy import Taxonomy
from storage.documents import NewArticle

SUMMARY_SENTENCES = 3
_NON_WORD = re.compile(r"\W+")


@dataclass(frozen=True)
class PipelineConfig:
    """How articles are derived.

    Attributes:
        taxonomy: topics to tag with.
        summarizer: summariser name (see ``briefings.summary.summarise.SUMMARIZERS``).
        summary_sentences: sentences per summary.
        story_window_days: how many days apart two reports of one story may be and still
            be linked by ingest (``STORY_WINDOW_DAYS``).
    """

    taxonomy: Taxonomy
    summarizer: str = "briefbot"
    summary_sentences: int = SUMMARY_SENTENCES
    boilerplate_lines: frozenset[str] = field(default_factory=frozenset)
    story_window_days: int = DEFAULT_WINDOW_DAYS


def stable_uid(article: ParsedArticle) -> str:
    """Return an id that survives re-cleaning: a hash of outlet and normalised title.

    Falls back to the start of the body when the title is empty.
    """
    title = _NON_WORD.sub(" ", article.title.casefold()).strip()
    if not title:
        title = _NON_WORD.sub(" ", article.body[:300].casefold()).strip()
    source = _NON_WORD.sub(" ", (article.source or "").casefold()).strip()
    return hashlib.sha256(f"{source}|{title}".encode()).hexdigest()[:32]


def headline_for(parsed: ParsedArticle, language: str = "english") -> tuple[str, tuple[str, ...]]:
    """The article's title, and the body sentences its summary must leave out.

    A title from the page (metadata, a headline line) is kept. A title that is only the
    start of the body (what the readers fall back to) is replaced by a headline built
    from the lead sentence, and that sentence is kept out of the summary so that the
    summary does not open by repeating the headline.

    Args:
        parsed: an article as a reader produced it.
        language: sumy language name of its text.
    """
    if not is_fallback_title(parsed.title, parsed.body):
        return parsed.title, ()
    built = build_headline(parsed.body, language=language)
    if built is None:
        return parsed.title, ()
    return built.text, (built.sentence,)


def derive_article(parsed: ParsedArticle, config: PipelineConfig) -> NewArticle:
    """Summarise, tag and fingerprint one parsed article.

    Args:
        parsed: a cleaned article from a reader/splitter.
        config: taxonomy and summariser settings.
    """
    language = detect_language(parsed.body)
    title, headline_sentence = headline_for(parsed, _sumy_language(language))
    summary = summarise(
        parsed.body,
        config.summary_sentences,
        method=config.summarizer,
        language=_sumy_language(language),
        exclude=headline_sentence,
    )
    # Identity and fingerprints come from the article as read, so that a better built
    # headline never changes a stored article's uid or breaks its duplicate links.
    signature = minhash_signature(parsed.title + "\n" + parsed.body)
    return NewArticle(
        uid=stable_uid(parsed),
        content_hash=content_hash(parsed.title + "\n" + parsed.body),
        title=title,
        body=parsed.body,
        source=parsed.source,
        byline=parsed.byline,
        published=parsed.published,
        dateline=parsed.dateline,
        url=parsed.url,
        summary=summary,
        keyphrases=keyphrases(title, parsed.body),
        language=language,
        minhash=signature,
        topics=config.taxonomy.classify(title, parsed.body),
        link_keys=link_keys(title, signature),
    )


def derive_document(
    name: str, data: bytes, config: PipelineConfig, *, file_time: datetime | None = None
) -> list[NewArticle]:
    """Parse one input document and derive all its articles.

    Args:
        name: file name (its extension hints at the format).
        data: the raw bytes.
        config: pipeline settings.
        file_time: when the file was written; resolves relative dates ("an hour ago").

    Raises:
        briefings.errors.BadInput: the document holds nothing usable.
    """
    return [
        derive_article(parsed, config) for parsed in parse_document(name, data, file_time=file_time)
    ]


_SUMY_LANGUAGES = {
    "en": "english",
    "de": "german",
    "fr": "french",
    "es": "spanish",
    "it": "italian",
    "pt": "portuguese",
    "nl": "dutch",
    "cs": "czech",
    "sk": "slovak",
    "ru": "russian",
    "uk": "ukrainian",
    "el": "greek",
    "hu": "hungarian",
    "sv": "swedish",
}


def _sumy_language(code: str | None) -> str:
    return _SUMY_LANGUAGES.get(code or "en", code or "english")
