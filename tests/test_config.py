from pathlib import Path

import pytest

from rig.config import find_config, load_config, parse_config
from rig.errors import ConfigInvalid


def test_defaults_need_no_file(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "nothing"))
    cfg = load_config(cwd=tmp_path)
    assert cfg.source is None
    assert cfg.devices.android == "sim"
    assert cfg.devices.linux == "qemu"


def test_local_file_wins_over_user_file(tmp_path, monkeypatch):
    user = tmp_path / "xdg" / "clawrig"
    user.mkdir(parents=True)
    (user / "rig.toml").write_text('[devices]\nandroid = "avd"\n')
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    work = tmp_path / "work"
    work.mkdir()
    assert load_config(cwd=work).devices.android == "avd"
    (work / "rig.toml").write_text('[devices]\nandroid = "attach"\n')
    cfg = load_config(cwd=work)
    assert cfg.devices.android == "attach"
    assert cfg.source == work / "rig.toml"


def test_bad_backend_names_key_and_allowed_values():
    with pytest.raises(ConfigInvalid) as info:
        parse_config({"devices": {"android": "genymotion"}}, Path("rig.toml"))
    text = str(info.value)
    assert "devices.android" in text
    assert "'genymotion'" in text
    for allowed in ("sim", "avd", "attach"):
        assert allowed in text


def test_unknown_key_is_an_error():
    with pytest.raises(ConfigInvalid, match=r"linux\.qemu\.memroy_mb: unknown key"):
        parse_config({"linux": {"qemu": {"memroy_mb": 512}}})


def test_out_of_range_value_names_key():
    with pytest.raises(ConfigInvalid, match=r"linux\.qemu\.memory_mb"):
        parse_config({"linux": {"qemu": {"memory_mb": 8}}})


def test_broken_toml_names_file(tmp_path):
    bad = tmp_path / "rig.toml"
    bad.write_text("[devices\nandroid = 'sim'\n")
    with pytest.raises(ConfigInvalid, match="not valid TOML"):
        load_config(bad)


def test_explicit_missing_file(tmp_path):
    with pytest.raises(ConfigInvalid, match="no such config file"):
        find_config(tmp_path / "absent.toml")
