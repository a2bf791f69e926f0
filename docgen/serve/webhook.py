"""The webhook a batch's ``callback_url`` gets when the job ends: a JSON POST signed with HMAC-SHA256.

Headers: ``X-Docgen-Timestamp`` (Unix seconds) and ``X-Docgen-Signature: sha256=<hex>``, the HMAC of
``TIMESTAMP + "." + BODY`` keyed by the service's webhook secret (``DATA/webhook.secret``, 32 random
bytes as hex, made 0600 on first start; give it to the receivers). A receiver recomputes the HMAC and
compares in constant time, and rejects old timestamps. Delivery is retried with exponential back-off
(1, 2, 4... seconds, ``attempts`` tries) until the receiver answers 2xx; the state (pending, delivered,
failed) is kept in the job table, so a service restarted with a delivery pending delivers it.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
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
    import ipaddress  # noqa: PLC0415
    import socket  # noqa: PLC0415
    from urllib.parse import urlsplit  # noqa: PLC0415

    try:
        parts = urlsplit(url)
        host, port = (parts.hostname or ""), parts.port
    except ValueError:
        return "not an http or https URL"
    if host.lower() in allowed:
        return None
    try:
        found = {info[4][0] for info in socket.getaddrinfo(host, port or 443, proto=socket.IPPROTO_TCP)}
    except (OSError, UnicodeError):
        return f"{host} does not resolve"
    for address in found:
        ip = ipaddress.ip_address(str(address).split("%", 1)[0])
        if not ip.is_global:
            return f"{host} is not a public address (a service's own network is reached only with --callback-host)"
    return None


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect is not followed: it could lead anywhere, past the check of the URL."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


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
            refused = refused_host(url, self.allowed)
            if refused is not None:
                log.warning("job %s: webhook not sent: %s", job["id"], refused)
                self.jobs.update(job["id"], callback_attempts=attempts, callback_state="failed")
                return
            try:
                with self.opener.open(request, timeout=self.timeout) as answer:
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


__all__ = ["SECRET", "secret", "signature", "valid_url", "refused_host", "Webhooks"]
