"""One masking for every log line of every process: phone numbers, query codes and access keys never
reach a log in clear.

The filter sits on the handlers (not on loggers), so it also covers third-party loggers such as
uvicorn's access and WebSocket lines, Sanic's, Rasa's and SQLAlchemy's, including tracebacks.
"""
from __future__ import annotations

import logging
import logging.config
import re
import unicodedata
from typing import Any, Dict, Iterable, Optional
from urllib.parse import unquote_plus

from contract.phones import mask_phones_in_text
from contract.query_codes import mask_query_codes

# Secrets that travel in URLs or headers: the web chat's access key (`sender`), tokens.
_SECRETS_IN_TEXT = re.compile(
    r"(?P<key>\b(?:sender|token|access_token|code)=)(?P<value>[^&\s\"'#]+)"
    r"|(?P<bearer>\bBearer\s+)(?P<token>[A-Za-z0-9._~+/=-]+)",
    re.IGNORECASE,
)


def _hide_secret(match: "re.Match[str]") -> str:
    if match.group("key"):
        return f"{match.group('key')}***"
    return f"{match.group('bearer')}***"


# A line that may carry a number in a disguise the phone pattern does not read: URL-encoded (a query
# string in an access line: "139+1234+5678", "%28139%29…", percent-encoded full-width digits) or in
# full-width digits.
_DISGUISED = re.compile(r"[%+\uff10-\uff19]")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


# A call's UUID (Asterisk's, an AudioSocket call id) holds no personal data, but its digit groups can
# read like a phone number ("…1380-0012-0500…"): it is kept whole, so that a call can be found by it.
_UUID = re.compile(r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b")


def _mask_phones_but_uuids(text: str) -> str:
    parts, last = [], 0
    for match in _UUID.finditer(text):
        parts += [mask_phones_in_text(text[last:match.start()]), match.group()]
        last = match.end()
    return "".join(parts) + mask_phones_in_text(text[last:])


def mask_text(text: str) -> str:
    """A log line with phones masked (138****5678) and access keys replaced by ***. A line with a
    number in a URL-encoded or full-width disguise is logged decoded, with that number masked."""
    masked = _mask_phones_but_uuids(mask_query_codes(_SECRETS_IN_TEXT.sub(_hide_secret, text)))
    if not _DISGUISED.search(masked):
        return masked
    decoded = unicodedata.normalize("NFKC", unquote_plus(masked))
    decoded_masked = mask_phones_in_text(decoded)
    if decoded_masked == decoded:
        return masked
    # The decoded line is logged: its secrets hidden again (an encoded "sender%3D..."), and control
    # characters written out, so that an encoded newline cannot forge a log line of its own.
    decoded_masked = _SECRETS_IN_TEXT.sub(_hide_secret, decoded_masked)
    return _CONTROL.sub(lambda match: f"\\x{ord(match.group()):02x}", decoded_masked)


class MaskingFilter(logging.Filter):
    """Rewrites each record so that no handler prints a phone number or an access key."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: leave it to the formatter to report
            return True
        masked = mask_text(message)
        if masked != message:
            record.msg, record.args = masked, ()
        if record.exc_info and not record.exc_text:
            record.exc_text = mask_text(logging.Formatter().formatException(record.exc_info))
        elif record.exc_text:
            record.exc_text = mask_text(record.exc_text)
        if record.stack_info:
            record.stack_info = mask_text(record.stack_info)
        return True


def install_log_masking(handlers: Optional[Iterable[logging.Handler]] = None) -> None:
    """Attach the filter to every root handler (or those given); idempotent.

    Call after the process configured logging: Rasa, rasa-sdk and uvicorn set up their handlers
    first.
    """
    root = logging.getLogger()
    targets = list(handlers) if handlers is not None else list(root.handlers)
    if not targets:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter(LOG_FORMAT))
        root.addHandler(handler)
        targets = [handler]
    for target in targets:
        if not any(isinstance(f, MaskingFilter) for f in target.filters):
            target.addFilter(MaskingFilter())


LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def logging_config(level: str = "info", quiet: Iterable[str] = ()) -> Dict[str, Any]:
    """A dictConfig for uvicorn-served processes: one stderr handler, masked."""
    loggers: Dict[str, Any] = {
        "uvicorn": {"handlers": [], "propagate": True},
        "uvicorn.error": {"handlers": [], "propagate": True},
        "uvicorn.access": {"handlers": [], "propagate": True},
        "sqlalchemy": {"level": "WARNING"},
        "alembic": {"level": "WARNING"},
        "httpx": {"level": "WARNING"},
    }
    for name in quiet:
        loggers[name] = {"level": "WARNING"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"masking": {"()": MaskingFilter}},
        "formatters": {"plain": {"format": LOG_FORMAT}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "plain",
                "filters": ["masking"],
                "stream": "ext://sys.stderr",
            }
        },
        "root": {"handlers": ["stderr"], "level": level.upper()},
        "loggers": loggers,
    }


def configure_logging(level: str = "info") -> None:
    logging.config.dictConfig(logging_config(level))

