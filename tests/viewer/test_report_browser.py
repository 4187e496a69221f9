"""The debugging view in a real headless Chromium, on episodes recorded on the virtual phone.

Two real episodes of one small task (the oracle, which edits a note and sends an
SMS through the apps, and ``noop``), then: the report's timeline, what changed
(the known SMS and the known note diff), the step view and its keyboard and
search, the compare page and the suite index's filters, all opened from disk.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from emulator.adb import AdbServer
from rig.report.compare import write_compare
from rig.report.index import render_index
from scoring.metrics import Trial, summarize

FIXTURE = Path(__file__).parent / "fixtures" / "text-and-note"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
pytestmark = [
    pytest.mark.integration,
    pytest.mark.slow,
    pytest.mark.skipif(CHROMIUM is None, reason="chromium is installed by scripts/setup.sh"),
]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """``{"oracle": folder, "noop": folder}``, each a finished episode with its report."""
    root = tmp_path_factory.mktemp("report")
    server = AdbServer.private()
    env = {**os.environ, "ANDROID_ADB_SERVER_PORT": str(server.port)}
    out = {}
    try:
        for agent in ("oracle", "noop"):
            out[agent] = root / agent
            res = subprocess.run(
                [sys.executable, "-m", "rig.cli", "run", str(FIXTURE), "--agent", agent,
                 "--out", str(out[agent])],
                capture_output=True, text=True, timeout=600, env=env, cwd=root,
            )  # fmt: skip
            assert (out[agent] / "report.html").is_file(), res.stdout + res.stderr
    finally:
        server.kill()
    return out


@pytest.fixture(scope="module")
def page(runs):
    from playwright.sync_api import sync_playwright

    errors: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        p = browser.new_page(viewport={"width": 1400, "height": 1000})
        p.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        p.on("pageerror", lambda e: errors.append(str(e)))
        p.errors = errors
        yield p
        browser.close()


def test_timeline_has_a_lane_per_device_and_the_agent_and_opens_steps(runs, page):
    page.goto((runs["oracle"] / "report.html").as_uri())
    lanes = page.eval_on_selector_all(
        "#timeline .lane[data-lane]", "els => els.map(e => e.dataset.lane)"
    )
    assert lanes == ["phone", "agent"]
    marks = page.locator('#timeline .lane[data-lane="phone"] .mk')
    assert marks.count() >= 10
    thumbs = page.eval_on_selector_all(
        "#timeline img", "els => els.map(e => [e.getAttribute('src'), e.naturalWidth])"
    )
    assert thumbs and all(src.endswith(".thumb.jpg") for src, _ in thumbs)
    page.locator('#timeline .mk[data-step="5"]').first.click()
    assert page.inner_text("#step h2").startswith("Step 5")
    assert page.locator('#timeline .mk.sel[data-step="5"]').count() == 1
    assert page.errors == []


def test_changes_show_the_sent_sms_and_the_note_diff_linked_to_steps(runs, page):
    page.goto((runs["oracle"] / "report.html").as_uri())
    changes = page.inner_text("#changes")
    assert "SMS sent to +44 20 7946 0018: Eggs are on the list" in changes
    diff = page.inner_text("#changes pre.diff")
    assert "+- eggs" in diff.splitlines() and " - milk" in diff.splitlines()
    page.locator("#changes .sent a.sl").first.click()
    assert "Eggs are on the list" in page.inner_text("#step")
    # every check names the evidence it read, here the note's change row
    link = page.locator("#checks tr", has_text="eggs-in-note").locator("a").first
    target = link.get_attribute("href")
    assert "groceries.md" in page.inner_text(f"#changes tr{target}")


def test_step_view_keyboard_search_and_the_tapped_element(runs, page):
    page.goto((runs["oracle"] / "report.html").as_uri())
    assert page.inner_text("#step h2").startswith("Step 0")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("j")
    assert page.inner_text("#step h2").startswith("Step 2")
    page.keyboard.press("k")
    assert page.inner_text("#step h2").startswith("Step 1")
    page.keyboard.press("End")
    last = page.inner_text("#step h2")
    page.keyboard.press("Home")
    assert page.inner_text("#step h2").startswith("Step 0") and last != "Step 0"
    page.keyboard.press("/")
    page.keyboard.type("Eggs are on")
    page.keyboard.press("Enter")
    assert "Eggs are on the list" in page.inner_text("#step")
    visible = page.eval_on_selector_all(
        "#list div", "els => els.filter(e => !e.hidden).map(e => e.textContent)"
    )
    total = page.locator("#list div").count()
    # the step that typed it, then the screens that show it
    assert visible[0].startswith("13  type") and 1 <= len(visible) < total / 2
    assert page.inner_text("#step h2").startswith("Step 13")
    page.keyboard.press("Escape")
    page.fill("#search", "")
    page.dispatch_event("#search", "input")
    # a tap by element id: the element is outlined on the before screenshot, from the UI tree
    page.goto((runs["oracle"] / "report.html").as_uri() + "#step-2")
    assert page.inner_text("#step h2").startswith("Step 2")
    box = page.locator("#step .hit")
    assert box.count() == 1 and "groceries.md" in box.get_attribute("title")
    assert page.errors == []


def test_compare_page_aligns_two_runs_with_both_changes(runs, page):
    out = write_compare(runs["oracle"], runs["noop"])
    page.goto(out.as_uri())
    assert "first difference at step 0" in page.inner_text("#by-step h2")
    assert page.locator("#by-step tr.diverge").count() >= 2
    assert "Eggs are on the list" in page.inner_text("#changes-a")
    assert "nothing changed" in page.inner_text("#changes-b")
    assert page.locator("#by-time tr").count() > page.locator("#by-step tr").count() - 2
    href = page.locator("#by-step a").first.get_attribute("href")
    assert href == "report.html#step-0"
    # A's checks point at A's changes on this page; B's at nothing changed
    ev = page.locator(".cmp > div").first.locator("#checks a").first.get_attribute("href")
    assert ev.startswith("#changes-a-chg-phone-") and page.locator(ev).count() == 1
    assert "none changed since seeding" in page.inner_text(".cmp > div >> nth=1")
    assert page.errors == []


def test_suite_index_filters_trials(runs, page, tmp_path):
    rows = [
        {"task_id": "report-text-and-note", "trial": 1, "mode": "reactive", "surfaces": ["gui"],
         "passed": True, "score": 1.0, "report": str(runs["oracle"] / "report.html")},
        {"task_id": "report-text-and-note", "trial": 2, "mode": "reactive", "surfaces": ["gui"],
         "passed": False, "score": 0.0, "report": str(runs["noop"] / "report.html")},
        {"task_id": "laptop-task", "trial": 1, "mode": "proactive", "surfaces": ["cli"],
         "passed": False, "score": 0.0, "infra_error": "agent: DeviceLost: gone", "report": ""},
    ]  # fmt: skip
    summary = summarize(
        [Trial(r["task_id"], r["passed"], r["score"], r.get("infra_error"), r["mode"],
               tuple(r["surfaces"])) for r in rows],
        ks=(1, 2),
    ).to_dict()  # fmt: skip
    index = tmp_path / "index.html"
    index.write_text(render_index(tmp_path, rows, summary), encoding="utf-8")
    page.goto(index.as_uri())
    assert page.locator("#by-mode tr").count() == 3 and page.locator("#by-surface tr").count() == 3

    def shown():
        return page.eval_on_selector_all(
            "#tasks a.trial", "els => els.filter(e => !e.hidden).map(e => e.textContent)"
        )

    assert len(shown()) == 3
    page.select_option("#f-verdict", "fail")
    assert shown() == ["#2 fail"]
    page.select_option("#f-verdict", "")
    page.select_option("#f-infra", "yes")
    assert shown() == ["#1 infra"]
    page.select_option("#f-infra", "")
    page.select_option("#f-surface", "gui")
    assert shown() == ["#1 pass", "#2 fail"]
    page.select_option("#f-mode", "proactive")
    assert shown() == [] and page.locator("tr.task:not([hidden])").count() == 0
    assert page.errors == []


def test_rig_view_writes_the_compare_page_and_a_replay_gif(runs):
    from PIL import Image

    res = subprocess.run(
        [sys.executable, "-m", "rig.cli", "view", str(runs["oracle"]), "--compare",
         str(runs["noop"]), "--animate", "--device", "phone"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert res.returncode == 0, res.stdout + res.stderr
    assert (runs["oracle"] / "compare.html").is_file()
    with Image.open(runs["oracle"] / "replay.gif") as gif:
        shots = sorted((runs["oracle"] / "steps").glob("*-*[er].png"))  # before and after
        assert gif.n_frames == len(shots) and gif.width == 320
    bad = subprocess.run(
        [sys.executable, "-m", "rig.cli", "view", str(runs["noop"]), "--animate"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert bad.returncode == 2 and "no screenshots" in bad.stdout + bad.stderr
