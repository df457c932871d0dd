"""pyblish's publish loop, with batches: same-order plug-ins that say so run together.

The "Border Control" discussion on the pyblish forum: plug-ins of one order depend only on
the orders before them, so a batch of same-order plug-ins could run at once, except that
hosts cannot do two things at a time. Here a plug-in opts in with a class attribute::

    class UploadMovie(pyblish.api.InstancePlugin):
        order = pyblish.api.IntegratorOrder + 0.1
        concurrent = True   # I/O-bound, touches no scene: safe beside its peers

In a headless publish (``setpiece publish``, ``batch``, the farm), consecutive plug-ins of
the same order that all set ``concurrent = True`` (``ContextPlugin``/``InstancePlugin``)
run on a thread each, every (plug-in, instance) pair at once; everything else runs one at
a time on the calling (the app's main) thread, as pyblish runs it. Inside the app's
publisher window nothing runs concurrently. What is unchanged: the order of batches
(borders stop between orders, and a failure in one order never stops a plug-in of the
same order, so running a batch together stops exactly where pyblish would), the results
(same keys, each plug-in's own log records, in plug-in order in ``context.data["results"]``),
and the ``pluginProcessed``/``pluginFailed``/``published`` callbacks (emitted on the
calling thread, in plug-in order).

This is ``pyblish.util.publish`` (pyblish-base 1.8: collectors first, plug-ins without a
matching instance dropped, the registered test asked before each plug-in) with the batch
step added; it runs pyblish's own ``plugin.process`` for everything it does not batch.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

log = logging.getLogger("setpiece.publish")

#: threads for one batch at most (they wait on I/O: uploads, transcodes, pushes)
MAX_THREADS = 8


def may_batch(plugin: Any) -> bool:
    import pyblish.plugin as pp

    return getattr(plugin, "concurrent", False) is True and issubclass(
        plugin, (pp.ContextPlugin, pp.InstancePlugin))


def publish(context: Any, plugins: Sequence[Any], *, concurrent: bool) -> Any:
    """Publish ``context`` with ``plugins`` as ``pyblish.util.publish`` does; with
    ``concurrent``, batches of same-order ``concurrent = True`` plug-ins run together."""
    import pyblish.api as api
    import pyblish.lib as lib
    import pyblish.logic as logic
    import pyblish.plugin as pp

    plugins = [p for p in plugins if p.active]
    collectors = [p for p in plugins if lib.inrange(number=p.order, base=api.CollectorOrder)]
    total = len(list(logic.Iterator(plugins, context))) or 1
    done = [1]

    def finished(result: dict[str, Any]) -> None:
        result["progress"] = float(done[0]) / total
        done[0] += 1

    for plugin, instance in logic.Iterator(collectors, context):
        finished(pp.process(plugin, context, instance))

    rest = [p for p in plugins if p not in collectors]
    rest = [p for p in rest
            if not (p.__instanceEnabled__ and not logic.instances_by_plugin(context, p))]
    state: dict[str, Any] = {"nextOrder": None, "ordersWithError": set()}
    ordered = logic.plugins_by_targets(rest, ["default", *logic.registered_targets()])
    test = logic.registered_test()
    i = 0
    while i < len(ordered):
        group = [ordered[i]]
        if concurrent and may_batch(ordered[i]):
            while (i + len(group) < len(ordered) and may_batch(ordered[i + len(group)])
                   and ordered[i + len(group)].order == ordered[i].order):
                group.append(ordered[i + len(group)])
        i += len(group)
        tasks: list[tuple[Any, Any]] = []
        for plugin in group:
            state["nextOrder"] = plugin.order
            message = test(**state)
            if message:
                logging.getLogger("pyblish.logic").error("Stopped due to %s", message)
                api.emit("published", context=context)
                return context
            tasks.extend(_tasks(plugin, context))
        if len(group) > 1 or (len(tasks) > 1 and concurrent and may_batch(group[0])):
            results = _run_batch(tasks, context)
        else:
            results = [pp.process(plugin, context, instance) for plugin, instance in tasks]
        for result in results:
            finished(result)
            if result["error"] is not None:
                state["ordersWithError"].add(result["plugin"].order)
                print(result["error"])  # as pyblish does (the run sends stdout to stderr)
    api.emit("published", context=context)
    return context


def _tasks(plugin: Any, context: Any) -> list[tuple[Any, Any]]:
    """What ``pyblish.logic.Iterator`` yields for one plug-in (the test already asked)."""
    import pyblish.logic as logic

    if not plugin.__instanceEnabled__:
        return [(plugin, None)]
    return [(plugin, instance) for instance in logic.instances_by_plugin(context, plugin)
            if instance.data.get("publish") is not False]


class _ByThread(logging.Handler):
    """pyblish's per-plug-in log capture (``lib.MessageHandler``), one list per thread."""

    def __init__(self) -> None:
        super().__init__()
        self.records: dict[int, list[logging.LogRecord]] = {}

    def emit(self, record: logging.LogRecord) -> None:
        found = self.records.get(record.thread or 0)
        if found is not None and record.name.startswith("pyblish"):
            found.append(record)


def _run_batch(tasks: list[tuple[Any, Any]], context: Any) -> list[dict[str, Any]]:
    """Run every (plug-in, instance) of one batch on a thread each; the results and the
    callbacks come back on this thread, in plug-in order."""
    import pyblish.lib as lib

    handler = _ByThread()
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)  # as pyblish's per-plug-in capture does
    try:
        with ThreadPoolExecutor(max_workers=min(MAX_THREADS, len(tasks)),
                                thread_name_prefix="setpiece-publish") as pool:
            results = list(pool.map(lambda task: _process(task, context, handler), tasks))
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
    for result in results:
        error = result["error"]
        if error is not None:
            lib.emit("pluginFailed", plugin=result["plugin"], context=context,
                     instance=result["instance"], error=error)
            logging.getLogger("pyblish.plugin").error(
                getattr(error, "formatted_traceback", str(error)))
        context.data.setdefault("results", []).append(result)
        lib.emit("pluginProcessed", result=result)
    return results


def _process(task: tuple[Any, Any], context: Any, handler: _ByThread) -> dict[str, Any]:
    """``pyblish.plugin.process`` of an explicit plug-in, without touching the shared
    context or the callbacks (done in order by :func:`_run_batch`)."""
    import pyblish.lib as lib
    import pyblish.plugin as pp

    plugin, instance = task
    records: list[logging.LogRecord] = []
    handler.records[threading.get_ident()] = records
    result: dict[str, Any] = {
        "success": False, "plugin": plugin, "instance": instance, "action": None,
        "error": None, "records": records, "duration": None, "progress": 0,
        "context": context,
    }
    start = time.time()
    try:
        plugin().process(context if issubclass(plugin, pp.ContextPlugin) else instance)
        result["success"] = True
    except Exception as error:
        lib.extract_traceback(error, plugin.__module__)
        result["error"] = error
    finally:
        handler.records.pop(threading.get_ident(), None)
    result["duration"] = (time.time() - start) * 1000  # ms
    return result
