"""A small Asterisk Manager Interface peer: banner, Login, DBGet, DBDel, Redirect, Originate, Logoff, as
Asterisk answers them.

Originate (Async) is answered "successfully queued", then, on the same connection, an unrelated event
and the OriginateResponse event with the outcome the test chose (`outcomes`, default answered): Response
Success / Reason 4, or Failure with Reason 3 (rang out), 5 (busy), 8 (congestion), 0 (no such channel).
Every Originate is also put on `originated` for the test to play the answered phone.
"""
from __future__ import annotations

import queue
import socketserver
import threading
import time

from tests.support.servers import free_port


class FakeAmi:
    def __init__(self, db: dict[tuple[str, str], str], secret: str = "s3cret") -> None:
        self.actions: list[dict[str, str]] = []
        self.db = db  # AstDB (family, key) -> value
        self.outcomes: list[str] = []  # OriginateResponse Reason per Originate, in order; "4" (answered) when empty
        self.originated: queue.Queue[dict[str, str]] = queue.Queue()
        self.ring_seconds = 0.0  # between "queued" and the OriginateResponse
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
                        if message.get("Action") == "Originate":
                            try:
                                fake.ring(message, self.wfile)
                            except OSError:  # the dialer went away while the phone rang
                                return
                        else:
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
        if action == "DBDel":
            if self.db.pop((m.get("Family", ""), m.get("Key", "")), None) is None:
                return f"Response: Error\r\nActionID: {aid}\r\nMessage: Database entry not found\r\n\r\n"
            return f"Response: Success\r\nActionID: {aid}\r\nMessage: Key deleted successfully\r\n\r\n"
        if action == "Redirect":
            return f"Response: Success\r\nActionID: {aid}\r\nMessage: Redirect successful\r\n\r\n"
        if action == "Logoff":
            return f"Response: Goodbye\r\nActionID: {aid}\r\nMessage: Thanks for all the fish.\r\n\r\n"
        return f"Response: Error\r\nActionID: {aid}\r\nMessage: Invalid/unknown command\r\n\r\n"

    def ring(self, m: dict[str, str], out) -> None:  # noqa: ANN001 - the handler's wfile
        aid = m.get("ActionID", "")
        reason = self.outcomes.pop(0) if self.outcomes else "4"
        uniqueid = f"1700000000.{len(self.actions)}"
        out.write(f"Response: Success\r\nActionID: {aid}\r\nMessage: Originate successfully queued\r\n\r\n"
                  f"Event: Newchannel\r\nPrivilege: call,all\r\nChannel: {m.get('Channel')}-00000001\r\n"
                  f"Uniqueid: {uniqueid}\r\n\r\n".encode())
        out.flush()
        self.originated.put(m)
        time.sleep(self.ring_seconds)
        out.write(f"Event: OriginateResponse\r\nPrivilege: call,all\r\nActionID: {aid}\r\n"
                  f"Response: {'Success' if reason == '4' else 'Failure'}\r\nChannel: {m.get('Channel')}\r\n"
                  f"Context: \r\nExten: \r\nApplication: {m.get('Application')}\r\nData: {m.get('Data')}\r\n"
                  f"Reason: {reason}\r\nUniqueid: {uniqueid if reason == '4' else '<null>'}\r\n"
                  f"CallerIDNum: <unknown>\r\nCallerIDName: <unknown>\r\n\r\n".encode())

    def __enter__(self) -> "FakeAmi":
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
