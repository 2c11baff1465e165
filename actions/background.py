"""Runs when `rasa run actions` imports this package: mask phone numbers and access keys in the
logs and start the outbox deliverer, so reports recorded during an outage are filed once the issue
API is back."""
from actions import runtime
from contract.log_masking import install_log_masking

install_log_masking()
runtime.start_deliverer()
