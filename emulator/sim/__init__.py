"""The virtual phone: an Android stand-in that the real adb server connects to.

It speaks the device side of the ADB transport, runs an Android-like shell
over a filesystem kept under its state directory, keeps content providers in
SQLite, and draws its apps with Pillow. See ``contracts.py`` for how the parts
fit together.
"""
