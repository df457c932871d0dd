"""``setpiece env / launch / batch HOST``: environment, executable lookup, Python check, exit codes."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from collections.abc import Callable
from importlib.metadata import EntryPoint
from pathlib import Path
from typing import Any

import pytest

HOST_COMMANDS = {
    "env": "setpiece.hosts.cli:env",
    "launch": "setpiece.hosts.cli:launch",
    "batch": "setpiece.hosts.cli:batch",
    "selftest": "setpiece.hosts.cli:selftest",
}


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Callable[..., Any]:
    """``setpiece ARGS`` in-process, with the hosts' commands registered even when the
    ``setpiece.cli`` entry points of hosts/pyproject.toml are not installed yet."""
    from setpiece.core.cli import cli as group
    from setpiece.core.cli import main

    plugins = dict(group._plugins())
    for name, value in HOST_COMMANDS.items():
        plugins.setdefault(name, EntryPoint(name=name, value=value, group="setpiece.cli"))
    monkeypatch.setattr(group, "_plugin_cache", plugins, raising=False)

    def run(*args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        code = main(list(args))
        out, err = capsys.readouterr()
        return code, out, err

    return run


@pytest.fixture
def ws(make_workspace: Callable[..., Any]) -> Any:
    return make_workspace()


#: a Blender that ships this Python (the workspaces the tests make use it)
THIS_PYTHONS_BLENDER = {(3, 10): "4.0.2", (3, 11): "5.0.1", (3, 13): "5.1.0"}.get(
    sys.version_info[:2], "5.0.1"
)


def fake_blender(tmp_path: Path, version: str = THIS_PYTHONS_BLENDER) -> Path:
    exe = tmp_path / "bin" / "blender"
    exe.parent.mkdir(parents=True, exist_ok=True)
    exe.write_text(
        f"#!/bin/sh\necho 'Blender {version}'\necho 'build hash: fake'\n", encoding="utf-8"
    )
    exe.chmod(exe.stat().st_mode | stat.S_IEXEC)
    return exe


def test_env_json_has_what_a_launcher_needs(cli: Callable[..., Any], ws: Any) -> None:
    code, out, err = cli("-w", str(ws.root), "env", "blender", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert set(data["prepend"]) >= {"PYTHONPATH", "SETPIECE_PYTHONPATH"}
    env = {**data["set"], **{k: os.pathsep.join(v) for k, v in data["prepend"].items()}}
    assert env["SETPIECE_WORKSPACE"] == str(ws.root)
    assert str(ws.site_packages) in env["PYTHONPATH"].split(os.pathsep)
    assert str(ws.site_packages) in env["PXR_AR_DEFAULT_SEARCH_PATH"].split(os.pathsep)
    assert "BLENDER_USER_SCRIPTS" not in env  # the artist's own scripts folder stays theirs
    startup = Path(env["BLENDER_SYSTEM_SCRIPTS"]) / "startup" / "setpiece_blender.py"
    assert startup.is_file() and "install(BlenderHost())" in startup.read_text()
    # setpiece itself is importable from that PYTHONPATH
    assert any(
        (Path(p) / "setpiece" / "hosts").is_dir() for p in env["PYTHONPATH"].split(os.pathsep)
    )


def test_env_shell_and_safe_mode(cli: Callable[..., Any], ws: Any) -> None:
    code, out, _ = cli("-w", str(ws.root), "env", "blender", "--no-setup")
    assert code == 0
    assert "export SETPIECE_SAFE_MODE=1" in out and "export PYTHONPATH=" in out


@pytest.mark.parametrize("fmt", ["sh", "cmd", "rez"])
def test_env_prepends_to_a_studios_folders(cli: Callable[..., Any], ws: Any, tmp_path: Path,
                                           fmt: str) -> None:
    """A studio's PYTHONPATH / NUKE_PATH / ... stay: setpiece's folders go in front."""
    code, out, err = cli("-w", str(ws.root), "env", "nuke", "--format", fmt)
    assert code == 0, err
    data = json.loads(cli("-w", str(ws.root), "env", "nuke", "--format", "json")[1])
    nuke_path = data["prepend"]["NUKE_PATH"]
    if fmt == "sh":
        studio = {"NUKE_PATH": "/studio/gizmos", "PATH": os.environ["PATH"]}
        proc = subprocess.run(["bash", "-c", out + '\necho "$NUKE_PATH"'], env=studio,
                              capture_output=True, text=True, check=True)
        assert proc.stdout.strip() == os.pathsep.join([*nuke_path, "/studio/gizmos"])
        bare = subprocess.run(["bash", "-c", out + '\necho "$NUKE_PATH"'],
                              env={"PATH": os.environ["PATH"]}, capture_output=True, text=True,
                              check=True)
        assert bare.stdout.strip() == os.pathsep.join(nuke_path)  # no stray separator
    elif fmt == "cmd":
        assert f'set "NUKE_PATH={";".join(nuke_path)};%NUKE_PATH%"' in out.splitlines()
    else:
        assert [ln for ln in out.splitlines() if ln.startswith("env.NUKE_PATH")] == [
            f"env.NUKE_PATH.prepend({p!r})" for p in reversed(nuke_path)]
        assert "env.SETPIECE_WORKSPACE = " in out


def test_unknown_host_is_one_line_error(cli: Callable[..., Any], ws: Any) -> None:
    code, _, err = cli("-w", str(ws.root), "env", "max")
    assert code == 1
    assert err.count("\n") == 1 and "unknown host 'max'" in err and "blender" in err


def test_launch_refuses_other_python_with_the_fix(
    cli: Callable[..., Any], ws: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = ("4.0.2", "4.0", "3.10") if sys.version_info[:2] != (3, 10) else ("5.0.1", "5.0", "3.11")
    monkeypatch.setenv("SETPIECE_BLENDER_EXECUTABLE", str(fake_blender(tmp_path, other[0])))
    code, _, err = cli("-w", str(ws.root), "launch", "blender", "--dry-run")
    assert code == 1
    assert f"blender {other[1]} runs Python {other[2]}" in err
    assert f"uses Python {ws.python_version}" in err
    assert f"setpiece init PATH --python {other[2]}" in err


def test_launch_dry_run_uses_env_var_then_config(
    cli: Callable[..., Any], ws: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from_env = fake_blender(tmp_path / "env")
    monkeypatch.setenv("SETPIECE_BLENDER_EXECUTABLE", str(from_env))
    code, out, err = cli("-w", str(ws.root), "launch", "blender", "--dry-run", "--json")
    assert code == 0, err
    plan = json.loads(out)
    assert plan["command"] == [str(from_env), "--python-use-system-env"]
    assert plan["app_version"] == THIS_PYTHONS_BLENDER.rsplit(".", 1)[0]
    assert plan["python"] == f"{sys.version_info[0]}.{sys.version_info[1]}"
    # the dry run shows what the app gets: setpiece's folders in front of the studio's
    monkeypatch.setenv("PYTHONPATH", "/studio/python")
    code, out, err = cli("-w", str(ws.root), "launch", "blender", "--dry-run")
    assert code == 0, err
    line = next(ln for ln in out.splitlines() if ln.startswith("PYTHONPATH="))
    assert line.endswith(os.pathsep + "/studio/python") and str(ws.site_packages) in line

    from_config = fake_blender(tmp_path / "cfg")
    with ws.config.edit() as doc:
        import tomlkit

        doc["hosts"] = tomlkit.table()
        doc["hosts"]["blender"] = {"executable": str(from_config)}
    code, out, _ = cli("-w", str(ws.root), "launch", "blender", "--dry-run", "--json")
    assert code == 0
    assert json.loads(out)["command"] == [str(from_config), "--python-use-system-env"]

    with ws.config.edit() as doc:
        doc["hosts"]["blender"] = {"executable": str(tmp_path / "nope")}
    code, _, err = cli("-w", str(ws.root), "launch", "blender", "--dry-run")
    assert code == 1 and "does not exist: fix the path" in err


def test_launch_without_blender_says_how_to_point_at_it(
    cli: Callable[..., Any], ws: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("SETPIECE_BLENDER_EXECUTABLE", raising=False)
    from setpiece.hosts import launching

    monkeypatch.setattr(launching, "glob", lambda pattern: [])
    code, _, err = cli("-w", str(ws.root), "launch", "blender", "--dry-run")
    assert code == 1 and "SETPIECE_BLENDER_EXECUTABLE" in err


@pytest.mark.bpy
@pytest.mark.skipif(
    __import__("importlib").util.find_spec("bpy") is None, reason="bpy is not installed"
)
def test_batch_run_in_bpy_module_and_exit_codes(
    cli: Callable[..., Any], ws: Any, tmp_path: Path
) -> None:
    ok = tmp_path / "ok.py"
    marker = tmp_path / "marker.txt"
    ok.write_text(
        "import sys, bpy\n"
        f"open({str(marker)!r}, 'w').write(bpy.app.version_string + ' ' + ' '.join(sys.argv[1:]))\n"
    )
    code, _, err = cli("-w", str(ws.root), "batch", "blender", "run", str(ok), "a", "b")
    assert code == 0, err
    from importlib.metadata import version

    # the bpy module of this Python ran it (4.2.23 LTS, 5.0.1, ...)
    assert marker.read_text().endswith(" a b")
    assert marker.read_text().startswith(version("bpy") + " ") or marker.read_text().startswith(
        version("bpy").rsplit(".", 1)[0]
    )

    bad = tmp_path / "bad.py"
    bad.write_text("raise RuntimeError('boom')\n")
    code, _, _ = cli("-w", str(ws.root), "batch", "blender", "run", str(bad))
    assert code != 0

    code, _, err = cli("-w", str(ws.root), "batch", "blender", "run", str(tmp_path / "missing.py"))
    assert code == 1 and "does not exist" in err


def test_registry_lists_builtin_hosts_and_refuses_unknown() -> None:
    from setpiece.core.errors import SetpieceError
    from setpiece.hosts import registry

    assert {"blender", "maya", "houdini", "nuke"} <= set(registry.available())
    assert registry.load_class("blender").__name__ == "BlenderHost"
    with pytest.raises(SetpieceError, match="unknown host"):
        registry.target("max")


def test_cli_module_imports_no_dcc_or_usd() -> None:
    import subprocess

    code = (
        "import sys, setpiece.hosts.cli, setpiece.hosts.launching, setpiece.hosts.runtime;"
        "bad = [m for m in ('bpy', 'pxr', 'Qt', 'PySide6') if m in sys.modules];"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_blender_command_lines_make_pythonpath_count(
    cli: Callable[..., Any], ws: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A real Blender ignores PYTHONPATH unless started with --python-use-system-env: the
    GUI launch and ``blender -b`` pass it; the bpy module (a plain Python) does not need it."""
    from setpiece.hosts import launching
    from setpiece.hosts.blender import launch as blender_launch

    exe = fake_blender(tmp_path)
    monkeypatch.setenv("SETPIECE_BLENDER_EXECUTABLE", str(exe))
    scene = tmp_path / "shot.blend"
    scene.write_bytes(b"BLENDER")
    code, out, err = cli("-w", str(ws.root), "launch", "blender", str(scene), "--dry-run", "--json")
    assert code == 0, err
    plan = json.loads(out)
    assert plan["command"] == [str(exe), "--python-use-system-env", str(scene.resolve())]
    # and for a launcher that drops the flag, the startup add-on reads this one
    assert plan["env"]["SETPIECE_PYTHONPATH"] == plan["env"]["PYTHONPATH"]

    monkeypatch.setenv("SETPIECE_BLENDER_BATCH_EXECUTABLE", str(exe))
    monkeypatch.setattr(blender_launch, "bpy_module_available", lambda: False)
    batch = launching.batch_plan("blender", ws, "/s.py", ["a"])
    assert batch.command == [
        str(exe), "-b", "--python-use-system-env", "--python-exit-code", "1",
        "--python", "/s.py", "--", "a",
    ]
    monkeypatch.setattr(blender_launch, "bpy_module_available", lambda: True)
    module = launching.batch_plan("blender", ws, "/s.py", ["a"])
    assert "--python-use-system-env" not in module.command
    assert module.command[1:] == ["-m", "setpiece.hosts.blender.launch", "/s.py", "a"]


