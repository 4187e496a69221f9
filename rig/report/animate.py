"""An animated replay of one device's screens (GIF), touches drawn, for pasting into an issue.

Frames are the recorded screenshots (the "before" already carries the touch
ring), scaled down to ``width`` pixels, each shown for ``frame_ms``; the step
number is written in a corner so a reader can find it in the report.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

from rig.errors import RigError


def frames(run_dir: Path, steps: list[dict], device: str | None) -> list[tuple[int, Path]]:
    out = []
    for s in steps:
        if device is not None and s.get("device") != device:
            continue
        files = s.get("files") or {}
        for key in ("before", "after"):
            if files.get(key) and (run_dir / files[key]).is_file():
                out.append((int(s.get("step", 0)), run_dir / files[key]))
    return out


def write_gif(
    run_dir: Path,
    steps: list[dict],
    out: Path,
    device: str | None = None,
    width: int = 320,
    frame_ms: int = 700,
) -> Path:
    """Write the replay; raises :class:`RigError` when the device has no screenshots."""
    shots = frames(run_dir, steps, device)
    if not shots:
        raise RigError(f"{run_dir}: no screenshots" + (f" of {device}" if device else ""))
    images = []
    for step, path in shots:
        with Image.open(path) as im:
            im = im.convert("RGB")
            small = im.resize(
                (width, max(1, im.height * width // im.width)), Image.Resampling.LANCZOS
            )
        draw = ImageDraw.Draw(small)
        draw.rectangle([0, 0, 58, 16], fill=(0, 0, 0))
        draw.text((4, 3), f"step {step}", fill=(255, 255, 255))
        images.append(small.quantize(colors=128, method=Image.Quantize.MEDIANCUT))
    images[0].save(
        out, save_all=True, append_images=images[1:], duration=frame_ms, loop=0, optimize=False
    )
    return out
