"""Identity, date and the frozen clock, properties, display, settings, sqlite3."""

from __future__ import annotations

from datetime import UTC, datetime

from emulator.sim.providers.schema import SMS_DB


def test_identity(run) -> None:
    assert run.out("whoami") == "shell\n"
    assert run.out("id").startswith("uid=2000(shell) gid=2000(shell) groups=2000(shell)")
    assert run.out("uname") == "Linux\n"
    assert run.out("uname -m") == "x86_64\n"
    assert "ps" in run.out("ps")
    assert "system_server" in run.out("ps -A")


def test_date_formats_and_setting(run, clock) -> None:
    assert run.out("date") == "Thu Jan  1 09:00:00 UTC 2026\n"
    assert run.out("date +%s") == "1767258000\n"
    assert run.out("date +%Y-%m-%dT%H:%M:%S") == "2026-01-01T09:00:00\n"
    assert run.out("date -d @0 +%Y") == "1970\n"
    run.out("date -s '2025-03-04 05:06:07'")
    assert clock.now_ms() == int(datetime(2025, 3, 4, 5, 6, 7, tzinfo=UTC).timestamp() * 1000)
    assert clock.frozen
    run.out("date 010203042027.05")
    assert run.out("date '+%F %T'") == "2027-01-02 03:04:05\n"
    run.out("setprop persist.sys.timezone Asia/Tokyo")
    assert run.out("date +%H:%Z") == "12:JST\n"
    assert run.out("date -u +%H") == "03\n"
    assert run.out("getprop persist.sys.timezone") == "Asia/Tokyo\n"
    assert run("date -s garbage")[2] == "date: bad date 'garbage'\n"


def test_getprop_setprop(run, ctx) -> None:
    out = run.out("getprop")
    assert "[ro.build.version.sdk]: [34]\n" in out
    assert "[ro.product.model]: [Pixel 7]\n" in out
    assert out.splitlines() == sorted(out.splitlines())
    assert run.out("getprop sys.boot_completed") == "1\n"
    assert run.out("getprop no.such.prop") == "\n"
    assert run.out("getprop no.such.prop fallback") == "fallback\n"
    run.out("setprop debug.sim.x 'a b'")
    assert ctx.props["debug.sim.x"] == "a b"
    status, _out, err = run("setprop ro.build.version.sdk 1")
    assert status == 1 and "Failed to set property" in err


def test_wm_size_and_density_overrides(run, ctx) -> None:
    assert run.out("wm size") == "Physical size: 1080x2400\n"
    run.out("wm size 720x1600")
    assert run.out("wm size") == "Physical size: 1080x2400\nOverride size: 720x1600\n"
    assert (ctx.display.width, ctx.display.height) == (720, 1600)
    run.out("wm size reset")
    assert run.out("wm size") == "Physical size: 1080x2400\n"
    run.out("wm density 320")
    assert run.out("wm density") == "Physical density: 420\nOverride density: 320\n"
    run.out("wm density reset")
    assert ctx.display.density == 420
    assert run("wm size banana")[0] == 255


def test_settings_through_the_provider(run, providers, clock) -> None:
    assert run.out("settings get global airplane_mode_on") == "0\n"
    run.out("settings put global airplane_mode_on 1")
    assert providers.setting("global", "airplane_mode_on") == "1"
    assert run.out("settings get secure nope") == "null\n"
    run.out("settings put system my_key 'with space'")
    assert "my_key=with space\n" in run.out("settings list system")
    assert run.out("settings delete system my_key") == "Deleted 1 rows\n"
    assert run("settings get bogus x")[0] == 255
    run.out("settings put global auto_time 1")
    assert not clock.frozen
    run.out("settings put global auto_time 0")
    assert clock.frozen
    # The virtual phone's own key: how fast its clock runs (a real Android stores it only).
    run.out("settings put global sim_clock_speed 60")
    assert clock.speed == 60
    for bad in ("0", "-3", "fast", "7200"):
        run.out(f"settings put global sim_clock_speed {bad}")  # stored, as Android would
        assert clock.speed == 60
    run.out("settings delete global sim_clock_speed")
    assert clock.speed == 1
    run.out("svc wifi disable")
    assert providers.setting("global", "wifi_on") == "0"


def test_sqlite3(run, providers) -> None:
    providers.insert("content://sms/inbox", {"address": "555", "body": "a|b"})
    providers.insert("content://sms/inbox", {"address": "556", "body": None})
    assert run.out(f"sqlite3 {SMS_DB} 'select address, body from sms order by _id'") == (
        "555|a|b\n556|\n"
    )
    assert run.out(f"sqlite3 -header {SMS_DB} 'select _id from sms limit 1'") == "_id\n1\n"
    assert run.out(f"sqlite3 -json {SMS_DB} 'select _id, body from sms'") == (
        '[{"_id":1,"body":"a|b"},\n{"_id":2,"body":null}]\n'
    )
    assert run.out(f"sqlite3 {SMS_DB} .tables").split() == [
        "canonical_addresses",
        "sms",
        "sms_conversations",
        "threads",
    ]
    status, _out, err = run(f"sqlite3 {SMS_DB} 'select * from nope'")
    assert status == 1 and "no such table: nope" in err
    run.out("sqlite3 /data/local/tmp/new.db 'create table t(x); insert into t values (1)'")
    assert run.out("sqlite3 /data/local/tmp/new.db 'select x from t'") == "1\n"
    assert run.out("echo 'select 40+2;' | sqlite3 /data/local/tmp/new.db") == "42\n"


def test_ime(run, providers) -> None:
    latin = "com.android.inputmethod.latin/.LatinIME"
    assert run.out("ime list -s") == f"{latin}\n"
    assert run.out(f"ime set {latin}") == f"Input method {latin} selected for user #0\n"
    assert providers.setting("secure", "default_input_method") == latin
    status, _out, err = run("ime set com.android.adbkeyboard/.AdbIME")
    assert status == 255 and "Unknown input method" in err


def test_exec_replaces_the_shell(run) -> None:
    # adb's `logcat` runs `export ANDROID_LOG_TAGS="''" ; exec logcat ...`
    assert run("export ANDROID_LOG_TAGS=\"''\" ; exec logcat -d") == (0, "", "")
    assert run("exec false; echo not reached") == (1, "", "")
    assert run("exec 2>&1; echo still here") == (0, "still here\n", "")
