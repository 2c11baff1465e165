"""The hotline's contract in code: what the issue API, the action server, the gateway and the voice
adapters must agree on, kept once (see ../shared/spec/contract.md for the prose version)."""
