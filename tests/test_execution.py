"""Notebook execution without hangs (learnreg.book.execution).

The hang, reproduced deterministically: nbclient awaits ``poll()`` on the shell
socket for a cell's execute_reply; the reply arrives while the event loop is
busy; then nbclient's Output widget mimic sends the widget's state on the same
socket through jupyter_client's ``Session.send``, which uses a blocking shadow
of the asyncio socket. That raw send clears ZeroMQ's edge-triggered
notification, and the poll does not wake up although the reply is there. With
nbclient's own mimic the poll is still waiting after several seconds; with the
book's it returns at once. (A stress run of real kernels is
``scripts/stress_kernels.py``; it is too long for ``make test``.)
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

zmq = pytest.importorskip("zmq")
pytest.importorskip("nbclient")

import zmq.asyncio  # noqa: E402
from jupyter_client.channels import AsyncZMQSocketChannel  # noqa: E402
from jupyter_client.session import Session  # noqa: E402
from nbclient.output_widget import OutputWidget as NbclientOutputWidget  # noqa: E402

from learnreg.book import execution  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


async def _reply_noticed_after_a_widget_sync(widget_class) -> bool:
    """Whether nbclient's pending poll for the reply wakes up after the Output widget mimic sent on the socket."""
    ctx = zmq.asyncio.Context()
    kernel, client = ctx.socket(zmq.ROUTER), ctx.socket(zmq.DEALER)
    try:
        kernel.bind("inproc://shell")
        client.connect("inproc://shell")
        session = Session(key=b"")
        channel = AsyncZMQSocketChannel(client, session)
        await client.send(b"execute_request")
        ident, _ = await kernel.recv_multipart()
        poll = asyncio.ensure_future(channel.socket.poll(30_000))   # as nbclient's _async_poll_for_reply
        await asyncio.sleep(0.05)
        await kernel.send_multipart([ident, b"execute_reply"])
        time.sleep(0.2)   # the reply arrives while the event loop is busy with IOPub output...
        widget = widget_class("comm-1", {"outputs": []}, SimpleNamespace(session=session, shell_channel=channel), None)
        widget.parent_header = {}
        widget.sync_state()  # ...which went into an Output widget, so the mimic syncs it back to the kernel
        try:
            await asyncio.wait_for(poll, 3.0)
        except asyncio.TimeoutError:
            return False
        return True
    finally:
        client.close(0)
        kernel.close(0)
        ctx.term()


def test_nbclients_output_widget_mimic_loses_the_reply():
    assert asyncio.run(_reply_noticed_after_a_widget_sync(NbclientOutputWidget)) is False


def test_the_books_output_widget_mimic_does_not():
    assert asyncio.run(_reply_noticed_after_a_widget_sync(execution.OutputWidget)) is True


def test_the_client_uses_ipc_transport_and_the_fixed_widget_mimic():
    nbformat = pytest.importorskip("nbformat")
    client = execution.notebook_client(nbformat.v4.new_notebook(), ROOT, 60)
    assert client.widget_registry["@jupyter-widgets/output"]["OutputModel"] is execution.OutputWidget
    km = client.kernel_manager_class(kernel_name="python3")
    assert km.transport == "ipc" and Path(km.ip).is_absolute()
    other = client.kernel_manager_class(kernel_name="python3")
    assert other.ip != km.ip, "two kernels must never share socket paths"
    assert client.timeout == 60 and client.record_timing is False


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="jobs"):
        execution.execute_notebooks([], timeout=10, jobs=0)
    with pytest.raises(ValueError, match="timeout"):
        execution.execute_notebooks([], timeout=0)


def test_the_book_timeout_is_read_from_config(tmp_path):
    assert execution.book_timeout(ROOT) == _config_timeout()
    (tmp_path / "_config.yml").write_text("execute:\n  timeout: -3\n", encoding="utf-8")
    with pytest.raises(ValueError, match="execute.timeout"):
        execution.book_timeout(tmp_path)


def _config_timeout() -> int:
    import yaml

    return yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))["execute"]["timeout"]


def test_nbval_uses_the_books_cell_timeout():
    """`make test` passes the cell timeout of _config.yml to nbval, so a hang fails as fast there."""
    import re
    import shutil
    import subprocess

    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    dry = subprocess.run(["make", "-n", "test"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    found = re.findall(r"--nbval-cell-timeout (\d+)", dry)
    assert found == [str(_config_timeout())], dry[-500:]


def test_a_small_notebook_runs_two_at_a_time(tmp_path, monkeypatch):
    nbformat = pytest.importorskip("nbformat")
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("import os\nprint(os.getcwd() == %r)" % str(tmp_path))]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    paths = []
    for name in ("a", "b"):
        nbformat.write(nb, tmp_path / f"{name}.ipynb")
        paths.append(tmp_path / f"{name}.ipynb")
    results = execution.execute_notebooks(paths, timeout=120, jobs=2)
    assert [r.ok for r in results] == [True, True], [r.error for r in results]
    assert [r.nb.cells[0].outputs[0]["text"] for r in results] == ["True\n", "True\n"]   # run in their folder
    a, b = results
    assert a.started < b.started + b.seconds and b.started < a.started + a.seconds, "the two runs did not overlap"


def test_a_cell_over_the_timeout_fails_and_says_whether_its_kernel_was_working(tmp_path):
    nbformat = pytest.importorskip("nbformat")
    paths = []
    for name, src in (("idle", "import time\ntime.sleep(60)"),
                      ("busy", "import time\nt = time.process_time()\nwhile time.process_time() - t < 60:\n    pass")):
        nb = nbformat.v4.new_notebook()
        nb.cells = [nbformat.v4.new_code_cell("x = 1"), nbformat.v4.new_code_cell(src)]
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        nbformat.write(nb, tmp_path / f"{name}.ipynb")
        paths.append(tmp_path / f"{name}.ipynb")
    idle, busy = execution.execute_notebooks(paths, timeout=8, jobs=2)
    assert not idle.ok and "CellTimeoutError" in idle.error and "cell 1 after" in idle.error, idle.error
    if _linux():
        assert idle.hung and not busy.hung, (idle.error, busy.error)
    assert not busy.ok and "CellTimeoutError" in busy.error, busy.error


def _linux() -> bool:
    return Path("/proc/self/stat").is_file()
