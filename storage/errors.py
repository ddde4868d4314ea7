"""Expected failures of the storage layer."""


class StorageError(Exception):
    """Base class for expected storage failures."""


class SchemaOutOfDate(StorageError):
    """The database schema is older (or newer) than this code expects."""


class NotFound(StorageError):
    """A requested row does not exist."""
