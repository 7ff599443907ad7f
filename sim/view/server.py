"""Serve the `ddsim view` page: Solara's Starlette app under uvicorn, in this process.

The listening socket is bound before anything heavy is imported, so a busy port or a bad
host is reported at once as a one-line error (`ViewError`, exit 2), and the socket is handed
to uvicorn (no window between the check and the use). Solara's telemetry and version check
are switched off: the view talks to nothing but the browser. Its JavaScript comes from the
installed `solara-assets` package, so the page works without internet.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import sys
import threading
import time
import warnings
import webbrowser

from sim.errors import InputError

APP = "sim.view.app:Page"


class ViewError(InputError):
    """The view cannot start (busy port, bad host); the CLI prints it and exits 2."""


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on host:port (port 0: a free one), or `ViewError`."""
    if not 0 <= port <= 65535:
        raise ViewError(f"--port: expected 0-65535, got {port}")
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise ViewError(f"--host {host}: not an address of this machine ({exc})") from None
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does
    try:
        sock.bind(address)
        sock.listen(128)
    except OSError as exc:
        sock.close()
        if exc.errno in (98, 48, 10048):  # EADDRINUSE on Linux, macOS, Windows
            raise ViewError(
                f"port {port} on {host} is already in use; choose another with --port"
            ) from None
        raise ViewError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    sock.set_inheritable(True)
    return sock


def is_loopback(host: str) -> bool:
    """Whether `host` is this machine only (127.0.0.0/8, ::1, localhost)."""
    try:
        infos = socket.getaddrinfo(host, None)
    except (socket.gaierror, UnicodeError):
        return False
    return all(ipaddress.ip_address(info[4][0]).is_loopback for info in infos)


def url_of(sock: socket.socket, host: str) -> str:
    """The address to open in a browser."""
    port = sock.getsockname()[1]
    shown = "127.0.0.1" if host in ("0.0.0.0", "") else host
    if ":" in shown:
        shown = f"[{shown}]"
    return f"http://{shown}:{port}/"


def serve(
    scenario: str,
    *,
    host: str = "127.0.0.1",
    port: int = 8765,
    open_browser: bool = True,
    render_interval: int | None = None,
) -> int:
    """Serve the view of `scenario` until interrupted; returns the exit code."""
    sock = bind(host, port)
    url = url_of(sock, host)
    os.environ["SOLARA_APP"] = APP
    os.environ["DDSIM_VIEW_SCENARIO"] = scenario
    if render_interval is not None:
        os.environ["DDSIM_VIEW_RENDER_INTERVAL"] = str(render_interval)
    os.environ.setdefault("SOLARA_TELEMETRY_MIXPANEL_ENABLE", "False")

    # Served over plain http on this machine (or through an SSH tunnel): solara's advice
    # to use https for its session cookie does not apply and would print on every request.
    warnings.filterwarnings("ignore", message="Cookies with samesite=none require https")
    import uvicorn  # heavy imports after the socket is ours
    from solara.server import settings

    settings.main.mode = "production"
    if is_loopback(host):
        # Nothing crosses a network: compressing Solara's scripts (gzip level 9, about 5 MB
        # of them) only costs the first page load about a second of server CPU on a busy
        # machine (measured with py-spy). SSH tunnels can compress themselves (ssh -C).
        settings.server.http_gzip = False
    config = uvicorn.Config("solara.server.starlette:app", log_level="warning")
    server = uvicorn.Server(config)

    def announce() -> None:
        while not server.started and not server.should_exit:
            time.sleep(0.05)
        if server.started:
            print(f"ddsim view: serving {scenario} at {url} (Ctrl-C to stop)", flush=True)
            if open_browser:
                webbrowser.open(url)
            from sim.view.app import prepare  # imported by the server already

            prepare(scenario)

    threading.Thread(target=announce, daemon=True).start()
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:  # pragma: no cover - uvicorn handles SIGINT itself
        pass
    finally:
        sock.close()
    print("ddsim view: stopped", file=sys.stderr, flush=True)
    return 0
