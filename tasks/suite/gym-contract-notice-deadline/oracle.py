"""Reference solution: read the gym contract, subtract the notice period from the term end."""

import re
from datetime import date


def solve(env):
    text = env.shell("laptop", "cat ~/Documents/Verträge/FitX*.txt").stdout
    end = re.search(r"endet am (\d\d)\.(\d\d)\.(\d{4})", text)
    months = re.search(r"Kündigungsfrist: (\d+) Monate", text)
    assert end and months, text
    d, m, y = (int(x) for x in end.groups())
    m -= int(months.group(1))
    last = date(y, m, 1).replace(day=31 if m in (1, 3, 5, 7, 8, 10, 12) else 30)
    env.answer(
        f"Your FitX gym cancellation must reach them by {last:%d.%m.%Y} "
        f"(3 months before the term ends on {d:02d}.{m + 3:02d}.{y})."
    )
