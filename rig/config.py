"""``rig.toml``: which backends make up a world, where things are cached, the limits.

Looked up in this order: ``--config PATH``, ``./rig.toml``,
``$XDG_CONFIG_HOME/clawrig/rig.toml`` (``~/.config`` when unset); absent files
mean the defaults, which need no SDK and no configuration: the virtual phone
and a QEMU VM.
"""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from rig.errors import ConfigInvalid

CONFIG_NAME = "rig.toml"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AvdConfig(_Section):
    """Real Android emulators from the SDK."""

    name: str | None = None
    sdk: Path | None = Field(
        default=None, description="defaults to $ANDROID_HOME / $ANDROID_SDK_ROOT"
    )
    snapshot: str | None = None
    accel: Literal["auto", "on", "off"] = "auto"
    boot_timeout_s: float = Field(default=300.0, gt=0)


class AttachAndroidConfig(_Section):
    """Existing adb serials (physical phones, redroid, remote adb)."""

    serials: list[str] = Field(default_factory=list)


class SimConfig(_Section):
    """The virtual phone."""

    size: str = Field(default="1080x2400", pattern=r"^\d{2,5}x\d{2,5}$")
    density: int = Field(default=420, ge=80, le=800)


class AndroidConfig(_Section):
    avd: AvdConfig = Field(default_factory=AvdConfig)
    attach: AttachAndroidConfig = Field(default_factory=AttachAndroidConfig)
    sim: SimConfig = Field(default_factory=SimConfig)
    adb: str | None = Field(default=None, description="adb binary; default: the one on PATH")


def host_memory_mb() -> int:
    """This machine's physical memory in MiB."""
    return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") // (1024 * 1024)


class QemuConfig(_Section):
    """Real VMs booted by QEMU."""

    image: str = "bookworm"
    memory_mb: int = Field(default=1024, ge=256)
    cpus: int = Field(default=1, ge=1)
    accel: Literal["auto", "kvm", "tcg"] = "auto"
    boot_timeout_s: float = Field(default=180.0, gt=0)

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

    host: str | None = None
    port: int = Field(default=22, ge=1, le=65535)
    user: str = "user"
    key: Path | None = None


class LinuxConfig(_Section):
    qemu: QemuConfig = Field(default_factory=QemuConfig)
    attach: AttachLinuxConfig = Field(default_factory=AttachLinuxConfig)


class DevicesConfig(_Section):
    """Backend per device kind; tasks name kinds, never backends."""

    android: Literal["sim", "avd", "attach"] = "sim"
    linux: Literal["qemu", "attach"] = "qemu"


class PathsConfig(_Section):
    cache: Path = Field(default_factory=lambda: _xdg("XDG_CACHE_HOME", ".cache") / "clawrig")
    out: Path = Path("runs")


class LimitsConfig(_Section):
    """Defaults for tasks that do not set their own."""

    max_steps: int = Field(default=60, ge=1)
    max_seconds: float = Field(default=900.0, gt=0)
    shell_timeout_s: float = Field(default=60.0, gt=0)
    shell_output_cap: int = Field(default=64 * 1024, ge=1024)


class AgentConfig(_Section):
    """The built-in agent for OpenAI-compatible chat-completions APIs."""

    base_url: str | None = Field(default=None, description="default: $OPENAI_BASE_URL or OpenAI")
    api_key_env: str = Field(default="OPENAI_API_KEY", description="variable holding the key")
    temperature: float = Field(default=0.0, ge=0, le=2)
    max_tokens: int = Field(default=1024, ge=16)
    max_images: int = Field(default=3, ge=0, description="screenshots kept in the context")
    image_width: int = Field(default=540, ge=64, description="screenshots are downscaled to it")
    max_retries: int = Field(default=5, ge=0)
    request_timeout_s: float = Field(default=120.0, gt=0)


RAY_ADDRESS = re.compile(r"^(local|auto|[\w.\-\[\]:]+:\d{1,5})$")


def check_ray_address(value: str) -> str:
    """``local``, ``auto`` or a cluster address; shared by ``rig.toml`` and ``--ray``."""
    if not RAY_ADDRESS.match(value):
        raise ValueError(f"{value!r} is not allowed; expected 'local', 'auto' or HOST:PORT")
    return value


class SuiteConfig(_Section):
    """Where ``rig suite run`` runs its trials."""

    ray: str | None = Field(default=None, description="local | auto | HOST:PORT of a Ray head")
    ray_cpus: float = Field(default=1.0, gt=0, description="CPUs a trial reserves on Ray")

    @field_validator("ray")
    @classmethod
    def _ray(cls, value: str | None) -> str | None:
        return None if value is None else check_ray_address(value)


class RigConfig(_Section):
    devices: DevicesConfig = Field(default_factory=DevicesConfig)
    android: AndroidConfig = Field(default_factory=AndroidConfig)
    linux: LinuxConfig = Field(default_factory=LinuxConfig)
    paths: PathsConfig = Field(default_factory=PathsConfig)
    limits: LimitsConfig = Field(default_factory=LimitsConfig)
    agent: AgentConfig = Field(default_factory=AgentConfig)
    suite: SuiteConfig = Field(default_factory=SuiteConfig)

    source: Path | None = Field(default=None, exclude=True)


def _xdg(var: str, fallback: str) -> Path:
    value = os.environ.get(var)
    return Path(value) if value else Path.home() / fallback


def find_config(explicit: Path | None = None, cwd: Path | None = None) -> Path | None:
    """The config file that applies, or None for the defaults."""
    if explicit is not None:
        if not explicit.is_file():
            raise ConfigInvalid(f"{explicit}: no such config file")
        return explicit
    local = (cwd or Path.cwd()) / CONFIG_NAME
    if local.is_file():
        return local
    user = _xdg("XDG_CONFIG_HOME", ".config") / "clawrig" / CONFIG_NAME
    return user if user.is_file() else None


def _describe(err: dict) -> str:
    key = ".".join(str(p) for p in err["loc"])
    kind = err["type"]
    if kind == "extra_forbidden":
        return f"{key}: unknown key"
    if kind == "value_error":
        return f"{key}: {err['ctx']['error']}"
    if kind == "literal_error":
        allowed = err.get("ctx", {}).get("expected", "")
        return f"{key}: {err['input']!r} is not allowed; expected {allowed}"
    return f"{key}: {err['msg']}"


def parse_config(data: dict, source: Path | None = None) -> RigConfig:
    """Validate a config mapping; errors name every bad key and its allowed values."""
    try:
        cfg = RigConfig.model_validate(data)
    except ValidationError as exc:
        where = f"{source}: " if source else ""
        lines = "\n".join("  " + _describe(e) for e in exc.errors())
        raise ConfigInvalid(f"{where}invalid configuration:\n{lines}") from None
    cfg.source = source
    return cfg


def load_config(explicit: Path | None = None, cwd: Path | None = None) -> RigConfig:
    """Load and validate the applicable ``rig.toml`` (defaults when there is none)."""
    path = find_config(explicit, cwd)
    if path is None:
        return RigConfig()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigInvalid(f"{path}: not valid TOML: {exc}") from None
    return parse_config(data, path)
