"""Runs when `rasa run actions` imports this package: mask phone numbers and access keys in the
logs, let only the Rasa server call the webhook, keep state files private, and start the outbox
deliverer, so reports recorded during an outage are filed once the issue API is back."""
from actions import runtime, server_guard
from contract.log_masking import install_log_masking

install_log_masking()
server_guard.install(runtime.settings().server_token)
runtime.settings().secure_state_dir()
runtime.start_deliverer()
