"""How an episode's world comes to be, and what becomes of it at the end.

Three ways lead to the same seeded world (docs/checkpoints.md): fresh (allocate → clock →
seed → baseline, then a checkpoint saved when checkpoints are on), restored from a
checkpoint, or a suite worker's kept phones reset in place to it; each is trusted only
when its digest matches. A world that may be kept is handed to the worker's next trial
at the end instead of closed. Apart from :mod:`rig.episode` so that the episode reads as
its phases and this as the ways (and the fallbacks between them) a world is set up.
"""

from __future__ import annotations

import base64
import json
import shutil
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path
from typing import Any

from hostproc.reaper import reap_orphans
from rig import snapshot
from rig import warm as warm_worlds
from rig.config import RigConfig
from rig.recorder import Recorder
from rig.world import DeviceKind, World, make_backend
from scoring.evaluate import Scorer
from tasks.folder import LoadedTask

Progress = Callable[[str], None]


def allocate(
    task: Any,
    config: RigConfig,
    workdir: Path,
    saved: Mapping[str, Path] | None = None,
    dirs: Mapping[str, Path] | None = None,
) -> World:
    """Bring up one device per task role with the configured backend for its kind.

    First the one reaper stops what crashed runs left behind (VMs, phones, emulators,
    service hosts whose owner is gone), so they never pile up across episodes. A role in
    ``saved`` starts from that saved state (a world checkpoint's) instead of a clean one;
    a role in ``dirs`` lives there instead of ``workdir/ROLE`` (a phone a worker may keep).
    """
    reap_orphans()
    warm_worlds.remove_stale_scratch()  # the kept phones' folders of a killed suite worker
    world = World(now=task.now, timezone=task.timezone)
    backends = {kind: _backend(kind, config) for kind in dict.fromkeys(task.devices.values())}

    def acquire(role: str, kind: DeviceKind) -> Any:
        role_dir = (dirs or {}).get(role) or workdir / role
        role_dir.mkdir(parents=True, exist_ok=True)
        if saved and role in saved:
            return backends[kind].acquire(role, role_dir, snapshot=saved[role])
        return backends[kind].acquire(role, role_dir)

    started, failed = by_kind(task.devices, acquire)
    for role, device in started.items():
        world.add(device, owner=backends[task.devices[role]])
    if failed is not None:
        world.close()
        raise failed
    return world


def _backend(kind: DeviceKind, config: RigConfig) -> Any:
    name = config.devices.android if kind == "android" else config.devices.linux
    return make_backend(kind, name, config)


def by_kind(
    roles: Mapping[str, DeviceKind], start: Callable[[str, DeviceKind], Any]
) -> tuple[dict[str, Any], BaseException | None]:
    """``start(role, kind)`` for every role: each kind's roles one after another, the kinds
    side by side (a laptop boots while a phone starts; no backend runs two starts at once).
    Returns what each role's start returned, in ``roles``' order, and the first failure
    (``None`` when none): the roles that did start are the caller's to close.

    The laptops start in the calling thread: a child started from the main thread dies
    with its parent (``PR_SET_PDEATHSIG`` holds for the spawning thread only), and a QEMU
    left behind weighs most; the other kinds' starts run on threads beside it."""
    groups: dict[DeviceKind, list[str]] = {}
    for role, kind in roles.items():
        groups.setdefault(kind, []).append(role)
    done: dict[str, Any] = {}

    def run(kind: DeviceKind) -> None:
        for role in groups[kind]:
            done[role] = start(role, kind)

    here = "linux" if "linux" in groups else next(iter(groups), None)
    failures: list[BaseException] = []
    with ThreadPoolExecutor(max_workers=max(1, len(groups)), thread_name_prefix="allocate") as pool:
        futures = [pool.submit(run, kind) for kind in groups if kind != here]
        if here is not None:
            try:
                run(here)
            except BaseException as exc:
                failures.append(exc)
    failures += [f.exception() for f in futures if f.exception() is not None]
    return {role: done[role] for role in roles if role in done}, next(iter(failures), None)


