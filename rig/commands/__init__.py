"""One module per CLI group; each owns its options and calls into the library."""
