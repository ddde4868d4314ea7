"""Settings: read once from the environment at start-up into one frozen object."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from briefings.digest.schedule import time_of_day, zone_or_none
from storage.engine import DEFAULT_DATABASE_URL

TELEGRAM_API = "https://api.telegram.org/bot"
TELEGRAM_FILES = "https://api.telegram.org/file/bot"


class SettingsError(ValueError):
    """A setting has an invalid value; the message names the variable."""


@dataclass(frozen=True)
class Settings:
    """Every configurable value; see README "Configuration" for the variables."""

    telegram_bot_token: str | None = field(default=None, repr=False)
    telegram_api_base_url: str = TELEGRAM_API
    telegram_file_base_url: str = TELEGRAM_FILES
    database_url: str = DEFAULT_DATABASE_URL
    db_auto_upgrade: bool = True
    admin_ids: frozenset[int] = frozenset()
    seeds_dir: Path = Path("seeds")
    inbox_dir: Path = Path("inbox")
    inbox_interval_seconds: int = 300
    topics_file: Path | None = None
    summarizer: str = "briefbot"
    default_timezone: str = "UTC"
    default_briefing_time: str = "08:00"
    send_rate_per_second: float = 25.0
    catchup_grace_minutes: int = 120
    quiet_hours: str | None = None
    delivery_lease_seconds: int = 300
    ingest_lease_seconds: int = 60  # a killed ingest worker's file is taken over after it
    alerts_per_hour: int = 6  # alert messages per chat per rolling hour (issue 14)
    alert_batch_stories: int = 5  # stories listed in one alert; the rest behind a button
    retention_days: int = 30
    story_window_days: int = 7  # reports this many days apart can still be one story (issue 15)
    max_upload_bytes: int = 20 * 1024 * 1024
    webhook_url: str | None = None
    webhook_secret: str | None = field(default=None, repr=False)
    webhook_listen: str = "0.0.0.0"
    webhook_port: int = 8443
    log_level: str | None = None  # None: INFO when serving Telegram, WARNING in the terminal

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        """Validate the environment into Settings.

        Args:
            env: usually ``os.environ`` (after loading an optional ``.env``).

        Raises:
            SettingsError: a variable has an invalid value.
        """

        def get(name: str) -> str | None:
            value = env.get(name, "").strip()
            return value or None

        defaults = cls()
        timezone = get("DEFAULT_TIMEZONE") or defaults.default_timezone
        check_timezone(timezone, "DEFAULT_TIMEZONE")
        briefing_time = get("DEFAULT_BRIEFING_TIME") or defaults.default_briefing_time
        if parse_hhmm(briefing_time) is None:
            raise SettingsError(f"DEFAULT_BRIEFING_TIME must be HH:MM, got {briefing_time!r}")
        topics_file = get("TOPICS_FILE")
        return cls(
            telegram_bot_token=get("TELEGRAM_BOT_TOKEN"),
            telegram_api_base_url=get("TELEGRAM_API_BASE_URL") or TELEGRAM_API,
            telegram_file_base_url=get("TELEGRAM_FILE_BASE_URL") or TELEGRAM_FILES,
            database_url=get("DATABASE_URL") or DEFAULT_DATABASE_URL,
            db_auto_upgrade=_bool(get("DB_AUTO_UPGRADE"), True, "DB_AUTO_UPGRADE"),
            admin_ids=_ids(get("ADMIN_USER_IDS")),
            seeds_dir=Path(get("SEEDS_DIR") or defaults.seeds_dir),
            inbox_dir=Path(get("INBOX_DIR") or defaults.inbox_dir),
            inbox_interval_seconds=_int(
                get("INBOX_INTERVAL_SECONDS"), 300, "INBOX_INTERVAL_SECONDS"
            ),
            topics_file=Path(topics_file) if topics_file else None,
            summarizer=_summarizer(get("SUMMARIZER") or defaults.summarizer),
            default_timezone=timezone,
            default_briefing_time=briefing_time,
            send_rate_per_second=_float(get("SEND_RATE_PER_SECOND"), 25.0, "SEND_RATE_PER_SECOND"),
            catchup_grace_minutes=_int(
                get("CATCHUP_GRACE_MINUTES"),
                defaults.catchup_grace_minutes,
                "CATCHUP_GRACE_MINUTES",
            ),
            quiet_hours=_quiet_hours(get("QUIET_HOURS")),
            delivery_lease_seconds=_int(
                get("DELIVERY_LEASE_SECONDS"),
                defaults.delivery_lease_seconds,
                "DELIVERY_LEASE_SECONDS",
            ),
            ingest_lease_seconds=_int(
                get("INGEST_LEASE_SECONDS"), defaults.ingest_lease_seconds, "INGEST_LEASE_SECONDS"
            ),
            alerts_per_hour=_int(
                get("ALERTS_PER_HOUR"), defaults.alerts_per_hour, "ALERTS_PER_HOUR"
            ),
            alert_batch_stories=_int(
                get("ALERT_BATCH_STORIES"), defaults.alert_batch_stories, "ALERT_BATCH_STORIES"
            ),
            retention_days=_int(get("RETENTION_DAYS"), defaults.retention_days, "RETENTION_DAYS"),
            story_window_days=_int(
                get("STORY_WINDOW_DAYS"), defaults.story_window_days, "STORY_WINDOW_DAYS"
            ),
            max_upload_bytes=_int(
                get("MAX_UPLOAD_BYTES"), defaults.max_upload_bytes, "MAX_UPLOAD_BYTES"
            ),
            webhook_url=get("WEBHOOK_URL"),
            webhook_secret=_webhook_secret(get("WEBHOOK_URL"), get("WEBHOOK_SECRET")),
            webhook_listen=get("WEBHOOK_LISTEN") or defaults.webhook_listen,
            webhook_port=_int(get("WEBHOOK_PORT"), defaults.webhook_port, "WEBHOOK_PORT"),
            log_level=_log_level(get("LOG_LEVEL")),
        )


_SECRET = re.compile(r"^[A-Za-z0-9_-]{1,256}$")  # what Telegram accepts as secret_token


def _webhook_secret(url: str | None, secret: str | None) -> str | None:
    """A webhook needs a secret, or anyone who finds the port can post updates as any user."""
    if url is None:
        return secret
    if url and urlsplit(url).scheme not in ("http", "https"):
        raise SettingsError(f"WEBHOOK_URL: {url!r} is not an http(s) URL")
    if secret is None:
        raise SettingsError(
            "WEBHOOK_SECRET: required when WEBHOOK_URL is set (1-256 characters of "
            "A-Z a-z 0-9 _ -; e.g. python -c 'import secrets; print(secrets.token_urlsafe(32))')"
        )
    if not _SECRET.match(secret):
        raise SettingsError("WEBHOOK_SECRET: use 1-256 characters of A-Z a-z 0-9 _ -")
    return secret


def check_timezone(name: str, variable: str = "timezone") -> ZoneInfo:
    """Return the zone for an IANA name, or raise SettingsError naming the variable."""
    found = zone_or_none(name)
    if found is None:
        raise SettingsError(f"{variable}: unknown time zone {name!r} (use Area/City)")
    return found


def parse_hhmm(value: str) -> tuple[int, int] | None:
    """Parse "HH:MM" (24-hour) into (hour, minute); None when malformed."""
    parsed = time_of_day(value)
    return (parsed.hour, parsed.minute) if parsed else None


def _quiet_hours(value: str | None) -> str | None:
    if value is None:
        return None
    parts = value.split("-")
    if len(parts) != 2 or any(parse_hhmm(part) is None for part in parts):
        raise SettingsError(f"QUIET_HOURS must be HH:MM-HH:MM, got {value!r}")
    if parse_hhmm(parts[0]) == parse_hhmm(parts[1]):
        raise SettingsError(f"QUIET_HOURS must not be empty, got {value!r}")
    return value


LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def _log_level(value: str | None) -> str | None:
    if value is None:
        return None
    if value.upper() not in LOG_LEVELS:
        raise SettingsError(f"LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}, got {value!r}")
    return value.upper()


def _summarizer(value: str) -> str:
    from briefings.summary.summarise import SUMMARIZERS  # heavy (sumy): only when settings are read

    if value not in SUMMARIZERS:
        raise SettingsError(f"SUMMARIZER must be one of {', '.join(SUMMARIZERS)}, got {value!r}")
    return value


def _bool(value: str | None, default: bool, name: str) -> bool:
    if value is None:
        return default
    lowered = value.lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise SettingsError(f"{name} must be true or false, got {value!r}")


def _int(value: str | None, default: int, name: str) -> int:
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, got {value!r}") from None
    if number <= 0:
        raise SettingsError(f"{name} must be positive, got {number}")
    return number


def _float(value: str | None, default: float, name: str) -> float:
    if value is None:
        return default
    try:
        number = float(value)
    except ValueError:
        raise SettingsError(f"{name} must be a number, got {value!r}") from None
    if number <= 0:
        raise SettingsError(f"{name} must be positive, got {number}")
    return number


def _ids(value: str | None) -> frozenset[int]:
    if not value:
        return frozenset()
    try:
        return frozenset(int(part) for part in re.split(r"[,\s]+", value) if part)
    except ValueError:
        raise SettingsError(f"ADMIN_USER_IDS must be numeric user ids, got {value!r}") from None
