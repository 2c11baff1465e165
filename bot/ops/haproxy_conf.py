"""HAProxy in front of the replicas of a scaled hotline (`make run-scaled`).

Each public port of the contract gets a frontend, balanced round-robin over the replicas with
health checks, so a replica that dies is taken out within seconds and a request that could not even
connect is sent to another one (`retry-on conn-failure`: never a request a replica may have started).
No stickiness is needed: the gateways share their state (PostgreSQL) and live events (Redis).

Only the gateway frontend is public. It replaces any X-Forwarded-For a client sends with the address
it sees (the gateways trust that header from loopback only, for their login throttle), keeps
WebSockets open (`timeout tunnel`), and its log lines carry no URL: the widget's access key travels
in the chat socket's query string.
"""
from __future__ import annotations

from pathlib import Path

from bot.ops.topology import Ports, replica_port

_LOG_FORMAT = "%ci [%tr] %ft %b/%s %TR/%Tw/%Tc/%Tr/%Ta %ST %B %tsc"
# What HAProxy answers itself (no replica up, one died mid-answer, slow or broken requests): its stock
# pages are English; people reach the gateway's frontend from a browser, so they read Chinese.
ERROR_PAGES = {
    400: ("请求无法处理", "请求格式不正确，请刷新页面后重试。"),
    408: ("请求超时", "请求等待时间过长，请刷新页面后重试。"),
    500: ("服务暂时不可用", "服务出现问题，请稍后再试，或拨打 96767 热线。"),
    502: ("服务暂时不可用", "服务正在恢复，请稍后再试，或拨打 96767 热线。"),
    503: ("服务暂时不可用", "服务正在恢复，请稍后再试，或拨打 96767 热线。"),
    504: ("服务响应超时", "服务响应超时，请稍后再试，或拨打 96767 热线。"),
}


def _error_page(title: str, text: str) -> str:
    return (f'<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>{title}</title></head>'
            f"<body><h1>{title}</h1><p>{text}</p></body></html>")


def render(ports: Ports, replicas: int, var_dir: Path) -> str:
    lines = [
        "# Written by `python -m bot run --scaled` at every start; edit bot/ops/haproxy_conf.py instead.",
        "global",
        "    log stdout format raw local0 info",
        f"    stats socket {var_dir / 'haproxy.sock'} mode 600 level admin",
        "",
        "defaults",
        "    mode http",
        "    log global",
        f'    log-format "{_LOG_FORMAT}"',
        "    option dontlognull",
        "    option redispatch",
        "    retries 3",
        "    retry-on conn-failure",
        "    timeout connect 3s",
        "    timeout client 90s",
        "    timeout server 90s",  # above the gateway's Rasa timeout and the channel API's 60 s long poll
        "    timeout http-request 10s",  # slow headers (slowloris) cannot hold a connection
        "    timeout tunnel 1h",  # WebSockets: chats and consoles stay open
        "    timeout check 3s",
        "    default-server inter 2s fall 2 rise 2",
    ]
    lines += [f'    http-error status {code} content-type "text/html; charset=utf-8" string \'{_error_page(*page)}\''
              for code, page in ERROR_PAGES.items()]
    services = [
        ("issue_api", "127.0.0.1", ports.issue_api, "GET /api/v1/health"),
        ("actions", "127.0.0.1", ports.actions, "GET /health"),
        ("rasa", "127.0.0.1", ports.rasa, "GET /"),
        ("gateway", ports.gateway_host, ports.gateway, "GET /api/v1/health"),
    ]
    for name, host, port, check in services:
        lines += ["", f"frontend {name}", f"    bind {_bind(host, port)}"]
        if name == "gateway":
            lines += ["    http-request del-header X-Forwarded-For", "    option forwardfor"]
        lines += [f"    default_backend {name}_replicas", "", f"backend {name}_replicas", "    balance roundrobin",
                  f"    option httpchk {check}"]
        lines += [f"    server {name}_{i} 127.0.0.1:{replica_port(port, i)} check" for i in range(1, replicas + 1)]
    return "\n".join(lines) + "\n"


def _bind(host: str, port: int) -> str:
    if ":" in host:  # IPv6
        return f"[{host}]:{port}" if host != "::" else f":::{port}"
    return f"{host}:{port}"
