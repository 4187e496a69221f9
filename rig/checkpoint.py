"""World checkpoints: seed a task's world once, restore it for every later trial.

A checkpoint is what a world looked like after allocate → clock → seed → verify: each
virtual phone's console snapshot (``avd snapshot save``), each QEMU laptop's saved run
state and disk overlay, each service's state folder and logins, the seed digests, the
state baseline and a digest of it and of the safety baseline. It lives under a content
key (the task folder's files, the event stream and compiled plans, :data:`SEED_FORMAT`,
the backends, the VM's booted state), so an edited task never finds a stale world. A
restore starts every device from its saved state and the services from theirs, and is
trusted only when the restored world, read again without file texts, digests like the
saved one; anything else (a missing part, a changed file, a digest that differs) is a
clear reason and a fresh seed.

An AVD's phone is saved and restored the same way (the emulator's console snapshot,
booted with ``-snapshot``), tested against the stand-in SDK only. Attached devices are
seeded fresh with the reason in the record (docs/checkpoints.md).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from filelock import FileLock

# Bump when what seeding writes changes in a way the task files do not show.
SEED_FORMAT = 1
SNAPSHOT_NAME = "clawrig-checkpoint"
MANIFEST = "manifest.json"
BASELINE = "baseline.json"
ACCOUNTS = "accounts.json"  # the services' logins (passwords): never copied into a record
# Bump when what a checkpoint holds or how its digest is taken changes.
CHECKPOINT_FORMAT = 5


class CheckpointError(Exception):
    """A checkpoint that cannot be used (missing part, corrupt, digest differs)."""


def root(cache: Path) -> Path:
    return Path(cache).expanduser() / "checkpoints"


def _canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str).encode("utf-8")


def folder_hash(folder: Path) -> str:
    """sha256 over every file's relative path and bytes (the task as written)."""
    h = hashlib.sha256()
    for path in sorted(p for p in Path(folder).rglob("*") if p.is_file()):
        rel = path.relative_to(folder).as_posix()
        if "__pycache__" in rel:
            continue
        h.update(rel.encode("utf-8") + b"\0")
        h.update(hashlib.sha256(path.read_bytes()).digest())
    return h.hexdigest()


def stream_hash(events: list[Any]) -> str:
    dumped = [e.model_dump(mode="json") if hasattr(e, "model_dump") else e for e in events]
    return hashlib.sha256(_canonical(dumped)).hexdigest()


def unsupported(task: Any, config: Any) -> str | None:
    """Why this task's world cannot be checkpointed here, or ``None`` when it can."""
    kinds = set(task.devices.values())
    if "linux" in kinds and config.devices.linux != "qemu":
        return f"the {config.devices.linux!r} Linux backend is not checkpointed"
    if "android" in kinds and config.devices.android not in ("sim", "avd"):
        return f"the {config.devices.android!r} Android backend is not checkpointed"
    return None


def plans_hash(loaded: Any, events: list[Any]) -> str:
    """sha256 of the compiled seed plans: exactly what seeding would write, so a persona
    or compiler change that leaves the task folder alone still gives another key."""
    from rig.world_setup import plan_json
    from tasks.compile import compile_plans

    plans = compile_plans(loaded, events)
    body = {
        "devices": {role: plan_json(plan) for role, plan in plans.items()},
        "services": {name: plan_json(plan) for name, plan in plans.services.items()},
        "persona": loaded.persona.model_dump(mode="json") if loaded.persona else None,
    }
    return hashlib.sha256(_canonical(body)).hexdigest()


# (task files, everything loaded from them and from outside them) -> (stream, plans) hashes.
# Generating the stream and compiling its plans is most of computing a key; both are pure
# functions of what the task loaded and of the rig's code, which a process cannot change.
_DERIVED: dict[str, tuple[str, str]] = {}


