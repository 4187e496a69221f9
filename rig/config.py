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
from typing import Literal, overload

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from emulator.config import AndroidBackendConfig, AndroidConfig
from linux_vm.config import LinuxBackendConfig, LinuxConfig
from rig.errors import ConfigInvalid

CONFIG_NAME = "rig.toml"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DevicesConfig(_Section):
    """Backend per device kind; tasks name kinds, never backends."""

    android: Literal["sim", "avd", "attach"] = Field(
        default="sim", description="the virtual phone, SDK emulators, or attached serials"
    )
    linux: Literal["qemu", "attach"] = Field(
        default="qemu", description="a QEMU VM per role, or an existing SSH host"
    )


class PathsConfig(_Section):
    cache: Path = Field(
        default_factory=lambda: _xdg("XDG_CACHE_HOME", ".cache") / "clawrig",
        description="VM images, snapshots, AVD leases",
        json_schema_extra={"shown_default": "$XDG_CACHE_HOME/clawrig (~/.cache/clawrig)"},
    )
    out: Path = Field(default=Path("runs"), description="episode folders without --out")
    checkpoints: Path | None = Field(
        default=None,
        description="world checkpoints (docs/checkpoints.md)",
        json_schema_extra={"shown_default": "<cache>/checkpoints"},
    )


class LimitsConfig(_Section):
    """Defaults for tasks that do not set their own."""

    max_steps: int = Field(default=60, ge=1, description="agent actions per episode")
    max_seconds: float = Field(default=900.0, gt=0, description="wall time of the agent phase")
    shell_timeout_s: float = Field(
        default=60.0, gt=0, description="one shell command; past it, exit code 124"
    )
    shell_output_cap: int = Field(
        default=64 * 1024, ge=1024, description="bytes kept per stream; the rest dropped, flagged"
    )


class AgentConfig(_Section):
    """The built-in agent for OpenAI-compatible chat-completions APIs."""

    base_url: str | None = Field(default=None, description="default: $OPENAI_BASE_URL or OpenAI")
    api_key_env: str = Field(default="OPENAI_API_KEY", description="variable holding the key")
    temperature: float = Field(default=0.0, ge=0, le=2, description="sampling temperature")
    max_tokens: int = Field(default=1024, ge=16, description="per model reply")
    max_images: int = Field(default=3, ge=0, description="screenshots kept in the context")
    image_width: int = Field(default=540, ge=64, description="screenshots are downscaled to it")
    max_retries: int = Field(default=5, ge=0, description="on rate limits and lost connections")
    request_timeout_s: float = Field(default=120.0, gt=0, description="one API request")


class UserConfig(_Section):
    """The simulated user's model: answers questions no scripted answer of the task matches.

    It speaks through the ``[agent]`` endpoint and key; unset, unmatched questions get
    the task's default reply."""

    model: str | None = Field(default=None, description="model name; unset: scripted only")
    temperature: float = Field(default=0.0, ge=0, le=2, description="sampling temperature")
    max_tokens: int = Field(default=200, ge=16, description="per reply")


class ClockConfig(_Section):
    """The world clock of episodes whose task says ``clock: {mode: stepped}``."""

    pause_devices: bool = Field(
        default=True,
        description="stepped clock: pause QEMU VMs and AVDs between agent actions (their "
        "clocks stand while the agent thinks); off: they tick on between steps and are re-set "
        "at each clock step",
    )


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
    probe: Literal["ray", "always", "off"] = Field(
        default="ray",
        description="the quick conformance probe before a node's first trial of a suite; a node "
        "that fails it is quarantined for the rest of the suite. ray: on Ray nodes; always: "
        "local worker processes too (their node is this machine); off",
    )

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
    user: UserConfig = Field(default_factory=UserConfig)
    suite: SuiteConfig = Field(default_factory=SuiteConfig)
    clock: ClockConfig = Field(default_factory=ClockConfig)

    source: Path | None = Field(default=None, exclude=True)

    @overload
    def backend_config(self, kind: Literal["android"]) -> AndroidBackendConfig: ...

    @overload
    def backend_config(self, kind: Literal["linux"]) -> LinuxBackendConfig: ...

    def backend_config(self, kind: str) -> AndroidBackendConfig | LinuxBackendConfig:
        """The typed settings a backend of ``kind`` is built from (its section, cache, limits)."""
        shared = {
            "cache": self.paths.cache.expanduser(),
            "shell_timeout_s": self.limits.shell_timeout_s,
            "shell_output_cap": self.limits.shell_output_cap,
        }
        if kind == "android":
            return AndroidBackendConfig(android=self.android, **shared)
        if kind == "linux":
            return LinuxBackendConfig(linux=self.linux, **shared)
        raise ValueError(f"no backends of kind {kind!r}")


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
