"""Execute the book's notebooks: one fresh kernel each, up to two at a time, never hanging.

``make book`` runs :func:`execute_book` (through ``scripts/execute_book.py``)
before ``jupyter-book build``. It executes every notebook that is not already in
jupyter-cache's store and stores the result there, exactly as jupyter-book's own
``execute_notebooks: cache`` mode would; jupyter-book then finds every notebook
cached and starts no kernel itself. Executing the notebooks here, rather than
inside jupyter-book, fixes three things:

1. **A lost wakeup, which looked like a hung kernel.** When a cell sends output
   into an ipywidgets ``Output`` widget (``interactive_output``), nbclient plays
   the front end's part and sends the widget's new state back to the kernel on
   the shell channel (``nbclient.output_widget.OutputWidget.sync_state``), while
   it is awaiting ``poll()`` on that same socket for the cell's execute_reply.
   ``jupyter_client.session.Session.send`` sends on a blocking *shadow* of the
   asyncio socket, behind pyzmq's back. ZeroMQ's notification descriptor is
   edge-triggered: the raw send processes the socket's pending commands and
   clears it, so if the kernel's execute_reply had just arrived, no event ever
   fires. The reply sits in the queue, client and kernel both sleep in
   ``select()``, until the poll times out (the cell timeout); then pyzmq's final
   non-blocking poll finds the reply and execution carries on as if nothing had
   happened. :class:`OutputWidget` reads ``ZMQ_EVENTS`` through the asyncio
   socket after each such send; that is pyzmq's own way of catching up with a
   socket that was used behind its back (``zmq._future._AsyncSocket.get``).
2. **The TCP port race.** jupyter_client chooses a kernel's five TCP ports by
   binding port 0 and closing the socket again; a kernel started at the same
   time (by us or by another program) can be given the same port before either
   binds it. Kernels here use IPC transport: Unix sockets at a path that is
   unique to each kernel (:class:`IPCKernelManager`).
3. **A stall fails, and fails fast.** A cell whose reply takes the whole cell
   timeout fails with :class:`CellStalled` instead of passing late, and the
   timeout is the book's (``execute.timeout`` in ``_config.yml``), measured from
   the slowest cell rather than nbclient's ten minutes.

``jobs=2`` runs two kernels at once, longest notebooks first.
"""

from __future__ import annotations

import asyncio
import functools
import os
import shutil
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

__all__ = [
    "CellStalled",
    "ExecutedNotebook",
    "IPCKernelManager",
    "OutputWidget",
    "book_timeout",
    "execute_book",
    "execute_notebooks",
    "notebook_client",
    "toc_notebooks",
]


class CellStalled(RuntimeError):
    """A cell's execute_reply took the whole cell timeout."""


@functools.cache
def _output_widget_class():
    import zmq
    from nbclient.output_widget import OutputWidget as _NbclientOutputWidget

    class OutputWidget(_NbclientOutputWidget):
        """nbclient's Output widget mimic, with the lost wakeup fixed (see the module docstring)."""

        def _publish_msg(self, msg_type, data=None, metadata=None, buffers=None, **keys):
            super()._publish_msg(msg_type, data=data, metadata=metadata, buffers=buffers, **keys)
            socket = self.kernel_client.shell_channel.socket
            if socket is not None and not socket.closed:
                # Reading EVENTS through the asyncio socket schedules any pending receive.
                socket.get(zmq.EVENTS)

    return OutputWidget


def __getattr__(name):  # lazy: importing this module must not import nbclient or zmq
    if name == "OutputWidget":
        return _output_widget_class()
    if name == "IPCKernelManager":
        return _ipc_kernel_manager_class()
    raise AttributeError(name)


_RUNTIME: list[str] = []


def _runtime_dir() -> str:
    """A short private folder for the kernels' Unix sockets (paths are limited to about 100 bytes)."""
    if not _RUNTIME:
        _RUNTIME.append(tempfile.mkdtemp(prefix="learnreg-kernels-"))
    return _RUNTIME[0]


