"""Serial ports on this host: attached boards found by the USB VID:PID their profiles list,
and the real reason a port cannot be opened (missing device, permission, busy port with
the pid holding it, refused connection, unknown host), found by trying, since mpremote
reports only "failed to access"."""

from __future__ import annotations

import errno
import os
import socket
from typing import Any

from . import profiles


def find_port(profile: profiles.Profile) -> str | None:
    """The first attached serial port whose USB VID:PID the profile lists."""
    ids = profiles.usb_ids(profile)
    if not ids:
        return None
    try:
        from serial.tools import list_ports
    except ImportError:  # pragma: no cover - pyserial is a dependency
        return None
    for p in sorted(list_ports.comports(), key=lambda p: p.device):
        if p.vid is not None and (p.vid, p.pid) in ids:
            return str(p.device)
    return None


def _holders(path: str) -> list[int]:
    """Pids (other than ours) with ``path`` open, read from /proc."""
    try:
        real = os.path.realpath(path)
        pids = [int(d) for d in os.listdir("/proc") if d.isdigit()]
    except OSError:
        return []
    out = []
    for pid in pids:
        if pid == os.getpid():
            continue
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink(f"/proc/{pid}/fd/{fd}") == real:
                    out.append(pid)
                    break
            except OSError:
                continue
    return out


def explain_open_error(url: str) -> str:
    """Why ``url`` cannot be opened: missing device, permission, busy port, refused
    connection, unknown host... (found by trying, since mpremote reports only "failed")."""
    import serial

    if "://" in url:
        scheme, rest = url.split("://", 1)
        if scheme not in ("socket", "rfc2217"):
            return f"cannot open {scheme}:// URL"
        hostport = rest.split("?", 1)[0].split("/", 1)[0]
        host, _, port = hostport.rpartition(":")
        host = host.strip("[]") or "localhost"
        try:
            socket.create_connection((host, int(port)), timeout=3).close()
        except ValueError:
            return f"bad port number in {url!r}"
        except ConnectionRefusedError:
            return f"connection refused by {host}:{port} (is ser2net / the server running?)"
        except socket.gaierror as e:
            return f"unknown host {host!r} ({e.strerror})"
        except TimeoutError:
            return f"no answer from {host}:{port} within 3 s"
        except OSError as e:
            return f"cannot reach {host}:{port}: {e.strerror or e}"
        return f"{host}:{port} accepts connections, but the link failed (busy: one client only?)"
    if not os.path.exists(url):
        return f"no such device {url} (unplugged? `ktimers boards` lists the serial ports)"
    if not os.access(url, os.R_OK | os.W_OK):
        return f"permission denied on {url} (add yourself to the dialout group)"
    try:
        serial.Serial(url, exclusive=True, timeout=0).close()
    except serial.SerialException as e:
        if e.errno in (errno.EBUSY, errno.EAGAIN) or "lock" in str(e).lower():
            pids = _holders(url)
            who = f" by pid {', '.join(map(str, pids))}" if pids else ""
            return f"{url} is busy: held{who} (another ktimers/mpremote session?)"
        return f"{e}"
    pids = _holders(url)
    if pids:
        return f"{url} is busy: also open in pid {', '.join(map(str, pids))}"
    return f"{url} opened, but the link could not be set up"


def describe_ports() -> list[dict[str, Any]]:
    """Serial ports on this host, each matched to the profiles that list its VID:PID."""
    from serial.tools import list_ports

    profs = profiles.list()
    rows = []
    for p in list_ports.comports():
        match = [
            pr["name"]
            for pr in profs
            if p.vid is not None and (p.vid, p.pid) in profiles.usb_ids(pr)
        ]
        vidpid = f"{p.vid:04x}:{p.pid:04x}" if p.vid is not None else "-"
        rows.append({"device": p.device, "vidpid": vidpid, "desc": p.description, "boards": match})
    return rows
