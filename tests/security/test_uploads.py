"""Uploads up to the documented 50 MB work, served as in production: by Flask's own server
(``flask run``) and by gunicorn (threads, as docs/portal.md runs it), each a real process on a
real port, signed in through the login page with CSRF on.

A document of 256 KB, 1, 5, 20 and 49 MB (of 1024 x 1024 bytes) is taken whole; one of 51 MB
is refused at the field in Dutch; a text field of the form beyond 64 KiB is still refused;
the server's memory does not grow with the upload (the file goes to a temporary file and
then to the store, a chunk at a time): the peak resident memory of the serving process
during a 49 MB upload, measured by the kernel (``VmHWM`` after resetting it through
``/proc/PID/clear_refs``), stays far below the upload's size.
"""

from __future__ import annotations

import hashlib
import os
import random
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import attrs
import pytest
import requests
from portal_support import PORTAL, Scene, environ

from migrationkit.domain.errors import MESSAGES
from served import csrf_token, free_port, serving

MB = 1024 * 1024
#: The most the serving process's resident memory may grow during a 49 MB upload.
MEMORY_GROWTH_LIMIT = 16 * MB


@attrs.frozen
class Server:
    """A portal served by a process of its own."""

    url: str
    process: subprocess.Popen[bytes]

    def serving_pid(self) -> int:
        """The process that handles the requests: gunicorn's worker, or the server itself."""
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        found = children.read_text().split()
        return int(found[0]) if found else self.process.pid


COMMANDS = {
    "flask": ["-m", "flask", "--app", "wsgi", "run", "--host", "127.0.0.1", "--no-reload"],
    "gunicorn": ["-m", "gunicorn", "--worker-class", "gthread", "--threads", "4", "wsgi:app"],
}


@pytest.fixture(params=sorted(COMMANDS))
def server(request: pytest.FixtureRequest, home: Path, tmp_path: Path) -> Iterator[Server]:
    port = free_port()
    where = ["--port", str(port)] if request.param == "flask" else ["--bind", f"127.0.0.1:{port}"]
    url = f"http://127.0.0.1:{port}"
    with serving(
        [sys.executable, *COMMANDS[request.param], *where],
        url=url,
        ready="/inloggen",
        cwd=PORTAL,
        env={**os.environ, **environ(home)},
        log=tmp_path / f"{request.param}.log",
    ) as process:
        yield Server(url, process)


def signed_in(server: Server, email: str = "noord@example.nl") -> requests.Session:
    session = requests.Session()
    token = csrf_token(session.get(f"{server.url}/inloggen").text)
    answer = session.post(
        f"{server.url}/inloggen",
        data={"csrf_token": token, "email": email, "password": "demo"},
        allow_redirects=False,
    )
    assert answer.status_code == 302, answer.text
    return session


def document(size: int) -> bytes:
    """A document the archive takes (a PDF's header), ``size`` bytes in all, the rest like
    a compressed stream: any byte anywhere, line breaks too (which made Werkzeug keep a
    chunk's end unparsed, and with it the 413s of the defect)."""
    head = b"%PDF-1.7\n"
    return head + random.Random(size).randbytes(size - len(head))


def upload(
    session: requests.Session, server: Server, path: str, data: bytes, **fields: str
) -> requests.Response:
    token = csrf_token(session.get(f"{server.url}{path}").text)
    return session.post(
        f"{server.url}{path}",
        data={"csrf_token": token, **fields},
        files={"bestand": ("factuur.pdf", data, "application/pdf")},
        allow_redirects=False,
    )


@pytest.mark.parametrize(
    "size",
    [256 * 1024, MB, 5 * MB, 20 * MB, 49 * MB],
    ids=["256 KB", "1 MB", "5 MB", "20 MB", "49 MB"],
)
def test_an_upload_up_to_50_mb_is_taken_whole(server: Server, scene: Scene, size: int) -> None:
    session = signed_in(server)
    path = f"/administraties/{scene.administration('1001').id}/archief"
    data = document(size)

    answer = upload(session, server, path, data)

    assert answer.status_code == 302, answer.text[:2000]
    stored = scene.documents("1001")[-1]
    assert (stored.size, stored.sha256) == (len(data), hashlib.sha256(data).hexdigest())
    assert stored.content_type == "application/pdf"


def test_an_upload_of_51_mb_is_refused_at_the_field_in_dutch(server: Server, scene: Scene) -> None:
    session = signed_in(server)
    path = f"/administraties/{scene.administration('1001').id}/archief"
    before = scene.documents("1001")

    answer = upload(session, server, path, document(51 * MB))

    assert answer.status_code == 200
    assert 'id="bestand-error"' in answer.text
    assert MESSAGES["document_too_large"][0].format(limit_mb=50) in answer.text
    assert scene.documents("1001") == before


def test_a_text_field_of_the_upload_form_is_still_held_to_64_kib(
    server: Server, scene: Scene
) -> None:
    session = signed_in(server)
    path = f"/administraties/{scene.administration('1001').id}/archief"
    before = scene.documents("1001")

    answer = upload(session, server, path, document(MB), opmerking="x" * (64 * 1024 + 1))

    assert answer.status_code == 413
    assert scene.documents("1001") == before


def memory(pid: int, field: str) -> int:
    """A memory figure of the process (``VmRSS``, ``VmHWM``) in bytes."""
    status = Path(f"/proc/{pid}/status").read_text()
    found = re.search(rf"^{field}:\s+(\d+) kB$", status, re.MULTILINE)
    assert found, status
    return int(found.group(1)) * 1024


def test_a_49_mb_upload_does_not_grow_the_servers_memory_with_its_size(
    server: Server, scene: Scene, record_property: pytest.RecordProperty
) -> None:
    session = signed_in(server)
    path = f"/administraties/{scene.administration('1001').id}/archief"
    assert upload(session, server, path, document(MB)).status_code == 302  # warmed up
    data = document(49 * MB)
    pid = server.serving_pid()
    before = memory(pid, "VmRSS")
    Path(f"/proc/{pid}/clear_refs").write_text("5")  # the peak starts again from here

    answer = upload(session, server, path, data)

    growth = memory(pid, "VmHWM") - before
    record_property("peak_memory_growth_bytes", growth)
    print(f"peak resident memory grew by {growth / MB:.1f} MB during a 49 MB upload")
    assert answer.status_code == 302
    assert growth < MEMORY_GROWTH_LIMIT
