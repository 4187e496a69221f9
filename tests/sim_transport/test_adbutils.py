"""adbutils, unchanged, against the phone through a private adb 29 server."""

from __future__ import annotations

import io
import threading
import xml.etree.ElementTree as ET

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytestmark = pytest.mark.integration

TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
    max_size=60,
)
SAMPLES = [
    "quote ' and \" both",
    "$HOME `id` $(id)",
    "line1\nline2",
    "100% %s",
    "🙂👍🏽",
    "中文 日本語",
]


def test_shell_and_shell2(device):
    assert device.shell("echo hello") == "hello"
    result = device.shell2("echo out; nosuchcmd")
    assert result.returncode == 127
    assert result.output.startswith("out\n/system/bin/sh: nosuchcmd: inaccessible")


def test_list_arguments_are_quoted_and_survive(device):
    for text in SAMPLES:
        assert device.shell(["echo", text], encoding=None) == text.encode() + b"\n"


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=TEXT)
def test_any_text_survives_printf_byte_for_byte(device, text):
    # printf '%s' prints its argument untouched (echo would expand backslash escapes)
    assert device.shell(["printf", "%s", text], encoding=None) == text.encode()


NAME = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="/\\"),
    min_size=1,
    max_size=40,
).filter(lambda n: n not in (".", "..") and len(n.encode()) < 200)


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(name=NAME, data=st.binary(max_size=100_000))
def test_sync_push_pull_any_name_and_bytes(device, phone, name, data):
    path = f"/sdcard/Download/prop/{name}"
    device.sync.push(io.BytesIO(data), path)
    assert phone.ctx.vfs.read_bytes(path) == data
    assert device.sync.read_bytes(path) == data


def test_sync_push_pull_and_stat(device, phone, tmp_path):
    src = tmp_path / "notes.md"
    src.write_text("# Übersicht\n- $5 `tick` 'q'\n")
    device.sync.push(str(src), "/sdcard/Documents/notes.md")
    st_ = device.sync.stat("/sdcard/Documents/notes.md")
    assert st_.size == src.stat().st_size
    dst = tmp_path / "back.md"
    device.sync.pull("/sdcard/Documents/notes.md", str(dst))
    assert dst.read_bytes() == src.read_bytes()
    names = [e.path for e in device.sync.list("/sdcard/Documents")]
    assert "notes.md" in names


def test_concurrent_shells_on_one_connection(device):
    results: dict[int, str] = {}

    def worker(i: int) -> None:
        results[i] = device.shell(f"echo worker-{i}")

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert results == {i: f"worker-{i}" for i in range(12)}


def test_screenshot_window_size_app_current_hierarchy(device, phone):
    img = device.screenshot()
    assert img.size == (phone.ctx.display.width, phone.ctx.display.height)
    assert img.getextrema() != ((0, 0), (0, 0), (0, 0))  # not adbutils' silent black fallback
    size = device.window_size()
    assert (size.width, size.height) == (phone.ctx.display.width, phone.ctx.display.height)
    current = device.app_current()
    assert (current.package, current.activity) == phone.ctx.ui.focus()
    root = ET.fromstring(device.dump_hierarchy())
    assert root.tag == "hierarchy"


def test_framebuffer_is_the_screen_in_raw_pixels(device, phone):
    raw = device.framebuffer()
    assert raw.size == (phone.ctx.display.width, phone.ctx.display.height)
    assert raw.convert("RGB").tobytes() == phone.ctx.ui.screenshot().convert("RGB").tobytes()
