"""The job model: a job is a set of layers; a layer is frames run in chunks (OpenCue's shape).

Plain data (dataclasses): ``Job.to_dict()`` / ``Job.from_dict()`` round-trip through JSON or
YAML, and every value is checked on the way in, with a one-line error naming the field
(``job.layers[1] (comp).chunk: ...``). A layer runs either a ``command`` (an argv list with
``{frame}``-style tokens, see ``TOKENS``) or a ``module`` (``"package.module:Class"``,
imported where the chunk runs, never pickled).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from setpiece.core.errors import SetpieceError
from setpiece.core.farm.frames import chunk_frames, format_frames, parse_frames

LayerKind = Literal["frames", "pre", "post", "single"]
DependKind = Literal["layer", "frame"]

KINDS: tuple[str, ...] = ("frames", "pre", "post", "single")
DEPEND_KINDS: tuple[str, ...] = ("layer", "frame")

#: Tokens a command's arguments may hold, replaced per chunk (``{{`` / ``}}`` are literal braces).
TOKENS: dict[str, str] = {
    "frame": "first frame of the chunk",
    "first": "first frame of the chunk",
    "last": "last frame of the chunk",
    "frames": "the chunk's frames, comma-separated (1,2,3)",
    "chunk_range": "the chunk's frames as a range spec (1-3)",
    "range": "the layer's whole frame range spec",
    "chunk": "the chunk's index in the layer (0-based)",
    "job": "the job's name",
    "job_id": "the job's id",
    "layer": "the layer's name",
    "job_dir": "the job's folder (session, logs, state)",
    "log": "this chunk's log file",
}

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
_TOKEN = re.compile(r"\{\{|\}\}|\{([^{}]*)\}")
_MODULE = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_][\w.]*$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _fail(where: str, message: str) -> SetpieceError:
    return SetpieceError(f"{where}: {message}")


def _check_name(where: str, value: Any) -> str:
    if not isinstance(value, str) or not _NAME.match(value):
        raise _fail(where, f"{value!r} is not a valid name: use letters, digits, '_', '-', '.' "
                    "(start with a letter or digit)")
    return value


def _check_env(where: str, value: Any) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise _fail(where, "must be a mapping of variable names to strings")
    out: dict[str, str] = {}
    for key, val in value.items():
        if not isinstance(key, str) or not _ENV_NAME.match(key):
            raise _fail(where, f"{key!r} is not a valid environment variable name")
        if not isinstance(val, (str, int, float)) or isinstance(val, bool):
            raise _fail(f"{where}.{key}", f"{val!r} must be a string")
        out[key] = str(val)
    return out


def expand_tokens(arg: str, values: Mapping[str, str], where: str = "command") -> str:
    """``arg`` with each ``{token}`` replaced; an unknown token is a ``SetpieceError``."""

    def sub(m: re.Match[str]) -> str:
        text = m.group(0)
        if text == "{{":
            return "{"
        if text == "}}":
            return "}"
        name = m.group(1)
        if name not in TOKENS:
            raise _fail(where, f"unknown token {{{name}}} in {arg!r}: use one of "
                        + ", ".join("{" + t + "}" for t in TOKENS) + " (write {{ for a brace)")
        return values.get(name, "")

    return _TOKEN.sub(sub, arg)


@dataclass(frozen=True)
class Depend:
    """This layer waits for ``on``: all of it (``layer``) or, per frame, the chunk of ``on``
    that holds the same frame (``frame``: frame N waits for the chunk of ``on`` holding N)."""

    on: str
    kind: DependKind = "layer"

    def to_dict(self) -> dict[str, str]:
        return {"on": self.on, "kind": self.kind}

    @classmethod
    def from_value(cls, value: Any, where: str) -> Depend:
        if isinstance(value, str):  # shorthand: a layer dependency
            return cls(_check_name(where, value))
        if isinstance(value, Depend):
            return value
        if not isinstance(value, Mapping):
            raise _fail(where, "must be a layer name or {on: LAYER, kind: layer|frame}")
        if True in value and "on" not in value:  # YAML 1.1 reads a bare `on:` key as true
            value = {("on" if k is True else k): v for k, v in value.items()}
        unknown = set(value) - {"on", "kind"}
        if unknown:
            raise _fail(where, f"unknown key {sorted(unknown)[0]!r}: use 'on' and 'kind'")
        kind = value.get("kind", "layer")
        if kind not in DEPEND_KINDS:
            raise _fail(f"{where}.kind", f"{kind!r} is not one of {', '.join(DEPEND_KINDS)}")
        return cls(_check_name(f"{where}.on", value.get("on")), kind)


@dataclass(frozen=True)
class Chunk:
    """One unit of work: ``frames`` of ``layer``, the ``index``-th chunk of that layer."""

    layer: str
    index: int
    frames: tuple[int, ...]

    @property
    def first(self) -> int:
        return self.frames[0]

    @property
    def last(self) -> int:
        return self.frames[-1]

    @property
    def key(self) -> str:
        """``layer/index``: the chunk's id within its job."""
        return f"{self.layer}/{self.index}"

    @property
    def spec(self) -> str:
        return format_frames(self.frames)


