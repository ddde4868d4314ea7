"""Every chat command the bot registers and every CLI subcommand is documented in README.md."""

from __future__ import annotations

import argparse

from conftest import ROOT
from telegram.ext import CommandHandler

from bot.app import build_application
from bot.cli import parser
from bot.context import AppContext

README = (ROOT / "README.md").read_text()


def test_every_chat_command_is_documented(ctx: AppContext) -> None:
    application = build_application(ctx.settings, ctx)
    commands = {
        command
        for handlers in application.handlers.values()
        for handler in handlers
        if isinstance(handler, CommandHandler)
        for command in handler.commands
    }
    assert commands >= {"start", "help", "topics", "latest", "search"}
    missing = [c for c in sorted(commands) if f"`/{c}" not in README]
    assert not missing, f"undocumented commands: {missing}"
    assert "`/read_<id>`" in README


def test_every_cli_subcommand_is_documented() -> None:
    actions = [a for a in parser()._actions if isinstance(a, argparse._SubParsersAction)]
    names = sorted(actions[0].choices)
    missing = [name for name in names if f"`{name}" not in README]
    assert not missing, f"undocumented subcommands: {missing}"


def test_readme_gives_the_two_setup_commands() -> None:
    assert "pip install . && briefbot run" in README
    assert "pip install '.[dev]' && python -m pytest" in README
