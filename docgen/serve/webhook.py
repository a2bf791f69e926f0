"""The webhook a batch's ``callback_url`` gets when the job ends: a JSON POST signed with HMAC-SHA256.

Headers: ``X-Docgen-Timestamp`` (Unix seconds) and ``X-Docgen-Signature: sha256=<hex>``, the HMAC of
``TIMESTAMP + "." + BODY`` keyed by the service's webhook secret (``DATA/webhook.secret``, 32 random
bytes as hex, made 0600 on first start; give it to the receivers). A receiver recomputes the HMAC and
compares in constant time, and rejects old timestamps. Delivery is retried with exponential back-off
(1, 2, 4... seconds, ``attempts`` tries) until the receiver answers 2xx; the state (pending, delivered,
failed) is kept in the job table, so a service restarted with a delivery pending delivers it.
"""
from __future__ import annotations

import functools
import hashlib
import hmac
import http.client
import json
import logging
import secrets
import socket
import ssl
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

from .jobs import Jobs, public

log = logging.getLogger("docgen.serve")
SECRET = "webhook.secret"  # noqa: S105 - the secret's file name


def secret(data: Path) -> bytes:
    """The service's webhook secret, made on first use (owner-only)."""
    from ..write import write_atomic  # noqa: PLC0415

    path = data / SECRET
    if not path.is_file():
        write_atomic(path, (secrets.token_hex(32) + "\n").encode())
    return path.read_text(encoding="utf-8").strip().encode()


def signature(key: bytes, timestamp: str, body: bytes) -> str:
    return "sha256=" + hmac.new(key, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def valid_url(url: str) -> bool:
    from urllib.parse import urlsplit  # noqa: PLC0415

    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname) and len(url) <= 2048


def refused_host(url: str, allowed: frozenset[str]) -> str | None:
    """Why the service will not call ``url`` (None: it will). A key holder chooses the URL, so it must
    not reach what only the service's host can: loopback, private, link-local (cloud metadata),
    multicast or reserved addresses are refused unless the host is one ``--callback-host`` allows.
    The host is resolved again before every delivery (it may have changed)."""
    return checked_addresses(url, allowed)[0]


def checked_addresses(url: str, allowed: frozenset[str]) -> tuple[str | None, tuple[str, ...]]:
    """``(why not, ())`` when the service will not call ``url``; else ``(None, addresses)``: the public
    addresses its host resolved to, which the delivery then connects to (not to what the name resolves
    to a moment later: DNS rebinding), or ``()`` for a host ``--callback-host`` allows (connected to as
    named)."""
    import ipaddress  # noqa: PLC0415
    import socket  # noqa: PLC0415
    from urllib.parse import urlsplit  # noqa: PLC0415

    try:
        parts = urlsplit(url)
        host, port = (parts.hostname or ""), parts.port
    except ValueError:
        return "not an http or https URL", ()
    if host.lower() in allowed:
        return None, ()
    try:
        found = sorted({info[4][0] for info in socket.getaddrinfo(host, port or 443, proto=socket.IPPROTO_TCP)})
    except (OSError, UnicodeError):
        return f"{host} does not resolve", ()
    for address in found:
        ip = ipaddress.ip_address(str(address).split("%", 1)[0])
        if not ip.is_global:
            return f"{host} is not a public address (a service's own network is reached only with --callback-host)", ()
    if not found:
        return f"{host} does not resolve", ()
    return None, tuple(map(str, found))


def _connect(addresses: tuple[str, ...], port: int, timeout: float | None) -> socket.socket:
    """A connection to the first of ``addresses`` that answers."""
    error: OSError = OSError("no address")
    for address in addresses:
        try:
            return socket.create_connection((address, port), timeout)
        except OSError as exc:
            error = exc
    raise error


class _PinnedHTTP(http.client.HTTPConnection):
    """An HTTP connection to checked addresses, whatever the host's name resolves to now."""

    def __init__(self, host: str, *, addresses: tuple[str, ...], **options) -> None:
        super().__init__(host, **options)
        self.addresses = addresses

    def connect(self) -> None:
        self.sock = _connect(self.addresses, self.port, self.timeout)


