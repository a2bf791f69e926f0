"""The HTTP application (FastAPI on Starlette): routes, auth, errors and the access log.

Every route but ``/healthz`` (and the page itself, which holds no data) needs ``Authorization: Bearer
KEY`` with the route's scope: 401 without a valid key, 403 outside its scopes. Errors are
``{"error": "one line"}`` with their status, never a traceback. The access log carries method, path,
status, duration, key name and record ids: never bodies, query strings, client text or keys.
"""
import logging
import re
import time
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.exceptions import HTTPException as StarletteHTTPException

from .. import __version__
from ..settings import AUDIT_FILE
from ..sign import ROLES
from .keys import Key, KeyRing
from .limits import BodyLimit, Limits, Pool, read_body
from .work import Reply

log = logging.getLogger("docgen.serve")
_JOB_ID = re.compile(r"[0-9a-f]{32}")
_MEDIA = {"pdf": "application/pdf", "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
          "zip": "application/zip"}


@dataclass(frozen=True)
class Config:
    data: Path
    keys: Path | None  # None: --no-auth
    limits: Limits
    webhook_attempts: int = 6
    webhook_backoff: float = 1.0
    callback_hosts: frozenset[str] = frozenset()  # hosts a callback may reach whatever their address


class ApiError(Exception):
    def __init__(self, code: int, message: str, headers: dict[str, str] | None = None, **extra: Any) -> None:
        super().__init__(message)
        self.code, self.message, self.headers, self.extra = code, message, headers, extra


def _one_line(text: str) -> str:
    return " ".join(str(text).split())[:500]


def _reply(reply: Reply, request: Request, filename: str | None = None) -> Response:
    request.state.record_ids = reply.record_ids
    if reply.content is None:
        return JSONResponse(reply.body, status_code=reply.status)
    headers = {"X-Docgen-Status": str(reply.body.get("status", ""))}
    if filename:
        headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return Response(reply.content, status_code=reply.status, media_type=reply.media_type, headers=headers)


