"""Host processes the rig starts: free ports, dying with the parent, labels, the reaper.

The bottom of the house: the device packages, the services and the controller
all start processes (QEMU, virtual phones, emulators, service hosts) and share
these few helpers, so there is one ``free_port``, one parent-death hook and one
reaper. This package imports nothing else of clawrig.
"""
