"""clawrig controller: configuration, worlds, episodes, agent front ends, CLI."""

__version__ = "0.1.0"
