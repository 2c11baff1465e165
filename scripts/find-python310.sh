#!/usr/bin/env bash
# Print the path of a Python 3.10 interpreter, or explain how to get one and fail.
# Rasa 3.6 supports Python 3.8-3.10 only; we pin 3.10.
set -euo pipefail
candidates=()
[[ -n "${PYTHON310:-}" ]] && candidates+=("$PYTHON310")
candidates+=(python3.10)
if command -v pyenv >/dev/null 2>&1; then
  root=$(pyenv root)
  for d in "$root"/versions/3.10*; do [[ -x "$d/bin/python3.10" ]] && candidates+=("$d/bin/python3.10"); done
fi
for d in "$HOME"/.pyenv/versions/3.10* /root/.pyenv/versions/3.10* /usr/local/bin /usr/bin /opt/python*/bin; do
  [[ -x "$d/bin/python3.10" ]] && candidates+=("$d/bin/python3.10")
  [[ -x "$d/python3.10" ]] && candidates+=("$d/python3.10")
done
for c in "${candidates[@]}"; do
  p=$(command -v "$c" 2>/dev/null || true)
  [[ -z "$p" ]] && continue
  if "$p" -c 'import sys, venv; sys.exit(0 if sys.version_info[:2] == (3, 10) else 1)' 2>/dev/null; then
    echo "$p"; exit 0
  fi
done
cat >&2 <<'MSG'
No Python 3.10 found. Rasa 3.6 needs Python 3.10 (3.11+ is not supported).
Install one, then run `make setup` again, for example:
  pyenv install 3.10.13          # with pyenv
  apt-get install python3.10-venv # on a distribution that packages it
or point PYTHON310=/path/to/python3.10 at an existing interpreter.
MSG
exit 1
