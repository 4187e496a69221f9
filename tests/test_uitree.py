import pytest

from rig.uitree import UiTreeError, parse, render

DUMP = """<?xml version='1.0' encoding='UTF-8' standalone='yes' ?><hierarchy rotation="0">
<node index="0" text="" resource-id="" class="android.widget.FrameLayout" package="p"
 content-desc="" checkable="false" checked="false" clickable="false" enabled="true"
 focusable="false" focused="false" scrollable="false" long-clickable="false" password="false"
 selected="false" bounds="[0,0][1080,2400]">
<node index="0" text="Messages &amp; &quot;chats&quot; 你好" resource-id="p:id/title"
 class="android.widget.TextView" package="p" content-desc="" checkable="false" checked="false"
 clickable="false" enabled="true" focusable="false" focused="false" scrollable="false"
 long-clickable="false" password="false" selected="false" bounds="[0,100][1080,200]" />
<node index="1" text="" resource-id="p:id/send" class="android.widget.ImageButton" package="p"
 content-desc="Send" checkable="false" checked="false" clickable="true" enabled="true"
 focusable="true" focused="false" scrollable="false" long-clickable="false" password="false"
 selected="false" bounds="[900,2200][1060,2360]" />
<node index="2" text="" resource-id="p:id/wifi" class="android.widget.Switch" package="p"
 content-desc="" checkable="true" checked="true" clickable="true" enabled="true" focusable="true"
 focused="false" scrollable="false" long-clickable="false" password="false" selected="false"
 bounds="[800,400][1000,480]" />
<node index="3" text="" resource-id="" class="android.view.View" package="p" content-desc=""
 checkable="false" checked="false" clickable="true" enabled="true" focusable="false" focused="false"
 scrollable="false" long-clickable="false" password="false" selected="false" bounds="[5,5][5,9]" />
</node></hierarchy>"""


def test_keeps_actionable_and_textual_elements():
    elements = parse(DUMP)
    assert [e.cls for e in elements] == ["TextView", "ImageButton", "Switch"]
    title, send, wifi = elements
    assert title.text == 'Messages & "chats" 你好'
    assert send.desc == "Send" and send.center == (980, 2280)
    assert wifi.checked is True
    lines = render(elements).splitlines()
    assert lines[1] == "[1] ImageButton desc='Send' id=send clickable [900,2200][1060,2360]"
    assert "checked" in lines[2]


def test_rejects_non_hierarchy():
    with pytest.raises(UiTreeError, match="not XML"):
        parse("<hier")
    with pytest.raises(UiTreeError, match="expected <hierarchy>"):
        parse("<html/>")
