from hypothesis import given, settings
from hypothesis import strategies as st

from rig.redact import MASK, Redactor


def test_registered_secret_is_masked_everywhere():
    r = Redactor(["s3cr3t-value-123"])
    out = r.data({"cmd": "curl -H 'X: s3cr3t-value-123'", "list": ["a s3cr3t-value-123 b"]})
    assert "s3cr3t" not in str(out)
    assert out["cmd"] == f"curl -H 'X: {MASK}'"


def test_token_shapes_are_masked_even_unregistered():
    r = Redactor()
    text = "key sk-abcdefghijklmnopqrstuvwx and Authorization: Bearer abcdef1234567890xyz"
    out = r.text(text)
    assert "sk-abc" not in out and "abcdef1234567890xyz" not in out
    assert "Bearer [REDACTED]" in out


def test_environment_secrets(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "plain-looking-key-42")
    r = Redactor.from_environment()
    assert r.text("echo plain-looking-key-42") == f"echo {MASK}"


def test_ordinary_text_untouched():
    text = 'Dinner with Ana at 19:30 — "Le Petit" 你好 🎉 $HOME `id`'
    assert Redactor(["short"]).text(text) == text


SECRET = "Pa$$-w0rd_42"
PIECES = [
    SECRET,
    "ghp_" + "a1" * 12,
    "sk-" + "Z" * 20,
    "BEARER tok.en~1234567890",
    "AKIA" + "Q" * 16,
    __import__("base64").b64encode(f"user:{SECRET}".encode()).decode(),
    "Pa$$-w0r",
    "bearer",
    "sk-short",
    '你好 🎉 $HOME `id` "q" %s\n',
]


@given(st.lists(st.sampled_from(PIECES) | st.text(max_size=12), max_size=8))
@settings(max_examples=300, deadline=None)
def test_the_quick_check_never_lets_through_what_the_long_way_masks(parts):
    r = Redactor([SECRET])
    value = "".join(parts)
    assert r.text(value) == r._mask_each(value)
