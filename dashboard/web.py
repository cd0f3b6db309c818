"""The web layer around the Dash app: what every response gets, whatever the server.

Interface: `install(app, data)`, called by `dashboard.app.create_app` after every callback
is registered. It adds to the Flask server:

* a request id (``X-Request-ID``: the caller's when it is sane, else a new one) echoed on
  every response, and one log line per request on logger ``trialmon.request`` (method,
  path, status, duration in ms, request id);
* ``/healthz`` (the process answers: 200) and ``/readyz`` (the database answers and holds
  published data: 200, else 503 with a JSON reason);
* a "data temporarily unavailable" page (503, retries by itself) for pages while the
  database cannot be reached or holds nothing yet; a 503 JSON answer for the API and
  the callbacks; recovery needs no restart (the next request simply succeeds). The
  reason (which may name the database host) goes to the log and /readyz only;
* security headers: a Content-Security-Policy that allows only the app's own scripts and
  Dash's inline scripts by hash (`dash.Dash.csp_hashes`), ``nosniff``,
  ``frame-ancestors 'none'`` + ``X-Frame-Options: DENY``, a Referrer-Policy;
* gzip/brotli compression (flask-compress) of pages, assets, callbacks and the API;
* JSON 404/405 for any unknown path or method under ``/api/``; CORS
  (``Access-Control-Allow-Origin: *``) for GET under ``/api/``;
* a guard in front of ``/_dash-update-component``: a body that is not a callback this
  app has, or a value its controls cannot send (`dashboard.state.InvalidInput`, raised by
  the state layer), is answered 400 with a JSON reason, logged in one line, no traceback.

Decisions:
* Hand-written headers (ten lines) rather than flask-talisman, which also forces HTTPS
  redirects that belong to the reverse proxy.
* Styles keep ``'unsafe-inline'``: Plotly injects <style> elements at run time; scripts
  do not.
* Health probes log at debug level, so a container's health check does not fill the log.
"""

from __future__ import annotations

import logging
import re
import time
import uuid

import dash
import flask
import sqlalchemy as sa
from flask_compress import Compress
from werkzeug.exceptions import HTTPException

from dashboard.state import InvalidInput, split_path

log = logging.getLogger("trialmon.request")
REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
PROBES = ("/healthz", "/readyz")
NOT_PAGES = ("/_dash", "/_reload", "/_favicon", "/assets/", "/api/", *PROBES)
CALLBACK_PATH = "/_dash-update-component"
RETRY_SECONDS = 15
COMPRESSED_TYPES = ["text/html", "text/css", "text/plain", "text/csv", "text/javascript",
                    "application/javascript", "application/json", "application/geo+json",
                    "image/svg+xml"]
UNAVAILABLE = {
    "fi": ("Tiedot tilapäisesti poissa käytöstä",
           "Tietoja ei voida juuri nyt näyttää. Sivu yrittää uudelleen itsestään."),
    "sv": ("Uppgifterna är tillfälligt otillgängliga",
           "Uppgifterna kan inte visas just nu. Sidan försöker igen av sig själv."),
    "en": ("Data temporarily unavailable",
           "The data cannot be shown just now. This page will try again by itself."),
}


def install(app: dash.Dash, data) -> None:
    server = app.server
    _request_log(server)  # first: its after_request runs last and sees the final answer
    _health(server, data)
    _database_errors(server, data)
    _api_answers(server)
    _callback_guard(app)
    _security_headers(server, content_security_policy(app))
    server.config.update(COMPRESS_ALGORITHM=["br", "gzip"], COMPRESS_MIMETYPES=COMPRESSED_TYPES,
                         COMPRESS_ALGORITHM_STREAMING=["br", "gzip"],
                         COMPRESS_BR_LEVEL=4, COMPRESS_LEVEL=6, COMPRESS_MIN_SIZE=500)
    Compress(server)


# ------------------------------------------------------------------ request id and log
def _request_log(server: flask.Flask) -> None:
    @server.before_request
    def start_clock():
        given = flask.request.headers.get("X-Request-ID", "")
        flask.g.request_id = given if REQUEST_ID.match(given) else uuid.uuid4().hex
        flask.g.started = time.perf_counter()

    @server.after_request
    def log_request(response: flask.Response):
        request_id = flask.g.get("request_id") or uuid.uuid4().hex
        response.headers["X-Request-ID"] = request_id
        started = flask.g.get("started")
        duration = round((time.perf_counter() - started) * 1000, 1) if started else None
        path = flask.request.path
        quiet = path in PROBES and response.status_code < 400
        log.log(logging.DEBUG if quiet else logging.INFO, "%s %s %s %s ms id=%s",
                flask.request.method, path, response.status_code, duration, request_id,
                extra={"method": flask.request.method, "path": path,
                       "status": response.status_code, "duration_ms": duration,
                       "request_id": request_id})
        return response


# ------------------------------------------------------------------ health
def readiness(data) -> tuple[bool, str]:
    """(ready, reason): the database answers and holds at least one published month."""
    try:
        months = int(data.version()[0])
    except sa.exc.SQLAlchemyError as error:
        return False, f"database unavailable: {_first_line(error)}"
    if months == 0:
        return False, "no published data yet (load and compute first)"
    return True, f"{months} published month(s)"


def _health(server: flask.Flask, data) -> None:
    @server.get("/healthz")
    def healthz():
        return flask.jsonify(status="alive")

    @server.get("/readyz")
    def readyz():
        data.forget_version()
        ready, reason = readiness(data)
        body = flask.jsonify(status="ready" if ready else "unavailable", reason=reason)
        return body, 200 if ready else 503


