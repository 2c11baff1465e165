"""Logging set-up: plain lines on stderr, with every phone number masked.

The filter sits on the handler, so it also covers uvicorn's access log (query strings such as
?phone=13812345678) and any third-party logger, not only our own messages.
"""
from __future__ import annotations

import logging
import logging.config
from typing import Any, Dict

from .phones import mask_phones_in_text


class MaskPhonesFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_phones_in_text(message)
        if masked != message:
            record.msg, record.args = masked, ()
        if record.exc_info and not record.exc_text:
            record.exc_text = mask_phones_in_text(logging.Formatter().formatException(record.exc_info))
        elif record.exc_text:
            record.exc_text = mask_phones_in_text(record.exc_text)
        return True


def logging_config(level: str = "info") -> Dict[str, Any]:
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"mask_phones": {"()": MaskPhonesFilter}},
        "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "plain",
                "filters": ["mask_phones"],
                "stream": "ext://sys.stderr",
            }
        },
        "root": {"handlers": ["stderr"], "level": level.upper()},
        "loggers": {
            "uvicorn": {"handlers": [], "propagate": True},
            "uvicorn.error": {"handlers": [], "propagate": True},
            "uvicorn.access": {"handlers": [], "propagate": True},
            "sqlalchemy": {"level": "WARNING"},
            "alembic": {"level": "WARNING"},
        },
    }


def configure_logging(level: str = "info") -> None:
    logging.config.dictConfig(logging_config(level))
