"""A small Asterisk Manager Interface peer: banner, Login, DBGet, Redirect, Logoff, as Asterisk answers them."""
from __future__ import annotations

import socketserver
import threading

from tests.support.servers import free_port


class FakeAmi:
    def __init__(self, db: dict[tuple[str, str], str], secret: str = "s3cret") -> None:
        self.actions: list[dict[str, str]] = []
        self.db = db  # AstDB (family, key) -> value
        fake = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                self.wfile.write(b"Asterisk Call Manager/7.0.3\r\n")
                message: dict[str, str] = {}
                for raw in self.rfile:
                    line = raw.decode().rstrip("\r\n")
                    if line:
                        key, _, value = line.partition(":")
                        message[key.strip()] = value.strip()
                        continue
                    if message:
                        fake.actions.append(message)
                        self.wfile.write(fake.answer(message).encode())
                        if message.get("Action") == "Logoff":
                            return
                    message = {}

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", free_port()), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.secret = secret

    def answer(self, m: dict[str, str]) -> str:
        aid = m.get("ActionID", "")
        action = m.get("Action")
        if action == "Login":
            if m.get("Secret") != self.secret:
                return f"Response: Error\r\nActionID: {aid}\r\nMessage: Authentication failed\r\n\r\n"
            return f"Response: Success\r\nActionID: {aid}\r\nMessage: Authentication accepted\r\n\r\n"
        if action == "DBGet":
            channel = self.db.get((m.get("Family", ""), m.get("Key", "")))
            if channel is None:
                return f"Response: Error\r\nActionID: {aid}\r\nMessage: Database entry not found\r\n\r\n"
            return (f"Response: Success\r\nActionID: {aid}\r\nEventList: start\r\nMessage: Result will follow\r\n\r\n"
                    f"Event: DBGetResponse\r\nActionID: {aid}\r\nFamily: {m['Family']}\r\nKey: {m['Key']}\r\nVal: {channel}\r\n\r\n"
                    f"Event: DBGetComplete\r\nActionID: {aid}\r\nEventList: Complete\r\nListItems: 1\r\n\r\n")
        if action == "Redirect":
            return f"Response: Success\r\nActionID: {aid}\r\nMessage: Redirect successful\r\n\r\n"
        if action == "Logoff":
            return f"Response: Goodbye\r\nActionID: {aid}\r\nMessage: Thanks for all the fish.\r\n\r\n"
        return f"Response: Error\r\nActionID: {aid}\r\nMessage: Invalid/unknown command\r\n\r\n"

    def __enter__(self) -> "FakeAmi":
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
