"""A real headless Chromium (Debian's ``chromium``) driven over the DevTools protocol.

Only what the report test needs: open a page, wait for a promise, read the console errors,
the exceptions and the requests the page made, and take a screenshot of an element.
"""

from __future__ import annotations

import base64
import itertools
import json
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import websocket

from etl_service.tests.support.services import stop_process

LISTENING = re.compile(r"DevTools listening on (ws://\S+)")


def chromium_binary() -> str | None:
    """Debian's chromium, if installed."""
    return shutil.which("chromium")


@dataclass
class Page:
    """One tab, with what it logged since it was opened."""

    socket: websocket.WebSocket
    errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def call(self, method: str, timeout_s: float = 30, **params: Any) -> dict[str, Any]:
        """Send one command and return its result, recording the events that come first."""
        message_id = next(self._ids)
        self.socket.send(json.dumps({"id": message_id, "method": method, "params": params}))
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            message = json.loads(self.socket.recv())
            if message.get("id") == message_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return dict(message["result"])
            self._record(message)
        raise TimeoutError(f"{method}: no answer within {timeout_s}s")

    def wait_for(self, event: str, timeout_s: float = 60) -> dict[str, Any]:
        """The parameters of the next ``event``, recording the events before it."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            message = json.loads(self.socket.recv())
            self._record(message)
            if message.get("method") == event:
                return dict(message.get("params", {}))
        raise TimeoutError(f"no {event} within {timeout_s}s")

    def _record(self, event: dict[str, Any]) -> None:
        params = event.get("params", {})
        if event.get("method") == "Runtime.consoleAPICalled" and params["type"] in {
            "error",
            "assert",
        }:
            self.errors.append(" ".join(str(a.get("value", a)) for a in params["args"]))
        elif event.get("method") == "Runtime.exceptionThrown":
            self.errors.append(json.dumps(params["exceptionDetails"]))
        elif event.get("method") == "Log.entryAdded" and params["entry"]["level"] == "error":
            self.errors.append(params["entry"]["text"])
        elif event.get("method") == "Network.requestWillBeSent":
            self.requests.append(params["request"]["url"])

    def evaluate(self, expression: str, timeout_s: float = 30) -> Any:
        """The value of a JavaScript expression, awaited when it is a promise."""
        result = self.call(
            "Runtime.evaluate",
            timeout_s,
            expression=expression,
            awaitPromise=True,
            returnByValue=True,
        )
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def screenshot(self, selector: str) -> bytes:
        """A PNG of the element ``selector`` (scrolled into view if need be)."""
        box = self.evaluate(
            f"(() => {{ const r = document.querySelector({json.dumps(selector)})"
            ".getBoundingClientRect(); return {x: r.x + window.scrollX, "
            "y: r.y + window.scrollY, width: r.width, height: r.height}; })()"
        )
        clip = {**box, "scale": 1}
        shot = self.call(
            "Page.captureScreenshot", format="png", clip=clip, captureBeyondViewport=True
        )
        return base64.b64decode(shot["data"])


@contextmanager
def open_page(url: str, width: int = 1100, height: int = 1400) -> Iterator[Page]:
    """Start headless Chromium, open ``url`` and wait for its load event."""
    binary = chromium_binary()
    if binary is None:
        raise RuntimeError("chromium is not installed (apt-get install chromium)")
    profile = Path(tempfile.mkdtemp(prefix="etl-chromium-"))
    log = (profile / "chromium.log").open("w")
    process = subprocess.Popen(
        [
            binary,
            "--headless",
            "--disable-gpu",
            "--no-sandbox",  # runs as root in CI containers
            "--no-first-run",
            "--remote-debugging-port=0",
            f"--user-data-dir={profile}",
            f"--window-size={width},{height}",
            "about:blank",
        ],
        stdout=subprocess.DEVNULL,
        stderr=log,  # a file, not a pipe: nobody has to keep reading it
    )
    try:
        browser_url = _devtools_url(process, profile / "chromium.log")
        port = re.search(r":(\d+)/", browser_url)
        assert port is not None
        targets = httpx.get(f"http://127.0.0.1:{port.group(1)}/json/list", timeout=10).json()
        target = next(t for t in targets if t["type"] == "page")
        socket = websocket.create_connection(
            target["webSocketDebuggerUrl"], timeout=60, suppress_origin=True
        )
        page = Page(socket)
        try:
            for domain in ("Page", "Runtime", "Log", "Network"):
                page.call(f"{domain}.enable")
            page.call("Page.navigate", url=url)
            page.wait_for("Page.loadEventFired")
            yield page
        finally:
            socket.close()
    finally:
        stop_process(process, timeout_s=10)
        log.close()
        shutil.rmtree(profile, ignore_errors=True)


def _devtools_url(process: subprocess.Popen[bytes], log: Path, timeout_s: float = 60) -> str:
    """The browser's DevTools websocket URL, from the line Chromium logs on start."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = LISTENING.search(log.read_text(errors="replace"))
        if found:
            return found.group(1)
        if process.poll() is not None:
            break
        time.sleep(0.1)
    raise RuntimeError(f"chromium did not start: {log.read_text(errors='replace')[-2000:]}")
