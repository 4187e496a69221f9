"""One module per CLI group; each owns its options and calls into the library.

``task_folder`` is not a group: the task argument and default episode folder they share.
"""