class AccessLog:
    """ASGI middleware, outermost: one line a request (method, path, status, ms, key, record ids)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = [0]

        async def tapped(message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, tapped)
        except Exception as exc:  # noqa: BLE001 - answered by the app's handler, or here: never a traceback
            log.error("internal error: %s", type(exc).__name__)
            if not status[0]:
                status[0] = 500
                body = b'{"error":"internal error"}'
                await send({"type": "http.response.start", "status": 500,
                            "headers": [(b"content-type", b"application/json"),
                                        (b"content-length", str(len(body)).encode())]})
                await send({"type": "http.response.body", "body": body})
        finally:
            state = scope.get("state") or {}
            ids = state.get("record_ids") or []
            shown = ",".join(ids[:20]) + (f",+{len(ids) - 20}" if len(ids) > 20 else "")
            log.info("%s %s %d %.0fms key=%s ids=%s", scope["method"], scope["path"], status[0],
                     (time.perf_counter() - started) * 1000, state.get("key_name") or "-", shown or "-")


def create_app(config: Config) -> Any:
    """The ASGI application of ``docgen serve`` (the FastAPI app inside the body limit and access log)."""
    from . import jobs as jobs_module  # noqa: PLC0415
    from .webhook import Webhooks, secret  # noqa: PLC0415

    data = config.data
    audit = data / AUDIT_FILE
    ring = KeyRing(config.keys) if config.keys is not None else None
    state: dict[str, Any] = {}

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        jobs = jobs_module.Jobs(data)
        hooks = Webhooks(jobs, secret(data), attempts=config.webhook_attempts, backoff=config.webhook_backoff,
                         allowed=config.callback_hosts)
        runner = jobs_module.Runner(jobs, config.limits.workers, audit, hooks.send, config.limits.signing)
        state.update(pool=Pool(config.limits), jobs=jobs, runner=runner, hooks=hooks)
        await state["pool"].start()
        runner.start()
        hooks.pending()
        try:
            yield
        finally:
            runner.stop()
            state["pool"].close()

    app = FastAPI(title="docgen", version=__version__, lifespan=lifespan, openapi_url=None, docs_url=None,
                  redoc_url=None,
                  description="Behavioral-health treatment plans and progress notes over HTTP: the verdicts and "
                              "bytes of the docgen command line. Every route but /healthz needs "
                              "`Authorization: Bearer KEY`.")
    bearer = HTTPBearer(auto_error=False, description="a key made by `docgen keys add`")

    def require(scope: str | None):
        def check_key(request: Request,
                      credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> Key:
            if ring is None:
                key = Key("anonymous", ("check", "render", "batch", "packet", "fhir"), "")
            else:
                found = ring.match(credentials.credentials) if credentials is not None else None
                if found is None:
                    raise ApiError(401, "a valid key is needed: Authorization: Bearer KEY",
                                   {"WWW-Authenticate": "Bearer"})
                key = found
            request.state.key_name = key.name
            if scope is not None and scope not in key.scopes:
                raise ApiError(403, f"this key may not {scope} (its scopes: {','.join(key.scopes)})")
            return key
        return check_key

    @app.exception_handler(ApiError)
    async def api_error(_request: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse({"error": exc.message, **exc.extra}, status_code=exc.code, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def bad_request(_request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()) if p not in ("query", "path", "body"))
        return JSONResponse({"error": _one_line(f"{where}: {first.get('msg', 'bad request')}")}, status_code=400)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return JSONResponse({"error": _one_line(str(exc.detail))}, status_code=exc.status_code,
                            headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def crash(_request: Request, _exc: Exception) -> JSONResponse:
        return JSONResponse({"error": "internal error"}, status_code=500)  # logged by AccessLog (type only)

    async def body_of(request: Request) -> bytes:
        body = await read_body(request.stream(), config.limits.max_body)
        if body is None:
            raise ApiError(413, f"request body larger than {config.limits.max_body} bytes")
        return body

    def builtin(profile: str | None) -> str | None:
        from ..check.profile import builtin_names  # noqa: PLC0415

        if profile is not None and profile not in builtin_names():
            raise ApiError(400, f"profile: unknown profile (built in: {', '.join(builtin_names())})")
        return profile

    def formats_of(value: str) -> tuple[str, ...]:
        chosen = tuple(dict.fromkeys(p.strip().lower() for p in value.split(",") if p.strip()))
        if not chosen or any(f not in ("docx", "pdf") for f in chosen):
            raise ApiError(400, "format: use docx, pdf or docx,pdf")
        return chosen

    record_body = {"required": True, "content": {"application/json": {"schema": {"type": "object"}}}}
    records_body = {"required": True, "content": {
        "application/json": {"schema": {"anyOf": [{"type": "object"}, {"type": "array", "items": {"type": "object"}}]}},
    }}
    array_body = {"required": True, "content": {
        "application/json": {"schema": {"type": "array", "items": {"type": "object"}}},
        "application/x-ndjson": {"schema": {"type": "string"}}}}

    ProfileQ = Annotated[str | None, Query(description="a built-in rules profile (overrides the payer's)",
                                           max_length=64)]
    AsOfQ = Annotated[date | None, Query(description="judge review dates as of this day (default: today)")]
    SignRoleQ = Annotated[str | None, Query(pattern="^(" + "|".join(ROLES) + ")$",
                                            description="the field to sign (sig_<role>); default: the first empty")]

    def signing_asked(sign: bool, sign_role: str | None) -> None:
        if sign and config.limits.signing is None:
            raise ApiError(400, "sign: the service has no signing key (docgen serve --sign-with KEY.p12)")
        if sign_role is not None and not sign:
            raise ApiError(400, "sign_role: goes with sign=true")

    @app.get("/healthz", tags=["service"])
    async def healthz() -> dict:
        return {"status": "ok", "version": __version__}

    @app.get("/openapi.json", include_in_schema=False)
    async def openapi(_key: Annotated[Key, Depends(require(None))]) -> JSONResponse:
        return JSONResponse(app.openapi())

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def index() -> HTMLResponse:
        from .page import page  # noqa: PLC0415

        return HTMLResponse(page(__version__), headers={
            "Content-Security-Policy": "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
                                       "connect-src 'self'; img-src 'self' blob:; form-action 'none'; "
                                       "frame-ancestors 'none'", "X-Content-Type-Options": "nosniff"})

    @app.post("/v1/check", tags=["records"], openapi_extra={"requestBody": records_body},
              summary="docgen check --format json")
    async def check(request: Request, _key: Annotated[Key, Depends(require("check"))], profile: ProfileQ = None,
                    as_of: AsOfQ = None) -> Response:
        """A record (JSON object) or a list: exactly `docgen check --format json`'s answer, the service's
        lock ledger consulted (a record locked with other content has a `locked` blocker)."""
        body = await body_of(request)
        return _reply(await state["pool"].run("check", body, builtin(profile), as_of, str(audit)), request)

    @app.post("/v1/render", tags=["records"], openapi_extra={"requestBody": record_body},
              responses={200: {"content": {_MEDIA["pdf"]: {}, _MEDIA["docx"]: {}, _MEDIA["zip"]: {}}},
                         409: {"description": "locked with other content"},
                         422: {"description": "refused, invalid or failed, with the findings"}})
    async def render(request: Request, _key: Annotated[Key, Depends(require("render"))],
                     format: Annotated[str, Query(pattern="^(pdf|docx|zip)$")] = "pdf",
                     allow_draft: bool = False, profile: ProfileQ = None, as_of: AsOfQ = None,
                     sign: bool = False, sign_role: SignRoleQ = None) -> Response:
        """A record -> the bytes `docgen render` writes (zip: both, as document.docx and document.pdf).
        Final renders are locked in the service's audit trail. `sign`: a final PDF signed with the
        service's key (`docgen serve --sign-with`), into `sign_role`'s field, as `render --sign-with`."""
        body = await body_of(request)
        formats = ("docx", "pdf") if format == "zip" else (format,)
        signing_asked(sign, sign_role)
        reply = await state["pool"].run("render", body, formats, builtin(profile), allow_draft, as_of, str(audit),
                                        sign, sign_role)
        if reply.content is not None:
            reply.media_type = _MEDIA[format]
        from ..write import safe_name  # noqa: PLC0415

        name = f"{safe_name(reply.body.get('id') or 'record')}.{format}" if reply.content is not None else None
        return _reply(reply, request, name)

    @app.post("/v1/packets", tags=["records"], openapi_extra={"requestBody": array_body},
              responses={200: {"content": {"application/pdf": {}}}, 422: {"description": "refused, with reasons"}})
    async def packets(request: Request, _key: Annotated[Key, Depends(require("packet"))],
                      client: Annotated[str, Query(min_length=1, max_length=128)],
                      purpose: Annotated[str, Query(min_length=1, max_length=64)],
                      recipient: Annotated[str, Query(min_length=1, max_length=256)],
                      period_from: Annotated[date | None, Query(alias="from")] = None,
                      period_to: Annotated[date | None, Query(alias="to")] = None,
                      profile: ProfileQ = None, allow_draft: bool = False, as_of: AsOfQ = None) -> Response:
        """Records (a JSON array) -> the packet PDF `docgen packet` writes, or 422 with the refusals."""
        body = await body_of(request)
        options = {"client": client, "purpose": purpose, "recipient": recipient, "period_from": period_from,
                   "period_to": period_to, "profile": builtin(profile), "allow_draft": allow_draft, "as_of": as_of}
        return _reply(await state["pool"].run("packet", body, options), request, "packet.pdf")

    fhir_body = {"required": True, "content": {
        "application/fhir+json": {"schema": {"type": "object"}}, "application/json": {"schema": {"type": "object"}},
        "application/fhir+ndjson": {"schema": {"type": "string"}}}}

    @app.post("/v1/fhir/export", tags=["fhir"], openapi_extra={"requestBody": records_body},
              responses={200: {"content": {"application/fhir+json": {}, "application/fhir+ndjson": {}}},
                         422: {"description": "invalid records, or nothing to export"}})
    async def fhir_export(request: Request, _key: Annotated[Key, Depends(require("fhir"))],
                          client: Annotated[str | None, Query(min_length=1, max_length=128)] = None,
                          with_documents: bool = False, ndjson: bool = False,
                          purpose: Annotated[str | None, Query(min_length=1, max_length=64)] = None) -> Response:
        """Records (a JSON object or array) of one client (or `client`) -> the FHIR R4 Bundle
        `docgen fhir export` writes (US Core; `with_documents`: the final PDFs as DocumentReferences;
        `purpose`: minimum necessary). Psychotherapy notes are never exported."""
        body = await body_of(request)
        options = {"client": client, "with_documents": with_documents, "ndjson": ndjson, "purpose": purpose}
        reply = await state["pool"].run("fhir_export", body, options)
        return _reply(reply, request, f"bundle.{'ndjson' if ndjson else 'json'}" if reply.content else None)

    @app.post("/v1/fhir/import", tags=["fhir"], openapi_extra={"requestBody": fhir_body})
    async def fhir_import(request: Request, _key: Annotated[Key, Depends(require("fhir"))]) -> Response:
        """A FHIR R4 Bundle (JSON) or NDJSON, as an EHR exports it -> the docgen records it makes (as
        `docgen fhir import` writes them, as JSON), what was assumed or left out per resource, and the
        findings (an imported total that disagrees with its items)."""
        body = await body_of(request)
        return _reply(await state["pool"].run("fhir_import", body), request)

    @app.post("/v1/batches", tags=["batches"], status_code=202, openapi_extra={"requestBody": array_body})
    async def create_batch(request: Request, key: Annotated[Key, Depends(require("batch"))],
                           format: Annotated[str, Query(max_length=16)] = "docx,pdf",
                           profile: ProfileQ = None, allow_draft: bool = False, as_of: AsOfQ = None,
                           callback_url: Annotated[str | None, Query(max_length=2048)] = None,
                           sign: bool = False, sign_role: SignRoleQ = None) -> JSONResponse:
        """Records (a JSON array, or JSONL) -> 202 with the job's id; the job runs on `docgen batch`'s engine."""
        from starlette.concurrency import run_in_threadpool  # noqa: PLC0415

        from .webhook import refused_host, valid_url  # noqa: PLC0415

        formats = formats_of(format)
        signing_asked(sign, sign_role)
        if callback_url is not None and not valid_url(callback_url):
            raise ApiError(400, "callback_url: an http or https URL")
        if callback_url is not None:
            refused = await run_in_threadpool(refused_host, callback_url, config.callback_hosts)
            if refused is not None:
                raise ApiError(400, f"callback_url: {refused}")
        body = await body_of(request)
        jsonl = await run_in_threadpool(_batch_body, body)
        options = {"formats": list(formats), "profile": builtin(profile), "allow_draft": allow_draft,
                   "as_of": (as_of or date.today()).isoformat(), "sign": sign, "sign_role": sign_role}
        job_id = await run_in_threadpool(state["jobs"].create, key.name, body, jsonl, options, callback_url)
        state["runner"].wake.set()
        log.info("job %s: queued by %s", job_id, key.name)
        return JSONResponse({"id": job_id, "status": "queued", "url": f"/v1/batches/{job_id}"}, status_code=202,
                            headers={"Location": f"/v1/batches/{job_id}"})

    def job_of(job_id: str, key: Key) -> dict:
        job = state["jobs"].get(job_id) if _JOB_ID.fullmatch(job_id) else None
        if job is None or (ring is not None and job["owner"] != key.name):
            raise ApiError(404, "no such batch")
        return job

    @app.get("/v1/batches/{job_id}", tags=["batches"])
    async def batch_status(job_id: str, key: Annotated[Key, Depends(require("batch"))]) -> dict:
        """Status (queued, running, done, failed), counts and progress."""
        return jobs_module.public(job_of(job_id, key))

    def done_job(job_id: str, key: Key) -> dict:
        job = job_of(job_id, key)
        if job["status"] != "done":
            raise ApiError(409, f"the batch is {job['status']}, not done", status=job["status"])
        return job

    @app.get("/v1/batches/{job_id}/manifest", tags=["batches"])
    async def batch_manifest(job_id: str, key: Annotated[Key, Depends(require("batch"))]) -> dict:
        """The batch's manifest: one row per record (as `manifest.jsonl`), once the batch is done."""
        done_job(job_id, key)
        return {"id": job_id, "records": jobs_module.manifest_rows(state["jobs"].folder(job_id))}

    @app.get("/v1/batches/{job_id}/files/{path:path}", tags=["batches"],
             responses={200: {"content": {_MEDIA["pdf"]: {}, _MEDIA["docx"]: {}}}})
    async def batch_file(job_id: str, path: str, key: Annotated[Key, Depends(require("batch"))]) -> Response:
        """A document of the batch, by its path in the manifest (nothing else is served)."""
        done_job(job_id, key)
        out = (state["jobs"].folder(job_id) / "out").resolve()
        listed = {o["path"] for row in jobs_module.manifest_rows(state["jobs"].folder(job_id))
                  for o in row.get("outputs") or []}
        target = (out / path).resolve() if path in listed else None
        if target is None or not target.is_relative_to(out) or not target.is_file():
            raise ApiError(404, "no such file in this batch's manifest")
        return Response(target.read_bytes(), media_type=_MEDIA.get(target.suffix[1:], "application/octet-stream"),
                        headers={"Content-Disposition": f'attachment; filename="{target.name}"'})

    @app.post("/v1/page/results", tags=["page"], response_class=HTMLResponse,
              openapi_extra={"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
                  "type": "object", "properties": {"files": {"type": "array", "items": {
                      "type": "string", "format": "binary"}}}}}}}})
    async def page_results(request: Request, _key: Annotated[Key, Depends(require("check"))],
                           as_of: AsOfQ = None) -> Response:
        """The page's upload: record files checked as one run, as an HTML fragment (verdicts, findings)."""
        from starlette.requests import Request as Plain  # noqa: PLC0415

        from .page import results  # noqa: PLC0415

        body = await body_of(request)

        async def replay() -> dict:
            return {"type": "http.request", "body": body, "more_body": False}

        try:
            form = await Plain(request.scope, replay).form(max_files=200, max_fields=20)
        except Exception:  # noqa: BLE001 - any malformed multipart body is the client's
            raise ApiError(400, "request body: send the record files as multipart/form-data (field files)") from None
        files = []
        for item in form.getlist("files"):
            if isinstance(item, str):
                raise ApiError(400, "files: send files, not text")
            files.append((str(item.filename or "upload.json"), await item.read()))
        await form.close()
        if not files:
            raise ApiError(400, "files: no file sent")
        reply = await state["pool"].run("upload", files, as_of, str(audit))
        request.state.record_ids = reply.record_ids
        if reply.status != 200:
            return JSONResponse(reply.body, status_code=reply.status)
        return HTMLResponse(results(reply.body["records"]))

    return AccessLog(BodyLimit(app, config.limits.max_body))


def _batch_body(body: bytes) -> bool:
    """Whether a batch body is JSONL (else a JSON array, checked here); ApiError when it is neither."""
    from ..errors import LoadError  # noqa: PLC0415
    from .work import parse_body  # noqa: PLC0415

    text = body.lstrip()
    if text.startswith(b"\xef\xbb\xbf"):
        text = text[3:].lstrip()
    if not text:
        raise ApiError(400, "request body: empty; send a JSON array of records, or JSONL")
    if not text.startswith(b"["):
        return True
    try:
        data = parse_body(body)
    except LoadError as exc:
        raise ApiError(400, f"request body: {exc}") from None
    if not isinstance(data, list) or not data:
        raise ApiError(400, "request body: a JSON array of records, not empty")
    return False


__all__ = ["Config", "create_app"]
