"""An agent's hands for the tests: every move is an Env action (ui_tree, tap, type, key,
launch, screenshot), as a model would send it, on the phone of a TaskEnv's world."""

from __future__ import annotations

from typing import Any

from rig.uitree import Element


class Hands:
    def __init__(self, env: Any, device: str = "phone") -> None:
        self.env, self.device = env, device

    def step(self, **action: Any) -> Any:
        obs, _done, _info = self.env.step({"device": self.device, **action})
        assert not obs.error, f"{action} failed: {obs.error}"
        return obs

    def tree(self) -> list[Element]:
        """The UI tree of the last action's observation (the env adds it to every GUI
        action's), or a ``ui_tree`` action when there is none."""
        elements = self.env.episode.env.elements(self.device)
        if not elements:
            self.step(action="ui_tree")
            elements = self.env.episode.env.elements(self.device)
        return elements

    def refresh_tree(self) -> list[Element]:
        self.step(action="ui_tree")
        return self.env.episode.env.elements(self.device)

    def texts(self) -> list[str]:
        return [e.text for e in self.tree() if e.text]

    def find(self, **want: str) -> list[Element]:
        out = []
        for e in self.tree():
            if "text" in want and e.text != want["text"]:
                continue
            if "contains" in want and want["contains"] not in e.text:
                continue
            if "rid" in want and e.resource_id.rsplit("/", 1)[-1] != want["rid"]:
                continue
            if "desc" in want and e.desc != want["desc"]:
                continue
            out.append(e)
        return out

    def tap(self, **want: str) -> None:
        """Tap the first element that matches, scrolling down a page at a time to find it."""
        hits = self.find(**want)
        for _ in range(3):
            if hits:
                break
            self.key("page_down")
            hits = self.find(**want)
        assert hits, f"nothing on screen matches {want}: {self.texts()}"
        self.step(action="tap", element=hits[0].id)

    def type(self, text: str) -> None:
        self.step(action="type", text=text)

    def key(self, name: str) -> None:
        self.step(action="key", key=name)

    def launch(self, app: str) -> None:
        self.step(action="launch", app=app)

    def screenshot(self) -> bytes:
        return self.step(action="screenshot").screenshot_png
