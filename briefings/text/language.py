"""Language identification (ISO 639-1), deterministic and well under a millisecond."""

from __future__ import annotations

import re
from functools import cache
from typing import Any

PREFIX_CHARS = 2000
MIN_LETTERS = 20
MIN_CONFIDENCE = 0.5
_LETTERS = re.compile(r"[^\W\d_]")


@cache
def _identifier() -> Any:
    # py3langid's model is a pickled naive Bayes shipped in the wheel: offline and
    # deterministic (no random seed involved, unlike langdetect).
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    # 0.4 ships an .npz model (from_model_file); 0.3 a pickle (from_pickled_model)
    load = getattr(LanguageIdentifier, "from_model_file", None)
    if load is None:
        load = LanguageIdentifier.from_pickled_model
    return load(MODEL_FILE, norm_probs=True)


def detect_language(text: str) -> str | None:
    """Detect the language of ``text`` from its first ``PREFIX_CHARS`` characters.

    Args:
        text: article text (title + body works best).

    Returns:
        An ISO 639-1 code such as ``"en"``, or ``None`` when the text is too short or
        the model is not confident.
    """
    prefix = text[:PREFIX_CHARS]
    if len(_LETTERS.findall(prefix)) < MIN_LETTERS:
        return None
    lang, prob = _identifier().classify(prefix)
    return str(lang) if float(prob) >= MIN_CONFIDENCE else None


def supported_languages() -> tuple[str, ...]:
    """Every language code :func:`detect_language` can return, sorted."""
    return tuple(sorted({str(code) for code in _identifier().nb_classes}))
