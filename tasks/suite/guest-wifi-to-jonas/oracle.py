"""Reference solution: read the Wi-Fi file on the laptop, text Jonas the guest password."""

import re


def solve(env):
    wifi = env.shell("laptop", "cat ~/Documents/Haushalt/WLAN.txt")
    m = re.search(r"^Gäste-WLAN .*pw\s+(\S+)", wifi.stdout, re.M)
    assert m, wifi.stdout
    env.launch("phone", "messages")
    env.tap_text("phone", "Jonas Fischer")
    env.see("phone", "guest wifi password")
    env.tap_text("phone", "Text message")
    env.type("phone", f'Guest Wi-Fi "Fischer-Gast", password: {m.group(1)}')
    env.tap_text("phone", "Send")
