"""What a persona's country decides in a generated life: trades' names and numbers, and
the shape of unknown callers' numbers, so a Toronto life never holds a Berlin plumber."""

from __future__ import annotations

from tasks.persona import Persona

# region -> (plumber's name as the persona would save it, number in a city of that country)
PLUMBERS = {
    "DE": ("Notdienst Klempner", "+49 30 555 0199"),
    "AT": ("Installateur Notdienst", "+43 1 555 0199"),
    "CH": ("Sanitär Notdienst", "+41 44 555 01 99"),
    "CA": ("Emergency Plumber 24/7", "+1 416 555 0199"),
    "US": ("Emergency Plumber 24/7", "+1 212 555 0199"),
    "GB": ("Emergency Plumber", "+44 20 7946 0199"),
    "JP": ("水道修理センター", "+81 3 5555 0199"),
    "NL": ("Loodgieter spoed", "+31 20 555 0199"),
    "FR": ("Plombier urgence", "+33 1 55 55 01 99"),
}


def plumber(persona: Persona) -> tuple[str, str]:
    """The emergency plumber in the persona's country (name, number)."""
    found = PLUMBERS.get(persona.region or "")
    if found is not None:
        return found
    code = persona.calling_code or 1
    return "Emergency Plumber", f"+{code} 555 0199"


def local_number(persona: Persona, area: int, line: int) -> str:
    """An unknown caller's number in the persona's country."""
    return f"+{persona.calling_code or 1} {area} {line}"
