"""Compliance rules: a rule table (``data/rules.yaml``) and the checks it names.

A rule is data — id, Chinese title, source, severity, levels, params — and
runs one registered check function.  A user's rule file overrides built-in
rules by id and may add rules that reuse a check with other params (a province
setting 1 March for departments)::

    rules = load_rules("my-province.yaml")
    findings = run(report, rules)
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Callable

import yaml

from ..data import load_yaml, safe_yaml
from ..model import Finding, Part, Report
from ..textnorm import shadow
from . import content as _content

SEVERITIES = ("error", "warning", "info")
MAX_RULE_FILE = 256 * 1024   # bytes of a rule file
LEVELS = ("province", "city", "county", "township", "department", "other")


class RuleError(Exception):
    """A rule file that cannot be used; ``str(err)`` is a Chinese message."""


@dataclass
class Rule:
    id: str
    check: str
    title: str
    source: str = ""
    severity: str = "warning"
    levels: list[str] | None = None
    params: dict = field(default_factory=dict)
    enabled: bool = True


@dataclass
class Ctx:
    """What a check sees: the report, its shadow text, a per-report cache."""
    report: Report
    sh: str
    cache: dict = field(default_factory=dict)

    def part(self, pid: str) -> Part | None:
        return next((p for p in self.report.parts if p.part == pid), None)

    def parts(self, pid: str) -> list[Part]:
        return [p for p in self.report.parts if p.part == pid]

    def body(self, p: Part) -> tuple[int, int]:
        """The part's span without its heading."""
        return p.start + len(p.heading), p.end

    @property
    def written(self) -> str:
        """The shadow without placeholders 【请补充：…】 (blanked, same offsets)."""
        if "written" not in self.cache:
            self.cache["written"] = _content.written(self.sh)
        return self.cache["written"]

    @property
    def content(self) -> str:
        """The shadow without placeholders and bare headings: what is written."""
        if "content" not in self.cache:
            self.cache["content"] = _content.mask(self.report, self.sh, self.written)
        return self.cache["content"]

    def length(self, s: int = 0, e: int | None = None) -> int:
        """Characters of written content between ``s`` and ``e``."""
        return _content.length(self.content, s, e)


CheckFn = Callable[[Ctx, Rule], list[tuple[str, int | None, int | None]]]
CHECKS: dict[str, CheckFn] = {}


def check(name: str):
    """Register a check: it returns (message, start, end) tuples."""
    def deco(fn: CheckFn) -> CheckFn:
        CHECKS[name] = fn
        return fn
    return deco


def _read_user_file(path: str | Path) -> dict:
    rs = RuleSet.read(path)
    return _parse(rs.text, rs.name)


