"""``setpiece pipeline add``: write one stage of an output asset's ``dvc.yaml``.

A stage is a command (``--cmd``) or a built-in template (``--template``, see
``setpiece.core.stages``), its dependencies and outputs (paths relative to the asset's
package folder) and its params (``--param key=value``, written to ``params.yaml`` under
the stage's name and listed as dvc ``params``). A dependency ``Asset:path`` names a path
of another installed asset (``Plate:frames``): it is written as the path from this
package folder to that asset's installed package folder, and recorded in the stage's
``meta`` so that another workspace (another layout) re-resolves it before each run.
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from setpiece.core.errors import SetpieceError

if TYPE_CHECKING:
    from setpiece.core.workspace import Workspace

DVC_YAML = "dvc.yaml"
PARAMS = "params.yaml"
_STAGE_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")
_ASSET_DEP = re.compile(r"^(?P<asset>[A-Za-z0-9][A-Za-z0-9._-]*[A-Za-z0-9]):(?P<path>[^\\/].*)$")
_PARAM_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def load_yaml(path: Path) -> Any:
    from ruamel.yaml import YAML

    if not path.exists():
        return {}
    try:
        data = YAML().load(path.read_text(encoding="utf-8"))
    except Exception as exc:  # ruamel's errors have no common public base
        raise SetpieceError(f"{path} is not valid YAML ({str(exc).splitlines()[0]}): fix or remove it")
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise SetpieceError(f"{path} is not a YAML mapping: fix or remove it")
    return data


def dump_yaml(path: Path, data: Any) -> None:
    from ruamel.yaml import YAML

    from setpiece.core.fsutil import atomic_write_text

    buf = io.StringIO()
    YAML().dump(data, buf)
    atomic_write_text(path, buf.getvalue())


def inside(pkg: Path, raw: str, what: str, name: str) -> str:
    """``raw`` (relative to the package folder, or absolute) as a posix path relative to it."""
    from setpiece.core.files.pointers import is_inside

    p = Path(raw)
    full = Path(os.path.normpath(p if p.is_absolute() else pkg / p))
    if not is_inside(full, pkg) or full == pkg:
        if what == "output":
            raise SetpieceError(
                f"output '{raw}' is outside asset '{name}' ({pkg}): a stage writes only inside "
                "its asset's package folder; give a path such as 'movie/shot.mp4'"
            )
        raise SetpieceError(
            f"dependency '{raw}' is outside asset '{name}' ({pkg}): give a path inside it, or "
            "another installed asset's path as 'Asset:path' (e.g. 'Plate:frames')"
        )
    return full.relative_to(pkg).as_posix()


def asset_path(ws: Workspace, ref: str) -> Path:
    """The installed path of ``Asset:path``."""
    m = _ASSET_DEP.match(ref)
    assert m is not None
    from setpiece.core.files.pointers import is_inside

    try:
        asset = ws.installed_asset(m["asset"])
    except SetpieceError:
        raise SetpieceError(
            f"dependency '{ref}': asset '{m['asset']}' is not installed in this workspace: "
            f"install it first ('setpiece install {m['asset']}')"
        )
    base = Path(os.path.abspath(asset.package_dir))
    full = Path(os.path.normpath(base / m["path"]))
    if not is_inside(full, base) or full == base:
        raise SetpieceError(f"dependency '{ref}' is outside asset '{m['asset']}': give a path "
                            "inside its package folder, such as 'Plate:frames'")
    return full


def is_asset_ref(raw: str) -> bool:
    return _ASSET_DEP.match(raw) is not None and not os.path.exists(raw)


def _dep(ws: Workspace, pkg: Path, raw: str, name: str) -> tuple[str, str | None]:
    """(path written in dvc.yaml, the ``Asset:path`` it came from or None)."""
    if is_asset_ref(raw):
        full = asset_path(ws, raw)
        return Path(os.path.relpath(full, pkg)).as_posix(), raw.rstrip("/")
    return inside(pkg, raw, "dependency", name), None


def replace_token(cmd: str, old: str, new: str) -> str:
    """``cmd`` with every whole shell word ``old`` (bare or quoted) made ``new``: a word
    that only starts or ends with ``old`` (``frames_proxy``) is left alone. The rest of the
    command keeps its bytes (not re-joined: ``>``, ``&&``, ``$VAR`` stay shell syntax)."""
    return re.sub(r"(?<![^\s'\"])" + re.escape(old) + r"(?![^\s'\"])", lambda m: new, cmd)


def refresh_asset_deps(ws: Workspace, pkg: Path) -> None:
    """Re-resolve every ``Asset:path`` dependency for this workspace (rewrite if moved)."""
    path = pkg / DVC_YAML
    data = load_yaml(path)
    changed = False
    for body in (data.get("stages") or {}).values():
        refs = ((body.get("meta") or {}).get("setpiece") or {}).get("assets") or {}
        if not refs:
            continue
        deps = list(body.get("deps") or [])
        new_refs = {}
        for written, ref in refs.items():
            now = Path(os.path.relpath(asset_path(ws, str(ref)), pkg)).as_posix()
            new_refs[now] = ref
            if now != written:
                deps = [now if d == written else d for d in deps]
                body["cmd"] = replace_token(str(body.get("cmd", "")), written, now)
                changed = True
        if changed:
            body["deps"] = deps
            body["meta"]["setpiece"]["assets"] = new_refs
    if changed:
        dump_yaml(path, data)


def _overlaps(a: str, b: str) -> bool:
    return a == b or a.startswith(b.rstrip("/") + "/") or b.startswith(a.rstrip("/") + "/")


def check_cycle(stages: Mapping[str, Any], first: str | None = None) -> None:
    """Refuse stages whose outputs feed back into themselves (one line naming the loop)."""
    from setpiece.core.pipeline_lock import stage_paths

    needs: dict[str, set[str]] = {}
    for s, body in stages.items():
        deps = stage_paths(body, "deps")
        needs[s] = {o for o, ob in stages.items()
                    if any(_overlaps(d, out) for d in deps for out in stage_paths(ob, "outs"))}
    state: dict[str, int] = {}
    trail: list[str] = []

    def visit(s: str) -> None:
        state[s] = 1
        trail.append(s)
        for o in sorted(needs[s]):
            if state.get(o) == 1:
                loop = [*trail[trail.index(o):], o]
                raise SetpieceError(
                    f"stages {' -> '.join(loop)} form a cycle (each needs the output of the "
                    "next): change a --dep or --out so that no stage needs its own output"
                )
            if o not in state:
                visit(o)
        trail.pop()
        state[s] = 2

    for s in ([first] if first in needs else []) + sorted(needs):
        if s not in state:
            visit(s)


def asset_template(ws: Workspace, template: str) -> tuple[str, str] | None:
    """A stage template an installed tool asset declares (``[project.entry-points.
    "setpiece.stages"] NAME = "module"``): ``("Tool:path/of/module.py", module)``; the
    module's file is a dependency of the stage, so a new version of the tool re-runs it."""
    for asset in ws.installed_assets().values():
        module = asset.entry_point_groups().get("setpiece.stages", {}).get(template)
        if not module:
            continue
        base = Path(os.path.abspath(asset.package_dir))
        site = Path(os.path.abspath(asset.site_packages)) if not asset.editable else base.parent
        found = site.joinpath(*module.split("."))
        found = found.with_suffix(".py") if found.with_suffix(".py").is_file() else found
        from setpiece.core.files.pointers import is_inside

        if not found.exists() or not is_inside(found, base) or found == base:
            raise SetpieceError(
                f"stage template '{template}' of {asset.name} names module {module}, which is "
                f"not a module inside its package ({base}): fix its setpiece.stages entry point")
        return f"{asset.name}:{found.relative_to(base).as_posix()}", module
    return None


