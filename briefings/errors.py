"""Expected failures of the briefings layer; callers turn them into friendly messages."""


class BriefingsError(Exception):
    """Base class for expected, user-reportable failures."""


class BadInput(BriefingsError):
    """An input document cannot be used; ``str(exc)`` is a one-line reason."""


class TaxonomyError(BriefingsError):
    """The topic taxonomy file is missing or invalid; the message says where and why."""


class InvalidSetting(BriefingsError):
    """A user-supplied setting (time, time zone, follow query) is malformed; says why."""


class BadQuery(BriefingsError):
    """A search's filters cannot be used (unknown topic, unreadable date); says why."""


def one_line(exc: BaseException, limit: int = 300) -> str:
    """A one-line reason for an unexpected error: its type and first line, bounded.

    SQLAlchemy errors carry the driver's error (``orig``) plus the SQL and its
    parameters on further lines; only the driver's (or the wrapped) message is kept.
    """
    inner = getattr(exc, "orig", None) or exc
    text = str(inner).strip().split("\n", 1)[0].strip()
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return f"{type(inner).__name__}: {text}" if text else type(inner).__name__


class IngestBusy(BriefingsError):
    """Another ingest holds this process's ingest worker; try again when it is done."""
