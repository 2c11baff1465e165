"""The security tests drive the real processes, with the gateway fixtures of tests/bot/gateway."""
from tests.bot.gateway.conftest import fake_rasa, gateway, start_gateway  # noqa: F401 - pytest fixtures