def test_blender_system_scripts_keeps_the_studios_folders(ws: Any) -> None:
    from setpiece.hosts.launching import environment, merged_environment

    env = environment("blender", ws)
    merged = merged_environment(env, {"BLENDER_SYSTEM_SCRIPTS": "/studio/scripts"})
    assert merged["BLENDER_SYSTEM_SCRIPTS"].split(os.pathsep) == [
        env["BLENDER_SYSTEM_SCRIPTS"], "/studio/scripts",
    ]


@pytest.mark.bpy
@pytest.mark.skipif(
    __import__("importlib").util.find_spec("bpy") is None, reason="bpy is not installed"
)
def test_blender_startup_addon_adds_setpiece_pythonpath(ws: Any) -> None:
    """Blender started without --python-use-system-env (-E: PYTHONPATH ignored, -S: no
    site-packages): the add-on finds setpiece through SETPIECE_PYTHONPATH and installs."""
    import subprocess
    import sysconfig

    from setpiece.hosts.blender import startup_dir
    from setpiece.hosts.launching import environment

    env = environment("blender", ws)
    paths = env["SETPIECE_PYTHONPATH"].split(os.pathsep)
    # the bpy module lives in this Python's site-packages: a real Blender brings its own
    paths.append(sysconfig.get_paths()["purelib"])
    addon = startup_dir() / "startup" / "setpiece_blender.py"
    code = (
        "import runpy, sys\n"
        f"runpy.run_path({str(addon)!r})['register']()\n"
        "from setpiece.hosts.runtime import current\n"
        "print('INSTALLED', current() is not None)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-E", "-S", "-c", code],
        env={**os.environ, "SETPIECE_PYTHONPATH": os.pathsep.join(paths),
             "SETPIECE_WORKSPACE": str(ws.root)},
        capture_output=True, text=True, timeout=300,
    )
    assert "INSTALLED True" in proc.stdout, proc.stdout + proc.stderr[-2000:]
    assert "setpiece: not installed" not in proc.stderr