@functools.cache
def _ipc_kernel_manager_class():
    from jupyter_client import AsyncKernelManager
    from traitlets import CaselessStrEnum, default

    class IPCKernelManager(AsyncKernelManager):
        """An asyncio kernel manager whose kernel listens on Unix sockets at a path of its own."""

        transport = CaselessStrEnum(["tcp", "ipc"], default_value="ipc", config=True)

        @default("ip")
        def _ip_default(self):
            if self.transport == "ipc":
                return os.path.join(_runtime_dir(), uuid.uuid4().hex[:16])
            return super()._ip_default()

    return IPCKernelManager


def toc_notebooks(root: Path, toc_path: Path | None = None) -> list[Path]:
    """The notebooks listed in ``_toc.yml`` (or ``toc_path``), in reading order."""
    import yaml

    root = Path(root)
    toc = yaml.safe_load(Path(toc_path or root / "_toc.yml").read_text(encoding="utf-8"))
    files = [toc.get("root", "")]
    for part in toc.get("parts", []):
        files += [c["file"] for c in part.get("chapters", [])]
    return [root / f"{f}.ipynb" for f in files if (root / f"{f}.ipynb").is_file()]


def book_timeout(root: Path) -> int:
    """The per-cell timeout of the book: ``execute.timeout`` in ``_config.yml``."""
    import yaml

    cfg = yaml.safe_load((Path(root) / "_config.yml").read_text(encoding="utf-8"))
    timeout = cfg.get("execute", {}).get("timeout")
    if not isinstance(timeout, int) or isinstance(timeout, bool) or timeout <= 0:
        raise ValueError(f"_config.yml: execute.timeout must be a positive integer (seconds), got {timeout!r}")
    return timeout


@dataclass
class ExecutedNotebook:
    """The outcome of one notebook's execution."""

    path: Path
    nb: object
    seconds: float
    cell_seconds: dict[int, float] = field(default_factory=dict)
    error: str | None = None
    started: float = 0.0  # time.monotonic() at kernel start, to see which runs overlapped

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def slowest_cell(self) -> tuple[int, float] | None:
        if not self.cell_seconds:
            return None
        return max(self.cell_seconds.items(), key=lambda kv: kv[1])


def notebook_client(nb, cwd: Path, timeout: int, *, safe: bool = True, **kwargs):
    """An nbclient ``NotebookClient`` for ``nb``, run in ``cwd`` with ``timeout`` seconds per cell.

    With ``safe=True`` (always, except to show the problem in the stress test):
    IPC transport and the fixed Output widget mimic. Further keyword arguments
    go to ``NotebookClient`` (e.g. its ``on_cell_*`` hooks).
    """
    from nbclient import NotebookClient

    if safe:
        kwargs.setdefault("kernel_manager_class", _ipc_kernel_manager_class())
    # record_timing=False: as jupyter-book runs it (no execution timestamps in the stored cells)
    kwargs.setdefault("record_timing", False)
    kwargs.setdefault("kernel_name", "python3")
    client = NotebookClient(nb, timeout=timeout, resources={"metadata": {"path": str(cwd)}}, **kwargs)
    if safe:
        # a plain attribute that NotebookClient.__init__ sets, not a trait: replace it afterwards
        client.widget_registry = {"@jupyter-widgets/output": {"OutputModel": _output_widget_class()}}
    return client


async def _execute_one(path: Path, timeout: int, safe: bool, stall_is_error: bool) -> ExecutedNotebook:
    import nbformat
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    nb = nbformat.read(path, as_version=4)
    started: dict[int, float] = {}
    cell_seconds: dict[int, float] = {}

    def on_cell_execute(cell, cell_index, **_):
        started[cell_index] = time.monotonic()

    def on_cell_executed(cell, cell_index, **_):
        dt = time.monotonic() - started[cell_index]
        cell_seconds[cell_index] = dt
        if stall_is_error and dt >= timeout:
            raise CellStalled(f"{path.name}: cell {cell_index} took {dt:.0f} s, the whole cell timeout of "
                              f"{timeout} s (a lost reply; see learnreg.book.execution)")

    client = notebook_client(nb, path.parent, timeout, safe=safe,
                             on_cell_execute=on_cell_execute, on_cell_executed=on_cell_executed)
    t0 = time.monotonic()
    error = None
    try:
        await client.async_execute()
    except CellStalled as exc:
        error = str(exc)
    except (CellExecutionError, CellTimeoutError, DeadKernelError, RuntimeError) as exc:
        text = str(exc).strip()
        error = f"{path.name}: {type(exc).__name__}: " + (text.splitlines()[-1][:500] if text else "")
    return ExecutedNotebook(path, nb, time.monotonic() - t0, cell_seconds, error, started=t0)


