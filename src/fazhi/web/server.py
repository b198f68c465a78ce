"""The HTTP server of ``fazhi serve``: uvicorn with the h11 protocol, guarded
against slow clients.

uvicorn closes an idle keep-alive connection after ``timeout_keep_alive``
(5 s) and refuses headers over ``h11_max_incomplete_event_size`` (16 KB), but
a client that sends its headers or body a byte at a time, or stops reading
the answer, could hold a connection for ever.  ``GuardedH11Protocol`` adds
three deadlines per connection:

- the request line and headers must arrive within ``header_timeout`` (30 s)
  of the connection opening or of the previous answer;
- the body within ``body_timeout`` (120 s) of the headers (30 MB at 2 Mbit/s);
- a client that stops reading the answer for ``write_timeout`` (60 s) is cut.

So no client holds a connection longer than about 150 s without reading
(the time the server itself spends on a request is not counted).
"""
from __future__ import annotations

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

HEADERS, BODY, SERVER = "headers", "body", "server"


class GuardedH11Protocol(H11Protocol):
    header_timeout = 30.0
    body_timeout = 120.0
    write_timeout = 60.0

    def connection_made(self, transport) -> None:
        super().connection_made(transport)
        self._fz_phase = None
        self._fz_timer = None
        self._fz_write_timer = None
        self._fz_update()

    def _fz_arm(self, seconds: float | None) -> None:
        if self._fz_timer is not None:
            self._fz_timer.cancel()
            self._fz_timer = None
        if seconds:
            self._fz_timer = self.loop.call_later(seconds, self._fz_expire)

    def _fz_update(self) -> None:
        """Re-arm the deadline when the connection moves to another phase."""
        state = self.conn.their_state
        if state is h11.IDLE:
            phase = HEADERS
        elif state is h11.SEND_BODY:
            phase = BODY
        else:
            phase = SERVER           # the request is in; the app is answering
        if phase != self._fz_phase:
            self._fz_phase = phase
            self._fz_arm(self.header_timeout if phase == HEADERS else self.body_timeout if phase == BODY else None)

    def _fz_expire(self) -> None:
        self._fz_timer = None
        if self.transport.is_closing():
            return
        if self.cycle is not None and not self.cycle.response_complete:
            self.cycle.disconnected = True
            self.cycle.message_event.set()
        self.transport.abort()

    def send_400_response(self, msg: str) -> None:
        """A request h11 cannot parse (headers over 16 KB, a broken request line): Chinese, then close."""
        body = "请求格式有误（请求头过大或不合 HTTP 规范），服务器无法处理".encode("utf-8")
        head = [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(body)).encode()),
                (b"connection", b"close")]
        try:
            out = self.conn.send(h11.Response(status_code=400, headers=head, reason=b"Bad Request"))
            out += self.conn.send(h11.Data(data=body)) + self.conn.send(h11.EndOfMessage())
            self.transport.write(out)
        except h11.LocalProtocolError:
            pass
        self.transport.close()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if not self.transport.is_closing():
            self._fz_update()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._fz_update()

    def connection_lost(self, exc) -> None:
        self._fz_arm(None)
        if self._fz_write_timer is not None:
            self._fz_write_timer.cancel()
            self._fz_write_timer = None
        super().connection_lost(exc)

    def pause_writing(self) -> None:
        super().pause_writing()
        if self._fz_write_timer is None:
            self._fz_write_timer = self.loop.call_later(self.write_timeout, self._fz_write_expire)

    def resume_writing(self) -> None:
        super().resume_writing()
        if self._fz_write_timer is not None:
            self._fz_write_timer.cancel()
            self._fz_write_timer = None

    def _fz_write_expire(self) -> None:
        self._fz_write_timer = None
        if not self.transport.is_closing():
            if self.cycle is not None:
                self.cycle.disconnected = True
                self.cycle.message_event.set()
            self.transport.abort()
            self.flow.resume_writing()   # wake a send() waiting to drain


def protocol_for(settings) -> type:
    """A protocol class with the deadlines of ``settings``."""
    return type("FazhiH11Protocol", (GuardedH11Protocol,), {
        "header_timeout": float(settings.header_timeout), "body_timeout": float(settings.body_timeout),
        "write_timeout": float(settings.write_timeout)})


def config(app, host: str, port: int, settings, **kw):
    """The uvicorn Config of ``fazhi serve`` (also used by the tests' live server)."""
    import uvicorn

    return uvicorn.Config(app, host=host, port=port, http=protocol_for(settings), timeout_keep_alive=5,
                          h11_max_incomplete_event_size=16 * 1024, log_level=kw.pop("log_level", "warning"),
                          server_header=False, date_header=True, **kw)
