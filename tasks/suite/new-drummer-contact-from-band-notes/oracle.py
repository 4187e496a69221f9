"""Reference solution: the new drummer's name and number from the laptop's band notes,
then a new contact through the contacts app's form."""

import re


def solve(env):
    notes = env.read_file("laptop", "/home/user/Documents/band/band-notes.md")
    found = re.search(r"Drums \(from March\): \*\*(\w+) (\w+)\*\*, ([\d-]+)", notes)
    assert found, notes
    first, last, number = found.groups()
    env.launch("phone", "contacts")
    env.tap_desc("phone", "Add contact")
    env.tap_text("phone", "First name")
    env.type("phone", first)
    env.tap_text("phone", "Last name")
    env.type("phone", last)
    env.tap_text("phone", "Phone")
    env.type("phone", number)
    env.tap_text("phone", "Save")
    env.see("phone", f"{first} {last}")