# ------------------------------------------------------------------ database errors
def _database_errors(server: flask.Flask, data) -> None:
    @server.before_request
    def pages_need_data():
        request = flask.request
        if request.method != "GET" or request.path.startswith(NOT_PAGES) or request.path == "/":
            return None
        ready, reason = readiness(data)
        return None if ready else unavailable_page(reason)

    @server.errorhandler(sa.exc.OperationalError)
    @server.errorhandler(sa.exc.InterfaceError)
    def database_unavailable(error):
        reason = f"database unavailable: {_first_line(error)}"
        if flask.request.path.startswith(NOT_PAGES):
            log.warning("%s %s: %s", flask.request.method, flask.request.path, reason)
            return _json_error(503, "data temporarily unavailable", retry=RETRY_SECONDS)
        return unavailable_page(reason)


def unavailable_page(reason: str) -> flask.Response:
    log.warning("%s %s: %s", flask.request.method, flask.request.path, reason)
    lang = split_path(flask.request.path)[0] or "fi"
    title, text = UNAVAILABLE[lang]
    body = (f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<meta http-equiv="refresh" content="{RETRY_SECONDS}">'
            f'<title>{title}</title><link rel="stylesheet" href="/assets/bootstrap.min.css">'
            f'</head><body><main class="container py-5" id="unavailable">'
            f'<h1 class="h3">{title}</h1><p>{text}</p></main></body></html>')
    response = flask.Response(body, status=503, mimetype="text/html")
    response.headers["Retry-After"] = str(RETRY_SECONDS)
    response.headers["Cache-Control"] = "no-store"
    return response


def _first_line(error: Exception) -> str:
    text = str(getattr(error, "orig", None) or error).strip()
    return text.splitlines()[0][:200] if text else type(error).__name__


# ------------------------------------------------------------------ /api/
def _json_error(status: int, message: str, retry: int | None = None, **fields):
    response = flask.make_response(flask.jsonify(error=message, **fields), status)
    if retry:
        response.headers["Retry-After"] = str(retry)
    return response


def _api_answers(server: flask.Flask) -> None:
    @server.before_request
    def unknown_api_path():
        request = flask.request
        rule = request.url_rule
        if request.path.startswith("/api/") and rule is not None and "<path:" in rule.rule:
            # Dash's catch-all page route would answer 200 HTML: no such endpoint.
            return _json_error(404, f"no API endpoint {request.path}", path=request.path)
        return None

    @server.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        if not flask.request.path.startswith("/api/"):
            return error
        response = _json_error(error.code or 500, error.description or error.name,
                               path=flask.request.path)
        if error.code == 405 and hasattr(error, "valid_methods") and error.valid_methods:
            response.headers["Allow"] = ", ".join(error.valid_methods)
        return response

    @server.after_request
    def cors(response: flask.Response):
        request = flask.request
        if request.path.startswith("/api/") and request.method in ("GET", "HEAD", "OPTIONS"):
            response.headers["Access-Control-Allow-Origin"] = "*"
        return response


# ------------------------------------------------------------------ callbacks
def _callback_guard(app: dash.Dash) -> None:
    server = app.server

    @server.before_request
    def well_formed_callback():
        request = flask.request
        if request.path != CALLBACK_PATH or request.method != "POST":
            return None
        body = request.get_json(silent=True)
        problem = _callback_body_problem(body, app.callback_map)
        if problem:
            log.warning("rejected callback request: %s", problem)
            return _json_error(400, f"bad callback request: {problem}")
        return None

    @server.errorhandler(InvalidInput)
    def invalid_input(error: InvalidInput):
        log.warning("rejected callback value: %s", error)
        return _json_error(400, str(error), parameter=error.name)


def _callback_body_problem(body, callback_map) -> str | None:
    if not isinstance(body, dict):
        return "the body is not a JSON object"
    output = body.get("output")
    if not isinstance(output, str) or output not in callback_map:
        return "unknown output"
    for key in ("inputs", "state", "changedPropIds"):
        if not isinstance(body.get(key, []), list):
            return f"{key} is not a list"
    for item in body.get("inputs", []) + body.get("state", []):
        entries = item if isinstance(item, list) else [item]  # pattern-matching inputs
        if not all(isinstance(e, dict) and "id" in e and "property" in e for e in entries):
            return "an input is not an {id, property, value} object"
    return None


# ------------------------------------------------------------------ headers
def content_security_policy(app: dash.Dash) -> str:
    """Only the app's own scripts, plus Dash's inline scripts by their hashes."""
    scripts = " ".join(["'self'", *app.csp_hashes()])
    return "; ".join([
        "default-src 'self'", f"script-src {scripts}", "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:", "font-src 'self' data:", "connect-src 'self'",
        "worker-src 'self' blob:", "object-src 'none'", "base-uri 'self'",
        "form-action 'self'", "frame-ancestors 'none'",
    ])


def _security_headers(server: flask.Flask, policy: str) -> None:
    headers = {"Content-Security-Policy": policy, "X-Content-Type-Options": "nosniff",
               "X-Frame-Options": "DENY", "Referrer-Policy": "strict-origin-when-cross-origin",
               "Cross-Origin-Opener-Policy": "same-origin"}

    @server.after_request
    def harden(response: flask.Response):
        response.headers.update(headers)
        return response
