"""Who is calling: the account behind a bearer token.

ISSUE_API_TOKENS="bot:T1,operator:T2,admin:T3,department/城市管理和综合执法局:T4": a role, and for a
department account the one department whose tickets it sees and acts on (any other ticket is 404
to it, as if it did not exist). A plain `department:T` names no department and sees nothing.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Optional

ROLES = ("bot", "operator", "department", "admin")
DEPARTMENT_PREFIX = "department/"


@dataclass(frozen=True)
class Account:
    role: str
    department: Optional[str] = None

    @property
    def actor(self) -> str:
        """How the account is named in a ticket's history: the role, or the department."""
        return f"{DEPARTMENT_PREFIX}{self.department}" if self.department else self.role

    def sees(self, ticket_department: str) -> bool:
        """Whether a ticket assigned to `ticket_department` exists for this account."""
        return self.role != "department" or (self.department is not None and self.department == ticket_department)


def parse_account(name: str) -> Account:
    name = name.strip()
    if name.startswith(DEPARTMENT_PREFIX):
        department = name[len(DEPARTMENT_PREFIX):].strip()
        if not department:
            raise ValueError(f"{name!r} names no department: use department/<department name>:token")
        return Account("department", department)
    if name not in ROLES:
        raise ValueError(f"{name!r} is not a role ({', '.join(ROLES)}) or department/<department name>")
    return Account(name)


def parse_tokens(raw: str) -> Dict[str, Account]:
    """Turn "role:token,department/<name>:token" into {token: Account}; an account may have several."""
    tokens: Dict[str, Account] = {}
    for item in filter(None, (part.strip() for part in raw.split(","))):
        name, sep, token = item.rpartition(":")
        if not sep or not name.strip() or not token.strip():
            raise ValueError(f"{item.split(':')[0]!r} is not 'role:token'")
        tokens[token.strip()] = parse_account(name)
    return tokens
