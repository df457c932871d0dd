"""Generic launch, environment and batch for every host (``setpiece env/launch/batch``).

Each adapter package ships ``launch.py`` with ``launch_spec() -> LaunchSpec`` and may
define, for what is app-specific:

- ``<adapter package>.startup_dir() -> Path``: the folder the app's startup variable
  (``LaunchSpec.startup_var``) must point at;
- ``launch.app_info(executable) -> (app_version, python "major.minor")``: how to ask the
  app (default: the version in the executable's path and ``python_by_app_version``);
- ``launch.batch_command(script, args, workspace) -> list[str] | None``: a headless
  command that needs no executable (Blender: the ``bpy`` module in this Python);
- ``launch.adjust_plan(plan, base_environment, batch=...)``: change a launch or batch
  :class:`Plan` once the app's version is known (Blender before 4.4: a studio's
  ``BLENDER_SYSTEM_SCRIPTS`` is one folder, not a list).

The executable is found in this order: ``setpiece.toml`` ``[hosts.<host>] executable``
(``batch_executable`` for batch), ``SETPIECE_<HOST>_EXECUTABLE`` (``..._BATCH_EXECUTABLE``),
PATH, then the standard install locations (``install_globs``, newest last).
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import re
import runpy
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from glob import glob
from pathlib import Path
from typing import Any

from setpiece.core.errors import SetpieceError
from setpiece.core.naming import normalize
from setpiece.hosts import registry
from setpiece.hosts.host_env import (  # noqa: F401  (re-exported: launching is their old home)
    ENV_FORMATS,
    PATH_LIKE,
    HostEnv,
    add_asset_env,
    app_default,
    effective_environment,
    format_env,
    merged_environment,
)
from setpiece.hosts.protocol import LaunchSpec


def spec_for(host: str) -> LaunchSpec:
    module = _launch_module(host)
    fn = getattr(module, "launch_spec", None)
    if fn is None:
        raise SetpieceError(f"host {host!r} has no launch_spec(): update its adapter package")
    spec: LaunchSpec = fn()
    return spec


def _launch_module(host: str) -> Any:
    name = registry.launch_module(host)
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        raise SetpieceError(f"host {host!r} cannot be launched ({name}: {exc}): reinstall it")


def _adapter_package(host: str) -> Any:
    return importlib.import_module(registry.target(host).partition(":")[0])


def startup_dir(host: str) -> Path | None:
    fn = getattr(_adapter_package(host), "startup_dir", None)
    return Path(fn()) if callable(fn) else None


# -- finding the app ---------------------------------------------------------------------


def _config_section(ws: Any, host: str) -> dict[str, Any]:
    if ws is None:
        return {}
    hosts = ws.config.section("hosts") if hasattr(ws.config, "section") else {}
    section = dict(hosts.get(host, {}) or {})
    return section


def find_executable(host: str, ws: Any = None, *, batch: bool = False) -> Path | None:
    """The app's executable, or None when none is configured or installed."""
    spec = spec_for(host)
    section = _config_section(ws, host)
    key = "batch_executable" if batch else "executable"
    env_var = f"SETPIECE_{host.upper()}_{'BATCH_' if batch else ''}EXECUTABLE"
    for source, value in (
        (f"setpiece.toml [hosts.{host}] {key}", section.get(key)),
        (env_var, os.environ.get(env_var)),
    ):
        if value:
            path = Path(str(value)).expanduser()
            if not path.is_file():
                raise SetpieceError(f"{source} = {value} does not exist: fix the path")
            return path
    names = spec.batch_executables if batch else spec.executables
    for name in names:
        found = shutil.which(name)
        if found:
            return Path(found)
    candidates: list[str] = []
    for pattern in spec.install_globs:
        candidates.extend(glob(pattern))
    wanted = {Path(n).stem.lower() for n in names}
    # Some apps carry their version in the executable's name (Nuke16.0): match the prefix.
    matching = [
        c for c in candidates
        if any(Path(c).stem.lower() == w or (Path(c).stem.lower().startswith(w)
               and Path(c).stem[len(w):len(w) + 1].isdigit()) for w in wanted)
    ] or (
        candidates if not batch else []
    )
    if matching:
        return Path(sorted(matching, key=_version_key)[-1])
    return None