def _parse(text: str, name: str) -> dict:
    """A rule file's text (YAML, or TOML when ``name`` ends in .toml) -> its mapping."""
    if len(text) > MAX_RULE_FILE:
        raise RuleError(f"规则文件 {name} 过大（超过 {MAX_RULE_FILE // 1024} KB）")
    try:
        if name.lower().endswith(".toml"):
            import tomllib  # only for a user's .toml rule file (start-up stays light)

            data = tomllib.loads(text)
        else:
            data = safe_yaml(text)
    except (yaml.YAMLError, ValueError) as e:  # tomllib.TOMLDecodeError is a ValueError
        raise RuleError(f"规则文件 {name} 格式有误：{str(e).splitlines()[0]}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise RuleError(f"规则文件 {name} 格式有误：顶层应为包含 rules 或 scores 的映射")
    return data


@dataclass(frozen=True)
class RuleSet:
    """A place's rule file as it was attached: its name and text (``fazhi rules attach``
    stores it in the corpus; the batch workers and the web app receive it so)."""
    name: str
    text: str

    @classmethod
    def read(cls, path: str | Path) -> "RuleSet":
        p = Path(path)
        try:
            raw = p.read_bytes()
        except OSError as e:
            raise RuleError(f"无法读取规则文件 {p}：{e.strerror or e}") from None
        if len(raw) > MAX_RULE_FILE:
            raise RuleError(f"规则文件 {p.name} 过大（超过 {MAX_RULE_FILE // 1024} KB）")
        try:
            return cls(p.name, raw.decode("utf-8-sig"))
        except UnicodeDecodeError:
            raise RuleError(f"规则文件 {p.name} 格式有误：不是 UTF-8 编码的文本") from None

    @property
    def sha256(self) -> str:
        import hashlib

        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()


_PROVINCE_SUFFIX = ("维吾尔自治区", "壮族自治区", "回族自治区", "自治区", "特别行政区", "省", "市")


def province_key(name: str | None) -> str | None:
    """A province as compared (广东省 = 广东; 新疆维吾尔自治区 = 新疆); None for none."""
    s = "".join((name or "").split())
    for suf in _PROVINCE_SUFFIX:
        if s.endswith(suf) and len(s) > len(suf):
            return s[: -len(suf)]
    return s or None


@dataclass(frozen=True)
class RuleChoice:
    """The rule sets a corpus applies: one for the whole corpus (``default``, None:
    the national rules) and one per province; a report gets its province's."""
    default: RuleSet | None = None
    by_province: tuple[tuple[str, RuleSet], ...] = ()

    def pick(self, province: str | None, *within: str | None) -> RuleSet | None:
        """The rule set of ``province`` — or, when the report does not name its province,
        of the province its city or county (``within``) belongs to."""
        if self.by_province and not province and any(within):
            from ..regions import province_of

            province = province_of(*within)
        k = province_key(province)
        for p, rs in self.by_province:
            if k is not None and province_key(p) == k:
                return rs
        return self.default


def compiled(ruleset: RuleSet | None) -> tuple[tuple[Rule, ...] | None, dict | None]:
    """(rules, rubric) of a rule set, parsed and validated once per process;
    (None, None) for the built-in national rules."""
    if ruleset is None:
        return None, None
    return _compiled(ruleset.name, ruleset.text)


@lru_cache(maxsize=8)
def _compiled(name: str, text: str) -> tuple[tuple[Rule, ...], dict | None]:
    from ..scores import rubric

    user = _parse(text, name)
    cfg = _merge(user)
    return tuple(_validate(r, name) for r in cfg["rules"]), rubric(user["scores"]) if user.get("scores") else None


def deadline_params(ruleset: RuleSet | None) -> dict:
    """The ``timeliness.deadline`` rule's params under a rule set: ``default``
    ("MM-DD", the first day that is late) and ``by_level``."""
    rules, _ = compiled(ruleset)
    for r in rules if rules is not None else load_rules():
        if r.id == "timeliness.deadline":
            return {"default": str(r.params.get("default", "04-01")), "by_level": dict(r.params.get("by_level") or {})}
    return {"default": "04-01", "by_level": {}}


def _validate(r: dict, where: str) -> Rule:
    if not isinstance(r, dict) or not r.get("id"):
        raise RuleError(f"{where}：每条规则都需要 id")
    rid = str(r["id"])
    chk = r.get("check", rid)
    if chk not in CHECKS:
        raise RuleError(f"{where}：规则 {rid} 的检查项“{chk}”不存在（可用：{'、'.join(sorted(CHECKS))}）")
    sev = r.get("severity", "warning")
    if sev not in SEVERITIES:
        raise RuleError(f"{where}：规则 {rid} 的 severity 应为 error、warning 或 info")
    levels = r.get("levels")
    if levels is not None:
        if isinstance(levels, str):
            levels = [levels]
        bad = [x for x in levels if x not in LEVELS]
        if bad:
            raise RuleError(f"{where}：规则 {rid} 的 levels 含未知层级 {bad}")
    params = r.get("params") or {}
    if not isinstance(params, dict):
        raise RuleError(f"{where}：规则 {rid} 的 params 应为映射")
    return Rule(id=rid, check=chk, title=str(r.get("title", rid)), source=str(r.get("source", "")),
                severity=sev, levels=levels, params=params, enabled=bool(r.get("enabled", True)))


def load_config(user_file: str | Path | None = None) -> dict:
    """The built-in rules.yaml, with a user's file merged over it."""
    return _merge(_read_user_file(user_file) if user_file is not None else None)


def _merge(user: dict | None) -> dict:
    _load_checks()
    base = copy.deepcopy(load_yaml("rules.yaml"))
    if user is None:
        return base
    rules = {r["id"]: r for r in base["rules"]}
    order = [r["id"] for r in base["rules"]]
    for i, r in enumerate(user.get("rules") or []):
        if not isinstance(r, dict) or not r.get("id"):
            raise RuleError(f"规则文件第 {i + 1} 条规则缺少 id")
        if r["id"] in rules:
            merged = {**rules[r["id"]], **r}
            if "params" in r:
                merged["params"] = {**(rules[r["id"]].get("params") or {}), **(r["params"] or {})}
            rules[r["id"]] = merged
        else:
            rules[r["id"]] = r
            order.append(r["id"])
    base["rules"] = [rules[k] for k in order]
    if user.get("scores"):
        base["scores"] = user["scores"]
    return base


def load_rules(user_file: str | Path | None = None) -> list[Rule]:
    cfg = load_config(user_file)
    where = Path(user_file).name if user_file else "rules.yaml"
    return [_validate(r, where) for r in cfg["rules"]]


def _load_checks() -> None:
    if "part_present" not in CHECKS:  # imported once (an import statement per run costs)
        from . import checks  # noqa: F401  (registers the checks)


def run(report: Report, rules: list[Rule], sh: str | None = None, cache: dict | None = None) -> list[Finding]:
    """Run the enabled rules that apply to the report's level (``sh``: the
    shadow of ``report.text`` when the caller has it; ``cache``: a per-report
    dict the caller shares with the scores - the written and content texts)."""
    _load_checks()
    ctx = Ctx(report, sh if sh is not None else shadow(report.text), cache if cache is not None else {})
    out: list[Finding] = []
    for rule in rules:
        if not rule.enabled:
            continue
        if rule.levels and report.meta.level not in rule.levels:
            continue
        try:
            found = CHECKS[rule.check](ctx, rule)
        except Exception as e:  # one faulty rule (or a user's bad params) costs that rule only
            out.append(Finding(rule.id, "info", f"规则“{rule.title}”未能执行（{type(e).__name__}），请检查规则参数。"))
            continue
        for msg, start, end in found:
            out.append(Finding(rule.id, rule.severity, msg, start, end))
    return out

