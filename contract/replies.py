"""What the hotline says, read from the responses in domain.yml, for the processes that speak
without Rasa: the gateway's notices, the voice prompts, the call-back script.

domain.yml is the one place where wording lives (Rasa's own tools check it, and people who edit
wording know to look there). Rasa renders the responses its actions use; this module renders the
others the same way: the variation for the channel if there is one, else the plain one, with
`{name}` placeholders filled from the values given.
"""
from __future__ import annotations

import functools
import string
from pathlib import Path
from typing import Any, Mapping, Optional

import yaml

from contract.settings import REPO_ROOT

DOMAIN_FILE = REPO_ROOT / "domain.yml"


class _KeepMissing(dict):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


@functools.lru_cache(maxsize=4)
def _responses(path: Path) -> Mapping[str, list]:
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    return data.get("responses") or {}


def variations(name: str, path: Path = DOMAIN_FILE) -> list[dict[str, Any]]:
    found = _responses(Path(path)).get(name)
    if not found:
        raise KeyError(f"no response {name!r} in {path}")
    return list(found)


def placeholders(text: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(text) if field}


def reply(name: str, *, for_channel: Optional[str] = None, domain: Path = DOMAIN_FILE, **values: Any) -> str:
    """The text of response `name` for channel `for_channel` ("voice", "web" or None), placeholders
    filled from `values` (named like slots; a slot may well be called "channel").

    Conditional variations are Rasa's business (they depend on slots); this picks the first
    variation meant for the channel, else the first plain one.
    """
    options = [v for v in variations(name, domain) if not v.get("condition")]
    chosen = next((v for v in options if for_channel and v.get("channel") == for_channel), None)
    chosen = chosen or next((v for v in options if not v.get("channel")), None) or options[0]
    return str(chosen.get("text", "")).format_map(_KeepMissing(values))
