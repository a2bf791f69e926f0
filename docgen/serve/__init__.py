"""``docgen serve``: docgen over HTTP for EHRs and agency systems, and a page for a clinic (issue #16).

The service is a thin layer over :mod:`docgen.api` and the batch engine, as the command line is: the
same verdicts, the same bytes, the same locks. ``docgen serve`` and ``docgen keys`` call the
functions of this module (a stage after ``api``, so the API does not depend on the web stack; they
need the ``[serve]`` extra: FastAPI, uvicorn, python-multipart).

Modules: :mod:`.keys` (API keys, salted hashes), :mod:`.app` (routes, auth, errors, access log),
:mod:`.work` (one request's work, in a worker process), :mod:`.limits` (body size, time limit, the
pool), :mod:`.jobs` (batch jobs in SQLite, resumed on restart), :mod:`.webhook` (signed callbacks),
:mod:`.page` (the page at ``/``).
"""
from __future__ import annotations

import ipaddress
import os
from pathlib import Path

from ..errors import UsageError
from .keys import Key, add_key, check_mode, list_keys, parse_scopes, revoke_key

PathLike = str | os.PathLike
KEYS_FILE = "keys.json"


def keys_add(name: str, *, keys: PathLike, scope: str | None = None) -> str:
    """``docgen keys add NAME --keys FILE [--scope check,render,...]``: store a new key (its salted
    hash, owner-only) and return it: shown once, never stored."""
    return add_key(Path(keys), name, parse_scopes(scope))


def keys_list(*, keys: PathLike) -> list[Key]:
    """``docgen keys list --keys FILE``: the keys' names, scopes and creation times (never the keys)."""
    return list_keys(Path(keys))


def keys_revoke(name: str, *, keys: PathLike) -> None:
    """``docgen keys revoke NAME --keys FILE``: remove a key; a running service refuses it at once."""
    revoke_key(Path(keys), name)


def loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def serve(*, host: str = "127.0.0.1", port: int = 8000, data: PathLike, workers: int | None = None,
          keys: PathLike | None = None, no_auth: bool = False, max_body: int | None = None,
          timeout: float | None = None, callback_hosts: tuple[str, ...] = (), sign_with: PathLike | None = None,
          passphrase: bytes | None = None) -> None:
    """``docgen serve``: run the service until stopped. ``data``: its folder (audit trail, job table,
    outputs, webhook secret); ``keys``: the key file (default ``DATA/keys.json``); ``no_auth``: no keys
    (refused unless ``host`` is loopback); ``max_body``: bytes of a request body; ``timeout``: seconds
    of work for one request; ``workers``: processes of the request pool and of each batch;
    ``callback_hosts``: hosts a batch's ``callback_url`` may name though they are not public addresses
    (the agency's own receiver; anything else on the service's network is refused); ``sign_with`` (a
    PKCS#12 file, ``passphrase``): the key a request asking ``sign=true`` has its final PDFs signed with,
    as ``docgen render --sign-with`` signs them (checked before the service starts)."""
    import logging  # noqa: PLC0415
    import multiprocessing  # noqa: PLC0415
    from dataclasses import replace  # noqa: PLC0415

    from ..write import prepare_folder  # noqa: PLC0415
    from .limits import Limits, default_workers  # noqa: PLC0415

    if no_auth and not loopback(host):
        raise UsageError("anyone who can connect would be served: only on a loopback host (127.0.0.1, ::1)",
                         where="--no-auth")
    if no_auth and keys is not None:
        raise UsageError("--no-auth and --keys do not go together", where="--no-auth")
    try:
        import fastapi  # noqa: F401, PLC0415
        import uvicorn  # noqa: PLC0415
    except ImportError:
        raise UsageError('the service needs its extra: pip install "docgen[serve]"') from None
    folder = prepare_folder(Path(data))
    key_file = None
    if not no_auth:
        key_file = Path(keys) if keys is not None else folder / KEYS_FILE
        check_mode(key_file)
        if not list_keys(key_file):
            raise UsageError(f"no keys in {key_file}: make one with `docgen keys add NAME --keys {key_file}`",
                             where="--keys")
    signing = None
    if sign_with is not None:
        from ..sign import load_key  # noqa: PLC0415

        load_key(Path(sign_with), passphrase)  # a bad key or passphrase: one line, before the service starts
        signing = (str(Path(sign_with).resolve()), passphrase)
    limits = Limits(workers=workers or default_workers(), signing=signing)
    if max_body is not None:
        limits = replace(limits, max_body=max_body)
    if timeout is not None:
        limits = replace(limits, timeout=timeout)
    from .app import Config, create_app  # noqa: PLC0415

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # workers start from a clean fork server, not from this threaded process
    multiprocessing.set_start_method("forkserver", force=True)
    multiprocessing.set_forkserver_preload(["docgen.serve.work"])
    app = create_app(Config(folder, key_file, limits, callback_hosts=frozenset(h.lower() for h in callback_hosts)))
    uvicorn.run(app, host=host, port=port, access_log=False, server_header=False, log_level="info",
                timeout_graceful_shutdown=5)


__all__ = ["serve", "keys_add", "keys_list", "keys_revoke", "loopback", "KEYS_FILE"]
