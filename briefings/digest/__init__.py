"""Digest: daily briefings as data, and when they are due.

Owns composing a chat's briefing (ranking and picking the window's stories, grouped by
topic: titles, outlets, summaries, ids) and the delivery schedule (times of day, time
zones, quiet hours, catch-up). It reads and writes the store only through ``storage``
functions, with the session its caller opened; it may import :mod:`briefings.topics` and
:mod:`briefings.errors`. It renders nothing: ``bot/`` turns a briefing into messages.
"""
