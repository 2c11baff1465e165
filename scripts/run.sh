#!/usr/bin/env bash
# `make run`: the whole hotline on embedded defaults (SQLite under var/), every process supervised by
# supervisord (`python -m bot run`: a process that dies is restarted, the others keep serving) until
# Ctrl-C. `scripts/run.sh --scaled` (`make run-scaled`): HAProxy in front of two of each process, state in
# PostgreSQL and Redis (HOTLINE_PG_URL, HOTLINE_REDIS_URL). Secrets are never in the repository: tokens and the operator password come from the
# environment, or are generated once into var/local.env (mode 600) for a local run.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=()
if [[ "${1:-}" == "--scaled" ]]; then mode=(--scaled); fi
# Every state file lives under one directory (absolute, so no process depends on its working directory).
HOTLINE_VAR_DIR=$(realpath -m "${HOTLINE_VAR_DIR:-var}")
mkdir -p "$HOTLINE_VAR_DIR"
chmod 700 "$HOTLINE_VAR_DIR"
export HOTLINE_VAR_DIR RASA_TELEMETRY_ENABLED=false TF_CPP_MIN_LOG_LEVEL=2 PYTHONUNBUFFERED=1

if [[ ! -f models/hotline.tar.gz ]]; then
  echo "No trained model at models/hotline.tar.gz: run 'make setup' (or 'make model') first." >&2
  exit 1
fi

if [[ ! -f "$HOTLINE_VAR_DIR/local.env" ]]; then
  rand() { .venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(24))'; }
  umask 077
  cat > "$HOTLINE_VAR_DIR/local.env" <<ENV
LOCAL_BOT_TOKEN=$(rand)
LOCAL_OPERATOR_TOKEN=$(rand)
LOCAL_ADMIN_TOKEN=$(rand)
LOCAL_OPERATOR_PASSWORD=$(rand | cut -c1-12)
LOCAL_GATEWAY_SECRET=$(rand)
ENV
fi
# Secrets added after a local.env was first written are appended to it.
for name in LOCAL_CHANNEL_TOKEN LOCAL_RASA_API_TOKEN LOCAL_ACTION_SERVER_TOKEN LOCAL_ISSUE_API_SECRET; do
  grep -q "^$name=" "$HOTLINE_VAR_DIR/local.env" || echo "$name=$(.venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(24))')" >> "$HOTLINE_VAR_DIR/local.env"
done
# shellcheck disable=SC1091
source "$HOTLINE_VAR_DIR/local.env"

: "${ISSUE_API_TOKENS:=bot:$LOCAL_BOT_TOKEN,operator:$LOCAL_OPERATOR_TOKEN,admin:$LOCAL_ADMIN_TOKEN}"
: "${GATEWAY_OPERATORS:=operator:$LOCAL_OPERATOR_PASSWORD}"
: "${GATEWAY_SECRET:=$LOCAL_GATEWAY_SECRET}"
token_of() { tr ',' '\n' <<<"$ISSUE_API_TOKENS" | sed -n "s/^$1://p" | head -1; }
# Internal surfaces: the voice adapters' channel API, Rasa's HTTP API, the action server, the query codes' key.
: "${GATEWAY_CHANNEL_TOKEN:=$LOCAL_CHANNEL_TOKEN}"
: "${RASA_API_TOKEN:=$LOCAL_RASA_API_TOKEN}"
: "${ACTION_SERVER_TOKEN:=$LOCAL_ACTION_SERVER_TOKEN}"
: "${ISSUE_API_SECRET:=$LOCAL_ISSUE_API_SECRET}"
export ISSUE_API_TOKENS GATEWAY_OPERATORS GATEWAY_SECRET GATEWAY_CHANNEL_TOKEN RASA_API_TOKEN ACTION_SERVER_TOKEN ISSUE_API_SECRET
umask 077  # every state file the processes create is the owner's alone
# Each process gets the token of its own role, under a variable that names the role: the action
# server files tickets as the bot, the gateway's ticket panel works as an operator.
export ISSUE_API_BOT_TOKEN="${ISSUE_API_BOT_TOKEN:-$(token_of bot)}"
export ISSUE_API_OPERATOR_TOKEN="${ISSUE_API_OPERATOR_TOKEN:-$(token_of operator)}"
unset ISSUE_API_TOKEN  # role-less: it would mean the bot to one process and an operator to another
export ISSUE_API_URL="${ISSUE_API_URL:-http://127.0.0.1:${ISSUE_API_PORT:-8000}}"
export RASA_URL="${RASA_URL:-http://127.0.0.1:${RASA_PORT:-5005}}"

gw="http://${GATEWAY_HOST:-127.0.0.1}:${GATEWAY_PORT:-8080}"
if [[ -n "${GATEWAY_DEPARTMENTS:-}" ]]; then
  desk_users="users: $(tr ',' '\n' <<<"$GATEWAY_DEPARTMENTS" | cut -d: -f1 | tr -d ' ' | paste -sd' ')"
else
  desk_users="nobody yet: set GATEWAY_DEPARTMENTS=user:password:<department> and department/<department>:TOKEN in ISSUE_API_TOKENS"
fi
if [[ -n "${AMI_HOST:-}" && -n "${CALLBACK_CHANNEL:-}" ]]; then
  callbacks="on: due 回访 are dialled through Asterisk at $AMI_HOST (CALLBACK_CHANNEL=$CALLBACK_CHANNEL)"
else
  callbacks="off: set AMI_HOST, AMI_USER, AMI_SECRET and CALLBACK_CHANNEL to have due 回访 dialled (audio/README.md)"
fi
cat <<MSG
96767 hotline starting${mode:+ (scaled: HAProxy in front of ${HOTLINE_REPLICAS:-2} of each process, PostgreSQL and Redis)} (Ctrl-C stops everything):
  web chat demo     $gw/
  operator console  $gw/console   (user: $(cut -d: -f1 <<<"${GATEWAY_OPERATORS%%,*}"), password in $HOTLINE_VAR_DIR/local.env or your GATEWAY_OPERATORS)
  department desk   $gw/department   ($desk_users)
  issue API         $ISSUE_API_URL/api/v1/health   docs: $ISSUE_API_URL/docs
  Rasa REST channel $RASA_URL/webhooks/rest/webhook
  voice             .venv/bin/python -m bot voice   (needs the Chinese model: python -m bot model download;
                    with GATEWAY_URL=$gw also GATEWAY_CHANNEL_TOKEN from $HOTLINE_VAR_DIR/local.env)
  phone callbacks   $callbacks
  health            .venv/bin/python -m bot health ${mode[*]:-}   logs: $HOTLINE_VAR_DIR/logs/
MSG
exec .venv/bin/python -m bot run "${mode[@]}"
