"""Android's content providers (contacts, sms, call log, calendar, settings) on SQLite."""

from emulator.sim.providers.routes import ProviderError, resolve
from emulator.sim.providers.store import SqliteProviders, normalize_number, phone_equal

__all__ = ["ProviderError", "SqliteProviders", "normalize_number", "phone_equal", "resolve"]
