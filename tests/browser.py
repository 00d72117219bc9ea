"""A tiny headless-Chromium driver for tests: the DevTools protocol over a pipe.

``chromium --remote-debugging-pipe`` reads protocol messages from file descriptor 3 and
writes replies to descriptor 4, each a JSON document ended by a NUL byte.  That needs no
websocket library, no open port and no browser download: Debian's ``chromium`` package
is enough.  The browser runs with every network path closed (an unusable proxy, a host
resolver that resolves nothing, and DevTools' offline emulation), and every request
the page makes is recorded, so a test can assert that a page made none.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-extensions",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
    "--mute-audio",
    # No route out: every host resolves to nothing and every request goes to a dead proxy.
    "--host-resolver-rules=MAP * ~NOTFOUND",
    "--proxy-server=http://127.0.0.1:9",
    "--proxy-bypass-list=<-loopback>",
    "--remote-debugging-pipe",
)


def find_chromium() -> str | None:
    """Path of an installed Chromium, or ``None``; ``$CHROMIUM`` overrides the search."""
    override = os.environ.get("CHROMIUM")
    if override:
        return override if Path(override).is_file() else None
    for name in CANDIDATES:
        path = shutil.which(name)
        if path:
            return path
    return None


def _lift(fd: int) -> int:
    import fcntl

    high = fcntl.fcntl(fd, fcntl.F_DUPFD, 10)
    os.close(fd)
    return high


class BrowserError(RuntimeError):
    pass


@dataclass
class PageReport:
    """What a page did while it loaded."""

    console: list[dict[str, Any]] = field(default_factory=list)  # level, text
    exceptions: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)  # every URL the page asked for
    failed: list[str] = field(default_factory=list)

    @property
    def fetched(self) -> list[str]:
        """URLs the page fetched from somewhere: ``data:`` URLs (inlined images, such as
        the layer control's icon) are part of the page, not requests."""
        return [url for url in self.requests if not url.startswith("data:")]

    @property
    def errors(self) -> list[str]:
        out = [f"console {m['level']}: {m['text']}" for m in self.console if m["level"] == "error"]
        return out + [f"exception: {e}" for e in self.exceptions]


class Chromium:
    """One headless browser with one page, driven over the DevTools pipe."""

    def __init__(self, binary: str, width: int = 1280, height: int = 900) -> None:
        self.profile = tempfile.mkdtemp(prefix="estate-chromium-")
        to_browser_r, self._to_browser = os.pipe()
        self._from_browser, from_browser_w = os.pipe()
        # Lift the child's ends above 4 so that the shell's redirections below cannot
        # clobber one with the other (pipe() may hand out 3 and 4 themselves).
        to_browser_r, from_browser_w = (_lift(to_browser_r), _lift(from_browser_w))
        args = [
            binary,
            *FLAGS,
            f"--user-data-dir={self.profile}",
            f"--window-size={width},{height}",
            "about:blank",
        ]
        # Bash puts our pipe ends on descriptors 3 and 4, where Chromium looks (dash
        # cannot: it takes single-digit descriptors only).
        shell = f'exec "$0" "$@" 3<&{to_browser_r} 4>&{from_browser_w}'
        self.log = Path(self.profile) / "chromium.log"
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                ["/bin/bash", "-c", shell, *args],
                pass_fds=(to_browser_r, from_browser_w),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        os.close(to_browser_r)
        os.close(from_browser_w)
        self._buffer = b""
        self._next_id = 0
        self._events: list[dict[str, Any]] = []
        self.session = ""

    def close(self) -> None:
        with contextlib.suppress(BrowserError, OSError):
            self.call("Browser.close", timeout=5)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        for fd in (self._to_browser, self._from_browser):
            with contextlib.suppress(OSError):
                os.close(fd)
        shutil.rmtree(self.profile, ignore_errors=True)

    def __enter__(self) -> Chromium:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- protocol -------------------------------------------------------------------
    def _send(self, method: str, params: dict[str, Any] | None, session: str | None) -> int:
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        return self._next_id

    def _read(self, deadline: float) -> dict[str, Any]:
        import select

        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise BrowserError("timed out waiting for Chromium")
            ready, _, _ = select.select([self._from_browser], [], [], left)
            if not ready:
                continue
            chunk = os.read(self._from_browser, 1 << 20)
            if not chunk:
                tail = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
                raise BrowserError(f"Chromium closed the DevTools pipe; its log ends:\n{tail}")
            self._buffer += chunk
        raw, self._buffer = self._buffer.split(b"\0", 1)
        return dict(json.loads(raw))

    def call(
        self,
        method: str,
        params: dict[str, Any] | None = None,
        timeout: float = 30.0,
        session: str | None = None,
    ) -> dict[str, Any]:
        wanted = self._send(method, params, session if session is not None else self.session)
        deadline = time.monotonic() + timeout
        while True:
            message = self._read(deadline)
            if message.get("id") == wanted:
                if "error" in message:
                    raise BrowserError(f"{method}: {message['error']}")
                return dict(message.get("result", {}))
            if "method" in message:
                self._events.append(message)

    def wait_for(self, method: str, timeout: float = 30.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        for i, event in enumerate(self._events):
            if event["method"] == method:
                return self._events.pop(i)
        while True:
            message = self._read(deadline)
            if message.get("method") == method:
                return message
            if "method" in message:
                self._events.append(message)

    # -- page -----------------------------------------------------------------------
    def open(
        self,
        url: str,
        settle_seconds: float = 1.0,
        viewport: tuple[int, int] | None = None,
    ) -> PageReport:
        """Load ``url`` in a fresh page with the network off; report what happened.

        ``viewport`` (width, height in CSS pixels) sets the page's size exactly, as a
        laptop screen of that size shows it (the window size alone leaves room for
        the browser's own frame)."""
        target = self.call("Target.createTarget", {"url": "about:blank"}, session="")
        attached = self.call(
            "Target.attachToTarget", {"targetId": target["targetId"], "flatten": True}, session=""
        )
        self.session = attached["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.call(f"{domain}.enable")
        self.call(
            "Network.emulateNetworkConditions",
            {"offline": True, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1},
        )
        if viewport is not None:
            width, height = viewport
            self.call(
                "Emulation.setDeviceMetricsOverride",
                {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
            )
        self._events.clear()
        self.call("Page.navigate", {"url": url})
        self.wait_for("Page.loadEventFired")
        time.sleep(settle_seconds)
        self.evaluate("1")  # drain events that arrived while settling
        return self._report()

    def _report(self) -> PageReport:
        report = PageReport()
        for event in self._events:
            method, params = event["method"], event.get("params", {})
            if method == "Runtime.consoleAPICalled":
                text = " ".join(
                    str(a.get("value", a.get("description", ""))) for a in params["args"]
                )
                report.console.append({"level": params["type"], "text": text})
            elif method == "Log.entryAdded":
                entry = params["entry"]
                report.console.append({"level": entry["level"], "text": entry["text"]})
            elif method == "Runtime.exceptionThrown":
                details = params["exceptionDetails"]
                report.exceptions.append(
                    str(details.get("exception", {}).get("description", details.get("text")))
                )
            elif method == "Network.requestWillBeSent":
                report.requests.append(params["request"]["url"])
            elif method == "Network.loadingFailed":
                report.failed.append(params.get("errorText", ""))
        self._events.clear()
        return report

    def evaluate(self, expression: str) -> Any:
        result = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True})
        if "exceptionDetails" in result:
            raise BrowserError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def screenshot(self) -> bytes:
        data = self.call("Page.captureScreenshot", {"format": "png"})["data"]
        return base64.b64decode(data)
