"""Before a scaled hotline starts: its PostgreSQL databases exist and Redis answers.

Each process creates its own tables, but none can create its database; and a missing server is
better said once, plainly, than by every process failing in its own way in a restart loop.
"""
from __future__ import annotations

from bot.ops.topology import ScaledStores


class StoreUnavailable(RuntimeError):
    pass


def prepare(stores: ScaledStores) -> list[str]:
    """Create the databases that are missing; the names created. Raises StoreUnavailable with what to
    do when PostgreSQL or Redis cannot be reached."""
    import redis
    import sqlalchemy as sa

    from bot.gateway_state import describe

    admin = sa.create_engine(f"{stores.pg_url}/postgres", isolation_level="AUTOCOMMIT", future=True,
                             connect_args={"connect_timeout": 5})
    created = []
    try:
        with admin.connect() as conn:
            existing = {row[0] for row in conn.execute(sa.text("SELECT datname FROM pg_database"))}
            for name in stores.databases():
                if name not in existing:
                    conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
                    created.append(name)
    except sa.exc.OperationalError as exc:
        raise StoreUnavailable(
            f"PostgreSQL at {describe(stores.pg_url)} does not answer ({str(exc.orig).strip()}); start it, or "
            "point HOTLINE_PG_URL at one (a user allowed to create databases)") from exc
    finally:
        admin.dispose()
    try:
        redis.Redis.from_url(stores.redis_url, socket_connect_timeout=5).ping()
    except redis.RedisError as exc:
        raise StoreUnavailable(f"Redis at {describe(stores.redis_url)} does not answer ({exc}); start it, or point "
                               "HOTLINE_REDIS_URL at one") from exc
    return created
