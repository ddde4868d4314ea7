"""Alerts: instant follows matched against newly ingested articles, and a new subscriber's backlog.

Owns deciding which chats a new story goes to at once (``index``: a pure inverted index
from follow terms to follows, fed with the full-text index's postings of the new
articles only) and queueing it (``service``, through ``storage.alerts`` with the caller's
session). Rendering and sending are ``bot/``'s (bot/alerts.py); a batch is an ordinary
briefing with a delivery row, so the delivery log's guarantees hold for alerts too.
May import ``briefings.digest`` and ``storage``; ``index`` imports nothing of the store.
"""