class _PinnedHTTPS(http.client.HTTPSConnection):
    """As :class:`_PinnedHTTP`, with TLS: the certificate is checked against the host's name (SNI)."""

    def __init__(self, host: str, *, addresses: tuple[str, ...], context: ssl.SSLContext, **options) -> None:
        super().__init__(host, context=context, **options)
        self.addresses, self.tls = addresses, context

    def connect(self) -> None:
        sock = _connect(self.addresses, self.port, self.timeout)
        self.sock = self.tls.wrap_socket(sock, server_hostname=self.host)


class _PinnedHandler(urllib.request.HTTPHandler):
    def __init__(self, addresses: tuple[str, ...]) -> None:
        super().__init__()
        self.addresses = addresses

    def http_open(self, req):
        return self.do_open(functools.partial(_PinnedHTTP, addresses=self.addresses), req)


class _PinnedHTTPSHandler(urllib.request.HTTPSHandler):
    def __init__(self, addresses: tuple[str, ...]) -> None:
        super().__init__()
        self.addresses = addresses

    def https_open(self, req):
        return self.do_open(functools.partial(_PinnedHTTPS, addresses=self.addresses), req,
                            context=ssl.create_default_context())  # certificates and host name checked


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect is not followed: it could lead anywhere, past the check of the URL."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


def pinned_opener(addresses: tuple[str, ...]) -> urllib.request.OpenerDirector:
    """An opener that connects only to ``addresses`` (no proxy, no redirect)."""
    return urllib.request.build_opener(_NoRedirect, urllib.request.ProxyHandler({}), _PinnedHandler(addresses),
                                       _PinnedHTTPSHandler(addresses))


class Webhooks:
    """Delivers the webhooks of ended jobs on threads of their own."""

    def __init__(self, jobs: Jobs, key: bytes, attempts: int = 6, backoff: float = 1.0, timeout: float = 10.0,
                 allowed: frozenset[str] = frozenset()) -> None:
        self.jobs = jobs
        self.key = key
        self.attempts = attempts
        self.backoff = backoff
        self.timeout = timeout
        self.allowed = allowed
        self.opener = urllib.request.build_opener(_NoRedirect)

    def pending(self) -> None:
        """Deliver what a stopped service left undelivered."""
        for job in self.jobs.undelivered():
            self.send(job)

    def send(self, job: dict) -> None:
        threading.Thread(target=self._deliver, args=(job,), name=f"docgen-webhook-{job['id'][:8]}", daemon=True).start()

    def _deliver(self, job: dict) -> None:
        body = json.dumps({"event": "batch.ended", "batch": public(job)}, sort_keys=True).encode()
        url = job["callback_url"]
        attempts = job["callback_attempts"]
        while attempts < self.attempts:
            attempts += 1
            timestamp = str(int(time.time()))
            request = urllib.request.Request(url, data=body, method="POST", headers={  # noqa: S310 - http(s) only
                "Content-Type": "application/json", "User-Agent": "docgen-webhook",
                "X-Docgen-Timestamp": timestamp, "X-Docgen-Signature": signature(self.key, timestamp, body)})
            refused, addresses = checked_addresses(url, self.allowed)
            if refused is not None:
                log.warning("job %s: webhook not sent: %s", job["id"], refused)
                self.jobs.update(job["id"], callback_attempts=attempts, callback_state="failed")
                return
            opener = pinned_opener(addresses) if addresses else self.opener
            try:
                with opener.open(request, timeout=self.timeout) as answer:
                    ok = 200 <= answer.status < 300
            except (urllib.error.URLError, OSError, ValueError):
                ok = False
            self.jobs.update(job["id"], callback_attempts=attempts)
            if ok:
                self.jobs.update(job["id"], callback_state="delivered")
                log.info("job %s: webhook delivered (attempt %d)", job["id"], attempts)
                return
            log.info("job %s: webhook attempt %d failed", job["id"], attempts)
            if attempts < self.attempts:
                time.sleep(self.backoff * 2 ** (attempts - 1))
        self.jobs.update(job["id"], callback_state="failed")
        log.warning("job %s: webhook not delivered after %d attempts", job["id"], attempts)


__all__ = ["SECRET", "secret", "signature", "valid_url", "refused_host", "checked_addresses", "pinned_opener",
           "Webhooks"]
