"""Property: any stored article and any user text yield messages Telegram accepts."""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import re
from typing import Any

import pytest
from factories import CHAT, read_ids, running_app, say
from fakebot import FakeTelegram
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete

from bot.context import AppContext
from storage import documents
from storage.documents import NewArticle
from storage.models import Article, ArticleTopic, Chat, Story

HOSTILE = [
    "<", ">", "&", "&amp;", "&lt;b&gt;", "<b>", "</b>", "<i>x", "</i>", "<a href='x'>", '"', "'",
    "🎉", "👨‍👩‍👧", "𝕏", "\u200d", "\u202e", "é", "ß", "\t", "\n", "\n\n", " ", "NEAR(", "*",
    "AND", "OR", '"', "-", ":", "topic:", "since:2d", "source:", "/read_1", "@bot", "\\",
]  # fmt: skip
fragment = st.one_of(
    st.sampled_from(HOSTILE),
    st.text(st.characters(exclude_categories=["Cs"]), max_size=20),
)
snippets = st.lists(fragment, max_size=20).map("".join)
# paragraphs up to ~10,000 characters, titles up to ~8,000
paragraph = st.tuples(snippets, st.integers(1, 25)).map(lambda p: (p[0] + " ") * p[1])
markup_run = st.tuples(st.sampled_from(["&", "& ", "<>", "&amp; ", "🎉"]), st.integers(1, 2500))
paragraph = paragraph | markup_run.map(lambda p: p[0] * p[1])  # escaping grows these 5×
body = st.lists(paragraph, min_size=1, max_size=3).map("\n\n".join)
title = st.one_of(snippets, st.tuples(snippets, st.integers(1, 20)).map(lambda p: p[0] * p[1]))
_unique = itertools.count()


def _store(ctx: AppContext, title: str, body: str, source: str | None) -> int:
    digest = hashlib.sha256(f"{next(_unique)}\0{title}\0{body}".encode()).hexdigest()
    with ctx.sessions() as session, session.begin():
        document = documents.upsert_document(
            session, content_hash=digest, path=f"prop/{digest}.txt", raw=None, file_time=None
        )
        story = documents.new_story(session)
        article = documents.store_article(
            session,
            document,
            NewArticle(
                uid=digest,
                content_hash=digest,
                title=title or "untitled",
                body=body,
                source=source,
                byline=source,
                published=None,
                dateline=None,
                url=None,
                summary=[body[:300], title],
                keyphrases=[],
                language="en",
                minhash=None,
                topics=[("china", 1.0)],
            ),
            position=0,
            story_id=story.id,
        )
        return article.id


def _delete(ctx: AppContext, article_id: int) -> None:
    with ctx.sessions() as session, session.begin():
        article = session.get(Article, article_id)
        assert article is not None
        session.execute(delete(ArticleTopic).where(ArticleTopic.article_id == article_id))
        document, story = article.document, session.get(Story, article.story_id)
        session.delete(article)
        session.flush()
        session.delete(document)
        if story is not None:
            session.delete(story)
        session.execute(delete(Chat))  # subscriptions and follows made by the commands


@pytest.mark.slow
def test_any_article_and_any_text_give_acceptable_messages(
    fake_api: FakeTelegram, seeded_ctx: AppContext
) -> None:
    with asyncio.Runner() as runner:
        manager = running_app(seeded_ctx, fake_api)
        app = runner.run(manager.__aenter__())
        try:

            @settings(
                max_examples=15,
                deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
            )
            @given(title=title, body=body, source=st.none() | snippets, query=snippets)
            def check(title: str, body: str, source: str | None, query: str) -> None:
                article_id = _store(seeded_ctx, title, body, (source or "")[:200] or None)
                try:
                    runner.run(_exercise(app, fake_api, article_id, title, query))
                finally:  # each example starts from the seeds alone, so failures reproduce
                    _delete(seeded_ctx, article_id)

            check()
        finally:
            runner.run(manager.__aexit__(None, None, None))


async def _exercise(app: Any, fake: FakeTelegram, article_id: int, title: str, query: str) -> None:
    fake.clear_log()
    messages = await say(app, fake, f"/read_{article_id}")
    assert messages and all(m["plain"] for m in messages)
    assert not any("went wrong" in text for text in fake.texts(CHAT)), fake.texts(CHAT)[-1][:300]
    [latest] = await say(app, fake, "/latest")
    assert article_id in read_ids(latest["plain"]) or "Latest" in latest["plain"]
    words = re.findall(r"\w+", title)
    for text in (f"/search {query}", f"/search {' '.join(words[:3])}", query):
        await say(app, fake, text)
    for command in ("/subscribe", "/follow", "/latest"):  # the others: test_bot_e2e
        await say(app, fake, f"{command} {query}")
    assert not fake.rejected, fake.rejected
    assert all(len(m["plain"] or "") <= 4096 for m in fake.sent(CHAT))


async def test_a_blank_title_and_body_still_make_a_message(
    fake_api: FakeTelegram, seeded_ctx: AppContext
) -> None:
    """The example hypothesis once found: a tab for a title, a space for a body."""
    article_id = _store(seeded_ctx, "\t", " ", None)
    async with running_app(seeded_ctx, fake_api) as app:
        [reply] = await say(app, fake_api, f"/read_{article_id}")
        [listed] = await say(app, fake_api, "/latest china")
    assert reply["plain"].startswith("(untitled)")
    assert "(untitled)" in listed["plain"]
