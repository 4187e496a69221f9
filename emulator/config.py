"""The typed configuration an Android backend receives (``[android.*]`` of ``rig.toml``).

The rig validates ``rig.toml`` into these models and hands a backend one
:class:`AndroidBackendConfig`; a backend reads attributes of it, never dotted
strings with defaults of its own, so a renamed key fails where it is validated.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from emulator.apps import PACKAGE_NAME


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AvdConfig(_Section):
    """Real Android emulators from the SDK."""

    name: str | None = Field(default=None, description="the AVD; default: the only one there is")
    sdk: Path | None = Field(
        default=None, description="defaults to $ANDROID_HOME / $ANDROID_SDK_ROOT"
    )
    snapshot: str | None = Field(default=None, description="created once, then every boot loads it")
    accel: Literal["auto", "on", "off"] = Field(
        default="auto", description="the emulator's -accel (KVM or not)"
    )
    boot_timeout_s: float = Field(default=300.0, gt=0, description="until booted and settled")


class AttachAndroidConfig(_Section):
    """Existing adb serials (physical phones, redroid, remote adb)."""

    serials: list[str] = Field(
        default_factory=list, description="USB serials or host:port (adb connect-ed)"
    )


class SimConfig(_Section):
    """The virtual phone."""

    size: str = Field(
        default="1080x2400", pattern=r"^\d{2,5}x\d{2,5}$", description="WIDTHxHEIGHT pixels"
    )
    density: int = Field(default=420, ge=80, le=800, description="dpi, as `wm density`")


class AndroidConfig(_Section):
    avd: AvdConfig = Field(default_factory=AvdConfig)
    attach: AttachAndroidConfig = Field(default_factory=AttachAndroidConfig)
    sim: SimConfig = Field(default_factory=SimConfig)
    adb: str | None = Field(default=None, description="adb binary; default: the one on PATH")
    app_profile: str = Field(
        default="auto",
        description="which packages fill the app roles (messages, contacts, clock, ...): "
        "auto (virtual-phone on the virtual phone, else aosp), virtual-phone, aosp, or a "
        "name under [android.app_profiles]",
    )
    app_profiles: dict[str, dict[str, str | list[str]]] = Field(
        default_factory=dict,
        description="profiles of one's own: role = package (or a list, the first installed "
        "wins); roles not named fall back to aosp",
    )
    apks: list[Path] = Field(
        default_factory=list,
        description="APKs installed on every Android device at allocate (skipped when the "
        "device has that versionCode), e.g. ADBKeyboard.apk",
    )

    @model_validator(mode="after")
    def _known_profile(self) -> AndroidConfig:
        known = ["auto", "virtual-phone", "aosp", *self.app_profiles]
        if self.app_profile not in known:
            raise ValueError(f"unknown app_profile {self.app_profile!r}; known: {', '.join(known)}")
        for name, roles in self.app_profiles.items():
            for role, packages in roles.items():
                for package in [packages] if isinstance(packages, str) else packages:
                    if not PACKAGE_NAME.match(package):
                        raise ValueError(
                            f"app_profiles.{name}.{role}: {package!r} is not a package name"
                        )
        return self


class AndroidBackendConfig(BaseModel):
    """Everything an Android backend is told: its section, the cache and the shell limits.

    No defaults: the rig's configuration is the one place they are set
    (``rig.config.RigConfig.backend_config("android")``).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    android: AndroidConfig
    cache: Path
    shell_timeout_s: float = Field(gt=0)
    shell_output_cap: int = Field(ge=1)
