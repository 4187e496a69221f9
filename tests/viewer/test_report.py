"""The report page in a real headless Chromium: loads cleanly, steps, shows images."""

import json
import shutil
from io import BytesIO

import pytest
from PIL import Image

from rig.actions import Shell, Tap
from rig.env import StepRecord
from rig.observation import Observation
from rig.recorder import Recorder
from rig.redact import Redactor
from rig.viewer import write_report

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def _png(colour) -> bytes:
    buf = BytesIO()
    Image.new("RGB", (108, 240), colour).save(buf, format="PNG")
    return buf.getvalue()


@pytest.fixture
def episode(tmp_path):
    rec = Recorder(tmp_path / "ep", Redactor(["sk-very-secret-key-000"]))
    rec.json("task.json", {"id": "demo", "title": "Demo <task>", "instruction": "Do it"})
    rec.phase_start("seed")
    rec.phase_end("seed")
    rec.on_step(
        StepRecord(
            0,
            Tap(device="phone", x=50, y=100),
            Observation(
                device="phone", action="tap", text="[0] Button 'Send'", screenshot_png=_png("white")
            ),
            0.0,
            0.1,
            before_png=_png("blue"),
            touch=(50, 100),
            ui_tree_xml='<hierarchy rotation="0"/>',
            agent_message="tapping send with sk-very-secret-key-000",
        )
    )
    rec.on_step(
        StepRecord(
            1,
            Shell(device="laptop", command="echo '<b>hi</b>'"),
            Observation(
                device="laptop", action="shell", stdout="<b>hi</b>\n", stderr="", exit_code=0
            ),
            0.0,
            0.05,
        )
    )
    rec.json(
        "score.json",
        {
            "passed": True,
            "score": 1.0,
            "checks": [{"name": "sms sent", "passed": True, "detail": "1 row"}],
            "safety": [],
        },
    )
    rec.close("finished")
    return tmp_path / "ep"


def test_record_is_redacted_and_transcribed(episode):
    text = (episode / "trajectory.jsonl").read_text()
    assert "sk-very-secret" not in text and "[REDACTED]" in text
    assert "echo '<b>hi</b>'" in (episode / "transcripts" / "laptop.log").read_text()
    before = Image.open(episode / "steps" / "0000-before.png").convert("RGB")
    radius = max(12, before.width // 40)
    assert before.getpixel((50 + radius, 100)) != (0, 0, 255)  # the ring is drawn
    assert before.getpixel((5, 5)) == (0, 0, 255)


@pytest.mark.integration
@pytest.mark.skipif(CHROMIUM is None, reason="chromium is installed by scripts/setup.sh")
def test_report_in_headless_chromium(episode):
    from playwright.sync_api import sync_playwright

    page_path = write_report(episode)
    errors: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        page = browser.new_page()
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(page_path.as_uri())
        assert "PASS" in page.inner_text("header")
        assert "Demo <task>" in page.inner_text("h1")
        assert "No baseline state" in page.inner_text("#changes")  # a record without snapshots
        assert page.inner_text("#step h2").startswith("Step 0")
        widths = page.eval_on_selector_all("#step img", "els => els.map(e => e.naturalWidth)")
        assert widths == [108, 108]
        page.keyboard.press("ArrowRight")
        assert page.inner_text("#step h2").startswith("Step 1")
        assert "<b>hi</b>" in page.inner_text("#step pre:nth-of-type(2)")
        page.keyboard.press("k")
        assert page.inner_text("#step h2").startswith("Step 0")
        browser.close()
    assert errors == []


def test_screenshots_are_written_off_the_step_and_close_waits_for_them(tmp_path):
    rec = Recorder(tmp_path / "ep", Redactor([]))
    obs = Observation(device="phone", action="tap", screenshot_png=_png("white"))
    rec.on_step(StepRecord(0, Tap(device="phone", x=5, y=5), obs, 0.0, 0.1, touch=(5, 5)))
    rec.drain()  # the image is on disk before its trajectory line
    assert (tmp_path / "ep" / "steps" / "0000-after.png").is_file()
    line = json.loads((tmp_path / "ep" / "trajectory.jsonl").read_text())
    assert line["files"] == {"after": "steps/0000-after.png"}
    # A screenshot that cannot be written is named at close, not lost silently.
    shutil.rmtree(tmp_path / "ep" / "steps")
    (tmp_path / "ep" / "steps").write_text("not a folder")
    rec.on_step(StepRecord(1, Tap(device="phone", x=5, y=5), obs, 0.0, 0.1))
    rec.close("finished")
    episode = json.loads((tmp_path / "ep" / "episode.json").read_text())
    assert episode["status"] == "finished" and "0001-after.png" in episode["record_error"]
    assert len((tmp_path / "ep" / "trajectory.jsonl").read_text().splitlines()) == 1


def test_a_step_recorded_as_the_agent_sent_it_is_drawn(tmp_path):
    """An action that failed validation is recorded raw (a string): the page still draws."""
    import json as _json

    from rig.viewer import load_steps, write_report

    lines = [
        {
            "step": 0,
            "device": None,
            "action": '{"action": "tap", "x": -4}',
            "result": {"ok": False},
        },
        {"step": 1, "device": None, "action": "not json at all [/]", "result": {"ok": False}},
        {"step": 2, "device": None, "action": ["a", "list"], "result": {"ok": False}},
    ]
    (tmp_path / "trajectory.jsonl").write_text("".join(_json.dumps(x) + "\n" for x in lines))
    steps = load_steps(tmp_path)
    assert [s["action"].get("action") for s in steps] == ["tap", "invalid", "invalid"]
    page = write_report(tmp_path).read_text()
    assert "not json at all [/]" in page
