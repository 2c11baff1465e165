"""`python -m issue_api`: upgrade the schema, then serve with uvicorn."""
from __future__ import annotations

import logging
import sys

import uvicorn
from sqlalchemy.exc import OperationalError

from contract.log_masking import configure_logging, logging_config, mask_text

from . import settings as settings_module
from .db import Database

log = logging.getLogger("issue_api")


def main() -> int:
    try:
        settings = settings_module.from_env()
    except settings_module.SettingsError as exc:
        hint = f"\n{settings_module.MISSING_TOKENS_HINT}" if "ISSUE_API_TOKENS" in str(exc) else ""
        print(f"issue_api: bad configuration: {exc}{hint}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level)
    settings.secure_state_dir()
    if not settings.secret:
        log.warning("ISSUE_API_SECRET is not set: query codes are hashed without a key; set it in production")
    if settings.now is not None:
        log.warning("ISSUE_API_NOW is set: the clock is fixed at %s", settings.now.isoformat())
    database = Database(settings.db_url)
    try:
        database.upgrade_schema()
    except OperationalError as exc:
        log.error("cannot open the database %s: %s", database.url.render_as_string(hide_password=True),
                  str(exc.orig).strip().splitlines()[0] if exc.orig else exc)
        return 1
    finally:
        database.dispose()
    log.info("schema up to date on %s", mask_text(database.url.render_as_string(hide_password=True)))
    if settings.workers > 1:
        target = "issue_api.app:create_app"
    else:
        from .app import create_app

        target = create_app(settings)
    uvicorn.run(
        target,  # type: ignore[arg-type]
        factory=settings.workers > 1,
        host=settings.host,
        port=settings.port,
        workers=settings.workers,
        http="httptools",
        loop="uvloop",
        log_config=logging_config(settings.log_level),
        access_log=settings.access_log,
        server_header=False,
    )
    return 0