async def _execute_all(paths, timeout, jobs, safe, stall_is_error, on_done):
    semaphore = asyncio.Semaphore(jobs)

    async def run(path):
        async with semaphore:
            result = await _execute_one(path, timeout, safe, stall_is_error)
        if on_done is not None:
            on_done(result)
        return result

    return await asyncio.gather(*(run(p) for p in paths))


def execute_notebooks(paths, *, timeout: int, jobs: int = 1, safe: bool = True, stall_is_error: bool = True,
                      on_done=None) -> list[ExecutedNotebook]:
    """Execute each notebook in a fresh kernel in its own folder, ``jobs`` at a time, in the given order.

    Returns one :class:`ExecutedNotebook` per path, in the order of ``paths``.
    ``on_done(result)`` is called as each one finishes.
    """
    if not isinstance(jobs, int) or isinstance(jobs, bool) or jobs < 1:
        raise ValueError(f"jobs must be a positive integer, got {jobs!r}")
    if not isinstance(timeout, int) or isinstance(timeout, bool) or timeout <= 0:
        raise ValueError(f"timeout must be a positive integer (seconds), got {timeout!r}")
    paths = [Path(p).resolve() for p in paths]
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(_execute_all(paths, timeout, jobs, safe, stall_is_error, on_done))
    finally:
        loop.close()
        if _RUNTIME:
            shutil.rmtree(_RUNTIME.pop(), ignore_errors=True)


def _known_seconds(cache, paths) -> dict[Path, float]:
    """The last recorded execution time of each notebook (from the cache's earlier records), if any."""
    out = {}
    for rec in cache.list_cache_records():
        secs = (rec.data or {}).get("execution_seconds")
        if isinstance(secs, (int, float)) and rec.uri:
            out[Path(rec.uri).resolve()] = float(secs)
    return {p: out[p] for p in paths if p in out}


def execute_book(root: Path, *, cache_path: Path | None = None, jobs: int = 2, timeout: int | None = None,
                 notebooks=None, toc_path: Path | None = None, log=print) -> list[ExecutedNotebook]:
    """Execute the notebooks of ``_toc.yml`` that jupyter-cache does not hold yet, and store them there.

    ``cache_path`` is jupyter-book's cache, ``<root>/_build/.jupyter_cache`` by
    default; ``toc_path`` another table of contents than ``<root>/_toc.yml``. Notebooks run longest first (by their last recorded time). Raises
    ``RuntimeError`` listing every notebook that failed; the others are cached.
    """
    import nbformat
    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn

    root = Path(root).resolve()
    cache = get_cache(str(cache_path or root / "_build" / ".jupyter_cache"))
    timeout = book_timeout(root) if timeout is None else timeout
    paths = [Path(p).resolve() for p in (notebooks or toc_notebooks(root, toc_path))]
    todo = []
    for path in paths:
        try:
            cache.match_cache_notebook(nbformat.read(path, as_version=4))
        except KeyError:
            todo.append(path)
    if not todo:
        log(f"all {len(paths)} notebooks are in the execution cache")
        return []
    known = _known_seconds(cache, todo)
    todo.sort(key=lambda p: -known.get(p, 0.0))  # stable: unknown ones keep the table of contents' order
    log(f"executing {len(todo)} notebook(s), {min(jobs, len(todo))} at a time, cell timeout {timeout} s")

    def done(r: ExecutedNotebook):
        slowest = r.slowest_cell
        extra = f", slowest cell {slowest[0]}: {slowest[1]:.1f} s" if slowest else ""
        log(f"  {r.path.name}: {'ok' if r.ok else 'FAILED'} in {r.seconds:.1f} s{extra}" +
            (f"\n    {r.error}" if r.error else ""))
        if r.ok:
            cache.cache_notebook_bundle(CacheBundleIn(r.nb, str(r.path), data={"execution_seconds": r.seconds}),
                                        check_validity=False, overwrite=True)

    results = execute_notebooks(todo, timeout=timeout, jobs=jobs, on_done=done)
    failed = [r for r in results if not r.ok]
    if failed:
        raise RuntimeError("notebook execution failed:\n" + "\n".join(r.error for r in failed))
    return results
