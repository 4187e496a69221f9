"""Reference solution: sum the 2025 labour column of the laptop's list (paid in 2025,
no material), then Reply (not Reply all) in the phone's Email app."""

import csv
import io
from decimal import Decimal


def solve(env):
    text = env.read_file("laptop", "/home/user/Documents/Steuer/handwerker.csv")
    rows = list(csv.DictReader(io.StringIO(text), delimiter=";"))
    labour = sum(
        Decimal(r["Arbeitskosten"].replace(",", "."))
        for r in rows
        if r["bezahlt am"].startswith("2025-")
    )
    assert labour == Decimal("588.50"), labour
    total = f"{labour:.2f}".replace(".", ",")
    env.launch("phone", "mail")
    env.tap_text("phone", "ESt 2025: Handwerkerleistungen", regex=True)
    env.see("phone", "ohne Material")
    env.tap_text("phone", "Reply")
    env.type(
        "phone",
        f"Liebe Frau Lang, die Arbeits- und Fahrtkosten der 2025 bezahlten "
        f"Handwerkerrechnungen betragen zusammen {total} € (Elektro Şahin, Malerbetrieb "
        "Ruhnke, Schornsteinfeger Keller). Viele Grüße, Maya Fischer",
    )
    env.tap_desc("phone", "Send")