@pytest.mark.bpy
@pytest.mark.skipif(
    __import__("importlib").util.find_spec("bpy") is None, reason="bpy is not installed"
)
def test_real_blender_loads_the_addon_beside_a_studios_system_scripts(
    ws: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With a studio's own BLENDER_SYSTEM_SCRIPTS, setpiece's add-on and the studio's both
    load, in this Python's real bpy: from Blender 4.4 setpiece's folder is prepended (a path
    list there); before 4.4 (one folder) the studio's value is left alone and the launch
    runs setpiece's add-on with ``--python`` (emulated here as Blender does it: the file run
    as ``__main__`` once Blender is up). BLENDER_USER_SCRIPTS is never touched."""
    import subprocess
    from importlib.metadata import version

    from setpiece.hosts.launching import launch_plan, merged_environment

    bpy_version = version("bpy")
    studio = tmp_path / "studio_scripts"
    (studio / "startup").mkdir(parents=True)
    (studio / "startup" / "studio_tool.py").write_text(
        "import os\ndef register():\n    os.environ['STUDIO_TOOL'] = '1'\n"
        "def unregister():\n    pass\n"
    )
    monkeypatch.setenv("BLENDER_SYSTEM_SCRIPTS", str(studio))
    monkeypatch.setenv("SETPIECE_BLENDER_EXECUTABLE", str(fake_blender(tmp_path, bpy_version)))
    monkeypatch.setattr(
        "setpiece.hosts.launching.check_python", lambda *a, **k: None
    )  # the fake executable stands for this Python's bpy
    plan = launch_plan("blender", ws)
    env = merged_environment(plan.env)
    major_minor = tuple(int(x) for x in bpy_version.split(".")[:2])
    scripts = env["BLENDER_SYSTEM_SCRIPTS"].split(os.pathsep)
    python_args = [plan.command[i + 1] for i, a in enumerate(plan.command) if a == "--python"]
    if major_minor >= (4, 4):
        assert len(scripts) == 2 and scripts[1] == str(studio) and not python_args
    else:
        assert scripts == [str(studio)], scripts
        assert [Path(p).name for p in python_args] == ["setpiece_blender.py"]
    assert "BLENDER_USER_SCRIPTS" not in plan.env
    code = (
        "import os, runpy, sys, bpy\n"
        "for path in sys.argv[1:]:\n"
        "    runpy.run_path(path, run_name='__main__')\n"
        "from setpiece.hosts.runtime import current\n"
        "print('INSTALLED', current() is not None, os.environ.get('STUDIO_TOOL'))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, *python_args], env=env, capture_output=True, text=True,
        timeout=300,
    )
    assert "INSTALLED True 1" in proc.stdout, proc.stdout + proc.stderr[-2000:]
    assert proc.returncode == 0, proc.stderr[-2000:]


def test_blender_before_4_4_keeps_a_studios_system_scripts_folder(
    cli: Callable[..., Any], ws: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Blender 4.2/4.3 read BLENDER_SYSTEM_SCRIPTS as one folder: the launch leaves the
    studio's value whole and adds ``--python setpiece_blender.py`` before the scene; 4.4+
    and a launch with no studio value get setpiece's folder in the variable."""
    scene = tmp_path / "shot.blend"
    scene.write_bytes(b"BLENDER")
    monkeypatch.setattr("setpiece.hosts.launching.check_python", lambda *a, **k: None)
    for version, studio, prepended in (("4.2.3", "/studio/scripts", False),
                                       ("4.3.0", "/studio/scripts", False),
                                       ("4.4.0", "/studio/scripts", True),
                                       ("4.2.3", "", True)):
        if studio:
            monkeypatch.setenv("BLENDER_SYSTEM_SCRIPTS", studio)
        else:
            monkeypatch.delenv("BLENDER_SYSTEM_SCRIPTS", raising=False)
        exe = fake_blender(tmp_path / version, version)
        monkeypatch.setenv("SETPIECE_BLENDER_EXECUTABLE", str(exe))
        code, out, err = cli("-w", str(ws.root), "launch", "blender", str(scene), "--dry-run",
                             "--json")
        assert code == 0, err
        plan = json.loads(out)
        assert ("BLENDER_SYSTEM_SCRIPTS" in plan["env"]) is prepended, (version, plan)
        if prepended:
            assert plan["command"] == [str(exe), "--python-use-system-env", str(scene)]
        else:
            assert plan["command"][:3] == [str(exe), "--python-use-system-env", "--python"]
            assert plan["command"][3].endswith("setpiece_blender.py")
            assert plan["command"][4:] == [str(scene)]