def loaded_hash(loaded: Any, files: str) -> str:
    """sha256 of everything a task's stream and plans are made from: the task folder's
    files (``files``: :func:`folder_hash`), the task as loaded, its persona (which may lie
    outside the folder), plot and live events (with the bytes of placed files), the phone
    and laptop it names, and where it lies."""

    def dump(value: Any) -> Any:
        return value.model_dump(mode="json") if hasattr(value, "model_dump") else value

    body = {
        "files": files,
        "path": str(Path(loaded.path).resolve()),
        "task": dump(loaded.task),
        "persona": dump(loaded.persona),
        "plot": [dump(e) for e in loaded.plot],
        "live": [dump(e) for e in loaded.live],
        "phone": loaded.phone,
        "laptop": loaded.laptop,
    }
    return hashlib.sha256(_canonical(body)).hexdigest()


def derived_hashes(loaded: Any, files: str) -> tuple[str, str]:
    """The stream's and the compiled plans' hashes, computed once per process for the same
    loaded task (:func:`loaded_hash`); an edit anywhere gives another entry."""
    content = loaded_hash(loaded, files)
    hit = _DERIVED.get(content)
    if hit is None:
        events = loaded.stream()
        hit = _DERIVED[content] = (stream_hash(events), plans_hash(loaded, events))
    return hit


def key_parts(loaded: Any, config: Any) -> dict[str, Any]:
    """What a checkpoint is keyed by; any change gives another key."""
    task = loaded.task
    sim = config.android.sim
    files = folder_hash(loaded.path.parent)
    stream, plans = derived_hashes(loaded, files)
    return {
        "seed_format": SEED_FORMAT,
        "checkpoint_format": CHECKPOINT_FORMAT,
        "task_id": task.id,
        "task_files": files,
        "stream": stream,
        "plans": plans,
        "devices": dict(task.devices),
        "backend": {
            "android": config.devices.android,
            "linux": config.devices.linux,
            "size": sim.size,
            "density": sim.density,
        },
        "vm_image": _vm_key(config) if "linux" in task.devices.values() else None,
        "avd": _avd_key(config)
        if "android" in task.devices.values() and config.devices.android == "avd"
        else None,
    }


def _vm_key(config: Any) -> str:
    """The booted VM state (image, its build, accel, RAM, CPUs, QEMU) a saved VM runs on."""
    from linux_vm.backends import QemuBackend

    return QemuBackend(config.backend_config("linux")).snapshot_key()


def _avd_key(config: Any) -> dict[str, Any]:
    """The AVD a saved phone runs on: its name, its config.ini and system image (an emulator
    snapshot loads only on the AVD and image that saved it), and its base snapshot."""
    from emulator.avd import avd_dir, find_sdk

    avd = config.android.avd
    sdk = find_sdk(avd.sdk)
    name = avd.name
    if not name:
        from emulator.avd import list_avds

        found = list_avds(sdk)
        name = found[0] if len(found) == 1 else None
    if not name:
        raise CheckpointError("android.avd.name is not set and the AVD is not the only one")
    ini = (avd_dir(sdk, name) / "config.ini").read_bytes()
    return {
        "name": name,
        "config": hashlib.sha256(ini).hexdigest(),
        "base_snapshot": avd.snapshot,
    }


def key_of(parts: Mapping[str, Any]) -> str:
    return hashlib.sha256(_canonical(parts)).hexdigest()[:32]


def digest_view(state: Mapping[str, Any]) -> dict[str, Any]:
    """What a world digest covers of a state snapshot: every file's hash, every provider and
    app database row, every service object; not when it was taken, nor the texts of files
    (their hashes stand for them), so a snapshot taken without texts digests the same."""
    devices = {}
    for role, dev in (state.get("devices") or {}).items():
        dev = dict(dev)
        dev["files"] = {
            path: {k: v for k, v in entry.items() if k != "text"}
            for path, entry in (dev.get("files") or {}).items()
        }
        dev["errors"] = {k: v for k, v in (dev.get("errors") or {}).items() if k != "texts"}
        devices[role] = dev
    return {"devices": devices, "services": state.get("services") or {}}


