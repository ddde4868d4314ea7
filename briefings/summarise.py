"""Extractive summaries: our fast "briefbot" ranker, Lead-N, and sumy's algorithms.

``summarise(text, n)`` returns up to ``n`` sentences of ``text`` in document
order. The default method, "briefbot", ranks sentences on a TF-IDF cosine graph
(LexRank-style centrality plus similarity to the document centroid), combined
with position and length priors, and picks them greedily with a redundancy
penalty (MMR). It is written with NumPy on top of sumy's interfaces
(``AbstractSummarizer``, stop words, stemmers) so it is one to two orders of
magnitude faster than sumy's own pure-Python LexRank.

Everything is offline: sentences come from :mod:`briefings.tokenizer` (nupunkt),
stemmers and stop-word lists ship with sumy/NLTK code (no NLTK data).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from functools import lru_cache

from briefings._rank import Params, rank_sentences
from briefings.tokenizer import WORD_RE, OfflineTokenizer, split_sentences

__all__ = ["SUMMARIZERS", "summarise"]

SUMMARIZERS: tuple[str, ...] = (
    "briefbot",
    "lead",
    "lexrank",
    "textrank",
    "luhn",
    "lsa",
    "sumbasic",
    "kl",
    "edmundson",
    "reduction",
    "random",
)

# Languages whose words are not separated by spaces: our word splitter cannot
# build a term graph, so they get a Lead summary.
_NO_SPACE_LANGUAGES = frozenset({"chinese", "japanese", "korean", "thai"})
_CJK_SENTENCE = re.compile(r"[^。！？!?]*[。！？!?]+[」』”’\"]?|[^。！？!?]+$")
_STEM_CACHE_SIZE = 65_536
_MAX_STOCK_SENTENCES = 500


@lru_cache(maxsize=32)
def _language_tools(language: str) -> tuple[Callable[[str], str], frozenset[str]] | None:
    """(token -> term function, stop words) for a language, or None when unsupported.

    The term function maps a raw word token to its lower-cased stem with sumy's
    stemmer (NLTK Snowball code, no data files), or to "" for stop words and
    one-letter tokens; it is memoised in a bounded ``lru_cache`` so each
    distinct token is stemmed once per process. The stop words are the lists
    shipped inside sumy.
    """
    from sumy.nlp.stemmers import Stemmer
    from sumy.utils import get_stop_words

    if language in _NO_SPACE_LANGUAGES:
        return None
    try:
        stemmer = Stemmer(language)
    except LookupError:
        return None
    try:
        stop_words = frozenset(get_stop_words(language))
    except LookupError:
        stop_words = frozenset()

    @lru_cache(maxsize=_STEM_CACHE_SIZE)
    def term_of(token: str) -> str:
        word = token.lower()
        if len(word) < 2 or word in stop_words:
            return ""
        return str(stemmer(word))

    return term_of, stop_words


@lru_cache(maxsize=32)
def _sumy_stemmer(language: str) -> Callable[[str], str]:
    """sumy's own stemmer, as the stock summarizers expect it."""
    from sumy.nlp.stemmers import Stemmer

    return Stemmer(language)


def _sentences(text: str, language: str) -> list[str]:
    """Split ``text`` with the right splitter for ``language``."""
    if language in _NO_SPACE_LANGUAGES:
        return [m.group().strip() for m in _CJK_SENTENCE.finditer(text) if m.group().strip()]
    return split_sentences(text)


def _terms(sentences: Sequence[str], term_of: Callable[[str], str]) -> list[list[str]]:
    """Stemmed content words of each sentence (stop words and 1-letter words dropped)."""
    findall = WORD_RE.findall
    return [[t for t in map(term_of, findall(s)) if t] for s in sentences]


def _briefbot(sentences: list[str], n: int, language: str, params: Params | None) -> list[int]:
    tools = _language_tools(language)
    if tools is None:
        return list(range(min(n, len(sentences))))
    term_of = tools[0]
    return rank_sentences(sentences, n, lambda s: _terms(s, term_of), params)


