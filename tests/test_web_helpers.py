"""Helpers shared by the web tests (no tests here; imported by test_web_api and test_web_browser)."""
import re
import socket
import threading
import time
import warnings

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # starlette's note about httpx vs httpx2
    from fastapi.testclient import TestClient  # noqa: F401

ADMIN_PASSWORD = "test-admin-pw-1"


def csrf_of(html: str) -> str:
    m = re.search(r'name="csrf-token" content="([^"]+)"', html) or re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert m, "no CSRF token in the page"
    return m.group(1)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveServer:
    """``fazhi serve``'s application under uvicorn in a background thread on 127.0.0.1."""

    def __init__(self, app):
        import uvicorn

        from fazhi.web import server

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(server.config(app, "127.0.0.1", self.port, app.state.settings, lifespan="off"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self):
        self.thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the web server did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc):
        self.server.should_exit = True
        self.thread.join(10)


def next_year_of(text: str, grow: float = 1.2) -> str:
    """The same unit's report for the following year: every year + 1, counts grown
    (so a unit page has trends and text reused from its own previous year)."""
    year = re.compile(r"(?<!\d)(20[0-3]\d)(?!\d)")
    text = year.sub(lambda m: str(int(m.group(1)) + 1), text)
    count = re.compile(r"(?<![\d.])(\d{2,6})(?=\s*(?:件|人|名|场|次|宗|家|个|份))")
    return count.sub(lambda m: str(round(int(m.group(1)) * grow)), text)


def make_app(db: str, tmp_path, announce=None, **kw):
    from fazhi.web.app import create_app
    from fazhi.web.settings import Settings

    kw.setdefault("admin_password", ADMIN_PASSWORD)
    return create_app(Settings(db=db, data_dir=tmp_path / "files", **kw), announce=announce)


def login(client, username: str = "admin", password: str = ADMIN_PASSWORD) -> str:
    """Log ``client`` in through the form; returns the session's CSRF token."""
    r = client.get("/login")
    tok = csrf_of(r.text)
    r = client.post("/login", data={"username": username, "password": password, "csrf_token": tok, "next": "/reports"},
                    follow_redirects=False)
    assert r.status_code == 303, r.text
    return csrf_of(client.get("/account").text)


def short_report(unit: str, published: str, extra: str = "", *, year: int = 2024, title: str | None = None) -> bytes:
    """A short report of all four statutory parts (the web tests' stand-in for a real one)."""
    head = title or f"{unit}关于{year}年法治政府建设情况的报告"
    return (f"{head}\n发布日期：{published}\n"
            f"一、{year}年推进法治政府建设的主要举措和成效\n全年办理行政复议案件120件。" + extra + "\n"
            "二、存在的不足和原因\n一是法治意识不强，主要原因是培训不够。\n"
            "三、党政主要负责人履行推进法治建设第一责任人职责情况\n主要负责同志召开会议4次。\n"
            f"四、{year + 1}年推进法治政府建设的主要安排\n继续深化改革。\n").encode()