@dataclass
class Layer:
    """A set of frames of one job, run in chunks of ``chunk`` frames.

    ``kind``: ``frames`` (the default), ``single`` (one chunk holding every frame of the
    range, whatever ``chunk`` says), ``pre`` (one chunk that every non-pre layer of the job
    waits for), ``post`` (one chunk that waits for every non-post layer).
    Exactly one of ``command`` and ``module`` is set.
    """

    name: str
    command: list[str] | None = None
    module: str | None = None
    args: dict[str, Any] = field(default_factory=dict)
    frames: str = "1"
    chunk: int = 1
    kind: LayerKind = "frames"
    depends: list[Depend] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    service: str | None = None
    cores: float = 1.0
    memory_mb: int | None = None
    env: dict[str, str] = field(default_factory=dict)
    retries: int = 1
    timeout: float | None = None

    def __post_init__(self) -> None:
        self.validate()

    # -- checks ------------------------------------------------------------------
    def validate(self, where: str | None = None) -> None:
        where = where or f"layer {self.name!r}"
        _check_name(f"{where}.name", self.name)
        if (self.command is None) == (self.module is None):
            raise _fail(where, "give exactly one of 'command' (an argv list) and 'module' "
                        "('package.module:Class')")
        if self.command is not None:
            if isinstance(self.command, str) or not isinstance(self.command, Sequence) or not self.command:
                raise _fail(f"{where}.command", "must be a non-empty list of arguments "
                            "(['blender', '-b', 'scene.blend']), not a shell string")
            self.command = [str(a) if isinstance(a, (int, float)) and not isinstance(a, bool) else a
                            for a in self.command]
            for i, arg in enumerate(self.command):
                if not isinstance(arg, str):
                    raise _fail(f"{where}.command[{i}]", f"{arg!r} must be a string")
                expand_tokens(arg, {}, f"{where}.command[{i}]")
        if self.module is not None and (not isinstance(self.module, str) or not _MODULE.match(self.module)):
            raise _fail(f"{where}.module", f"{self.module!r} must be 'package.module:Class'")
        if not isinstance(self.args, Mapping):
            raise _fail(f"{where}.args", "must be a mapping of keyword arguments for the module")
        self.args = dict(self.args)
        if self.kind not in KINDS:
            raise _fail(f"{where}.kind", f"{self.kind!r} is not one of {', '.join(KINDS)}")
        if isinstance(self.frames, int) and not isinstance(self.frames, bool):
            self.frames = str(self.frames)
        if not isinstance(self.frames, str):
            raise _fail(f"{where}.frames", f"{self.frames!r} must be a frame range like '1-100'")
        parse_frames(self.frames, what=f"{where}.frames")
        for key, low in (("chunk", 1), ("retries", 0)):
            value = getattr(self, key)
            if not isinstance(value, int) or isinstance(value, bool) or value < low:
                raise _fail(f"{where}.{key}", f"{value!r} must be a whole number >= {low}")
        if not isinstance(self.cores, (int, float)) or isinstance(self.cores, bool) or self.cores <= 0:
            raise _fail(f"{where}.cores", f"{self.cores!r} must be a number > 0")
        self.cores = float(self.cores)
        if self.memory_mb is not None and (not isinstance(self.memory_mb, int)
                                           or isinstance(self.memory_mb, bool) or self.memory_mb < 1):
            raise _fail(f"{where}.memory_mb", f"{self.memory_mb!r} must be a whole number of MB >= 1")
        if self.timeout is not None and (not isinstance(self.timeout, (int, float))
                                         or isinstance(self.timeout, bool) or self.timeout <= 0):
            raise _fail(f"{where}.timeout", f"{self.timeout!r} must be a number of seconds > 0")
        if isinstance(self.tags, str) or not isinstance(self.tags, Sequence) or not all(
            isinstance(t, str) and _NAME.match(t) for t in self.tags
        ):
            raise _fail(f"{where}.tags", f"{self.tags!r} must be a list of names")
        self.tags = list(self.tags)
        if self.service is not None:
            _check_name(f"{where}.service", self.service)
        self.env = _check_env(f"{where}.env", self.env)
        self.depends = [Depend.from_value(d, f"{where}.depends[{i}]") for i, d in enumerate(self.depends)]

    # -- frames and chunks -------------------------------------------------------
    def frame_list(self) -> list[int]:
        frames = parse_frames(self.frames, what=f"layer {self.name!r}.frames")
        return frames[:1] if self.kind in ("pre", "post") else frames

    def chunks(self) -> list[Chunk]:
        frames = self.frame_list()
        if self.kind != "frames":
            return [Chunk(self.name, 0, tuple(frames))]
        return [Chunk(self.name, i, tuple(c)) for i, c in enumerate(chunk_frames(frames, self.chunk))]

    def command_for(self, chunk: Chunk, values: Mapping[str, str]) -> list[str]:
        """The command's argv for ``chunk``: tokens replaced with ``values`` (see ``TOKENS``)."""
        if self.command is None:
            raise SetpieceError(f"layer {self.name!r} is a module layer: it has no command")
        return [expand_tokens(a, values, f"layer {self.name!r}.command") for a in self.command]

    # -- plain data --------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name}
        if self.command is not None:
            out["command"] = list(self.command)
        else:
            out["module"] = self.module
            if self.args:
                out["args"] = dict(self.args)
        out.update(frames=self.frames, chunk=self.chunk, kind=self.kind)
        if self.depends:
            out["depends"] = [d.to_dict() for d in self.depends]
        for key in ("tags", "env"):
            if getattr(self, key):
                out[key] = getattr(self, key)
        for key in ("service", "memory_mb", "timeout"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        out.update(cores=self.cores, retries=self.retries)
        return out

    @classmethod
    def from_dict(cls, data: Any, where: str = "layer") -> Layer:
        if not isinstance(data, Mapping):
            raise _fail(where, "must be a mapping (name, command or module, frames, chunk, ...)")
        name = data.get("name")
        where = f"{where} ({name})" if isinstance(name, str) else where
        known = set(cls.__dataclass_fields__)
        unknown = set(data) - known
        if unknown:
            raise _fail(where, f"unknown key {sorted(unknown)[0]!r}: use {', '.join(sorted(known))}")
        if "name" not in data:
            raise _fail(where, "has no 'name'")
        layer = cls.__new__(cls)
        defaults = cls(name="x", command=["x"])  # the dataclass defaults, checked once
        for key in known:
            setattr(layer, key, data[key] if key in data else getattr(defaults, key))
        if "command" not in data:
            layer.command = None
        layer.validate(where)
        return layer


@dataclass
class Job:
    """A named set of layers, run as one unit (OpenCue: show, shot, user, priority)."""

    name: str
    layers: list[Layer] = field(default_factory=list)
    show: str = "default"
    shot: str = "default"
    user: str = ""
    priority: int = 100
    env: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.user:
            import getpass

            try:
                self.user = getpass.getuser()
            except Exception:
                self.user = "unknown"
        self.validate()

    def validate(self) -> None:
        _check_name("job.name", self.name)
        for key in ("show", "shot", "user"):
            _check_name(f"job.{key}", getattr(self, key))
        if not isinstance(self.priority, int) or isinstance(self.priority, bool) or self.priority < 0:
            raise _fail("job.priority", f"{self.priority!r} must be a whole number >= 0")
        self.env = _check_env("job.env", self.env)
        if not self.layers:
            raise _fail("job.layers", "a job needs at least one layer")
        names: set[str] = set()
        for i, layer in enumerate(self.layers):
            if not isinstance(layer, Layer):
                raise _fail(f"job.layers[{i}]", "must be a Layer")
            if layer.name in names:
                raise _fail(f"job.layers[{i}] ({layer.name})", "two layers have this name: rename one")
            names.add(layer.name)
        for i, layer in enumerate(self.layers):
            for j, dep in enumerate(layer.depends):
                where = f"job.layers[{i}] ({layer.name}).depends[{j}]"
                if dep.on not in names:
                    raise _fail(where, f"no layer named {dep.on!r} in job {self.name!r}")
                if dep.on == layer.name:
                    raise _fail(where, "a layer cannot depend on itself")
        self._check_cycles()

    def _check_cycles(self) -> None:
        graph = self.upstream_layers()
        state: dict[str, int] = {}

        def visit(name: str, path: list[str]) -> None:
            if state.get(name) == 2:
                return
            if state.get(name) == 1:
                cycle = [*path[path.index(name):], name]
                raise _fail("job.layers", "dependency cycle " + " -> ".join(cycle) + ": remove one")
            state[name] = 1
            for up in graph[name]:
                visit(up, [*path, name])
            state[name] = 2

        for name in graph:
            visit(name, [])

    def layer(self, name: str) -> Layer:
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise SetpieceError(f"job {self.name!r} has no layer {name!r}: its layers are "
                            + ", ".join(la.name for la in self.layers))

    def upstream_layers(self) -> dict[str, list[str]]:
        """Layer -> the layers it waits for (its own depends, plus pre/post rules)."""
        pre = [la.name for la in self.layers if la.kind == "pre"]
        others = [la.name for la in self.layers if la.kind != "post"]
        out: dict[str, list[str]] = {}
        for layer in self.layers:
            ups = [d.on for d in layer.depends]
            if layer.kind == "post":
                ups += [n for n in others if n != layer.name]
            elif layer.kind != "pre":
                ups += pre
            out[layer.name] = list(dict.fromkeys(ups))
        return out

    def chunks(self) -> list[Chunk]:
        """Every chunk of the job, layer by layer in order."""
        return [c for layer in self.layers for c in layer.chunks()]

    def chunk_dependencies(self) -> dict[str, list[str]]:
        """Chunk key (``layer/index``) -> keys of the chunks it waits for.

        A ``layer`` dependency waits for every chunk of the other layer; a ``frame``
        dependency waits, for each of the chunk's frames, for the other layer's chunk that
        holds that frame (frames the other layer does not have wait for nothing; a frame
        dependency on a ``single``, ``pre`` or ``post`` layer waits for its one chunk).
        """
        by_layer = {la.name: la.chunks() for la in self.layers}
        holder: dict[str, dict[int, str]] = {
            name: {f: c.key for c in chunks for f in c.frames} for name, chunks in by_layer.items()
        }
        kinds = {la.name: la.kind for la in self.layers}
        out: dict[str, list[str]] = {}
        for layer in self.layers:
            explicit = {d.on: d.kind for d in layer.depends}
            for chunk in by_layer[layer.name]:
                ups: list[str] = []
                for on in self.upstream_layers()[layer.name]:
                    if explicit.get(on) == "frame" and kinds[on] == "frames":
                        ups.extend(holder[on][f] for f in chunk.frames if f in holder[on])
                    else:
                        ups.extend(c.key for c in by_layer[on])
                out[chunk.key] = list(dict.fromkeys(ups))
        return out

    # -- plain data --------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "setpiece_job": 1,
            "name": self.name,
            "show": self.show,
            "shot": self.shot,
            "user": self.user,
            "priority": self.priority,
        }
        if self.env:
            out["env"] = dict(self.env)
        out["layers"] = [la.to_dict() for la in self.layers]
        return out

    @classmethod
    def from_dict(cls, data: Any) -> Job:
        if not isinstance(data, Mapping):
            raise _fail("job", "must be a mapping (name, layers, show, shot, user, priority, env)")
        version = data.get("setpiece_job", 1)
        if version != 1:
            raise _fail("job.setpiece_job", f"format {version!r} is newer than this setpiece reads "
                        "(1): upgrade setpiece-core")
        known = {"setpiece_job", "name", "layers", "show", "shot", "user", "priority", "env"}
        unknown = set(data) - known
        if unknown:
            raise _fail("job", f"unknown key {sorted(unknown)[0]!r}: use {', '.join(sorted(known - {'setpiece_job'}))}")
        if "name" not in data:
            raise _fail("job", "has no 'name'")
        layers = data.get("layers")
        if not isinstance(layers, list):
            raise _fail("job.layers", "must be a list of layers")
        return cls(
            name=data["name"],
            layers=[Layer.from_dict(la, f"job.layers[{i}]") for i, la in enumerate(layers)],
            show=data.get("show", "default"),
            shot=data.get("shot", "default"),
            user=data.get("user", ""),
            priority=data.get("priority", 100),
            env=data.get("env") or {},
        )
