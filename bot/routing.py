"""Briefings in forum groups: split by topic route into threads, and lost threads handled.

A group's briefing goes to its default thread (where it subscribed; None = the General
topic), except the sections of routed topics (``/route ai`` in a thread), which go to their
own threads, each part with its own opening line. The messages are stored with the thread of
each one (``briefings.threads``), so a resumed delivery sends every message where it was
meant to go. When Telegram refuses a thread (closed or deleted), the deliverer disables it
(:func:`storage.routing.lose_thread`), tells the group in the General topic once, and sends
the rest of the briefing there.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from bot.format import esc
from bot.render import render_html
from briefings.digest.briefing import BriefingEntry, ComposedBriefing, and_list
from briefings.topics.taxonomy import Taxonomy
from storage import briefings as stored
from storage import routing
from storage.models import Briefing

# what Telegram answers for a thread that is gone or closed to the bot
THREAD_ERRORS = ("message thread not found", "topic_closed", "topic_deleted", "thread not found")


def thread_gone(error: str) -> bool:
    """True when a BadRequest's text says the message thread is closed or gone."""
    text = error.casefold()
    return any(marker in text for marker in THREAD_ERRORS)


Part = tuple[int | None, list[tuple[str, list[BriefingEntry]]]]


def split(composed: ComposedBriefing, plan: routing.Routing) -> list[Part]:
    """The briefing's sections by destination thread: the default thread's part first."""
    rest: list[tuple[str, list[BriefingEntry]]] = []
    routed: dict[int, list[tuple[str, list[BriefingEntry]]]] = {}
    keys = composed.section_keys or [""] * len(composed.sections)
    for key, (label, entries) in zip(keys, composed.sections, strict=False):
        thread = plan.routes.get(key)
        if thread is None or thread == plan.default_thread:
            rest.append((label, entries))
        else:
            routed.setdefault(thread, []).append((label, entries))
    parts: list[Part] = [(plan.default_thread, rest)] if rest else []
    return parts + list(routed.items())


def routed_messages(
    composed: ComposedBriefing, plan: routing.Routing
) -> tuple[list[str], list[int | None] | None]:
    """The briefing as HTML messages and the thread of each (None when none is threaded)."""
    parts = split(composed, plan)
    if not any(thread is not None for thread, _ in parts):
        return render_html(composed.opening, composed.sections, composed.hint), None
    messages: list[str] = []
    threads: list[int | None] = []
    for thread, sections in parts:
        if thread == plan.default_thread:
            rendered = render_html(composed.opening, sections, composed.hint)
        else:
            count = sum(len(entries) for _, entries in sections)
            noun = "story" if count == 1 else "stories"
            opening = f"{count} {noun} in {and_list([label for label, _ in sections])}"
            rendered = render_html(opening, sections)
        messages += rendered
        threads += [thread] * len(rendered)
    return messages, threads


def save_routed(
    session: Session, chat_id: int, composed: ComposedBriefing, now: datetime
) -> Briefing:
    """Render a composed briefing for the chat's threads and store it (see ``save_briefing``).

    Args:
        session: the caller's transaction.
        chat_id: the chat.
        composed: what ``briefings.digest`` composed (not empty).
        now: when it was composed.
    """
    messages, threads = routed_messages(composed, routing.routing(session, chat_id))
    briefing = stored.save_briefing(
        session, chat_id, since=composed.since, story_ids=composed.story_ids,
        messages=messages, now=now, composed_for=composed.subscriptions,
    )  # fmt: skip
    briefing.threads = threads
    return briefing


def lost_thread_notice(taxonomy: Taxonomy | None, lost: routing.LostThread, error: str) -> str:
    """The message to the General topic when a thread was closed or deleted."""
    what = []
    if lost.topics:
        labels = [_label(taxonomy, slug) for slug in lost.topics]
        what.append(f"the route for {esc(and_list(labels))} is off")
    if lost.was_default:
        what.append("briefings come here to the General topic")
    detail = esc(error.removeprefix("Bad Request: ")[:200])
    return (
        f"⚠️ I can no longer post in a topic of this group ({detail}): {'; '.join(what)}. "
        "Send /route &lt;topic&gt; in another topic to route it again (/route lists routes)."
    )


def _label(taxonomy: Taxonomy | None, slug: str) -> str:
    topic = taxonomy.get(slug) if taxonomy is not None else None
    return topic.label if topic is not None else slug
