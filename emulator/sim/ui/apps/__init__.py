"""The built-in apps, one module each, with their real Android package names."""

from __future__ import annotations

from emulator.sim.ui.apps.base import App


def all_apps() -> list[type[App]]:
    """Every installed app class, launcher first."""
    from emulator.sim.ui.apps.bank import BankApp
    from emulator.sim.ui.apps.calendar import CalendarApp
    from emulator.sim.ui.apps.chat import ChatApp
    from emulator.sim.ui.apps.clock import ClockApp
    from emulator.sim.ui.apps.contacts import ContactsApp
    from emulator.sim.ui.apps.files import FilesApp
    from emulator.sim.ui.apps.launcher import LauncherApp
    from emulator.sim.ui.apps.mail import MailApp
    from emulator.sim.ui.apps.messages import MessagesApp
    from emulator.sim.ui.apps.motion import MotionApp
    from emulator.sim.ui.apps.notes import NotesApp
    from emulator.sim.ui.apps.parcels import ParcelsApp
    from emulator.sim.ui.apps.settings import SettingsApp
    from emulator.sim.ui.apps.shop import ShopApp

    return [
        LauncherApp,
        ContactsApp,
        MessagesApp,
        MailApp,
        CalendarApp,
        ClockApp,
        NotesApp,
        FilesApp,
        SettingsApp,
        MotionApp,
        BankApp,
        ShopApp,
        ParcelsApp,
        ChatApp,
    ]