def _plans(loaded: LoadedTask, progress: Progress) -> Any:
    from tasks.compile import compile_plans

    stream = loaded.stream()
    progress(f"seed: {len(stream)} events")
    return compile_plans(loaded, stream)


class WorldSetup:
    """One episode's world: :meth:`build` sets it up (and says how), :meth:`release` keeps
    it for the worker's next trial or closes it. ``start`` opens each phase of the record
    (the episode's, so a failure is told in the phase it happened in)."""

    def __init__(
        self,
        loaded: LoadedTask,
        config: RigConfig,
        out: Path,
        recorder: Recorder,
        progress: Progress,
        start: Callable[[str], None],
        checkpoint: bool = False,
        reuse: bool = False,
    ) -> None:
        self.loaded, self.task, self.config, self.out = loaded, loaded.task, config, out
        self.recorder, self.progress, self._start = recorder, progress, start
        self.checkpoint = checkpoint
        # A suite worker's: keep the phones running after this trial, and reset a kept
        # world in place when the next trial needs the same checkpoint (rig/warm.py).
        self.reuse = reuse and checkpoint
        self._scratch: Path | None = None  # where kept phones live, outside the record
        self._key: str | None = None
        self._resettable = False  # a checkpoint of this very world exists
        self._digest: str | None = None
        self._seed_digests: dict[str, Any] = {}
        self.world: World | None = None
        self.scorer: Scorer | None = None
        self.baseline: dict[str, Any] | None = None

    def build(self) -> dict[str, Any]:
        """Set the world up, seeded and with its safety baseline; returns how: ``{"world":
        "fresh" | "restored" | "reset", "seconds", "reason"?, "key"?, …}``."""
        started = time.monotonic()
        info: dict[str, Any] = {"world": "fresh", "checkpoint": self.checkpoint}
        if self.checkpoint:
            self._checkpointed_setup(info)
        else:
            self._fresh_setup()
        info["seconds"] = round(time.monotonic() - started, 3)
        return info

    def _checkpointed_setup(self, info: dict[str, Any]) -> None:
        """Restore the task's checkpoint, or seed fresh (and save one) and say why."""
        from rig import checkpoint as ckpt

        task = self.task
        reason = ckpt.unsupported(task, self.config)
        if reason:
            info["reason"] = reason
            self._fresh_setup()
            return
        store = ckpt.Store.of(self.config)
        parts = ckpt.key_parts(self.loaded, self.config)
        key = info["key"] = ckpt.key_of(parts)
        try:
            store.dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:  # no place for checkpoints: the trial seeds fresh, as without
            info["reason"] = f"checkpoints unavailable ({type(exc).__name__}: {exc}); seeding fresh"
            self._fresh_setup()
            return
        self._key = key
        if self.reuse and self._reset_setup(store, key, info):
            return
        manifest = None
        waited = time.monotonic()
        with store.lock(key):
            # Another worker building this checkpoint holds the lock: the wait is shown.
            info["lock_wait_s"] = round(time.monotonic() - waited, 3)
            try:
                manifest = store.manifest(key)
            except ckpt.CheckpointError as exc:
                _note(info, f"{exc}; seeding fresh")
            if manifest is None:
                self._fresh_setup()
                self._save_checkpoint(store, key, parts, info)
                return
        attempt = time.monotonic()
        try:
            self._restore_setup(store, key, manifest)
            info["world"] = "restored"
            self._resettable = True
            return
        except Exception as exc:
            _note(info, f"restore failed ({type(exc).__name__}: {exc}); seeding fresh")
            info["restore_attempt_s"] = round(time.monotonic() - attempt, 3)
            self._drop_world()
            self._new_scratch()
        with store.lock(key):
            self._fresh_setup()
            self._save_checkpoint(store, key, parts, info)

    def _reset_setup(self, store: Any, key: str, info: dict[str, Any]) -> bool:
        """Reset the world this worker kept from its last trial, if it is ``key``'s: each
        phone loads the checkpoint's snapshot through its console (no new process), the
        services' host serves their saved states in place, the laptops start from theirs,
        then the same clock, clients and digest check as a restore. False (and the reason
        noted) when there is none or it failed; a world that failed is closed, never used."""
        from rig import checkpoint as ckpt

        warm = warm_worlds.take(key)
        if warm is None:
            return False
        self._scratch = warm.scratch
        attempt = time.monotonic()
        try:
            with store.lock(key):  # not while another worker rebuilds it
                manifest = store.manifest(key)
            if manifest is None:
                raise ckpt.CheckpointError(f"checkpoint {key} is gone")
            self._restore_setup(store, key, manifest, warm.world)
        except Exception as exc:
            info["reason"] = f"reset failed ({type(exc).__name__}: {exc}); restoring"
            info["reset_attempt_s"] = round(time.monotonic() - attempt, 3)
            if self.world is None:  # the reset failed before it took the world
                self.world = warm.world
            self._drop_world()
            self._new_scratch()
            return False
        info["world"] = "reset"
        self._resettable = True
        return True

    def _new_scratch(self) -> None:
        """Forget the kept phones' folder (their world is closed): the next gets a new one."""
        if self._scratch is not None:
            shutil.rmtree(self._scratch, ignore_errors=True)
            self._scratch = None

    def _dirs(self) -> dict[str, Path] | None:
        """Where the phones live when this world may be kept: a scratch folder outside the
        record (the record gets a copy at the end, as the phone was then)."""
        if not self.reuse:
            return None
        if self._scratch is None:
            self._scratch = warm_worlds.new_scratch()
        kinds = self.task.devices.items()
        return {role: self._scratch / role for role, kind in kinds if kind == "android"}

    def _drop_world(self) -> None:
        world, self.world = self.world, None
        if world is not None:
            try:
                world.close()
            except Exception as exc:
                self.recorder.set(release_error=f"{type(exc).__name__}: {exc}")

    def _save_checkpoint(self, store: Any, key: str, parts: Any, info: dict[str, Any]) -> None:
        """Keep the freshly seeded world for later trials; failing to is a note, not an error."""
        started = time.monotonic()
        meta = {"digest": self._digest, "seed_digests": self._seed_digests}
        try:
            info["saved_bytes"] = store.save(key, parts, self.world, meta, self.baseline or {})
            info["saved"] = True
            self._resettable = True
        except Exception as exc:  # a full disk, a console that said KO: the trial goes on
            info["saved"] = False
            info["save_error"] = f"{type(exc).__name__}: {exc}"
        info["save_s"] = round(time.monotonic() - started, 3)

    def _restore_setup(
        self, store: Any, key: str, manifest: dict[str, Any], warm: World | None = None
    ) -> None:
        """allocate (each phone started from its saved state, or ``warm``'s running phones
        reset to it) → clock → digest check.

        The baseline is the checkpoint's (read once, after the first seed); the restored
        world is trusted only when a snapshot without file texts digests like it."""
        from rig import checkpoint as ckpt

        task = self.task
        how = "reset" if warm is not None else "restored"
        verb = "resetting the kept world to" if warm is not None else "restoring"
        self.progress(f"allocate: {verb} the checkpoint " + key[:12])
        self._start("allocate")
        saved = store.device_states(key, manifest, task.devices, check=False)
        services = store.service_states(key, manifest, task.services, check=False)
        stored = store.baseline(key, manifest)
        # Hashing the saved files (a laptop's RAM and disk are hundreds of MB) runs beside
        # starting from them; the world is used only when both the files and its digest match.
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="verify") as pool:
            verified = pool.submit(store.verify, key, manifest, task.devices, task.services)
            try:
                self._restore_world(manifest, saved, services, stored, warm, how)
                verified.result()
            except BaseException:
                # A saved file that differs is the cause, whatever it broke on the way.
                found = verified.exception()
                if found is not None:
                    raise found from None
                raise
        if self._digest != manifest["digest"]:
            raise ckpt.CheckpointError(
                f"checkpoint {key}: the restored world's digest differs from the checkpoint's"
            )
        stack = self.world.service_stack
        if stack is not None and stack.names:
            # The services' audit logs as the checkpoint's, as a fresh world's stood then.
            self.scorer.audit_from(stack.rewind_audit())

    def _restore_world(
        self,
        manifest: dict[str, Any],
        saved: dict[str, Path],
        services: Any,
        stored: dict[str, Any],
        warm: World | None,
        how: str,
    ) -> None:
        """The restore's phases, from the saved states: allocate → clock → clients → digest."""
        rec = self.recorder
        world = self._allocate_world(saved, services, warm)
        rec.phase_end("allocate", world=how)
        self._start("clock")
        world.freeze_clocks()  # the snapshot carries its own clock: set the task's again
        rec.phase_end("clock")
        self._start("seed")
        self._seed_digests = dict(manifest.get("seed_digests") or {})
        for role, digest in self._seed_digests.items():
            rec.json(f"seed/{role.replace(':', '-')}-digest.json", digest)
        if world.services:
            # The devices' clients point at this world's ports (the saved ones held the
            # first world's): set them up again, as after a fresh seed.
            self._connect_clients(world, restored=True)
        rec.phase_end(
            "seed",
            world=how,
            digests={r: d.get("digest") or d.get("sha256") for r, d in self._seed_digests.items()},
        )
        self._baseline_phase(stored)

    def _reset_devices(self, world: World, saved: Mapping[str, Path]) -> None:
        """Each kept phone to its saved state through its console; each laptop (stopped at
        the last trial's end) started again from its saved state, as a restore does."""
        from rig import checkpoint as ckpt

        kept = set(world.devices)
        kinds = {k: kind for k, kind in self.task.devices.items() if k not in kept}
        backends = {kind: _backend(kind, self.config) for kind in dict.fromkeys(kinds.values())}

        def reset(role: str, kind: DeviceKind) -> Any:
            if role in kept:
                ckpt.load_phone(world[role], saved[role])
                return None
            role_dir = self.out / "devices" / role
            role_dir.mkdir(parents=True, exist_ok=True)
            return backends[kind].acquire(role, role_dir, snapshot=saved[role])

        started, failed = by_kind(self.task.devices, reset)
        for role, device in started.items():
            if role not in kept:
                world.add(device, owner=backends[kinds[role]])
        if failed is not None:
            raise failed  # the caller closes the world, the laptops started here with it

    def _baseline_phase(self, stored: dict[str, Any] | None = None) -> None:
        """The safety baseline and the state snapshot, and their digest. With ``stored`` (a
        checkpoint's snapshot) the world is read without file texts, for the digest only."""
        from rig.checkpoint import world_digest

        task, rec, world = self.task, self.recorder, self.world
        self._start("baseline")
        self.scorer = scorer = Scorer(task, world)
        started = time.monotonic()
        # The safety baseline and the state snapshot read the same still world: side by side
        # (each waits on its own connections), which saves the shorter of the two.
        with ThreadPoolExecutor(max_workers=2, thread_name_prefix="baseline") as pool:
            safety_read = pool.submit(scorer.baseline)
            state = snapshot.take(world, task, texts=stored is None)
            safety = safety_read.result()
        if stored is None:
            self.baseline = state
        else:
            self.baseline = {**stored, "taken": snapshot.now_iso()}
        self._digest = world_digest(safety, state)
        snap_s = round(time.monotonic() - started, 3)
        rec.json("state/baseline.json", self.baseline)
        rec.phase_end("baseline", snapshot_s=snap_s, digest=self._digest)

    def _fresh_setup(self) -> None:
        task, rec = self.task, self.recorder
        self.progress("allocate: " + ", ".join(f"{r} ({k})" for r, k in task.devices.items()))
        self._start("allocate")
        world = self._allocate_world()
        rec.phase_end("allocate")

        self._start("clock")
        world.freeze_clocks()
        rec.phase_end("clock")

        self._start("seed")
        digests = {}
        plans = _plans(self.loaded, self.progress)
        # What no device could hold (service events, fields a primitive lacks) is recorded.
        rec.json("seed/skipped.json", plans.skipped_record())
        if plans.skipped:
            self.progress(plans.summary())
        for role, plan in plans.items():
            rec.json(f"seed/{role}-plan.json", plan_json(plan))
        # Devices seed side by side: a phone over adb, a laptop over SSH, neither waits
        # for the other (no process is started here, so threads are safe).
        workers = max(1, len(plans) + len(plans.services))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="seed") as pool:
            running = {}
            for role, plan in plans.items():
                self.progress(f"seed: {role}")
                running[role] = pool.submit(world[role].seed, plan)
            for name, plan in plans.services.items():
                _record_service_plan(rec, name, plan)
                self.progress(f"seed: service {name}")
                running[f"service:{name}"] = pool.submit(world.services[name].seed, plan)
            # "[k/n]": the display draws a bar (with an estimate of the rest) as each is verified.
            roles = {future: role for role, future in running.items()}
            self.progress(f"[0/{len(roles)}] seeding " + ", ".join(running))
            for k, future in enumerate(as_completed(roles), 1):
                role = roles[future]
                digests[role] = dict(future.result())
                rec.json(f"seed/{role.replace(':', '-')}-digest.json", digests[role])
                self.progress(f"[{k}/{len(roles)}] seeded and verified: {role}")
        if world.services:
            self._connect_clients(world)
        rec.phase_end(
            "seed", digests={r: d.get("digest") or d.get("sha256") for r, d in digests.items()}
        )

        self._seed_digests = digests
        self._baseline_phase()

    def _allocate_world(
        self,
        saved: Mapping[str, Path] | None = None,
        services: Any = None,
        warm: World | None = None,
    ) -> World:
        """The devices (from ``saved`` states, when given; ``warm``'s kept phones reset to
        them) and the services (from the ``(folder, accounts)`` a checkpoint saved, when
        given). A services host that needs no device comes up while the devices start,
        side by side; the bank waits for the phone it texts (unless it is kept running)."""
        from rig.services.stack import needs_devices, services_for

        task, rec = self.task, self.recorder
        folder, accounts = services if services is not None else (None, None)
        out = self.out / "services"
        stack = None
        # A kept world's phones are up already: even the bank can start beside their reset.
        if task.services and (warm is not None or not needs_devices(task.services)):
            stack = services_for(self.loaded, out, warm, folder, accounts)
            stack.launch(adopt=warm.service_stack if warm is not None else None)
        try:
            if warm is None:
                devices = self.out / "devices"
                self.world = world = allocate(task, self.config, devices, saved, self._dirs())
            else:
                self.world = world = warm
                self._reset_devices(warm, saved or {})
        except BaseException:
            if stack is not None:
                stack.stop()
            raise
        if task.services:
            restored = ""
            if folder is not None:
                restored = " (reset)" if warm is not None else " (restored)"
            self.progress("allocate: services " + ", ".join(task.services) + restored)
            if stack is None:
                stack = services_for(self.loaded, out, world, folder, accounts)
                stack.start()
            else:
                stack.wait_ready()
            world.attach_services(stack)
            rec.json("services.json", {n: _public(s.endpoint()) for n, s in world.services.items()})
        return world

    def _connect_clients(self, world: World, restored: bool = False) -> None:
        """Each device's own clients on the (seeded) services, as a person sets them up."""
        from rig.service_clients import connect_devices

        self.progress("seed: service accounts on the devices")
        persona = self.loaded.persona
        name = persona.name if persona else ""
        clients = connect_devices(world, name, self.recorder.redactor, restored=restored)
        self.recorder.json("seed/service-clients.json", clients)

    def release(self, status: str) -> None:
        """The episode is over: keep the world for the worker's next trial, or close it; the
        record gets the phones' folders either way."""
        kept = self._keep_world(status)
        if self.world is not None and not kept:
            try:
                self.world.close()
            except Exception as exc:  # a device that will not stop is worth a note, not a verdict
                self.recorder.set(release_error=f"{type(exc).__name__}: {exc}")
        self._record_phones()
        if not kept:
            self._new_scratch()

    def _keep_world(self, status: str) -> bool:
        """Hand the phones to this worker's next trial (rig/warm.py) instead of stopping
        them: never after an infra error or a rig error, only a world with a checkpoint to
        reset to (the reset checks it again). Laptops and services stop now (they start
        again from their saved states)."""

        world, task = self.world, self.task
        if not (self.reuse and self._resettable and world is not None and self._key):
            return False
        if status in ("infra_error", "error") or "android" not in task.devices.values():
            return False
        try:
            for role, kind in task.devices.items():
                if kind != "android":
                    world.release(role)
            stack = world.service_stack
            if stack is not None and not stack.park():  # its host may serve the next trial's
                world.stop_services()
        except Exception as exc:
            self.recorder.set(release_error=f"{type(exc).__name__}: {exc}")
            return False
        assert self._scratch is not None
        warm_worlds.keep(warm_worlds.Warm(self._key, world, self._scratch))
        self.recorder.set(world_kept=True)
        return True

    def _record_phones(self) -> None:
        """The record keeps each phone's folder as it was at the end, like any device's;
        a phone a worker may keep lives outside the record, so it is copied in."""
        if self._scratch is None:
            return
        for role, kind in self.task.devices.items():
            src = self._scratch / role
            if kind != "android" or not src.is_dir():
                continue
            try:
                shutil.copytree(
                    src,
                    self.out / "devices" / role,
                    symlinks=True,
                    dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("snapshots", ".fs-*", "console_token"),
                )
            except OSError as exc:  # evidence, never a reason to lose the verdict
                self.recorder.set(phone_copy_error=f"devices/{role}: {type(exc).__name__}: {exc}")


