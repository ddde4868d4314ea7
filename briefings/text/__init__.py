"""Text: from a dump's bytes to clean articles (pure).

Owns decoding, the readers per format (text, HTML, JSON, feeds), splitting a dump into
articles, cleaning boilerplate, finding the story's body in a page, metadata (source,
byline, dateline), language detection and the shared word tokens and stop-words
(:mod:`~briefings.text.words`). It takes and returns data: it may import only the standard
library, its text libraries (ftfy, trafilatura, feedparser, py3langid, charset-normalizer,
sumy's stop-word lists) and :mod:`briefings.errors`; never ``storage``, ``sqlalchemy`` or
``telegram``.
"""