def _version_key(path: str) -> tuple[int, ...]:
    return tuple(int(x) for x in re.findall(r"\d+", path)[:4])


def app_info(host: str, executable: Path) -> tuple[str, str | None]:
    """(app version, its Python ``major.minor`` or None when unknown)."""
    module = _launch_module(host)
    fn = getattr(module, "app_info", None)
    if callable(fn):
        version, python = fn(executable)
        return str(version), (str(python) if python else None)
    spec = spec_for(host)
    known = sorted(spec.python_by_app_version, key=len, reverse=True)
    # the folder nearest the executable names the version (``Nuke16.0v2/Nuke16.0``,
    # ``hfs20.5.370/bin``, ``maya2025/bin``); a version is whole: ``15`` is not in ``pytest-815``
    for part in reversed(Path(executable).parts):
        for app_version in known:
            if re.search(rf"(?<![\d.]){re.escape(app_version)}(?!\d)", part):
                return app_version, spec.python_by_app_version[app_version]
    return "", None


def check_python(host: str, app_python: str | None, ws: Any, app_version: str = "") -> None:
    """Refuse an app whose Python differs from the workspace's, saying how to fix it."""
    if ws is None or not app_python:
        return
    wanted = str(ws.python_version)
    if app_python != wanted:
        app = f"{host} {app_version}".strip()
        raise SetpieceError(
            f"{app} runs Python {app_python} but workspace {ws.root} uses Python {wanted}: "
            f"create a workspace for it with 'setpiece init PATH --python {app_python}', or "
            f"use a {host} version that ships Python {wanted}"
        )


# -- environment ---------------------------------------------------------------------


def setpiece_paths() -> list[str]:
    """Folders that make setpiece importable in a DCC, and nothing else of this Python's:
    editable setpiece sources, then a folder of links to setpiece and its pure-Python
    dependencies (never pip's PySide6, usd-core's pxr or bpy: see setpiece.hosts.dcc_site)."""
    from setpiece.hosts.dcc_site import setpiece_paths as paths

    return paths()


