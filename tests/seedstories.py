"""The stories of the two seed dumps as (title, text), split by hand-written rules.

Kept independent of ``briefings.text.split`` so that the topic and trending tests do not
move when the splitter changes.
"""

from __future__ import annotations

from pathlib import Path


def seed_stories(root: Path) -> list[tuple[str, str]]:
    """Return the eight seed stories as (title, body) pairs.

    Args:
        root: the ``seeds/`` directory.
    """
    dump = (root / "000_c26f4d5863d37560.txt").read_text(encoding="utf-8")
    main, _, related = dump.partition("Related Articles")
    lines = main.splitlines()
    stories = [(lines[1], "\n".join(line for line in lines[2:] if len(line) > 80))]
    rel = [line.strip() for line in related.splitlines() if line.strip()]
    title = None
    for i, line in enumerate(rel):
        if i + 1 < len(rel) and rel[i + 1] == line and len(line) < 150:
            title = line
        elif len(line) > 200 and title:
            stories.append((title, line))
            title = None
    dump = (root / "004_5cdd64b684e0baff.txt").read_text(encoding="utf-8")
    for chunk in dump.split("Continue Reading"):
        cl = [line.strip() for line in chunk.splitlines() if line.strip()]
        if len(cl) < 5:
            continue
        title = cl[1] if cl[0] == "World" else ""
        stories.append((title, "\n".join(line for line in cl if len(line) > 60)))
    return stories