def world_digest(scorer_baseline: Any, state: Mapping[str, Any]) -> str:
    """The digest proving a world is the checkpoint's: the safety baseline and the state
    snapshot's :func:`digest_view` (file hashes, provider rows, app databases, services)."""
    body = digest_view(state)
    return hashlib.sha256(_canonical({"safety": scorer_baseline, "state": body})).hexdigest()


@dataclass
class Store:
    """The checkpoints under ``<cache>/checkpoints``, one folder per key."""

    cache: Path
    folder: Path | None = None  # ``paths.checkpoints``, when set

    @classmethod
    def of(cls, config: Any) -> Store:
        return cls(config.paths.cache, config.paths.checkpoints)

    @property
    def dir(self) -> Path:
        return Path(self.folder).expanduser() if self.folder else root(self.cache)

    def path(self, key: str) -> Path:
        return self.dir / key

    @contextmanager
    def lock(self, key: str, timeout: float = 900.0) -> Iterator[None]:
        """Held while a worker looks for, builds or restores ``key``: one build per key."""
        self.dir.mkdir(parents=True, exist_ok=True)
        with FileLock(str(self.dir / f".{key}.lock"), timeout=timeout):
            yield

    def manifest(self, key: str) -> dict[str, Any] | None:
        """The manifest of a complete checkpoint; ``None`` when there is none.

        Raises :class:`CheckpointError` when one is there but unreadable."""
        path = self.path(key) / MANIFEST
        if not path.exists():
            return None
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise CheckpointError(f"checkpoint {key}: unreadable manifest ({exc})") from exc
        if not isinstance(data, dict) or data.get("key") != key or "digest" not in data:
            raise CheckpointError(f"checkpoint {key}: manifest is not this checkpoint's")
        return data

    def save(
        self,
        key: str,
        parts: Mapping[str, Any],
        world: Any,
        meta: Mapping[str, Any],
        baseline: Mapping[str, Any],
    ) -> int:
        """Snapshot every phone through its console, keep the state ``baseline`` (the
        snapshot a restore hands on without reading it again) and ``meta``; returns bytes."""
        tmp = self.dir / f".{key}.{uuid.uuid4().hex[:8]}.tmp"
        tmp.mkdir(parents=True)
        try:
            devices = {}
            for role, device in world.devices.items():
                folder = tmp / "devices" / role
                if device.kind == "linux":
                    _save_vm(device, folder)
                else:
                    _save_phone(device, folder)
                devices[role] = {"kind": device.kind, "files": _file_hashes(folder)}
            services = None
            stack = getattr(world, "service_stack", None)
            if stack is not None and stack.names:
                folder = tmp / "services"
                stack.save_state(folder)
                # The same logins as the first world: the servers' databases hold them.
                accounts = [
                    {"user": a.user, "addresses": list(a.addresses), "password": a.password}
                    for a in stack.accounts
                ]
                secret = folder / ACCOUNTS
                secret.touch(mode=0o600)
                secret.write_text(json.dumps(accounts), encoding="utf-8")
                services = {"names": list(stack.names), "files": _file_hashes(folder)}
            body = _canonical(dict(baseline))
            (tmp / BASELINE).write_bytes(body)
            manifest = {
                "key": key,
                "parts": dict(parts),
                "created": time.time(),
                "devices": devices,
                "services": services,
                "baseline_sha256": hashlib.sha256(body).hexdigest(),
                **meta,
            }
            (tmp / MANIFEST).write_text(
                json.dumps(manifest, ensure_ascii=False, indent=1, default=str), encoding="utf-8"
            )
            target = self.path(key)
            if target.exists():
                shutil.rmtree(target)
            os.replace(tmp, target)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return _size(target)

    def device_states(
        self, key: str, manifest: Mapping[str, Any], roles: Any, check: bool = True
    ) -> dict[str, Path]:
        """Each device's saved state to start from, every file checked against the manifest
        (with ``check`` off the caller runs :meth:`verify` itself, beside the restore)."""
        saved = manifest.get("devices") or {}
        if set(saved) != set(roles):
            raise CheckpointError(f"checkpoint {key}: holds other roles than this world's")
        out = {}
        for role in roles:
            src = self.path(key) / "devices" / role
            if check and _file_hashes(src) != saved[role]["files"]:
                raise CheckpointError(f"checkpoint {key}: the {role} snapshot's files differ")
            out[role] = src
        return out

    def verify(self, key: str, manifest: Mapping[str, Any], roles: Any, names: Any) -> None:
        """Every saved file of the devices and services against the manifest's sha256;
        :class:`CheckpointError` naming the first part that differs."""
        self.device_states(key, manifest, roles)
        self.service_states(key, manifest, names)

    def service_states(
        self, key: str, manifest: Mapping[str, Any], names: Any, check: bool = True
    ) -> tuple[Path, list[Any]] | None:
        """The services' saved state folders and the accounts they hold, checked (unless
        ``check`` is off, as for :meth:`device_states`); ``None`` for a world without
        services."""
        from rig.services.base import Account

        saved = manifest.get("services")
        if not names and not saved:
            return None
        if not saved or sorted(saved.get("names") or []) != sorted(names):
            raise CheckpointError(f"checkpoint {key}: holds other services than this world's")
        folder = self.path(key) / "services"
        if check and _file_hashes(folder) != saved["files"]:
            raise CheckpointError(f"checkpoint {key}: the services' saved files differ")
        try:
            rows = json.loads((folder / ACCOUNTS).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise CheckpointError(f"checkpoint {key}: the services' logins ({exc})") from exc
        accounts = [Account(r["user"], tuple(r["addresses"]), r["password"]) for r in rows]
        return folder, accounts

    def baseline(self, key: str, manifest: Mapping[str, Any]) -> dict[str, Any]:
        """The state snapshot taken after the first seed (texts included), checked."""
        try:
            body = (self.path(key) / BASELINE).read_bytes()
        except OSError as exc:
            raise CheckpointError(f"checkpoint {key}: no baseline ({exc})") from exc
        if hashlib.sha256(body).hexdigest() != manifest.get("baseline_sha256"):
            raise CheckpointError(f"checkpoint {key}: the baseline's bytes differ")
        return json.loads(body)

    def entries(self) -> list[dict[str, Any]]:
        """Every checkpoint: key, task, size in bytes, age in seconds, and whether it reads."""
        out = []
        if not self.dir.is_dir():
            return out
        now = time.time()
        for entry in sorted(self.dir.iterdir()):
            if entry.name.startswith(".") or not entry.is_dir():
                continue
            row: dict[str, Any] = {"key": entry.name, "size": _size(entry)}
            try:
                manifest = self.manifest(entry.name)
            except CheckpointError as exc:
                manifest, row["error"] = None, str(exc)
            created = (manifest or {}).get("created") or entry.stat().st_mtime
            row["task_id"] = ((manifest or {}).get("parts") or {}).get("task_id", "?")
            row["age_s"] = max(0.0, now - float(created))
            out.append(row)
        return out

    def prune(self, older_than_s: float | None = None) -> list[dict[str, Any]]:
        """Delete checkpoints older than ``older_than_s`` (all when ``None``); the deleted."""
        gone = []
        for row in self.entries():
            if older_than_s is not None and row["age_s"] < older_than_s:
                continue
            with self.lock(row["key"], timeout=60):
                shutil.rmtree(self.path(row["key"]), ignore_errors=True)
            (self.dir / f".{row['key']}.lock").unlink(missing_ok=True)
            gone.append(row)
        return gone


def _save_vm(device: Any, folder: Path) -> None:
    from linux_vm.snapshot import save_running

    vm, overlay = getattr(device, "vm", None), getattr(device, "overlay", None)
    if vm is None or overlay is None:
        raise CheckpointError(f"{device.role}: this Linux machine is not a VM of the rig's")
    save_running(vm, Path(overlay), folder)


def _save_phone(device: Any, folder: Path) -> None:
    """``avd snapshot save`` on the phone's console, then the snapshot copied to ``folder``
    and dropped from the phone's (an AVD's shared) snapshots folder."""
    from emulator.console import Console

    port, token = _console(device)
    name = f"{SNAPSHOT_NAME}-{uuid.uuid4().hex[:10]}"  # an AVD's folder is every instance's
    src = Path(device.snapshot_dir) / name
    try:
        with Console(port, token_path=token) as con:
            con.snapshot_save(name)
        if not src.is_dir():
            raise CheckpointError(
                f"{device.role}: the console saved {name!r} but it is not in {src.parent}"
            )
        shutil.copytree(src, folder, symlinks=True)
    finally:
        shutil.rmtree(src, ignore_errors=True)


def load_phone(device: Any, folder: Path) -> None:
    """Put a running phone back into a checkpoint's state: the saved snapshot copied into
    the phone's (an AVD's shared) snapshots folder under a name of its own, ``avd snapshot
    load`` on its console, the copy deleted. The device forgets what it had read."""
    from emulator.console import Console

    port, token = _console(device)
    name = f"{SNAPSHOT_NAME}-load-{uuid.uuid4().hex[:10]}"
    target = Path(device.snapshot_dir) / name
    staging = target.parent / f".{name}.tmp"
    try:
        if getattr(device, "snapshot_load_reads_only", False):
            # The virtual phone only reads the snapshot it loads: a link, not a copy.
            os.symlink(Path(folder).resolve(), target, target_is_directory=True)
        else:  # an emulator may write into the snapshot it loads: never the checkpoint's
            shutil.copytree(folder, staging, symlinks=True)
            os.replace(staging, target)
        with Console(port, token_path=token) as con:
            con.snapshot_load(name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        if target.is_symlink():
            target.unlink()
        else:
            shutil.rmtree(target, ignore_errors=True)
    reloaded = getattr(device, "reloaded", None)
    if reloaded is not None:
        reloaded()


def _console(device: Any) -> tuple[int, Path | None]:
    console = getattr(device, "console", None)
    if console is None or getattr(device, "snapshot_dir", None) is None:
        raise CheckpointError(f"{device.role}: this phone offers no console snapshots")
    return console


def _file_hashes(folder: Path) -> dict[str, str]:
    if not folder.is_dir():
        raise CheckpointError(f"{folder}: missing")
    return {
        p.relative_to(folder).as_posix(): _sha256(p)
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != "snapshot.json"
    }


# The sha256 of each saved file this process has read, by the file's identity and version.
# A file whose inode, size, mtime and ctime are all unchanged has not been written, truncated,
# replaced or had its mode changed since (each moves ctime, which no user can set), so it
# holds the bytes that were hashed: a worker reads a laptop's hundreds of MB of saved state
# once, not at every restore beside the starting VM. Another process hashes them itself.
_hashed: dict[tuple[int, int], tuple[int, int, int, str]] = {}
_SETTLED_NS = 2_000_000_000


def _sha256(path: Path) -> str:
    st = path.stat()
    version = (st.st_size, st.st_mtime_ns, st.st_ctime_ns)
    known = _hashed.get((st.st_dev, st.st_ino))
    if known is not None and known[:3] == version:
        return known[3]
    with path.open("rb") as f:
        digest = hashlib.file_digest(f, "sha256").hexdigest()
    after = path.stat()
    # Kept only when not changed while read, and changed last long enough ago that a change
    # now moves ctime past it (file times advance in coarse ticks of a few milliseconds).
    settled = time.time_ns() - st.st_ctime_ns > _SETTLED_NS
    if settled and (after.st_size, after.st_mtime_ns, after.st_ctime_ns) == version:
        _hashed[(st.st_dev, st.st_ino)] = (*version, digest)
    return digest


def _size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def parse_age(text: str) -> float:
    """``30m``, ``12h``, ``7d``, ``90s`` (or plain seconds) -> seconds."""
    text = text.strip().lower()
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
    try:
        if text and text[-1] in units:
            return float(text[:-1]) * units[text[-1]]
        return float(text)
    except ValueError:
        raise ValueError(f"--older-than: {text!r} is not an age like 90s, 30m, 12h or 7d") from None
