"""What a tool call returns, without a world: text survives JSON, images stay PNG, errors flag."""

from __future__ import annotations

import base64
import io
import json

from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from rig.actions import tool_specs
from rig.mcp_server import GET_TASK, observation_result, tool_list
from rig.observation import Observation

PIECES = ['"', "'", "$", "`", "%", "\\", "\n", "\t", "{}", "🦊", "张伟", "é", "\u200b"]
HOSTILE = st.lists(
    st.one_of(st.sampled_from(PIECES), st.characters(blacklist_categories=("Cs",))),
    max_size=60,
).map("".join)


@given(text=HOSTILE, stdout=HOSTILE)
def test_observation_text_survives_the_tool_result_byte_for_byte(text, stdout):
    obs = Observation(device="laptop", action="shell", text=text, stdout=stdout, exit_code=0)
    result = observation_result(obs, {"steps": 3})
    sent = json.loads(result.content[0].text)
    assert sent["text"] == text and sent["stdout"] == stdout
    assert result.structured_content["text"] == text and result.structured_content["steps"] == 3
    # and through the wire format the SDK writes
    wire = json.loads(result.model_dump_json(by_alias=True))
    assert json.loads(wire["content"][0]["text"])["stdout"] == stdout
    assert not result.is_error


def test_screenshot_is_png_image_content_and_errors_are_flagged():
    buf = io.BytesIO()
    Image.new("RGB", (4, 8), (1, 2, 3)).save(buf, format="PNG")
    shot = observation_result(
        Observation(device="phone", action="screenshot", screenshot_png=buf.getvalue()), {}
    )
    image = next(c for c in shot.content if c.type == "image")
    assert image.mime_type == "image/png"
    assert Image.open(io.BytesIO(base64.b64decode(image.data))).size == (4, 8)
    assert "screenshot_png" not in shot.content[0].text  # the bytes go once, as the image

    bad = observation_result(Observation.failure("(5000, 1) is off the screen", "phone"), {})
    assert bad.is_error and "off the screen" in bad.content[0].text


def test_tools_are_the_action_schema_plus_get_task():
    tools = {t.name: t for t in tool_list()}
    specs = {s["name"]: s for s in tool_specs()}
    assert set(tools) == set(specs) | {GET_TASK}
    for name, spec in specs.items():
        assert tools[name].input_schema == spec["parameters"]
        assert tools[name].input_schema["type"] == "object"
    assert tools["screenshot"].annotations.read_only_hint is True
    assert tools["tap"].annotations.read_only_hint is False
