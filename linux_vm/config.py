"""The typed configuration a Linux backend receives (``[linux.*]`` of ``rig.toml``).

The rig validates ``rig.toml`` into these models and hands a backend one
:class:`LinuxBackendConfig`; a backend reads attributes of it, never dotted
strings with defaults of its own, so a renamed key fails where it is validated.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


def host_memory_mb() -> int:
    """This machine's physical memory in MiB."""
    return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") // (1024 * 1024)


class QemuConfig(_Section):
    """Real VMs booted by QEMU."""

    image: str = Field(default="bookworm", description="the image recipe's name")
    memory_mb: int = Field(default=1024, ge=256, description="guest RAM; at most the host's")
    cpus: int = Field(default=1, ge=1, description="guest CPUs; at most the host's")
    accel: Literal["auto", "kvm", "tcg"] = Field(
        default="auto", description="auto: KVM if a boot probe reaches userspace, else TCG"
    )
    boot_timeout_s: float = Field(default=180.0, gt=0, description="until SSH answers")

    @field_validator("memory_mb")
    @classmethod
    def _fits_the_host(cls, value: int) -> int:
        # One VM larger than the machine cannot start; QEMU would only say so in its log.
        host = host_memory_mb()
        if value > host:
            raise ValueError(f"{value} MiB is more than this machine has ({host} MiB)")
        return value

    @field_validator("cpus")
    @classmethod
    def _cpus_on_the_host(cls, value: int) -> int:
        host = os.cpu_count() or 1
        if value > host:
            raise ValueError(f"{value} CPUs is more than this machine has ({host})")
        return value


class AttachLinuxConfig(_Section):
    """An existing SSH host."""

    host: str | None = Field(default=None, description="required for the attach backend")
    port: int = Field(default=22, ge=1, le=65535, description="its SSH port")
    user: str = Field(default="user", description="the account the agent acts as")
    key: Path | None = Field(default=None, description="private key file for `user`")


class LinuxConfig(_Section):
    qemu: QemuConfig = Field(default_factory=QemuConfig)
    attach: AttachLinuxConfig = Field(default_factory=AttachLinuxConfig)


class LinuxBackendConfig(BaseModel):
    """Everything a Linux backend is told: its section, the cache and the shell limits.

    No defaults: the rig's configuration is the one place they are set
    (``rig.config.RigConfig.backend_config("linux")``).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    linux: LinuxConfig
    cache: Path
    shell_timeout_s: float = Field(gt=0)
    shell_output_cap: int = Field(ge=1)
