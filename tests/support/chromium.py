"""Headless Chromium driven over the DevTools protocol, enough to open a page, read the DOM
and take a screenshot. The browser comes from set-up (`./dev` installs Debian's chromium);
a test never installs it."""
from __future__ import annotations

import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
import time

import pytest


def chromium() -> str:
    """The chromium executable; fails the test (never skips it) when set-up did not install it."""
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        pytest.fail("chromium is not installed: run ./dev test (it installs Debian's chromium), "
                    "or apt-get install chromium; deselect with -m 'not browser' to run without it")
    return exe


class Browser:
    """One headless Chromium on a pipe (--remote-debugging-pipe: JSON messages ending in NUL,
    read on fd 3, written on fd 4), attached to its first page."""

    def __init__(self, exe: str):
        self.profile = tempfile.mkdtemp(prefix="chromium-")
        child_in, self._w = os.pipe()
        self._r, child_out = os.pipe()
        flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--autoplay-policy=no-user-gesture-required", "--remote-debugging-pipe", "--window-size=1280,2000",
                 f"--user-data-dir={self.profile}", "about:blank"]
        place = ("import os, sys; os.dup2(int(sys.argv[1]), 3); os.dup2(int(sys.argv[2]), 4); "
                 "os.execv(sys.argv[3], sys.argv[3:])")
        self.proc = subprocess.Popen([sys.executable, "-c", place, str(child_in), str(child_out), exe, *flags],
                                     pass_fds=(child_in, child_out), stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        os.close(child_in)
        os.close(child_out)
        self._id, self._buffer = 0, b""
        page = next(t for t in self.send("Target.getTargets")["targetInfos"] if t["type"] == "page")
        self.session = self.send("Target.attachToTarget", {"targetId": page["targetId"], "flatten": True})["sessionId"]

    def send(self, method: str, params: dict | None = None, session: str | None = None, timeout: float = 60) -> dict:
        self._id += 1
        message = {"id": self._id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._w, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            while b"\0" in self._buffer:
                raw, self._buffer = self._buffer.split(b"\0", 1)
                reply = json.loads(raw)
                if reply.get("id") == self._id:
                    if "error" in reply:
                        raise RuntimeError(f"{method}: {reply['error']}")
                    return reply["result"]
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._r], [], [], left)[0]:
                raise TimeoutError(f"chromium did not answer {method} within {timeout} s")
            chunk = os.read(self._r, 1 << 20)
            if not chunk:
                raise RuntimeError("chromium closed its DevTools pipe")
            self._buffer += chunk

    def page(self, method: str, params: dict | None = None) -> dict:
        return self.send(method, params, session=self.session)

    def evaluate(self, expression: str):
        return self.page("Runtime.evaluate", {"expression": expression, "returnByValue": True})["result"].get("value")

    def close(self):
        try:
            self.send("Browser.close", timeout=5)
        except (RuntimeError, TimeoutError, OSError):
            pass
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self._w)
        os.close(self._r)
        shutil.rmtree(self.profile, ignore_errors=True)
