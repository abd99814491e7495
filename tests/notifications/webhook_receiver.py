"""A real HTTP receiver on 127.0.0.1 for webhook tests: it records every POST and answers
with the status codes it is told to, in order (200 once the list runs out)."""

import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    headers: dict
    body: bytes


@dataclass
class Receiver:
    url: str
    requests: list[Received] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)


class _Handler(BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802 (http.server's naming)
        receiver: Receiver = self.server.receiver
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        receiver.requests.append(Received(headers=dict(self.headers.items()), body=body))
        status = receiver.statuses.pop(0) if receiver.statuses else 200
        self.send_response(status)
        if 300 <= status < 400:
            self.send_header("Location", receiver.url + "elsewhere")
        self.send_header("Content-Type", "text/plain")
        self.end_headers()
        self.wfile.write(b"ok" if status < 300 else b"receiver says no")

    def log_message(self, *args):
        pass


def start_receiver():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.receiver = Receiver(url=f"http://127.0.0.1:{server.server_address[1]}/hooks/")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server


def stop_receiver(server):
    server.shutdown()
    server.server_close()
