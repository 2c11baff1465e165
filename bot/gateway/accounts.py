"""Who may log in: accounts with a kind, a name and a bcrypt hash, from the gateway's settings.

Two kinds: "operator" (GATEWAY_OPERATORS, the console at /console) and "department" (GATEWAY_DEPARTMENTS,
"user:password:<department>", the workbench at /department; the account carries its department).
Login, throttling, sessions and the audit log key everything by (kind, name), and a route accepts
only the kind it names (`Auth.require`): a department user cannot open the console, nor an operator
the workbench, even with the same name.
"""
from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Iterable, Mapping

import bcrypt

OPERATOR = "operator"
DEPARTMENT = "department"

# Checked against unknown names too, so that timing does not tell which account names exist.
_DUMMY_HASH = bcrypt.hashpw(b"not-a-password", bcrypt.gensalt(rounds=10))


@dataclass(frozen=True)
class Account:
    kind: str
    name: str
    password_hash: bytes
    department: str | None = None  # the department of a department user

    def __repr__(self) -> str:  # never the hash
        return f"Account({self.kind}:{self.name})"


class Accounts:
    """The accounts of every kind, looked up by (kind, name)."""

    def __init__(self, accounts: Iterable[Account] = ()) -> None:
        self._accounts = {(a.kind, a.name): a for a in accounts}

    @classmethod
    def from_settings(cls, operators: Mapping[str, bytes],
                      departments: Mapping[str, tuple[bytes, str]] | None = None) -> "Accounts":
        accounts = [Account(OPERATOR, name, hashed) for name, hashed in operators.items()]
        accounts += [Account(DEPARTMENT, name, hashed, department)
                     for name, (hashed, department) in (departments or {}).items()]
        return cls(accounts)

    def get(self, kind: str, name: str) -> Account | None:
        return self._accounts.get((kind, name))

    def names(self, kind: str) -> set[str]:
        return {name for k, name in self._accounts if k == kind}

    def password_hashes(self, kind: str) -> dict[str, bytes]:
        return {name: account.password_hash for (k, name), account in self._accounts.items() if k == kind}

    async def verify(self, kind: str, name: str, password: str) -> Account | None:
        """The account if `password` is its password. bcrypt costs tens of milliseconds: it runs in a
        thread so that chats do not stall meanwhile, and runs for unknown names too."""
        account = self.get(kind, name)
        hashed = account.password_hash if account else _DUMMY_HASH
        # "surrogatepass": a password with a lone surrogate is simply wrong, not a server error.
        ok = await asyncio.to_thread(bcrypt.checkpw, password.encode("utf-8", "surrogatepass")[:72], hashed)
        return account if ok and account is not None else None