def environment(host: str, ws: Any, *, no_setup: bool = False) -> HostEnv:
    """The variables a DCC needs (not the whole environment): what ``setpiece env`` prints.

    With a workspace, the ``[env]`` contributions of its installed assets are composed in
    (``setpiece.core.asset_env``), unless safe mode skips asset code."""
    spec = spec_for(host)
    env = HostEnv({"SETPIECE_HOST": host})
    pythonpath: list[str] = []
    if ws is not None:
        from setpiece.hosts.runtime import resolver_search_paths

        env["SETPIECE_WORKSPACE"] = str(ws.root)
        search = resolver_search_paths(ws)
        env["PXR_AR_DEFAULT_SEARCH_PATH"] = os.pathsep.join(search)
        pythonpath.append(str(ws.site_packages))
    pythonpath.extend(setpiece_paths())
    startup = startup_dir(host)
    if startup is not None:
        if spec.startup_var == "PYTHONPATH":
            pythonpath.insert(0, str(startup))
        else:
            env[spec.startup_var] = str(startup)
    env["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(pythonpath))
    if spec.pythonpath_var:
        env[spec.pythonpath_var] = env["PYTHONPATH"]
    from setpiece.hosts.setup_code import safe_mode

    if no_setup or safe_mode():
        env["SETPIECE_SAFE_MODE"] = "1"
    elif ws is not None:
        add_asset_env(env, ws, host)
    return env


# -- launch and batch --------------------------------------------------------------------


@dataclass
class Plan:
    """What will run: the command, the extra environment, and the app found."""

    command: list[str]
    env: dict[str, str]
    executable: str | None = None
    app_version: str = ""
    python: str | None = None


def launch_plan(host: str, ws: Any, scene: str | None = None, *, no_setup: bool = False) -> Plan:
    exe = find_executable(host, ws)
    if exe is None:
        spec = spec_for(host)
        raise SetpieceError(
            f"{host} is not installed here (looked for {', '.join(spec.executables)} on PATH and "
            f"in the standard locations): set SETPIECE_{host.upper()}_EXECUTABLE or "
            f"[hosts.{host}] executable in setpiece.toml"
        )
    version, python = app_info(host, exe)
    check_python(host, python, ws, version)
    command = [str(exe), *spec_for(host).launch_args]
    if scene:
        if not Path(scene).is_file():
            raise SetpieceError(f"scene {scene} does not exist: check the path")
        command.append(str(Path(scene).resolve()))
    plan = Plan(command, environment(host, ws, no_setup=no_setup), str(exe), version, python)
    return _adjusted(host, plan, batch=False)


def _adjusted(host: str, plan: Plan, *, batch: bool) -> Plan:
    fn = getattr(_launch_module(host), "adjust_plan", None)
    if callable(fn):
        fn(plan, os.environ, batch=batch)
    return plan


def launch(
    host: str, ws: Any, scene: str | None = None, *, no_setup: bool = False
) -> subprocess.Popen[bytes]:
    """Start the app with setpiece's environment (returns at once)."""
    plan = launch_plan(host, ws, scene, no_setup=no_setup)
    return subprocess.Popen(plan.command, env=merged_environment(plan.env))


def batch_plan(
    host: str, ws: Any, script: str, args: Sequence[str] = (), *, no_setup: bool = False
) -> Plan:
    """How to run ``script`` headless in ``host``."""
    env = environment(host, ws, no_setup=no_setup)
    module = _launch_module(host)
    custom = getattr(module, "batch_command", None)
    if callable(custom):
        command = custom(script, list(args), ws)
        if command:
            return _adjusted(host, Plan(list(command), env), batch=True)
    spec = spec_for(host)
    exe = find_executable(host, ws, batch=True)
    if exe is None:
        raise SetpieceError(
            f"no headless {host} found (looked for {', '.join(spec.batch_executables)}): set "
            f"SETPIECE_{host.upper()}_BATCH_EXECUTABLE or [hosts.{host}] batch_executable in "
            "setpiece.toml"
        )
    version, python = app_info(host, exe)
    check_python(host, python, ws, version)
    command = [str(exe)]
    for arg in spec.batch_args:
        command.append(arg.replace("{script}", str(script)))
    command.extend(args)
    return _adjusted(host, Plan(command, env, str(exe), version, python), batch=True)


def batch_run(
    host: str, ws: Any, script: str, args: Sequence[str] = (), *, no_setup: bool = False,
    quiet_stdout: bool = False, supervised: bool = False,
) -> int:
    """Run ``script`` headless in ``host``; the app's exit code (non-zero on failure).

    ``quiet_stdout``: the app's console chatter goes to stderr, keeping stdout for results
    (``--json``); a user's own script (``batch HOST run``) keeps its stdout.
    ``supervised``: setup code that ends or freezes the app is reported (``setup_guard``).
    """
    if not Path(script).is_file():
        raise SetpieceError(f"script {script} does not exist: check the path")
    plan = batch_plan(host, ws, str(Path(script).resolve()), args, no_setup=no_setup)
    env = merged_environment(plan.env)
    if not quiet_stdout and not supervised:
        return subprocess.call(plan.command, env=env)
    sys.stdout.flush()
    relay = None
    try:
        target: Any = sys.stderr.fileno() if quiet_stdout else None  # the app writes to it
    except (AttributeError, OSError, ValueError):
        # stderr is a Python object (a DCC's script editor, a test's capture): relay it
        relay = target = tempfile.TemporaryFile()  # noqa: SIM115 - closed below
    try:
        if not supervised:
            code = subprocess.call(plan.command, env=env, stdout=target)
        else:
            code = _supervised(host, plan.command, env, target)
    finally:
        if relay is not None:
            relay.seek(0)
            sys.stderr.write(relay.read().decode("utf-8", "replace"))
            relay.close()
    return code


def _supervised(host: str, command: Sequence[str], env: dict[str, str], stdout: Any) -> int:
    from setpiece.hosts.setup_guard import supervise

    fd, progress_path = tempfile.mkstemp(prefix="setpiece-progress-", suffix=".json")
    os.close(fd)
    try:
        code, message = supervise(command, env, stdout, progress_path, host)
    finally:
        with contextlib.suppress(OSError):
            os.unlink(progress_path)
    if message:
        print(f"error: {message}", file=sys.stderr)
    return code


BUILD_SCRIPT = """\
import sys
from setpiece.hosts.launching import build_in_host
sys.exit(build_in_host({host!r}, {spec!r}, {output!r}, no_setup={no_setup!r}, json_out={json_out!r}))
"""

SELFTEST_SCRIPT = """\
import sys
from setpiece.hosts.{host}.selftest import main
sys.exit(main({argv!r}))
"""


def run_script(argv: Sequence[str]) -> int:
    """Run ``argv[0]`` as ``__main__`` with ``argv[1:]`` as its arguments: what a host's batch
    runner does once the app is up. The script's exit code (``sys.exit``), a
    ``SetpieceError``'s (one line on stderr), else 0; other exceptions propagate."""
    script, *rest = argv
    sys.argv = [script, *rest]
    try:
        runpy.run_path(script, run_name="__main__")
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except SetpieceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    return 0


def _temp_script(text: str) -> str:
    fd, path = tempfile.mkstemp(prefix="setpiece-batch-", suffix=".py")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    return path


def batch_build(
    host: str, ws: Any, spec: str, output: str, *, no_setup: bool = False, json_out: str = ""
) -> int:
    """``setpiece batch HOST build SPEC -o FILE``: build, load, run setup, save (or export)."""
    script = _temp_script(
        BUILD_SCRIPT.format(
            host=host,
            spec=spec,
            output=str(Path(output).resolve()),
            no_setup=no_setup,
            json_out=json_out,
        )
    )
    try:
        return batch_run(host, ws, script, no_setup=no_setup, quiet_stdout=True, supervised=True)
    finally:
        os.unlink(script)


def selftest(host: str, ws: Any, argv: Sequence[str] = ()) -> int:
    script = _temp_script(SELFTEST_SCRIPT.format(host=host, argv=list(argv)))
    try:
        return batch_run(host, ws, script)
    finally:
        os.unlink(script)


def check_build_spec(ws: Any, spec: str) -> str:
    """The asset a build SPEC names, once the installed version satisfies SPEC's version
    (``KitchenSet==9.9`` with 1.0.0 installed is refused, saying how to install it)."""
    from packaging.requirements import InvalidRequirement, Requirement

    try:
        req = Requirement(spec)
    except InvalidRequirement as exc:
        raise SetpieceError(
            f"build spec {spec!r} is not valid ({exc}): give an asset name, optionally with a "
            "version ('KitchenSet' or 'KitchenSet==1.2.0')"
        )
    if not req.specifier:
        return req.name
    key = normalize(req.name)
    installed = ws.installed_assets().get(key)
    if installed is None:
        raise SetpieceError(
            f"{req.name} is not installed in workspace {ws.root}: run 'setpiece install \"{spec}\"'"
        )
    version = str(installed.version)
    if not req.specifier.contains(version, prereleases=True):
        raise SetpieceError(
            f"{req.name} {version} is installed but the build asks for {spec}: run "
            f"'setpiece install \"{spec}\"' first (or build '{req.name}' for {version})"
        )
    return req.name


def build_in_host(
    host_name: str, spec: str, output: str, *, no_setup: bool = False, json_out: str = ""
) -> int:
    """Runs inside the app (the batch script): returns the process exit code."""
    from setpiece.hosts.registry import get_host
    from setpiece.hosts.runtime import Runtime
    from setpiece.hosts.setup_guard import progress

    out = Path(output)

    def save() -> str:
        if out.suffix.lower() in (".usd", ".usda", ".usdc", ".usdz"):
            return str(host.export_usd(str(out)))
        return str(host.save_scene(str(out)))

    def save_before_setup() -> None:  # what was built survives a setup that ends the app
        if runtime.no_setup is not True:
            progress(phase="setup", saved=save())

    try:
        progress(phase="build")
        host = get_host(host_name)
        runtime = Runtime(host, no_setup=no_setup or None)
        asset = check_build_spec(runtime.workspace, spec)
        host.new_scene()
        containers, report = runtime.build(asset, before_setup=save_before_setup)
        progress(phase="save", asset=None)
        saved = save()
        progress(phase="done", saved=saved)
    except SetpieceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    summary = {
        "host": host_name,
        "asset": asset,
        "output": saved,
        "containers": [
            {"asset": c.asset, "version": c.version, "node": c.node} for c in containers
        ],
        "setup": report.to_json(),
    }
    if json_out:
        Path(json_out).write_text(json.dumps(summary, indent=2), encoding="utf-8")
    print(
        f"built {asset} in {host_name}: {len(containers)} container(s), {report.summary()}; saved {saved}"
    )
    return 1 if report.failed else 0
