"""The checks of a step: each says, in a line, what it found and whether that was expected."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from edusim.scenario import check_models as m
from edusim.scenario.context import Context, ParentVar
from edusim.scenario.fields import COUNT_KEYS, as_list
from edusim_common.web.plural import plural_fr, plural_word


@dataclass(frozen=True)
class Verdict:
    """One check's outcome, in plain words."""

    ok: bool
    text: str


def _contains(haystack: str, needles: list[str]) -> list[str]:
    """The needles missing from ``haystack`` (case-insensitive)."""
    lowered = haystack.casefold()
    return [n for n in needles if n.casefold() not in lowered]


def _short(value: Any, limit: int = 100) -> str:
    """A value on one line, cut at ``limit`` characters."""
    text = " ".join(str(value).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _describe(account: dict[str, Any]) -> str:
    origin = account.get("origin") or "—"
    return f"{account['identifiant']}, état {account['state']}, origine {origin}"


def account(ctx: Context, e: m.AccountExpect) -> Verdict:
    """The parent's account: exists or not, state, origin, identifiant."""
    parent = ctx.parent(e.of)
    found = ctx.account(parent)
    if not e.exists:
        if found is None:
            return Verdict(True, f"pas de compte EduConnect pour {parent.label}")
        return Verdict(
            False, f"{parent.label} a déjà un compte ({_describe(found)}): aucun attendu"
        )
    if found is None:
        return Verdict(
            False, f"aucun compte EduConnect pour {parent.label}: un compte était attendu"
        )
    wrong = []
    if e.state is not None and found["state"] != e.state:
        wrong.append(f"état attendu {e.state}")
    if e.origin is not None and found["origin"] != e.origin:
        wrong.append(f"origine attendue {e.origin}")
    if e.identifiant_starts is not None and not found["identifiant"].startswith(
        e.identifiant_starts
    ):
        wrong.append(f"identifiant attendu {e.identifiant_starts}…")
    text = f"compte de {parent.label}: {_describe(found)}"
    return Verdict(not wrong, text + (f" — {'; '.join(wrong)}" if wrong else ""))


def appears_before(ctx: Context, e: m.Appears) -> Verdict:
    """Before the step: no account yet."""
    return account(ctx, m.AccountExpect(of=e.of, exists=False))


def appears(ctx: Context, e: m.Appears) -> Verdict:
    """After the step: the account is there."""
    return account(ctx, m.AccountExpect(of=e.of, state=e.state))


def child(ctx: Context, e: m.ChildExpect) -> Verdict:
    """A child's attachment status (``none``: not linked to the account at all)."""
    parent = ctx.parent(e.parent)
    attachment = ctx.attachment(parent, e.child)
    status = attachment["status"] if attachment else "none"
    text = f"{ctx.label(e.child)} pour {parent.label}: {status}"
    if status != e.status:
        text += f" — attendu {e.status}"
    return Verdict(status == e.status, text)


def explain(ctx: Context, e: m.ExplainExpect) -> Verdict:
    """EduConnect's explanation contains (or not) these words and statement codes."""
    parent = ctx.parent(e.of)
    said = ctx.api.ec(
        "GET", "/explain", params={"source": parent.source, "source_id": parent.source_id}
    )
    text = " ".join(s["text"] for s in said["statements"])
    codes = [s["code"] for s in said["statements"]]
    missing = _contains(text, as_list(e.contains))
    unwanted = [n for n in as_list(e.not_contains) if not _contains(text, [n])]
    absent_codes = [c for c in as_list(e.code) if c not in codes]
    wrong = [f"« {n} » absent" for n in missing] + [f"« {n} » présent" for n in unwanted]
    wrong += [f"code {c} absent (codes: {', '.join(codes)})" for c in absent_codes]
    wrong += [f"code {c} présent" for c in as_list(e.not_code) if c in codes]
    shown = f"explication pour {parent.label}: {text}"
    return Verdict(not wrong, shown + (f" — {'; '.join(wrong)}" if wrong else ""))


def _addressed_to(ctx: Context, parent: ParentVar, message: dict[str, Any]) -> bool:
    if message["recipient"] in (parent.mobile, parent.email):
        return True
    found = ctx.account(parent)
    return found is not None and message.get("account_id") == found["id"]


def outbox(ctx: Context, e: m.OutboxExpect) -> Verdict:
    """Messages since the scenario began, to whom, on which channel, saying what."""
    params: dict[str, Any] = {}
    if e.channel is not None:
        params["channel"] = e.channel
    if e.channel == "school":
        params["school"] = ctx.school.uai
    if e.recipient is not None:
        params["recipient"] = e.recipient
    messages = ctx.api.outbox(after=ctx.outbox_mark, **params)
    who = e.recipient or ""
    if e.to is not None:
        parent = ctx.parent(e.to)
        messages = [msg for msg in messages if _addressed_to(ctx, parent, msg)]
        who = parent.label
    needles = as_list(e.contains)
    matching = [
        msg for msg in messages if not _contains(f"{msg['subject']} {msg['body']}", needles)
    ]
    kind = e.channel or "message"
    where = plural_fr(len(matching), kind, f"{kind}s") + (f" à {who}" if who else "")
    said = where + (f" contenant {needles}" if needles else "")
    if matching:
        said += f": « {matching[-1]['body']} »"
    ok = len(matching) == e.count if e.count is not None else bool(matching)
    if not ok:
        expected = f"{e.count}" if e.count is not None else "au moins 1"
        said += f" — attendu {expected}"
        if messages and not matching:
            said += f" (dernier reçu: « {messages[-1]['body']} »)"
    return Verdict(ok, said)


def _runs(ctx: Context) -> list[dict[str, Any]]:
    if ctx.step_runs:
        return ctx.step_runs
    latest: list[dict[str, Any]] = ctx.api.sync("GET", "/runs", params={"limit": 1})
    return latest


def run(ctx: Context, e: m.RunExpect) -> Verdict:
    """The step's runs: how many, the last one's kind and status, their counts summed."""
    runs = _runs(ctx)
    wrong = []
    if e.runs is not None and len(ctx.step_runs) != e.runs:
        expected = plural_fr(e.runs, "synchronisation attendue", "synchronisations attendues")
        done = plural_word(len(ctx.step_runs), "faite", "faites")
        wrong.append(f"{expected}, {len(ctx.step_runs)} {done}")
    if e.runs == 0 and not ctx.step_runs and set(e.model_fields_set) == {"runs"}:
        return Verdict(True, "aucune synchronisation pendant cette étape")
    if not runs:
        return Verdict(False, "aucune synchronisation n'a encore eu lieu")
    last = runs[-1]
    if e.kind is not None and last["kind"] != e.kind:
        wrong.append(f"type {last['kind']}, attendu {e.kind}")
    if e.status is not None and last["status"] != e.status:
        wrong.append(f"statut {last['status']}, attendu {e.status}")
    checked = []
    for key in COUNT_KEYS:
        expected = getattr(e, key)
        if expected is None:
            continue
        got = sum(r["counts"].get(key, 0) for r in runs)
        checked.append(f"{key}={got}")
        if got != expected:
            wrong.append(f"{key}: {got}, attendu {expected}")
    ids = ", ".join(f"n°{r['id']}" for r in runs)
    label = plural_word(len(runs), "synchronisation", "synchronisations")
    text = f"{label} {ids}: {', '.join(checked) or last['status']}"
    return Verdict(not wrong, text + (f" — {'; '.join(wrong)}" if wrong else ""))


def report_line(ctx: Context, e: m.ReportLine) -> Verdict:
    """The report line of a parent in the step's last run."""
    parent = ctx.parent(e.of)
    runs = _runs(ctx)
    if not runs:
        return Verdict(False, "aucune synchronisation n'a encore eu lieu")
    last = runs[-1]
    lines = ctx.api.sync("GET", f"/runs/{last['id']}/lines", params={"source_id": parent.source_id})
    if not lines:
        return Verdict(False, f"aucune ligne pour {parent.label} au rapport n°{last['id']}")
    line = lines[-1]
    wrong = []
    if e.outcome is not None and line["outcome"] != e.outcome:
        wrong.append(f"attendu {e.outcome}")
    wrong += [f"« {n} » absent" for n in _contains(line["reason"], as_list(e.reason_contains))]
    text = f"rapport n°{last['id']}, {parent.label}: {line['outcome']} — {line['reason'] or '—'}"
    return Verdict(not wrong, text + (f" — {'; '.join(wrong)}" if wrong else ""))


def same_account(ctx: Context, names: list[str]) -> Verdict:
    """These parents are one and the same EduConnect account."""
    found = {name: ctx.account(ctx.parent(name)) for name in names}
    shown = ", ".join(
        f"{ctx.label(n)}: {a['identifiant'] if a else 'aucun compte'}" for n, a in found.items()
    )
    ids = {a["id"] if a else None for a in found.values()}
    return Verdict(len(ids) == 1 and None not in ids, f"un seul compte? {shown}")


def proposed(ctx: Context, e: m.Proposed) -> Verdict:
    """Exactly these children are proposed at the parent's current login."""
    parent = ctx.parent(e.parent)
    listed = ctx.api.ec("GET", "/me/proposals", token=ctx.session_token(parent))
    got = sorted(f"{p['prenoms']} {p['nom']}".casefold() for p in listed)
    wanted = sorted(ctx.label(name).casefold() for name in e.children)
    names = ", ".join(f"{p['prenoms']} {p['nom']}" for p in listed) or "aucun"
    text = f"proposés à {parent.label}: {names}"
    if got != wanted:
        text += f" — attendu: {', '.join(ctx.label(n) for n in e.children) or 'aucun'}"
    return Verdict(got == wanted, text)


def console(ctx: Context, e: m.ConsoleExpect) -> Verdict:
    """What the director's console shows of the parent."""
    parent = ctx.parent(e.of)
    found = ctx.require_account(parent)
    seen = ctx.api.ec("GET", f"/console/accounts/{found['id']}", token=ctx.school.console_token)
    wrong = []
    if e.state is not None and seen["state"] != e.state:
        wrong.append(f"état attendu {e.state}")
    if e.origin is not None and seen["origin"] != e.origin:
        wrong.append(f"origine attendue {e.origin}")
    if e.activated is not None and (seen["activated_at"] is not None) != e.activated:
        wrong.append("date d'activation " + ("attendue" if e.activated else "inattendue"))
    if e.last_login is not None and (seen["last_login_at"] is not None) != e.last_login:
        wrong.append("dernière connexion " + ("attendue" if e.last_login else "inattendue"))
    text = (
        f"console: {seen['identifiant']}, état {seen['state']}, origine {seen['origin'] or '—'}, "
        f"activé {seen['activated_at'] or '—'}, dernière connexion {seen['last_login_at'] or '—'}"
    )
    return Verdict(not wrong, text + (f" — {'; '.join(wrong)}" if wrong else ""))


def result(ctx: Context, e: m.ResultExpect) -> Verdict:
    """The answer of the step's action."""
    got = ctx.result
    wrong = [
        f"« {n} » absent" for n in _contains(" ".join(map(str, got.values())), as_list(e.contains))
    ]
    for key in ("step", "decision", "status"):
        expected = getattr(e, key)
        if expected is not None and got.get(key) != expected:
            wrong.append(f"{key}: {got.get(key)}, attendu {expected}")
    shown = ", ".join(f"{k}={_short(v)}" for k, v in got.items())
    text = "réponse: " + (shown or "aucune")
    return Verdict(not wrong, text + (f" — {'; '.join(wrong)}" if wrong else ""))


CHECKS: dict[str, Callable[[Context, Any], Verdict]] = {
    "account": account,
    "appears": appears,
    "child": child,
    "explain": explain,
    "outbox": outbox,
    "run": run,
    "report_line": report_line,
    "same_account": same_account,
    "proposed": proposed,
    "console": console,
    "result": result,
}
BEFORE: dict[str, Callable[[Context, Any], Verdict]] = {"appears": appears_before}
