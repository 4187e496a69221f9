"""Apps by role: tasks, oracles and checks say ``messages`` or ``clock``; each device's app
profile says which package plays that role there.

A profile maps a role to candidate packages; on a device the role is filled by the first
candidate installed (``pm list packages``), so one profile serves images that ship the
AOSP app and images that ship Google's. Built in: ``virtual-phone`` (the virtual phone's
own apps) and ``aosp`` (stock AOSP / Google APIs system images); ``[android.app_profiles]``
in rig.toml adds profiles of one's own, which fall back to ``aosp`` for roles they do not
name. A package name still works wherever a role does: a virtual-phone package whose role
the device fills with another package is taken as that role, so tasks written against the
virtual phone keep working on an AVD.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from emulator.errors import AndroidInputError

VIRTUAL_PHONE: dict[str, tuple[str, ...]] = {
    "messages": ("com.google.android.apps.messaging",),
    "contacts": ("com.android.contacts",),
    "calendar": ("com.android.calendar",),
    "clock": ("com.android.deskclock",),
    "files": ("com.android.documentsui",),
    "notes": ("net.gsantner.markor",),
    "mail": ("com.android.email",),
    "chat": ("world.clawrig.chat",),
    "settings": ("com.android.settings",),
    "launcher": ("com.google.android.apps.nexuslauncher",),
    "bank": ("world.clawrig.bank",),
    "shop": ("world.clawrig.shop",),
    "parcels": ("world.clawrig.parcels",),
}

# Stock images: the AOSP app first, then Google's where Google APIs images ship that one;
# notes and chat name the common open-source apps (install them with [android] apks).
AOSP: dict[str, tuple[str, ...]] = {
    "messages": ("com.android.messaging", "com.google.android.apps.messaging"),
    "contacts": ("com.android.contacts", "com.google.android.contacts"),
    "calendar": ("com.android.calendar", "com.google.android.calendar"),
    "clock": ("com.android.deskclock", "com.google.android.deskclock"),
    "files": ("com.android.documentsui", "com.google.android.documentsui"),
    "notes": ("net.gsantner.markor",),
    "mail": ("com.android.email", "com.google.android.gm"),
    "chat": ("im.vector.app",),
    "settings": ("com.android.settings",),
    "launcher": ("com.android.launcher3", "com.google.android.apps.nexuslauncher"),
}

PROFILES: dict[str, dict[str, tuple[str, ...]]] = {"virtual-phone": VIRTUAL_PHONE, "aosp": AOSP}
ROLES: tuple[str, ...] = tuple(VIRTUAL_PHONE)
SIM_DEVICE = "clawrig_sim"  # ro.product.device of the virtual phone
PACKAGE_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z0-9_]+)+(/[A-Za-z0-9_.$]+)?$")


def profile_roles(
    name: str, user_profiles: Mapping[str, Mapping[str, str | list[str]]] | None = None
) -> dict[str, tuple[str, ...]]:
    """The role -> candidates map of profile ``name`` (a user profile over ``aosp``)."""
    users = dict(user_profiles or {})
    if name in users:
        own = {
            role: (value,) if isinstance(value, str) else tuple(value)
            for role, value in users[name].items()
        }
        return {**AOSP, **own}
    if name in PROFILES:
        return dict(PROFILES[name])
    known = ", ".join([*PROFILES, *users])
    raise AndroidInputError(f"unknown app profile {name!r}; known: {known}")


class Apps:
    """One device's roles: ``apps.package("messages")``, ``apps.resolve(app)``."""

    def __init__(self, device: Any, profile: str, roles: Mapping[str, tuple[str, ...]]) -> None:
        self.device = device
        self.profile = profile
        self.roles = dict(roles)
        self._installed: set[str] | None = None

    def installed(self, refresh: bool = False) -> set[str]:
        if self._installed is None or refresh:
            out = self.device.shell("pm list packages", timeout=60).stdout
            self._installed = {
                line.split(":", 1)[1].strip() for line in out.splitlines() if ":" in line
            }
        return self._installed

    def package(self, role: str) -> str | None:
        """The package that fills ``role`` here, or None (no candidate installed)."""
        candidates = self.roles.get(role, ())
        for refresh in (False, True):  # an app installed since the last look
            found = next(
                (p for p in candidates if p.split("/")[0] in self.installed(refresh)), None
            )
            if found or not candidates:
                return found
        return None

    def table(self) -> dict[str, str | None]:
        """Every role the profile knows, with the package that fills it here (or None)."""
        return {role: self.package(role) for role in self.roles}

    def resolve(self, app: str, refresh: bool = False) -> str:
        """A package (or ``package/activity``) for ``app``: a role, or a package name.
        ``refresh``: look at the installed packages again first (a launch that failed)."""
        if refresh:
            self.installed(refresh=True)
        if app in self.roles or not PACKAGE_NAME.match(app):
            found = self.package(app)
            if found is None:
                if app not in self.roles:
                    raise AndroidInputError(
                        f"{app!r} is neither a package name nor an app role; roles: "
                        + ", ".join(self.roles)
                    )
                raise AndroidInputError(
                    f"no app fills the role {app!r} on {self.device.serial} (profile "
                    f"{self.profile}: {', '.join(self.roles[app])}; none installed)"
                )
            return found
        package = app.split("/")[0]
        role = role_of(package)
        # A package name is taken as it is unless it is a virtual-phone app missing here
        # whose role another app fills (packages seen earlier: no shell call per launch).
        if role is None or role not in self.roles or package in self.installed():
            return app
        return self.package(role) or app

    def matches(self, app: str, package: str) -> bool:
        """Whether the focused ``package`` is ``app`` (a role or a package name)."""
        if app == package:
            return True
        try:
            return self.resolve(app).split("/")[0] == package
        except AndroidInputError:
            return False


def role_of(package: str) -> str | None:
    """The role a virtual-phone package plays (what tasks written for it meant)."""
    return next((role for role, pkgs in VIRTUAL_PHONE.items() if package in pkgs), None)


def apps_for(
    device: Any, choice: str, user_profiles: Mapping[str, Mapping[str, str | list[str]]]
) -> Apps:
    """The device's :class:`Apps` for ``choice`` (``auto``: the virtual phone's profile on
    the virtual phone, ``aosp`` elsewhere)."""
    if choice == "auto":
        product = device.shell("getprop ro.product.device").stdout.strip()
        choice = "virtual-phone" if product == SIM_DEVICE else "aosp"
    return Apps(device, choice, profile_roles(choice, user_profiles))
