"""Summary: extractive summaries and keyphrases of one article (pure).

Owns the offline sentence tokenizer, the sentence ranking, the term extraction behind it,
keyphrases and :func:`briefings.summary.summarise.summarise`. It takes text and returns
sentences or phrases: it may import the standard library, numpy, sumy, nupunkt,
pystemmer, :mod:`briefings.text` and :mod:`briefings.errors`; never ``storage``,
``sqlalchemy`` or ``telegram``.
"""
