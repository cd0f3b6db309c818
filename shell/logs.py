"""Logging for the server and the command line: plain text lines or JSON lines.

Interface: `logging_config(fmt, level) -> dict` (a `logging.config.dictConfig` document,
also handed to gunicorn so its own messages look the same), `configure_logging(fmt, level)`.

Decisions:
* Everything goes to standard error through the `logging` module; no print.
* Quiet by default: trialmon's loggers at `level` (info), the libraries' (SQLAlchemy,
  Alembic, werkzeug) at warning, so an info log is one line per request plus start/stop.
* SQLAlchemy's pool logs an error with a traceback when a connection it returns is
  already gone (the database restarted); that is expected during an outage and the app
  logs the outage itself, so such records are cut to one line (`OneLineFromLibraries`).
* JSON lines (`--log-format json`) carry the request fields as keys (method, path,
  status, duration_ms, request_id) for a log collector; python-json-logger writes them.
"""

from __future__ import annotations

import logging.config

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
JSON_FIELDS = "%(asctime)s %(levelname)s %(name)s %(process)d %(message)s"
QUIET_LIBRARIES = ("sqlalchemy", "alembic", "werkzeug", "urllib3", "dash")


class OneLineFromLibraries(logging.Filter):
    """A library's record with a traceback becomes one line: message + the error's first line."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and record.name.startswith("sqlalchemy"):
            error = record.exc_info[1]
            first = str(error).strip().splitlines()[0] if error and str(error).strip() else ""
            record.msg = f"{record.getMessage()}: {type(error).__name__}: {first}"
            record.args, record.exc_info, record.exc_text = None, None, None
        return True


def logging_config(fmt: str = "text", level: str = "info") -> dict:
    formatter = ({"()": "pythonjsonlogger.json.JsonFormatter", "format": JSON_FIELDS,
                  "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"}}
                 if fmt == "json" else {"format": TEXT_FORMAT})
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"trialmon": formatter},
        "filters": {"one_line": {"()": OneLineFromLibraries}},
        "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "trialmon",
                                "filters": ["one_line"], "stream": "ext://sys.stderr"}},
        "root": {"handlers": ["stderr"], "level": "WARNING"},
        "loggers": {
            "trialmon": {"level": level.upper()},
            "gunicorn.error": {"level": "INFO" if level.lower() == "debug" else "WARNING",
                               "handlers": [], "propagate": True},
            "gunicorn.access": {"level": "WARNING", "handlers": [], "propagate": True},
            **{name: {"level": "WARNING"} for name in QUIET_LIBRARIES},
        },
    }


def configure_logging(fmt: str = "text", level: str = "info") -> None:
    logging.config.dictConfig(logging_config(fmt, level))
