"""`python -m bot purge`: forget what is older than HOTLINE_RETENTION_DAYS (see bot/retention.py)."""
from __future__ import annotations

import argparse
import logging
import sys
import time


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--days", type=float, help="keep this many days (default env HOTLINE_RETENTION_DAYS or 180)")
    parser.add_argument("--every", type=float, metavar="HOURS",
                        help="keep running and purge every HOURS hours (make run purges daily)")


def run(args: argparse.Namespace) -> int:
    from bot.retention import RetentionSettings, purge
    from contract.log_masking import LOG_FORMAT, install_log_masking
    from contract.settings import load_or_exit

    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format=LOG_FORMAT)
    install_log_masking()
    settings = load_or_exit(RetentionSettings, "purge", retention_days=args.days)
    settings.secure_state_dir()
    while True:
        done = purge(settings)
        print(f"purged {done.conversations} conversations, {done.outbox_entries} delivered outbox entries, "
              f"{done.trackers} trackers, {done.audit_rows} audit rows older than {settings.retention_days:g} days",
              flush=True)
        if not args.every:
            return 0
        time.sleep(args.every * 3600)