def _note(info: dict[str, Any], reason: str) -> None:
    """Add ``reason`` to the record's, after one already there (a reset that failed)."""
    info["reason"] = f"{info['reason']}; then {reason}" if info.get("reason") else reason


def _record_service_plan(rec: Recorder, name: str, plan: Any) -> None:
    """What a service is seeded with: the mail index, the DAV collection as imported, the
    web services' rows, or the chat's rooms and history."""
    if hasattr(plan, "tables"):  # bank, shop, parcels
        rec.json(f"seed/service-{name}-plan.json", {"tables": plan.tables})
        return
    if hasattr(plan, "rooms"):  # chat
        history = [
            {"id": m.id, "t": m.t.isoformat(), "room": m.room, "sender": m.sender, "body": m.body}
            for m in plan.messages
        ]
        rec.json(f"seed/service-{name}-plan.json", {"rooms": plan.rooms, "messages": history})
        return
    if hasattr(plan, "messages"):
        index = [
            {
                "folder": m.folder,
                "message_id": m.message_id,
                "flags": list(m.flags),
                "date": m.when.isoformat(),
                "bytes": len(m.raw),
            }
            for m in plan.messages
        ]
        rec.json(f"seed/service-{name}-plan.json", {"messages": index})
    else:
        rec.text(f"seed/service-{name}-plan.{'ics' if name == 'calendar' else 'vcf'}", plan.text)


def _public(endpoint: dict[str, Any]) -> dict[str, Any]:
    """A service endpoint for the record: everything but the password."""
    return {k: v for k, v in endpoint.items() if k != "password"}


def _binary_safe(value: Any) -> Any:
    """JSON-able data where bytes that are not UTF-8 become ``{"base64": …}``."""
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            return {"base64": base64.b64encode(value).decode("ascii")}
    if isinstance(value, dict):
        return {k: _binary_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_binary_safe(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def plan_json(plan: Any) -> Any:
    """A seed plan as JSON (for the record and the checkpoint key); binary file content
    as base64, anything else unknown as its repr."""
    if hasattr(plan, "model_dump"):
        try:
            return plan.model_dump(mode="json")
        except UnicodeDecodeError:  # a placed binary file (a git object, a PDF)
            return _binary_safe(plan.model_dump(mode="python"))
    try:
        from dataclasses import asdict, is_dataclass

        if is_dataclass(plan):
            return json.loads(json.dumps(asdict(plan), default=str))
    except TypeError:
        pass
    return repr(plan)