def _stock(sentences: list[str], n: int, method: str, language: str) -> list[int]:
    """Run one of sumy's own summarizers on pre-split sentences."""
    from sumy.models.dom import ObjectDocumentModel, Paragraph, Sentence
    from sumy.summarizers.edmundson import EdmundsonSummarizer
    from sumy.summarizers.kl import KLSummarizer
    from sumy.summarizers.lex_rank import LexRankSummarizer
    from sumy.summarizers.lsa import LsaSummarizer
    from sumy.summarizers.luhn import LuhnSummarizer
    from sumy.summarizers.random import RandomSummarizer
    from sumy.summarizers.reduction import ReductionSummarizer
    from sumy.summarizers.sum_basic import SumBasicSummarizer
    from sumy.summarizers.text_rank import TextRankSummarizer

    tools = _language_tools(language)
    if tools is None:
        return list(range(min(n, len(sentences))))
    term_of, stop_words = tools
    classes = {
        "lexrank": LexRankSummarizer,
        "textrank": TextRankSummarizer,
        "luhn": LuhnSummarizer,
        "lsa": LsaSummarizer,
        "sumbasic": SumBasicSummarizer,
        "kl": KLSummarizer,
        "reduction": ReductionSummarizer,
        "random": RandomSummarizer,
    }
    # sumy's algorithms are quadratic in pure Python: bound the input.
    sentences = sentences[:_MAX_STOCK_SENTENCES]
    tokenizer = OfflineTokenizer(language)
    sumy_sentences = [Sentence(s, tokenizer) for s in sentences]
    document = ObjectDocumentModel([Paragraph(sumy_sentences)])
    if method == "edmundson":
        summarizer = EdmundsonSummarizer(
            _sumy_stemmer(language), cue_weight=0.0, key_weight=1.0, title_weight=0.0, location_weight=1.0
        )
        counts: dict[str, int] = {}
        for terms in _terms(sentences, term_of):
            for term in terms:
                counts[term] = counts.get(term, 0) + 1
        summarizer.bonus_words = sorted(counts, key=lambda t: (-counts[t], t))[:10] or ["news"]
        summarizer.null_words = stop_words or frozenset({"the"})
        chosen = summarizer(document, n)
    elif method == "random":
        # sumy's RandomSummarizer is unseeded; a fixed seed keeps output reproducible.
        import random

        rng = random.Random(len(sentences))
        return sorted(rng.sample(range(len(sentences)), min(n, len(sentences))))
    else:
        summarizer = classes[method](_sumy_stemmer(language))
        summarizer.stop_words = stop_words
        chosen = summarizer(document, n)
    position: dict[object, int] = {}
    for i, s in enumerate(sumy_sentences):
        position.setdefault(s, i)
    return sorted({position[s] for s in chosen})


def summarise(
    text: str,
    n: int = 3,
    *,
    method: str = "briefbot",
    language: str = "english",
    _params: Params | None = None,
) -> list[str]:
    """Pick the ``n`` most informative sentences of ``text``, in document order.

    Args:
        text: article body; paragraphs separated by blank lines. A leading news
            dateline ("(CNN) —", "WASHINGTON (Reuters) -") is dropped.
        n: maximum number of sentences to return (``n <= 0`` gives []).
        method: one of :data:`SUMMARIZERS`: "briefbot" (default, fast and
            best on news), "lead" (first ``n`` sentences) or a sumy algorithm
            ("lexrank", "textrank", "luhn", "lsa", "sumbasic", "kl",
            "edmundson", "reduction", "random").
        language: sumy language name ("english", "german", …). Languages
            without a sumy stemmer, or written without spaces, fall back to a
            Lead summary instead of failing.
        _params: private hook for tuning the "briefbot" ranker.

    Returns:
        Up to ``n`` sentences (all of them when the text has ``n`` or fewer),
        deterministic for a given input; [] for empty text.

    Raises:
        ValueError: ``method`` is not one of :data:`SUMMARIZERS`.
    """
    if method not in SUMMARIZERS:
        raise ValueError(f"unknown summarizer {method!r}; choose one of {', '.join(SUMMARIZERS)}")
    language = (language or "english").strip().lower()
    if n <= 0 or not text or not text.strip():
        return []
    sentences = _sentences(text, language)
    if len(sentences) <= n:
        return sentences
    if method == "lead":
        chosen = list(range(n))
    elif method == "briefbot":
        chosen = _briefbot(sentences, n, language, _params)
    else:
        chosen = _stock(sentences, n, method, language)
    return [sentences[i] for i in chosen]
