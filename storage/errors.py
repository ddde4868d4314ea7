"""Expected failures of the storage layer."""


class StorageError(Exception):
    """Base class for expected storage failures."""


class SchemaOutOfDate(StorageError):
    """The database schema is older (or newer) than this code expects."""


class NotFound(StorageError):
    """A requested row does not exist."""


class StoreUnavailable(StorageError):
    """The database URL is unusable: malformed, unsupported, unreachable or not writable."""


class StoreNotReady(StorageError):
    """The store has no (current) schema yet and the caller may not create one."""


class LockHeld(StorageError):
    """Another process holds a lock this one needs."""


class ReplicaSlotsFull(StorageError):
    """Every replica slot of the store is held: no more processes may share its send rate."""
