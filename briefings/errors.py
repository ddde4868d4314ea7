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