def _parse_params(raw: Sequence[str]) -> dict[str, Any]:
    from ruamel.yaml import YAML

    out: dict[str, Any] = {}
    for item in raw:
        key, sep, value = item.partition("=")
        if not sep or not _PARAM_KEY.match(key.strip()):
            raise SetpieceError(f"--param '{item}' is not KEY=VALUE (e.g. --param fps=25)")
        parsed = YAML(typ="safe").load(value) if value.strip() else ""
        out[key.strip()] = parsed if isinstance(parsed, (int, float, str, bool)) else value
    return out


def add_stage(ws: Workspace, name: str, stage: str, cmd: str | None, deps: Sequence[str],
              outs: Sequence[str], *, template: str | None = None,
              params: Sequence[str] = ()) -> dict[str, Any]:
    """Write (or replace) ``stage`` in asset ``name``'s ``dvc.yaml``, atomically."""
    from setpiece.core.pipelines import package_dir

    pkg = package_dir(ws, name)
    if not _STAGE_NAME.match(stage):
        raise SetpieceError(
            f"stage name '{stage}' is not valid: use letters, digits, '_' and '-', "
            "starting with a letter"
        )
    given = _parse_params(params)
    defaults: dict[str, Any] = {}
    tool: tuple[str, str] | None = None  # (the tool asset's dep 'Tool:path', its module)
    t: Any = None  # the Template
    if template is not None:
        from setpiece.core.stages import TEMPLATES, Template, command

        t = TEMPLATES.get(template)
        if t is None:
            tool = asset_template(ws, template)
            if tool is None:
                raise SetpieceError(
                    f"no stage template '{template}': use one of {', '.join(TEMPLATES)}, or "
                    "one an installed tool asset declares (entry point group setpiece.stages)")
            t = Template(template, tool[1], f"from {tool[0]}", "any", {})
        if cmd:
            raise SetpieceError("give --cmd or --template, not both")
        if len(deps) != 1 or len(outs) != 1:
            raise SetpieceError(f"template '{template}' takes one --dep ({t.dep}) and one --out")
        unknown = sorted(set(given) - set(t.defaults)) if tool is None else []
        if unknown:
            raise SetpieceError(f"template '{template}' has no param '{unknown[0]}': its params "
                                f"are {', '.join(t.defaults)}")
        defaults = dict(t.defaults)
    elif not cmd or not cmd.strip():
        raise SetpieceError(f"stage '{stage}' has no --cmd: give the command to run, or a "
                            "--template (see 'setpiece pipeline templates')")
    if not outs:
        raise SetpieceError(f"stage '{stage}' has no --out: name the file or folder it writes")
    resolved = [_dep(ws, pkg, d, name) for d in [*deps, *([tool[0]] if tool else [])]]
    dep_rel = [r for r, _ in resolved]
    out_rel = [inside(pkg, o, "output", name) for o in outs]
    clash = sorted(set(dep_rel) & set(out_rel))
    if clash:
        raise SetpieceError(f"'{clash[0]}' is both a dependency and an output of stage '{stage}'")
    if template is not None and t is not None:
        cmd = command(t, stage, dep_rel[0], out_rel[0])
    path = pkg / DVC_YAML
    data = load_yaml(path)
    stages = data.setdefault("stages", {})
    for other, existing in stages.items():
        if other != stage and isinstance(existing, dict):
            taken = set(out_rel) & {str(o) for o in existing.get("outs", []) if isinstance(o, str)}
            if taken:
                raise SetpieceError(
                    f"'{sorted(taken)[0]}' is already an output of stage '{other}': "
                    "one output, one stage"
                )
    body: dict[str, Any] = {"cmd": cmd}
    if dep_rel:
        body["deps"] = dep_rel
    keys = sorted({*defaults, *given})
    if keys:
        body["params"] = [f"{stage}.{k}" for k in keys]
    body["outs"] = out_rel
    refs = {r: ref for r, ref in resolved if ref is not None}
    if refs:
        body["meta"] = {"setpiece": {"assets": refs}}
    check_cycle({**{k: v for k, v in stages.items() if isinstance(v, dict)}, stage: body}, stage)
    before = path.read_bytes() if path.exists() else None
    stages[stage] = body
    dump_yaml(path, data)  # dvc.yaml first: if params.yaml cannot be written, it is put back
    try:
        if keys:  # the template's defaults < what params.yaml already says < --param
            pdata = load_yaml(pkg / PARAMS)
            section = pdata.get(stage) if isinstance(pdata.get(stage), dict) else {}
            merged = {**defaults, **{k: v for k, v in section.items() if k in keys}, **given}
            if pdata.get(stage) != merged:
                pdata[stage] = merged
                dump_yaml(pkg / PARAMS, pdata)
    except BaseException:
        from setpiece.core.fsutil import atomic_write_bytes

        if before is None:
            path.unlink(missing_ok=True)
        else:
            atomic_write_bytes(path, before)
        raise
    from setpiece.core.files.excludes import sync_excludes

    sync_excludes(ws.output(name))
    return {"asset": name, "stage": stage, "dvc_yaml": str(path), "template": template, **body}