def test_batch_build_json_is_a_flag_printing_the_summary_on_stdout(
    cli: Callable[..., Any], ws: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``batch HOST build SPEC -o F --json``: the summary JSON alone on stdout (the app's
    chatter goes to stderr); ``--json-file FILE`` also keeps it in FILE."""
    from setpiece.hosts import launching

    calls: list[str] = []

    def fake_batch_build(host: str, ws: Any, spec: str, output: str, *, no_setup: bool = False,
                         json_out: str = "") -> int:
        calls.append(json_out)
        sys.stderr.write("Blender 5.0 chatter\nbuilt KitchenSet in blender: ...\n")
        if json_out:
            Path(json_out).write_text(json.dumps({"asset": spec, "output": output}))
        return 0

    monkeypatch.setattr(launching, "batch_build", fake_batch_build)
    out_file = str(tmp_path / "k.blend")
    code, out, err = cli("-w", str(ws.root), "batch", "blender", "build", "KitchenSet",
                         "-o", out_file, "--json")
    assert code == 0, err
    assert json.loads(out) == {"asset": "KitchenSet", "output": out_file}
    assert "chatter" in err and not Path(calls[-1]).exists()  # the temp file is gone

    keep = tmp_path / "summary.json"
    code, out, _ = cli("-w", str(ws.root), "batch", "blender", "build", "KitchenSet",
                       "-o", out_file, "--json-file", str(keep))
    assert code == 0 and out == "" and json.loads(keep.read_text())["asset"] == "KitchenSet"


_PROBE = (
    "import sys, importlib.util as u\n"
    "sys.path[:0] = sys.argv[1:]\n"
    "import setpiece.hosts.launching, setpiece.core.cli, pyblish.api, click, tomlkit\n"
    "print('FOUND', {m: u.find_spec(m) is not None for m in ('Qt', 'PySide6', 'shiboken6', 'pxr', 'bpy')})\n"
)


def _dcc_view(python: str, paths: list[str]) -> dict[str, bool]:
    """What a DCC's Python (here: this one without its site-packages, ``-S -E``) finds with
    only ``paths`` on its path."""
    import ast
    import subprocess

    proc = subprocess.run([python, "-S", "-E", "-c", _PROBE, *paths], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    found: dict[str, bool] = ast.literal_eval(proc.stdout.split("FOUND", 1)[1].strip())
    return found


def test_a_dcc_gets_setpiece_and_pure_python_dependencies_only(ws: Any) -> None:
    """The env's PYTHONPATH (less the workspace's own site-packages) imports setpiece and
    its dependencies, finds Qt.py (which binds to the app's Qt), and no PySide6,
    shiboken6, pxr or bpy, though this Python has them all."""
    import importlib.util

    from setpiece.hosts.launching import environment

    paths = environment("blender", ws)["PYTHONPATH"].split(os.pathsep)
    paths = [p for p in paths if p != str(ws.site_packages)]
    found = _dcc_view(sys.executable, paths)
    assert found == {"Qt": True, "PySide6": False, "shiboken6": False, "pxr": False,
                     "bpy": False}, found
    assert importlib.util.find_spec("pxr") is not None  # ... which this Python does have


@pytest.mark.slow
def test_a_non_editable_install_does_not_hand_its_site_packages_to_the_dcc(
    tmp_path: Path
) -> None:
    """setpiece installed from wheels (a studio's install) beside usd-core and PySide6: the
    DCC still gets only setpiece and pure-Python dependencies."""
    import subprocess

    root = Path(__file__).resolve().parents[2]
    uv = str(root / ".tools" / "uv" / "bin" / "uv")
    venv = tmp_path / "install"
    py = venv / "bin" / "python"
    subprocess.run([uv, "venv", "-q", "-p", sys.executable, str(venv)], check=True)
    # --no-sources: the workspace's own sources would install core and usd editable
    subprocess.run([uv, "pip", "install", "-q", "--no-sources", "-p", str(py), str(root / "core"),
                    str(root / "usd") + "[standalone]", str(root / "hosts") + "[ui]"],
                   check=True, timeout=600)
    out = subprocess.run(
        [str(py), "-c", "import os; from setpiece.hosts.launching import setpiece_paths; "
         "print(os.pathsep.join(setpiece_paths()))"],
        capture_output=True, text=True, check=True, env={**os.environ, "SETPIECE_HOME": str(tmp_path / "home")},
    ).stdout.strip()
    paths = out.split(os.pathsep)
    assert len(paths) == 1, paths  # no editable source folder: one folder of links
    assert not any(p.endswith(("site-packages", "dist-packages")) for p in paths), paths
    found = _dcc_view(str(py), paths)
    assert found == {"Qt": True, "PySide6": False, "shiboken6": False, "pxr": False,
                     "bpy": False}, found
