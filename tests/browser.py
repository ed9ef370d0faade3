"""A real headless Chromium, driven over the DevTools protocol, and a small PNG reader.

The HTML report promises to open with no network and no error; the only honest test of that
is a browser. Chromium is started with `--remote-debugging-pipe` (commands on fd 3, replies on
fd 4, each message JSON ended by a NUL byte), so no port is opened and nothing else on the
machine can talk to it. The page's console messages, uncaught exceptions, log entries and every
request it makes are recorded while it loads; a screenshot comes back as PNG, which `png_pixels`
decodes with zlib alone (no imaging library for one check).
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import os
import select
import shutil
import struct
import subprocess
import tempfile
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path

FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking")
LOCAL_SCHEMES = ("file:", "data:", "about:")


def chromium() -> str | None:
    """The browser's path, or None where it is not installed."""
    return shutil.which("chromium") or shutil.which("chromium-browser")


@dataclass
class PageLoad:
    """What happened while a page loaded: errors of any kind and requests off the machine."""

    errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    screenshot: bytes = b""


class Browser:
    def __init__(self, executable: str, timeout: float = 30.0) -> None:
        self.timeout = timeout
        self._profile = tempfile.TemporaryDirectory(prefix="sla-chromium-")
        to_browser, self._send_fd = os.pipe()
        self._recv_fd, from_browser = os.pipe()

        def wire() -> None:  # in the child: the pipe ends become fds 3 and 4
            high_in = fcntl.fcntl(to_browser, fcntl.F_DUPFD, 10)
            high_out = fcntl.fcntl(from_browser, fcntl.F_DUPFD, 10)
            os.dup2(high_in, 3)
            os.dup2(high_out, 4)

        self.process = subprocess.Popen(
            [executable, *FLAGS, "--remote-debugging-pipe", "--no-first-run",
             "--no-default-browser-check", f"--user-data-dir={self._profile.name}",
             "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            pass_fds=(3, 4), preexec_fn=wire)
        os.close(to_browser)
        os.close(from_browser)
        self._buffer = b""
        self._next_id = 0
        self._events: list[dict] = []

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------ the protocol

    def send(self, method: str, params: dict | None = None, session: str | None = None) -> dict:
        """Send one command and wait for its reply; events that arrive meanwhile are kept."""
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._send_fd, json.dumps(message).encode() + b"\0")
        while True:
            reply = self._receive(time.monotonic() + self.timeout)
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self._events.append(reply)

    def _receive(self, deadline: float) -> dict:
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._recv_fd], [], [], left)[0]:
                raise TimeoutError("chromium did not answer in time")
            chunk = os.read(self._recv_fd, 1 << 16)
            if not chunk:
                raise RuntimeError("chromium closed the pipe")
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def wait_for(self, method: str, session: str) -> None:
        deadline = time.monotonic() + self.timeout
        while not any(e.get("method") == method and e.get("sessionId") == session
                      for e in self._events):
            self._events.append(self._receive(deadline))

    # ------------------------------------------------------------ one page

    def load(self, url: str, *, width: int = 1200, height: int = 900,
             clip_height: int | None = None, top: int = 0, scale: float = 1.0) -> PageLoad:
        """Open `url` in a fresh tab, wait for its load event, and report what it did."""
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget",
                            {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Runtime", "Log", "Network", "Page"):
            self.send(f"{domain}.enable", session=session)
        self.send("Emulation.setDeviceMetricsOverride",
                  {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
                  session=session)
        self._events = []
        self.send("Page.navigate", {"url": url}, session=session)
        self.wait_for("Page.loadEventFired", session)
        self.send("Runtime.evaluate", {"expression": "document.readyState"}, session=session)
        shot = {"format": "png", "captureBeyondViewport": clip_height is not None}
        if clip_height is not None or scale != 1.0 or top:
            shot["clip"] = {"x": 0, "y": top, "width": width,
                            "height": clip_height or height, "scale": scale}
        picture = self.send("Page.captureScreenshot", shot, session=session)["data"]
        result = _page_load([e for e in self._events if e.get("sessionId") == session])
        result.screenshot = base64.b64decode(picture)
        self.send("Target.closeTarget", {"targetId": target})
        return result

    def close(self) -> None:
        with contextlib.suppress(RuntimeError, TimeoutError, OSError):
            self.send("Browser.close")
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        for fd in (self._send_fd, self._recv_fd):
            with contextlib.suppress(OSError):
                os.close(fd)
        self._profile.cleanup()


def _page_load(events: list[dict]) -> PageLoad:
    result = PageLoad()
    for event in events:
        method, params = event.get("method"), event.get("params", {})
        if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            text = " ".join(str(a.get("value", a.get("description", "")))
                            for a in params.get("args", []))
            result.errors.append(f"console.{params['type']}: {text}")
        elif method == "Runtime.exceptionThrown":
            result.errors.append(f"exception: {params['exceptionDetails'].get('text')}")
        elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
            result.errors.append(f"log: {params['entry'].get('text')}")
        elif method == "Network.requestWillBeSent":
            url = params["request"]["url"]
            if not url.startswith(LOCAL_SCHEMES):
                result.requests.append(url)
        elif method == "Network.loadingFailed":
            result.errors.append(f"failed to load: {params.get('errorText')}")
    return result


def load_page(path: Path, **options) -> PageLoad:
    """One page in a browser of its own (a second or so)."""
    executable = chromium()
    if executable is None:
        raise RuntimeError("chromium is not installed")
    with Browser(executable) as browser:
        return browser.load(path.resolve().as_uri(), **options)


# ============================================================================ PNG


def png_pixels(data: bytes) -> tuple[int, int, list[bytes]]:
    """(width, height, rows of RGB(A) bytes) of an 8-bit truecolour PNG, as Chromium writes."""
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    position, idat = 8, []
    width = height = channels = 0
    while position < len(data):
        length, kind = struct.unpack(">I4s", data[position:position + 8])
        body = data[position + 8:position + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour = struct.unpack(">IIBB", body[:10])
            if depth != 8 or colour not in (2, 6):
                raise ValueError(f"unsupported PNG: depth {depth}, colour type {colour}")
            channels = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            idat.append(body)
        position += 12 + length
    raw = zlib.decompress(b"".join(idat))
    stride = width * channels
    rows, previous = [], bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        row = _unfilter(raw[start], bytearray(raw[start + 1:start + 1 + stride]), previous,
                        channels)
        rows.append(bytes(row))
        previous = row
    return width, height, rows


def _unfilter(kind: int, row: bytearray, up: bytearray, bpp: int) -> bytearray:
    if kind == 1:
        for i in range(bpp, len(row)):
            row[i] = (row[i] + row[i - bpp]) & 0xFF
    elif kind == 2:
        row = bytearray((a + b) & 0xFF for a, b in zip(row, up, strict=True))
    elif kind == 3:
        for i in range(len(row)):
            left = row[i - bpp] if i >= bpp else 0
            row[i] = (row[i] + ((left + up[i]) >> 1)) & 0xFF
    elif kind == 4:
        for i in range(len(row)):
            a = row[i - bpp] if i >= bpp else 0
            b, c = up[i], (up[i - bpp] if i >= bpp else 0)
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            row[i] = (row[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
    return row


def colour_variety(data: bytes) -> tuple[int, float]:
    """(distinct colours, share of pixels that differ from the most common one)."""
    width, height, rows = png_pixels(data)
    channels = len(rows[0]) // width if rows else 3
    counts: dict[bytes, int] = {}
    for row in rows:
        for x in range(0, len(row), channels):
            pixel = row[x:x + channels]
            counts[pixel] = counts.get(pixel, 0) + 1
    total = width * height
    return len(counts), (1 - max(counts.values()) / total) if total else 0.0
