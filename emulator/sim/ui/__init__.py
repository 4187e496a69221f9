"""The virtual phone's screen: a small view toolkit, the built-in apps, and the u2 agent.

``UiSystem(ctx)`` implements :class:`emulator.sim.contracts.Ui`;
``start_u2_agent(ctx)`` serves uiautomator2's JSON-RPC for ``tcp:9008``.
"""

from emulator.sim.ui.system import UiSystem
from emulator.sim.ui.u2agent import start_u2_agent, stop_u2_agent

__all__ = ["UiSystem", "start_u2_agent", "stop_u2_agent"]
