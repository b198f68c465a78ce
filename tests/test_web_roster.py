"""The 报送情况 page through FastAPI's TestClient: viewers see it and cannot import or
assign; an administrator imports a roster (CSRF checked), sees the statuses and
totals, filters by level and parent, gets Chinese errors for a bad roster, assigns
an unmatched report; unit names from rosters and reports are escaped."""
import csv
import io
import re


from test_web_helpers import short_report as report, TestClient, login

HEAD = ["单位名称", "层级", "上级单位", "地区", "报送截止日期（可选，覆盖默认）", "联系人", "联系电话"]
XSS = "<script>alert(1)</script>"


def roster_csv(rows) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(HEAD)
    w.writerows(rows)
    return buf.getvalue().encode("utf-8-sig")


def post_report(c, name: str, data: bytes):
    r = c.post("/api/reports", params={"filename": name}, content=data,
               headers={"Content-Type": "application/octet-stream", "X-CSRF-Token": c.csrf})
    assert r.status_code == 201, r.text
    return r.json()["id"]


def import_roster(c, data: bytes, year="2024", name="名单.csv", csrf=True):
    form = {"year": year}
    if csrf:
        form["csrf_token"] = c.csrf
    return c.post("/status/roster", data=form, files={"file": (name, data, "text/csv")}, follow_redirects=False)


ROWS = [["增城区人民政府", "县级", "广州市", "广东省广州市", "", "王五", "020-1"],
        ["荔湖街道", "乡镇(街道)", "增城区", "广东省广州市增城区", "", "", ""],
        ["朱村街道", "街道", "增城区", "", "", "", ""],
        ["增城区司法局", "部门", "增城区", "", "2025-02-28", "", ""]]


def _cells(html: str, table_id: str) -> list[list[str]]:
    body = html.split(f'id="{table_id}"', 1)[1].split("</table>", 1)[0]
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)
    cells = [[re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", r, re.S)] for r in rows]
    return [c for c in cells if c]


def test_admin_imports_and_sees_status(admin):
    post_report(admin, "zc.txt", report("广州市增城区人民政府", "2025-03-20"))
    post_report(admin, "lh.txt", report("广州市增城区荔湖街道办事处", "2025-04-02"))
    sfj = post_report(admin, "sfj.txt", report("增城区司法局", "2025-03-10"))   # after its own deadline
    r = import_roster(admin, roster_csv(ROWS))
    assert r.status_code == 303, r.text
    page = admin.get(r.headers["location"])
    assert page.status_code == 200 and "已导入 2024 年度应报单位名单：4 个单位" in page.text
    units = {row[0]: row for row in _cells(page.text, "status-units")}
    assert units["增城区人民政府"][3] == "按期"
    assert units["荔湖街道"][3] == "逾期"
    assert units["朱村街道"][3] == "未报"
    assert units["增城区司法局"][3] == "逾期" and "名单指定" in units["增城区司法局"][5]
    assert str(sfj) in units["增城区司法局"][6]
    tiles = re.sub(r"<[^>]+>", " ", page.text.split('id="status-totals"', 1)[1].split("</div>\n<section", 1)[0])
    assert re.search(r"\b4\s+应报", tiles) and re.search(r"\b3\s+已报（公开率 75\.0%）", tiles)
    assert re.search(r"\b1\s+按期（按期公开率 25\.0%）", tiles)
    # filters: by level, by parent
    only = _cells(admin.get("/status", params={"year": "2024", "level": "township"}).text, "status-units")
    assert sorted(r[0] for r in only) == ["朱村街道", "荔湖街道"]
    only = _cells(admin.get("/status", params={"year": "2024", "parent": "广州市"}).text, "status-units")
    assert [r[0] for r in only] == ["增城区人民政府"]
    assert admin.get("/status", params={"year": "abc"}).status_code == 400


def test_viewer_sees_but_cannot_import_or_assign(app, admin):
    from fazhi.web import auth

    assert import_roster(admin, roster_csv(ROWS)).status_code == 303
    auth.create_user(app.state.engine, "reader", "reader-pw-1", "viewer")
    v = TestClient(app)
    v.csrf = login(v, "reader", "reader-pw-1")
    page = v.get("/status?year=2024")
    assert page.status_code == 200 and "朱村街道" in page.text
    assert 'action="/status/roster"' not in page.text and "只有管理员可以导入名单" in page.text
    r = import_roster(v, roster_csv([["甲街道", "街道", "", "", "", "", ""]]))
    assert r.status_code == 403
    r = v.post("/status/assign", data={"csrf_token": v.csrf, "year": "2024", "id": "1", "unit": "朱村街道"})
    assert r.status_code == 403
    assert len(_cells(admin.get("/status?year=2024").text, "status-units")) == len(ROWS)   # unchanged
    t = v.get("/status/template")
    assert t.status_code == 200 and t.content[:2] == b"PK"


def test_csrf_and_bad_roster(admin):
    assert import_roster(admin, roster_csv(ROWS), csrf=False).status_code == 403
    bad = roster_csv([["", "县级", "", "", "", "", ""], ["甲街道", "火星级", "", "", "", "", ""],
                      ["乙街道", "街道", "", "", "下个月", "", ""]])
    r = import_roster(admin, bad)
    assert r.status_code == 400
    assert "名单有 3 处错误，未导入任何单位" in r.text
    assert "第2行“单位名称”列：单位名称为空" in r.text and "火星级" in r.text and "下个月" in r.text
    r = import_roster(admin, b"\x89PNG....", name="名单.png")
    assert r.status_code == 400 and "不支持的名单文件类型" in r.text
    r = import_roster(admin, roster_csv(ROWS), year="")
    assert r.status_code == 400 and "年度" in r.text
    assert "还没有应报单位名单" in admin.get("/status?year=2024").text


def test_assign_and_escaping(admin):
    rid = post_report(admin, "x.txt", report(XSS + "街道", "2025-03-01"))
    rows = ROWS + [[XSS + "镇", "街道", XSS, "", "", "", ""]]
    assert import_roster(admin, roster_csv(rows)).status_code == 303
    page = admin.get("/status?year=2024")
    assert XSS not in page.text and "&lt;script&gt;" in page.text
    um = _cells(page.text, "status-unmatched")
    assert any(str(rid) == row[1] for row in um)
    r = admin.post("/status/assign", data={"csrf_token": admin.csrf, "year": "2024", "kind": "report",
                                           "id": str(rid), "unit": "朱村街道"}, follow_redirects=False)
    assert r.status_code == 303
    page = admin.get("/status?year=2024")
    units = {row[0]: row for row in _cells(page.text, "status-units")}
    assert units["朱村街道"][3] == "按期" and str(rid) in units["朱村街道"][6]
    assert 'id="status-unmatched"' not in page.text
    r = admin.post("/status/assign", data={"csrf_token": admin.csrf, "year": "2024", "kind": "report",
                                           "id": str(rid), "unit": "火星街道"})
    assert r.status_code == 400 and "名单中没有“火星街道”" in r.text
