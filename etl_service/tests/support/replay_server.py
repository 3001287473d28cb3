"""A local HTTP server on 127.0.0.1 that replays recorded bodies and injects faults."""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Reply:
    """One scripted response; ``delay_s`` simulates a slow server (client timeouts)."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0
    drip_s: float = 0.0
    """Send the body one byte at a time, this long apart (a server that defeats read timeouts)."""


@dataclass
class SeenRequest:
    """A request the server received."""

    path: str
    headers: dict[str, str]
    at: float


class TokenBucket:
    """A server-side rate limit: ``rate`` requests/s, bursts of up to ``burst`` requests."""

    def __init__(self, rate: float, burst: float) -> None:
        self.rate, self.burst = rate, burst
        self._tokens, self._at = burst, time.monotonic()

    def take(self) -> bool:
        """Whether a request arriving now is within the limit (call under a lock)."""
        now = time.monotonic()
        self._tokens = min(self.burst, self._tokens + (now - self._at) * self.rate)
        self._at = now
        if self._tokens < 1:
            return False
        self._tokens -= 1
        return True


class ReplayServer:
    """Serves scripted replies per path; the last reply of a path repeats once the script ends.

    ``latency_s`` delays every answer (a distant server); ``max_requests_per_s`` answers 429
    with ``Retry-After: 1`` to requests over that rate (SEC's limit, bursts of one second).
    """

    def __init__(self, latency_s: float = 0.0, max_requests_per_s: float | None = None) -> None:
        self.latency_s = latency_s
        self._bucket = (
            TokenBucket(max_requests_per_s, max_requests_per_s) if max_requests_per_s else None
        )
        self.refused = 0
        """Requests answered 429 by the rate limit."""
        self._scripts: dict[str, deque[Reply]] = defaultdict(deque)
        self._last: dict[str, Reply] = {}
        self.requests: list[SeenRequest] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def url(self, path: str) -> str:
        return self.base_url + path

    def script(self, path: str, *replies: Reply) -> None:
        with self._lock:
            self._scripts[path].extend(replies)

    def hits(self, path: str) -> list[SeenRequest]:
        return [r for r in self.requests if r.path.split("?")[0] == path]

    def _next_reply(self, path: str) -> Reply:
        with self._lock:
            queue = self._scripts.get(path.split("?")[0])
            if queue:
                reply = queue.popleft()
                self._last[path.split("?")[0]] = reply
                return reply
            return self._last.get(path.split("?")[0], Reply(404, b"not scripted"))

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                with server._lock:
                    server.requests.append(
                        SeenRequest(self.path, dict(self.headers.items()), time.monotonic())
                    )
                reply = server._next_reply(self.path)
                if server._bucket is not None:
                    with server._lock:
                        within = server._bucket.take()
                        server.refused += not within
                    if not within:
                        reply = Reply(429, b"rate limited", {"Retry-After": "1"})
                if server.latency_s or reply.delay_s:
                    time.sleep(server.latency_s + reply.delay_s)
                try:
                    self.send_response(reply.status)
                    for key, value in reply.headers.items():
                        self.send_header(key, value)
                    self.send_header("Content-Length", str(len(reply.body)))
                    self.end_headers()
                    if reply.drip_s:
                        for byte in reply.body:
                            self.wfile.write(bytes([byte]))
                            self.wfile.flush()
                            time.sleep(reply.drip_s)
                    else:
                        self.wfile.write(reply.body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout test)

            def log_message(self, format: str, *args: object) -> None:
                pass

        return Handler

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@contextmanager
def replay_server(
    latency_s: float = 0.0, max_requests_per_s: float | None = None
) -> Iterator[ReplayServer]:
    """Start a ReplayServer for the duration of the block."""
    server = ReplayServer(latency_s, max_requests_per_s)
    server.start()
    try:
        yield server
    finally:
        server.stop()
