"""Gateway settings: operator accounts from the environment, hashed; sensible defaults."""
from __future__ import annotations

import bcrypt
import pytest

from bot.gateway.settings import GatewaySettings, parse_operators
from contract.settings import REPO_ROOT


def test_plain_passwords_are_hashed_and_bcrypt_hashes_are_taken_as_they_are() -> None:
    ready = bcrypt.hashpw(b"bob-secret", bcrypt.gensalt(rounds=4)).decode()
    operators = parse_operators(f"alice:alice-secret, bob:{ready}")
    assert set(operators) == {"alice", "bob"}
    assert b"alice-secret" not in operators["alice"]
    assert bcrypt.checkpw(b"alice-secret", operators["alice"])
    assert bcrypt.checkpw(b"bob-secret", operators["bob"])


@pytest.mark.parametrize("spec", ["alice", "alice:", ":secret"])
def test_a_malformed_operator_entry_is_refused_at_start(spec: str) -> None:
    with pytest.raises(ValueError):
        parse_operators(spec)


def test_defaults_match_the_contract_and_a_missing_secret_is_generated() -> None:
    settings = GatewaySettings.from_env({})
    assert (settings.host, settings.port) == ("127.0.0.1", 8080)
    assert settings.rasa_url == "http://127.0.0.1:5005" and settings.issue_api_url == "http://127.0.0.1:8000"
    assert settings.db_path == REPO_ROOT / "var" / "gateway.db" and settings.operators == {}
    assert settings.secret_generated and len(settings.secret) >= 32
    assert (settings.session_hours, settings.session_idle_minutes) == (12, 30)
    assert settings.cookie_secure_mode == "auto" and settings.cookie_secure is False  # on loopback
    custom = GatewaySettings.from_env({"GATEWAY_PORT": "9090", "RASA_URL": "http://rasa:5005/", "GATEWAY_SECRET": "s"})
    assert (custom.port, custom.rasa_url, custom.secret, custom.secret_generated) == (9090, "http://rasa:5005", "s", False)


def test_pending_ratings_are_retried_every_five_minutes_unless_configured() -> None:
    assert GatewaySettings.from_env({}).rating_retry_seconds == 300
    assert GatewaySettings.from_env({}).rating_max_age_days == 30
    assert GatewaySettings.from_env({"GATEWAY_RATING_RETRY_SECONDS": "0.5"}).rating_retry_seconds == 0.5
    with pytest.raises(ValueError, match="GATEWAY_RATING_RETRY_SECONDS"):
        GatewaySettings.from_env({"GATEWAY_RATING_RETRY_SECONDS": "0"})



@pytest.mark.parametrize("value", ["maybe", "secure", "2"])
def test_the_cookie_secure_setting_takes_auto_1_or_0(value: str) -> None:
    with pytest.raises(ValueError, match="GATEWAY_COOKIE_SECURE: .* must be auto, 1 or 0"):
        GatewaySettings.from_env({"GATEWAY_COOKIE_SECURE": value})
    with pytest.raises(ValueError, match="GATEWAY_SESSION_IDLE_MINUTES"):
        GatewaySettings.from_env({"GATEWAY_SESSION_IDLE_MINUTES": "0"})


def test_audio_socket_limits_have_defaults_and_refuse_nonsense() -> None:
    settings = GatewaySettings.from_env({})
    assert (settings.channel_token, settings.max_audio_connections) == ("", 8)
    assert (settings.audio_start_timeout, settings.audio_idle_timeout) == (5.0, 60.0)
    custom = GatewaySettings.from_env({"GATEWAY_MAX_AUDIO_CONNECTIONS": "2", "GATEWAY_AUDIO_IDLE_TIMEOUT": "1.5",
                                       "GATEWAY_CHANNEL_TOKEN": "t0ken"})
    assert (custom.max_audio_connections, custom.audio_idle_timeout, custom.channel_token) == (2, 1.5, "t0ken")
    assert "t0ken" not in repr(custom)
    for variable in ("GATEWAY_MAX_AUDIO_CONNECTIONS", "GATEWAY_AUDIO_START_TIMEOUT", "GATEWAY_AUDIO_IDLE_TIMEOUT"):
        with pytest.raises(ValueError, match=variable):
            GatewaySettings.from_env({variable: "0"})


DEPT = "城市管理和综合执法局"
TOKENS = f"bot:b1,operator:o1,department/{DEPT}:d1,department/生态环境局:d2"


def test_department_users_are_hashed_and_get_their_department_s_own_token() -> None:
    ready = bcrypt.hashpw(b"li-secret", bcrypt.gensalt(rounds=4)).decode()
    settings = GatewaySettings.from_env({
        "ISSUE_API_TOKENS": TOKENS,
        "GATEWAY_DEPARTMENTS": f"zhang:pass:with:colons:{DEPT}, li:{ready}:生态环境局",
    })
    hashed, department = settings.departments["zhang"]
    assert department == DEPT and bcrypt.checkpw(b"pass:with:colons", hashed)
    li_hash, li_department = settings.departments["li"]
    assert li_department == "生态环境局" and bcrypt.checkpw(b"li-secret", li_hash)
    assert settings.department_token(DEPT) == "d1" and settings.department_token("生态环境局") == "d2"
    # Nothing else needed: the operator token comes from the same list when not given on its own.
    assert settings.issue_api_token == "o1"
    own = GatewaySettings.from_env({"ISSUE_API_TOKENS": TOKENS, "ISSUE_API_OPERATOR_TOKEN": "x"})
    assert own.issue_api_token == "x"
    assert "d1" not in repr(settings) and "pass" not in repr(settings)


@pytest.mark.parametrize("spec, problem", [
    ("zhang", "must look like user:password:<department name>"),
    ("zhang:secret-pw", "must look like user:password:<department name>"),
    (f"zhang::{DEPT}", "must look like"),
    (f":secret-pw:{DEPT}", "has no user name"),
    (f"zhang:a:{DEPT},zhang:b:{DEPT}", "listed twice"),
    ("zhang:secret-pw:人才服务中心", "ISSUE_API_TOKENS has no department/人才服务中心:TOKEN"),
])
def test_a_bad_department_entry_stops_the_start_with_a_clear_message(spec: str, problem: str) -> None:
    with pytest.raises(ValueError, match="GATEWAY_DEPARTMENTS") as refused:
        GatewaySettings.from_env({"ISSUE_API_TOKENS": TOKENS, "GATEWAY_DEPARTMENTS": spec})
    assert problem in str(refused.value)
    assert "secret-pw" not in str(refused.value)


def test_review_requests_are_polled_every_ten_seconds_unless_configured() -> None:
    assert GatewaySettings.from_env({}).review_poll_seconds == 10
    assert GatewaySettings.from_env({"GATEWAY_REVIEW_POLL_SECONDS": "2"}).review_poll_seconds == 2
    with pytest.raises(ValueError, match="GATEWAY_REVIEW_POLL_SECONDS"):
        GatewaySettings.from_env({"GATEWAY_REVIEW_POLL_SECONDS": "0"})


def test_a_password_has_the_same_hash_at_every_start_and_a_new_one_when_it_changes() -> None:
    first = GatewaySettings(operators="alice:pw-one").operators["alice"]
    assert GatewaySettings(operators="alice:pw-one").operators["alice"] == first
    assert bcrypt.checkpw(b"pw-one", first)
    assert GatewaySettings(operators="alice:pw-two").operators["alice"] != first
    assert GatewaySettings(operators="bob:pw-one").operators["bob"] != first  # no two accounts share a salt
