"""``setpiece affected`` at studio size (issue 11), measured side by side in one run.

A folder repo of 10,000 versions of 2,000 assets (5 versions each): 1,499 props, 400 sets
(each requires 6 props in its build group: half bounded, a third abstract, the rest
pinned), 100 shots (3 sets + 2 props) and one ``Pipeline`` tool every set and shot
requires (abstract): the worst case, whose publish reaches a quarter of the versions.
9,800 versions' index records are generated directly (``dependents.write_record``, the code a
publish runs), the last 200 (the newest version of 40 sets, 40 shots and 120 props) are
real wheels published for real with ``FolderRepo.publish``, half with the
reverse-dependency index update and half without (alternating), to measure what the
update adds. Every version also gets its PEP 658 ``.metadata`` file, so the raw way of
answering (read every version's metadata, no index) is measured beside it.

Run with ``.venv/bin/python benchmarks/affected_bench.py`` (~2 minutes). Work under
``benchmarks/.work/affected`` (git-ignored); results printed and saved to
``benchmarks/.work/affected/results.md``.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
WORK = HERE / ".work" / "affected"
sys.path.insert(0, str(HERE))
from core_bench import write_wheel  # noqa: E402  (one way to write a valid asset wheel)

BIN = Path(sys.executable).parent
SETPIECE = BIN / "setpiece"
N_PROPS, N_SETS, N_SHOTS = 1499, 400, 100
VERSIONS = [f"1.{k}.0" for k in range(5)]

ROWS: list[tuple[str, list[float], list[float], str, bool | None]] = []
#: CPU seconds of each wall-clock result of ``timed`` (by id): on a shared 2-core machine
#: under load the wall clock measures the queue for a core as much as the work
CPU: dict[int, float] = {}
KEEP: list[float] = []


class Seconds(float):
    """A wall-clock duration (its CPU time is in ``CPU``)."""


def row(what: str, times: list[float], goal: str = "", met: bool | None = None) -> None:
    cpu = [CPU.get(id(t), float("nan")) for t in times]
    ROWS.append((what, times, cpu, goal, met))
    print(f"  {what:<78} min {min(times) * 1000:8.1f} ms  median "
          f"{statistics.median(times) * 1000:8.1f} ms  cpu {statistics.median(cpu) * 1000:8.1f} ms",
          flush=True)


def timed(fn: Callable[[], object]) -> tuple[float, object]:
    c = time.process_time()
    t = time.perf_counter()
    out = fn()
    wall = Seconds(time.perf_counter() - t)
    CPU[id(wall)] = time.process_time() - c
    KEEP.append(wall)
    return wall, out


def cpu_median(times: list[float]) -> float:
    return statistics.median(CPU[id(t)] for t in times)


def graph() -> dict[str, list[str]]:
    """Asset name -> build requirements (the same for each of its versions)."""
    rnd = random.Random(11)
    out: dict[str, list[str]] = {"Pipeline": []}
    props = [f"Prop{i:04d}" for i in range(N_PROPS)]
    sets = [f"Set{i:03d}" for i in range(N_SETS)]
    for p in props:
        out[p] = []

    def spec(name: str, r: float) -> str:
        if r < 0.5:
            return f"{name.lower()}[build]>=1.1.0,<2"  # semi-push
        if r < 0.8:
            return f"{name.lower()}[build]"  # push
        return f"{name.lower()}[build]==1.2.0"  # pull

    for s in sets:
        out[s] = [spec(p, rnd.random()) for p in rnd.sample(props, 6)] + ["pipeline[build]"]
    for i in range(N_SHOTS):
        out[f"Shot{i:03d}"] = ([spec(s, rnd.random() * 0.8) for s in rnd.sample(sets, 3)]
                               + [spec(p, rnd.random()) for p in rnd.sample(props, 2)]
                               + ["pipeline[build]"])
    return out


def metadata(name: str, version: str, reqs: list[str]) -> bytes:
    fields = ["Metadata-Version: 2.3", f"Name: {name}", f"Version: {version}",
              "Keywords: setpiece-asset,setpiece-kind:prop", "Requires-Python: >=3.10"]
    fields += [f"Requires-Dist: {r} ; extra == 'build'" for r in reqs]
    fields.append("Provides-Extra: build")
    return ("\n".join(fields) + "\n").encode()


def real_wheel(folder: Path, name: str, version: str, reqs: list[str]) -> Path:
    """core_bench's wheel with this asset's METADATA (requirements as uv_build writes them)."""
    import zipfile

    plain = write_wheel(folder / "plain", name, version)
    path = folder / plain.name
    dist = name.lower()
    with zipfile.ZipFile(plain) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == f"{dist}-{version}.dist-info/METADATA":
                data = metadata(name, version, reqs)
            dst.writestr(info, data)
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args(argv)
    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    os.environ["SETPIECE_HOME"] = str(WORK / "home")
    os.environ["UV_PYTHON_DOWNLOADS"] = "never"

    from setpiece.core.affected import affected
    from setpiece.core.repos import dependents as rdeps
    from setpiece.core.repos import simple_index
    from setpiece.core.repos.folder import FolderRepo

    print(f"affected benchmark: {platform.system()} {platform.machine()}, {os.cpu_count()} "
          f"cores, Python {platform.python_version()}, load {os.getloadavg()[0]:.1f}", flush=True)
    g = graph()
    repo = WORK / "repo"
    FolderRepo("big", str(repo)).create()
    rnd = random.Random(5)
    real = set(rnd.sample([n for n in g if n.startswith("Set")], 40)
               + rnd.sample([n for n in g if n.startswith("Shot")], 40)
               + rnd.sample([n for n in g if n.startswith("Prop")], 120))
    t = time.perf_counter()
    n_records = 0
    for name, reqs in g.items():
        for v in VERSIONS:
            if name in real and v == VERSIONS[-1]:
                continue
            meta = metadata(name, v, reqs)
            (repo / f"{name.lower()}-{v}-py3-none-any.whl.metadata").write_bytes(meta)
            rdeps.write_record(repo, rdeps.VersionRecord.from_metadata(meta))
            n_records += 1
    print(f"  (setup: {n_records} index records generated in {time.perf_counter() - t:.1f} s)")

    stage = WORK / "stage"
    (stage / "plain").mkdir(parents=True)
    wheels = [real_wheel(stage, n, VERSIONS[-1], g[n]) for n in sorted(real)]
    fr = FolderRepo("big", str(repo))
    original = FolderRepo._record

    def without_index(self: FolderRepo, wheel: Path) -> None:
        simple_index.write_metadata_file(wheel)  # the static index's part of _record

    with_idx: list[float] = []
    without_idx: list[float] = []
    for k, w in enumerate(wheels):
        FolderRepo._record = original if k % 2 == 0 else without_index  # type: ignore[method-assign]
        secs, _ = timed(lambda w=w: fr.publish(w))  # type: ignore[misc]
        (with_idx if k % 2 == 0 else without_idx).append(secs)
    FolderRepo._record = original  # type: ignore[method-assign]
    for k, w in enumerate(wheels):  # the half published without: give them their records
        if k % 2:
            rdeps.record_wheel(repo, repo / w.name)
    n_versions = n_records + len(wheels)
    assert n_versions == 10_000, n_versions
    added = statistics.median(with_idx) - statistics.median(without_idx)
    added_cpu = cpu_median(with_idx) - cpu_median(without_idx)
    row("FolderRepo.publish with the reverse-dependency index (100 real wheels)", with_idx)
    row("FolderRepo.publish without it (100 real wheels, alternating)", without_idx)
    write_times = []
    for w in wheels[:50]:
        rec = rdeps.VersionRecord.from_metadata((repo / (w.name + ".metadata")).read_bytes())
        secs, _ = timed(lambda rec=rec: rdeps.write_record(WORK / "scratch", rec))  # type: ignore[misc]
        write_times.append(secs)
    row("the index update alone (dependents.write_record of those records)", write_times,
        "< 10 ms added", statistics.median(write_times) < 0.010)
    print(f"  publish: median with - median without = {added * 1000:.1f} ms "
          f"(CPU {added_cpu * 1000:.1f} ms)")

    def query(name: str, version: str) -> list[object]:
        return list(affected([FolderRepo("big", str(repo))], name, version))

    prop = "Prop0042" if "Prop0042" not in real else "Prop0043"
    users = [s for s, reqs in g.items() if any(r.startswith(prop.lower() + "[") for r in reqs)]
    used_set = next(s for s in sorted(g) if s.startswith("Set") and any(
        r.startswith(s.lower() + "[") for reqs in g.values() for r in reqs))
    cases = [
        (f"a prop ({prop}, required by {len(users)} sets/shots)", prop, "1.3.0"),
        (f"a set ({used_set}, required by shots)", used_set, "1.3.0"),
        ("Pipeline, required by every set and shot (worst case)", "Pipeline", "1.5.0"),
    ]
    for label, name, version in cases:
        for p in (repo / "deps" / "dependents").glob("*.json"):
            p.unlink()  # no compacted cache: the first query after a reindex by an old version
        cold, result = timed(lambda n=name, v=version: query(n, v))  # type: ignore[misc]
        warm = [timed(lambda n=name, v=version: query(n, v))[0]  # type: ignore[misc]
                for _ in range(args.runs)]
        n = len(result)  # type: ignore[arg-type]
        row(f"affected {name}=={version}: {label}: {n} versions, no caches (writes them)",
            [cold])
        row(f"affected {name}=={version}: with the compacted caches", warm, "< 0.3 s (CPU)",
            cpu_median(warm) < 0.3)
    # after one more publish of a dependent: the cache + one new file
    extra = real_wheel(stage, "Set999", "1.0.0", ["pipeline[build]"])
    fr.publish(extra)
    after = [timed(lambda: query("Pipeline", "1.5.0"))[0] for _ in range(args.runs)]
    row("affected Pipeline==1.5.0: one publish later (cache + 1 new record)", after,
        "< 0.3 s (CPU)", cpu_median(after) < 0.3)

    # Raw: no index, read every version's PEP 658 metadata and invert it.
    def raw() -> int:
        table: dict[str, list[object]] = {}
        for p in os.scandir(repo):
            if p.name.endswith(".metadata"):
                rec = rdeps.VersionRecord.from_metadata(Path(p.path).read_bytes())
                for t in rec.targets():
                    table.setdefault(t, []).append(rec)
        return len(table)

    row("raw: read + parse all 10,000 .metadata files (no index), before any graph walk",
        [timed(raw)[0] for _ in range(3)])

    # The CLI in a fresh process (interpreter + imports + workspace + query).
    from setpiece.core.workspace import Workspace

    ws = Workspace.init(WORK / "ws", repos=[("big", str(repo))], blessed="big", default="big")
    for name, version in ((prop, "1.3.0"), ("Pipeline", "1.5.0")):
        cli = []
        for _ in range(args.runs):
            c0 = os.times()
            t = time.perf_counter()
            subprocess.run([str(SETPIECE), "-q", "-w", str(ws.root), "affected",
                            f"{name}=={version}", "--unpublished", "--json"],
                           check=True, capture_output=True)
            wall = Seconds(time.perf_counter() - t)
            c1 = os.times()
            CPU[id(wall)] = c1[2] + c1[3] - c0[2] - c0[3]  # the child's user + system
            KEEP.append(wall)
            cli.append(wall)
        row(f"setpiece affected {name}=={version} --json (fresh process, CLI)", cli)

    table = ["| measurement | min (ms) | median (ms) | CPU median (ms) | runs | goal | met |",
             "|---|---:|---:|---:|---:|---|---|"]
    for what, times, cpu, goal, met in ROWS:
        mark = "" if met is None else ("yes" if met else "**no**")
        table.append(f"| {what.strip()} | {min(times) * 1000:.1f} | "
                     f"{statistics.median(times) * 1000:.1f} | "
                     f"{statistics.median(cpu) * 1000:.1f} | {len(times)} | {goal} | {mark} |")
    text = (f"Measured {time.strftime('%Y-%m-%d')}, load {os.getloadavg()[0]:.1f}; publish "
            f"median with - without = {added * 1000:.1f} ms (CPU {added_cpu * 1000:.1f} ms)\n\n"
            + "\n".join(table) + "\n")
    (WORK / "results.md").write_text(text)
    print("\n" + text)
    if not args.keep:
        for child in WORK.iterdir():
            if child.name != "results.md":
                shutil.rmtree(child, ignore_errors=True) if child.is_dir() else child.unlink()
    return 0 if all(r[-1] is not False for r in ROWS) else 1


if __name__ == "__main__":
    sys.exit(main())
