"""Staging: where a publish run extracts to, and what survives an interrupted publish.

Each run gets its own folder, ``.setpiece/publish/<asset>/<run id>/`` in the workspace
(never inside the asset), with a ``manifest.json`` written atomically after every step:
the asset, the planned version, the target repo, the staged files per instance and the
run's state (``extracting`` -> ``extracted`` -> ``integrating`` -> ``published``). Two
runs never share a folder, so two artists extracting at once never mix files.

Integration takes an exclusive lock per asset (``.setpiece/publish/<asset>/integrate.lock``,
created with ``O_EXCL``): a second integrate of the same asset in the same workspace is
refused with who holds it; a lock left by a process that died is taken over.
``setpiece publish NAME --resume`` finishes the newest run that was not published.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from setpiece.core.errors import SetpieceError
from setpiece.core.fsutil import atomic_write_text
from setpiece.core.naming import normalize

MANIFEST = "manifest.json"
LOCK = "integrate.lock"


def publish_root(ws: Any, asset: str) -> Path:
    return Path(ws.state_dir) / "publish" / normalize(asset)


@dataclass
class Staging:
    """One run's staging folder and manifest."""

    path: Path
    data: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def create(cls, ws: Any, asset: str, **data: Any) -> Staging:
        root = publish_root(ws, asset)
        root.mkdir(parents=True, exist_ok=True)
        run_id = time.strftime("%Y%m%d-%H%M%S") + f"-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        path = root / run_id
        path.mkdir()
        staging = cls(path, {
            "asset": asset,
            "run": run_id,
            "state": "extracting",
            "created": time.time(),
            "user": _user(),
            "machine": socket.gethostname(),
            "instances": {},
            "steps": [],
            **data,
        })
        staging.save()
        return staging

    @classmethod
    def load(cls, path: Path) -> Staging:
        try:
            data = json.loads((path / MANIFEST).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise SetpieceError(f"staging folder {path} has no readable {MANIFEST} ({exc})")
        return cls(path, data)

    # -- manifest --------------------------------------------------------------
    def save(self) -> None:
        atomic_write_text(self.path / MANIFEST, json.dumps(self.data, indent=2, sort_keys=True))

    @property
    def state(self) -> str:
        return str(self.data.get("state", ""))

    def set_state(self, state: str, **extra: Any) -> None:
        self.data["state"] = state
        self.data.update(extra)
        self.save()

    def step_done(self, step: str) -> None:
        steps = list(self.data.get("steps", []))
        if step not in steps:
            steps.append(step)
        self.data["steps"] = steps
        self.save()

    def done(self, step: str) -> bool:
        return step in self.data.get("steps", [])

    # -- files -----------------------------------------------------------------
    def dir(self, *parts: str) -> Path:
        folder = self.path.joinpath(*parts)
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def add_file(self, instance: str, kind: str, path: Path, dest: str) -> None:
        """Record a staged file: ``dest`` is its path inside the asset package."""
        rel = Path(path).resolve().relative_to(self.path.resolve()).as_posix()
        entry = self.data.setdefault("instances", {}).setdefault(instance, {"files": []})
        entry["files"] = [f for f in entry["files"] if f["dest"] != dest]
        entry["files"].append({"kind": kind, "staged": rel, "dest": dest})
        self.save()

    def files(self) -> list[dict[str, str]]:
        out: list[dict[str, str]] = []
        for name, entry in sorted(self.data.get("instances", {}).items()):
            for f in entry.get("files", []):
                out.append({"instance": name, **f})
        return out

    def remove(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)


def pending(ws: Any, asset: str) -> list[Staging]:
    """Runs of ``asset`` that extracted everything but were not published, newest first."""
    root = publish_root(ws, asset)
    out: list[Staging] = []
    if not root.is_dir():
        return out
    for child in sorted(root.iterdir(), reverse=True):
        if not (child / MANIFEST).is_file():
            continue
        try:
            staging = Staging.load(child)
        except SetpieceError:
            continue
        if staging.state in ("extracted", "integrating"):
            out.append(staging)
    return out


class IntegrateLock:
    """Exclusive per-asset integrate lock in the workspace (stale locks are taken over)."""

    def __init__(self, ws: Any, asset: str, run: str) -> None:
        self.path = publish_root(ws, asset) / LOCK
        self.asset = asset
        self.run = run
        self.held = False

    def _holder(self) -> dict[str, Any]:
        try:
            data: dict[str, Any] = json.loads(self.path.read_text(encoding="utf-8"))
            return data
        except (OSError, ValueError):
            return {}

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        me = {"pid": os.getpid(), "machine": socket.gethostname(), "user": _user(),
              "run": self.run, "since": time.time()}
        for _ in range(2):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                holder = self._holder()
                if holder.get("run") == self.run or _stale(holder):
                    self.path.unlink(missing_ok=True)
                    continue
                since = time.strftime("%H:%M:%S", time.localtime(float(holder.get("since", 0))))
                raise SetpieceError(
                    f"{self.asset} is being published right now by {holder.get('user', '?')} "
                    f"(pid {holder.get('pid', '?')} on {holder.get('machine', '?')}, since "
                    f"{since}): wait for it to finish, then publish again"
                )
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(me, fh)
            self.held = True
            return
        raise SetpieceError(f"could not take the publish lock {self.path}: remove it and retry")

    def release(self) -> None:
        if self.held:
            if self._holder().get("run") == self.run:
                self.path.unlink(missing_ok=True)
            self.held = False


def _stale(holder: dict[str, Any]) -> bool:
    """A lock whose process is gone (same machine), or unreadable."""
    if not holder:
        return True
    if holder.get("machine") != socket.gethostname():
        return False
    try:
        os.kill(int(holder.get("pid", 0)), 0)
    except (ProcessLookupError, ValueError):
        return True
    except PermissionError:
        return False
    return False


def _user() -> str:
    import getpass

    try:
        return getpass.getuser()
    except Exception:
        return "unknown"
