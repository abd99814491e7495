"""A real HTTP receiver on 127.0.0.1 for webhook tests: it records every request and answers
with the status codes it is told to, in order (200 once the list runs out)."""

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    method: str
    path: str
    headers: dict
    body: bytes


@dataclass
class Receiver:
    url: str
    requests: list[Received] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    location: str = ""  # where a 3xx points (this receiver's own /elsewhere when empty)
    reply: Callable[[Received], bytes] | None = None  # the body of a non-2xx answer
    arrived: threading.Event = field(default_factory=threading.Event)  # set on each request
    hold: threading.Event | None = None  # when set up, answers wait until it is set


class _Handler(BaseHTTPRequestHandler):
    def _record(self):
        receiver: Receiver = self.server.receiver
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        received = Received(method=self.command, path=self.path, headers=dict(self.headers.items()), body=body)
        receiver.requests.append(received)
        receiver.arrived.set()
        if receiver.hold is not None:
            receiver.hold.wait(30)
        status = receiver.statuses.pop(0) if receiver.statuses else 200
        self.send_response(status)
        if 300 <= status < 400:
            self.send_header("Location", receiver.location or receiver.url + "elsewhere")
        self.send_header("Content-Type", "text/plain")
        self.end_headers()
        if status < 300:
            self.wfile.write(b"ok")
        else:
            self.wfile.write(receiver.reply(received) if receiver.reply else b"receiver says no")

    do_POST = do_GET = _record  # noqa: N815 (http.server's naming)

    def log_message(self, *args):
        pass


def start_receiver():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    server.receiver = Receiver(url=f"http://127.0.0.1:{server.server_address[1]}/hooks/")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server


def stop_receiver(server):
    if server.receiver.hold is not None:
        server.receiver.hold.set()
    server.shutdown()
    server.server_close()
