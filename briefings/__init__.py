"""The domain: from news dumps to stored, tagged articles and to briefings as data.

Pure sub-packages take and return data and import no ``storage`` (nor ``sqlalchemy``):
:mod:`briefings.text` (bytes to clean articles), :mod:`briefings.summary` (sentences,
ranking, keyphrases), :mod:`briefings.topics` (taxonomy, tagging, trending) and
:mod:`briefings.stories` (near-duplicates and events across outlets). The services above
them touch the store only through ``storage`` functions: :mod:`briefings.digest`
(composing briefings as data, and their schedule), :mod:`briefings.ingest` with
:mod:`briefings.pipeline` (files in, articles stored), :mod:`briefings.browse` (/latest,
/read, /topics, /search) and :mod:`briefings.subscriptions`. Nothing here imports
``telegram`` or renders Telegram HTML: ``bot/`` does.
"""
