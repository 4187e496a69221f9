"""The configuration reference is generated from the models and checked in, in step."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import BaseModel, ValidationError

from emulator.backends import SimBackend
from emulator.config import AndroidBackendConfig
from linux_vm.backends import AttachBackend, QemuBackend
from linux_vm.config import LinuxBackendConfig
from rig.config import RigConfig, parse_config
from rig.config_reference import BEGIN, END, page_block, reference_markdown, write_page
from tests.test_cli import rig

PAGE = Path(__file__).resolve().parent.parent / "docs" / "configuration.md"


def _leaves(model: type[BaseModel], prefix: str = "") -> list[str]:
    out = []
    for name, info in model.model_fields.items():
        if info.exclude:
            continue
        ann = info.annotation
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            out += _leaves(ann, f"{prefix}{name}.")
        else:
            out.append(f"{prefix}{name}")
    return out


def test_the_checked_in_page_matches_the_models() -> None:
    assert page_block(PAGE.read_text(encoding="utf-8")) == reference_markdown(), (
        "docs/configuration.md is out of step with the config models: run `make config-docs`"
    )


def test_every_key_of_the_models_is_in_the_reference() -> None:
    text = reference_markdown()
    keys = _leaves(RigConfig)
    assert len(keys) >= 30
    for key in keys:
        section, _, leaf = key.rpartition(".")
        block = text.split(f"### `[{section}]`", 1)[1].split("### ", 1)[0]
        assert f"| `{leaf}` |" in block, key


def test_a_changed_model_makes_the_page_stale(tmp_path: Path, monkeypatch) -> None:
    page = tmp_path / "configuration.md"
    page.write_text(f"intro\n\n{BEGIN}\nold\n{END}\ntail\n", encoding="utf-8")
    assert write_page(page) is True
    assert page_block(page.read_text(encoding="utf-8")) == reference_markdown()
    assert page.read_text(encoding="utf-8").endswith(f"{END}\ntail\n")
    assert write_page(page) is False  # already in step
    from linux_vm import config as linux_config

    field = linux_config.QemuConfig.model_fields["memory_mb"]
    monkeypatch.setattr(field, "default", 2048)
    assert page_block(page.read_text(encoding="utf-8")) != reference_markdown()


def test_rig_config_schema_prints_the_reference_and_the_json_schema() -> None:
    out = rig("config", "schema")
    assert out.returncode == 0, out.stderr
    assert out.stdout == reference_markdown()
    out = rig("config", "schema", "--json")
    assert out.returncode == 0, out.stderr
    schema = json.loads(out.stdout)
    assert "devices" in schema["properties"]


def test_backends_receive_typed_config_with_the_configured_values(tmp_path: Path) -> None:
    cfg = parse_config(
        {
            "android": {"sim": {"size": "480x800", "density": 240}},
            "linux": {"qemu": {"cpus": 1, "memory_mb": 512}, "attach": {"port": 2222}},
            "limits": {"shell_timeout_s": 7, "shell_output_cap": 4096},
            "paths": {"cache": str(tmp_path)},
        }
    )
    sim = SimBackend(cfg.backend_config("android"))
    assert (sim.size, sim.density, sim.shell_timeout, sim.output_cap) == ("480x800", 240, 7, 4096)
    qemu = QemuBackend(cfg.backend_config("linux"))
    assert (qemu.memory_mb, qemu.cache, qemu.output_cap) == (512, tmp_path, 4096)
    assert AttachBackend(cfg.backend_config("linux")).port == 2222


def test_an_untyped_config_fails_loudly() -> None:
    class Duck:
        class limits:
            shell_output_cap = 1

    with pytest.raises(TypeError, match="AndroidBackendConfig"):
        SimBackend(Duck())
    with pytest.raises(TypeError, match="LinuxBackendConfig"):
        QemuBackend(RigConfig())  # the whole RigConfig is not what a backend takes
    with pytest.raises(ValidationError):  # no silent defaults: every field must be given
        AndroidBackendConfig(android=RigConfig().android)
    with pytest.raises(ValidationError):
        LinuxBackendConfig(linux=RigConfig().linux, cache=Path("x"), shell_timeout_s=1, nope=1)
