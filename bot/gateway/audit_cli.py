"""`python -m bot audit`: the console's audit log (who opened, claimed, answered, closed what).

Reads the gateway's database (GATEWAY_DB, or gateway.db under HOTLINE_VAR_DIR) while the gateway
runs; prints the newest rows, oldest of them first, one per line.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--conversation", metavar="ID", help="only this conversation's rows")
    parser.add_argument("--limit", metavar="N", type=int, default=100, help="the newest N rows (default 100)")
    parser.add_argument("--json", action="store_true", help="one JSON object per line")


def run(args: argparse.Namespace) -> int:
    from bot.gateway.audit_log import MAX_LIMIT, AuditLog
    from bot.gateway.settings import GatewaySettings
    from contract.settings import load_or_exit

    if not 1 <= args.limit <= MAX_LIMIT:
        print(f"audit: --limit must be 1..{MAX_LIMIT}", file=sys.stderr)
        return 2
    from bot.gateway_state import describe

    settings = load_or_exit(GatewaySettings, "audit")
    if not settings.db_shared and not settings.db_path.exists():
        print(f"audit: no gateway database at {describe(settings.db_path)} (GATEWAY_DB, HOTLINE_VAR_DIR)",
              file=sys.stderr)
        return 1
    log = AuditLog(settings.db_path)
    try:
        rows = list(reversed(log.entries(args.conversation, args.limit)))
    finally:
        log.close()
    for row in rows:
        if args.json:
            print(json.dumps(row, ensure_ascii=False))
        else:
            when = dt.datetime.fromtimestamp(row["at"]).strftime("%Y-%m-%d %H:%M:%S")
            who = f"{row['account'] or '-'}" + ("" if row["kind"] == "operator" else f" ({row['kind']})")
            print("\t".join([when, who, row["action"], row["conversation_id"] or "-", row["detail"]]))
    return 0
