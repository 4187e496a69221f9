"""What an agent gets back from an action: one shape for every front end."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Observation(BaseModel):
    """The result of one action.

    ``ok`` is False when the action could not be carried out (bad coordinates,
    unknown device, a path outside the allowed roots …); ``error`` says why and
    the episode goes on. ``screenshot_png`` holds the screen after a GUI action
    (PNG bytes, kept out of JSON dumps; the recorder stores the file).
    """

    model_config = ConfigDict(extra="forbid")

    ok: bool = True
    error: str | None = None
    device: str | None = None
    action: str | None = None
    text: str | None = Field(default=None, description="compact UI tree, file content, message")
    stdout: str | None = None
    stderr: str | None = None
    exit_code: int | None = None
    screen_size: tuple[int, int] | None = None
    settled: bool | None = Field(
        default=None,
        description="False when the screen (after a GUI action) was still changing, or "
        "terminal output was still arriving, when it was read",
    )
    cursor: tuple[int, int] | None = Field(
        default=None, description="terminal cursor, 0-based (row, column)"
    )
    scrollback: str | None = Field(default=None, description="terminal lines above the screen")
    alternate_screen: bool | None = None
    screenshot_png: bytes | None = Field(default=None, exclude=True, repr=False)

    def for_model(self) -> dict[str, Any]:
        """JSON-able view without the image bytes (front ends attach the image separately)."""
        return self.model_dump(exclude_none=True)

    @classmethod
    def failure(cls, message: str, device: str | None = None, action: str | None = None):
        return cls(ok=False, error=message, device=device, action=action)
