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
import atexit
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
    """A short private folder for the kernels' Unix sockets (paths are limited to about 100 bytes).

    Each kernel manager removes its own socket files; the folder goes when the process exits.
    """
    if not _RUNTIME:
        _RUNTIME.append(tempfile.mkdtemp(prefix="learnreg-kernels-"))
        atexit.register(shutil.rmtree, _RUNTIME[0], True)
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
    """The outcome of one notebook's execution.

    ``cell_seconds`` is each cell's wall-clock time; ``cell_cpu_seconds`` the CPU
    time its kernel used meanwhile (Linux), which a busy machine does not
    inflate: about what the cell takes on an idle core. ``hung`` is set when a
    cell failed after waiting without its kernel doing any work.
    """

    path: Path
    nb: object
    seconds: float
    cell_seconds: dict[int, float] = field(default_factory=dict)
    error: str | None = None
    started: float = 0.0  # time.monotonic() at kernel start, to see which runs overlapped
    cell_cpu_seconds: dict[int, float] = field(default_factory=dict)
    hung: bool = False

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def slowest_cell(self) -> tuple[int, float] | None:
        if not self.cell_seconds:
            return None
        return max(self.cell_seconds.items(), key=lambda kv: kv[1])

    @property
    def busiest_cell(self) -> tuple[int, float] | None:
        """The cell whose kernel used the most CPU time, and that time."""
        if not self.cell_cpu_seconds:
            return None
        return max(self.cell_cpu_seconds.items(), key=lambda kv: kv[1])


def _cpu_seconds(pid) -> float | None:
    """User + system CPU time of process ``pid`` so far (Linux; None elsewhere)."""
    try:
        with open(f"/proc/{int(pid)}/stat", encoding="ascii") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, TypeError):
        return None


#: A cell that failed after its kernel used less CPU time than IDLE_SHARE of the wait (or less than
#: IDLE_FLOOR seconds, for short waits) was not running: its kernel sat idle.
IDLE_SHARE, IDLE_FLOOR = 0.02, 0.5


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

    nb = nbformat.read(path, as_version=4)
    started: dict[int, tuple[float, float | None]] = {}
    cell_seconds: dict[int, float] = {}
    cell_cpu: dict[int, float] = {}

    sample: list = [None, None]  # (time, kernel CPU) of the last reading; kept after the kernel has gone

    def kernel_cpu():
        provisioner = getattr(client.km, "provisioner", None) if client.km is not None else None
        cpu = _cpu_seconds(getattr(provisioner, "pid", None))
        if cpu is not None:
            sample[:] = [time.monotonic(), cpu]
        return cpu

    async def sampler():  # a timed-out cell is reported after its kernel was shut down: read it meanwhile
        while True:
            await asyncio.sleep(1.0)
            kernel_cpu()

    def on_cell_execute(cell, cell_index, **_):
        started[cell_index] = (time.monotonic(), kernel_cpu())

    def elapsed(cell_index):
        t, c = started[cell_index]
        now = kernel_cpu()
        if now is None and sample[1] is not None and sample[0] >= t:
            return sample[0] - t, (sample[1] - c if c is not None else None)
        return time.monotonic() - t, (now - c if now is not None and c is not None else None)

    def describe(cell_index, dt, cpu):
        work = "" if cpu is None else f", {cpu:.0f} s of it computing in the kernel"
        return (f"cell {cell_index} after {dt:.0f} s{work} (cell timeout {timeout} s; "
                f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")

    def on_cell_executed(cell, cell_index, **_):
        dt, cpu = elapsed(cell_index)
        cell_seconds[cell_index] = dt
        if cpu is not None:
            cell_cpu[cell_index] = cpu
        if stall_is_error and dt >= timeout:
            raise CellStalled(f"{path.name}: {describe(cell_index, dt, cpu)}: the reply came only at the timeout "
                              "(a lost reply, see learnreg.book.execution, or a cell too slow for the timeout)")

    client = notebook_client(nb, path.parent, timeout, safe=safe,
                             on_cell_execute=on_cell_execute, on_cell_executed=on_cell_executed)
    t0 = time.monotonic()
    error, hung = None, False
    watch = asyncio.ensure_future(sampler())
    try:
        await client.async_execute()
    except Exception as exc:  # CellStalled, CellExecutionError, CellTimeoutError, DeadKernelError, no kernel
        pending = [i for i in started if i not in cell_seconds]
        if isinstance(exc, CellStalled):
            error = str(exc)
            i = max(cell_seconds)
            dt, cpu = cell_seconds[i], cell_cpu.get(i)
        else:
            text = str(exc).strip()
            lines = [line for line in text.splitlines() if line.strip() and not line.startswith("---")]
            detail = (lines[0] if "timed out" in text else lines[-1])[:300] if lines else ""
            dt, cpu = elapsed(pending[-1]) if pending else (0.0, None)
            where = f"{describe(pending[-1], dt, cpu)}: " if pending else ""
            error = f"{path.name}: {type(exc).__name__}: {where}{detail}"
        hung = cpu is not None and dt > 0 and cpu < max(IDLE_SHARE * dt, IDLE_FLOOR)
    finally:
        watch.cancel()
    return ExecutedNotebook(path, nb, time.monotonic() - t0, cell_seconds, error, started=t0,
                            cell_cpu_seconds=cell_cpu, hung=hung)


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
