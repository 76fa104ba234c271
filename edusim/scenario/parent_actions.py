"""Actions of a parent in EduConnect: activation (SMS, FranceConnect, letter), login, attachment."""

from __future__ import annotations

import hashlib
import re
from datetime import date, timedelta
from typing import Any

from edusim.scenario import action_models as m
from edusim.scenario.api import CallFailed
from edusim.scenario.context import ChildVar, Context, ParentVar, StepFailed
from edusim.scenario.director_actions import print_letter
from edusim_common.phones import normalize_phone

CODE = re.compile(r"\b(\d{6})\b")
Lines = list[str]


def _mobile(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return normalize_phone(value, mobile=True)
    except ValueError as exc:
        raise StepFailed(f"mobile {value!r}: {exc}") from exc


def siecle_account(ctx: Context, a: m.SiecleAccount) -> Lines:
    """Load a parent who already has an active account through a secondary-school child."""
    uai = ctx.school.uai
    children = []
    for child in a.children:
        digest = hashlib.sha256(f"{uai}:{a.as_}:{child.as_}".encode()).hexdigest()
        ine = f"{int(digest[:12], 16) % 10**9:09d}ZZ"
        ctx.children[child.as_] = ChildVar(
            child.as_, ine, child.nom, child.prenoms, child.birth_date
        )
        children.append(
            {
                "source_id": f"E-{uai}-{child.as_}", "ine": ine, "nom": child.nom,
                "prenoms": child.prenoms, "birth_date": child.birth_date.isoformat(),
                "school_uai": child.school_uai, "level": child.level,
            }
        )  # fmt: skip
    parent = ParentVar(
        a.as_, "siecle", f"S-{uai}-{a.as_}", a.nom, a.prenom, None, _mobile(a.mobile), a.email
    )
    parent.password = a.password
    item = {
        "source_id": parent.source_id, "nom": a.nom, "prenom": a.prenom,
        "mobile": parent.mobile, "email": a.email, "password": a.password, "origin": a.origin,
        "children": children,
    }  # fmt: skip
    result = ctx.api.ec("POST", "/fixtures/siecle", json={"items": [item]})["results"][0]
    ctx.parents[a.as_] = parent
    names = ", ".join(f"{c.prenoms} {c.nom} ({c.level})" for c in a.children)
    return [
        f"EduConnect (SIECLE): {parent.label} a déjà un compte actif {result.get('identifiant')} "
        f"(origine {a.origin}) pour {names}"
    ]


def _latest_outbox_id(ctx: Context) -> int:
    messages = ctx.api.outbox(after=ctx.outbox_mark)
    return max((msg["id"] for msg in messages), default=ctx.outbox_mark)


def _code(messages: list[dict[str, Any]]) -> tuple[str, str] | None:
    for message in reversed(messages):
        found = CODE.search(message["body"])
        if found:
            return found.group(1), message["body"]
    return None


def _opened(ctx: Context, parent: ParentVar, session: dict[str, Any]) -> Lines:
    parent.session = session["session_token"]
    step = session.get("step") or "none"
    ctx.result = {"step": step, "identifiant": session.get("identifiant", "")}
    lines = [f"session ouverte pour {session.get('identifiant')}; étape: {_step_fr(step)}"]
    if step == "attachment":
        proposals = ctx.api.ec("GET", "/me/proposals", token=parent.session)
        names = ", ".join(f"{p['prenoms']} {p['nom']}" for p in proposals) or "aucun"
        lines.append(f"enfants proposés au rattachement: {names}")
    return lines


def _step_fr(step: str) -> str:
    return {
        "attachment": "rattachement des enfants proposés",
        "change_password": "changement de mot de passe imposé",
        "none": "aucune (accès au compte)",
    }.get(step, step)


def activate_sms(ctx: Context, a: m.ActivateSms) -> Lines:
    """Names + mobile → a code by SMS (only for an exact match) → a password."""
    parent = ctx.parent(a.parent)
    mobile = _mobile(a.mobile or parent.mobile)
    if mobile is None:
        raise StepFailed(
            f"{parent.label} n'a pas de mobile dans ONDE (et l'étape n'en donne pas): activation "
            "autonome par SMS impossible"
        )
    mark = _latest_outbox_id(ctx)
    started = ctx.api.ec(
        "POST",
        "/activation/sms",
        anonymous=True,
        json={"nom": parent.nom, "prenom": parent.prenom, "mobile": mobile},
    )
    found = _code(ctx.api.outbox(after=mark, recipient=mobile, channel="sms"))
    if found is None:
        raise StepFailed(
            f"EduConnect répond « {started['message']} » mais aucun SMS n'arrive au {mobile}: "
            f"pas de compte à activer au nom de {parent.label} avec ce mobile (celui d'ONDE)"
        )
    code, body = found
    done = ctx.api.ec(
        "POST",
        "/activation/sms/confirm",
        anonymous=True,
        json={"request_id": started["request_id"], "code": code, "password": a.password},
    )
    parent.password = a.password
    return [f"SMS au {mobile}: « {body} »", *_opened(ctx, parent, done)]


def _fc_sub(ctx: Context, name: str) -> str:
    return f"fc-{ctx.school.uai}-{name}".lower()


def activate_franceconnect(ctx: Context, a: m.ActivateFranceConnect) -> Lines:
    """FranceConnect identity → matched account → code by SMS to the ONDE mobile → linked."""
    parent = ctx.parent(a.parent)
    sub = _fc_sub(ctx, a.parent)
    identity = {
        "sub": sub, "given_name": parent.prenom, "family_name": parent.nom,
        "birthdate": a.birthdate.isoformat(),
        "gender": "male" if parent.civility == "M" else "female",
        "phone_number": _mobile(a.phone),
    }  # fmt: skip
    ctx.api.ec("POST", "/franceconnect/identities", json=identity, ok=(201, 409))
    parent.fc_sub = sub
    mark = _latest_outbox_id(ctx)
    back = ctx.api.ec("POST", "/franceconnect/login", anonymous=True, json={"sub": sub})
    lines = [f"FranceConnect ({parent.label}): « {back['message']} »"]
    if back["status"] == "logged_in":
        return lines + _opened(ctx, parent, back["session"])
    if back["status"] != "code_sent":
        raise StepFailed(f"FranceConnect: « {back['message']} »")
    account = ctx.require_account(parent)
    messages = [
        msg
        for msg in ctx.api.outbox(after=mark, channel="sms")
        if msg["account_id"] == account["id"]
    ]
    found = _code(messages)
    if found is None:
        raise StepFailed(f"aucun SMS de confirmation n'est arrivé pour {parent.label}")
    done = ctx.api.ec(
        "POST",
        "/franceconnect/confirm",
        anonymous=True,
        json={"request_id": back["request_id"], "code": found[0]},
    )
    return [*lines, f"SMS: « {found[1]} »", *_opened(ctx, parent, done)]


def activate_letter(ctx: Context, a: m.ActivateLetter) -> Lines:
    """The director prints a letter; the parent logs in with it and must choose a password."""
    parent = ctx.parent(a.parent)
    lines = print_letter(ctx, parent, reset=False, confirm=False)
    lines += _login(ctx, parent, parent.temporary_password or "", a.new_password)
    return lines


def _login(ctx: Context, parent: ParentVar, password: str, new_password: str | None) -> Lines:
    identifiant = ctx.require_account(parent)["identifiant"]
    try:
        opened = ctx.api.ec(
            "POST",
            "/login",
            anonymous=True,
            json={"identifiant": identifiant, "password": password},
        )
    except CallFailed as exc:
        raise StepFailed(
            f"connexion de {parent.label} ({identifiant}) refusée: {exc.detail}"
        ) from exc
    lines = _opened(ctx, parent, opened)
    if opened.get("step") == "change_password" and new_password is not None:
        changed = ctx.api.ec(
            "POST", "/me/password", token=parent.session, json={"new_password": new_password}
        )
        parent.password = new_password
        parent.temporary_password = None
        step = changed.get("step") or "none"
        ctx.result["step"] = step
        lines.append(f"nouveau mot de passe choisi; étape: {_step_fr(step)}")
        if step == "attachment":
            proposals = ctx.api.ec("GET", "/me/proposals", token=parent.session)
            names = ", ".join(f"{p['prenoms']} {p['nom']}" for p in proposals) or "aucun"
            lines.append(f"enfants proposés au rattachement: {names}")
    return lines


def login(ctx: Context, a: m.Login) -> Lines:
    """The parent logs in (password or FranceConnect)."""
    parent = ctx.parent(a.parent)
    if a.via == "franceconnect":
        back = ctx.api.ec(
            "POST",
            "/franceconnect/login",
            anonymous=True,
            json={"sub": parent.fc_sub or _fc_sub(ctx, a.parent)},
        )
        if back["status"] != "logged_in":
            raise StepFailed(f"FranceConnect: « {back['message']} »")
        return _opened(ctx, parent, back["session"])
    password = a.password or parent.temporary_password or parent.password
    if password is None:
        raise StepFailed(
            f"{parent.label} n'a pas encore de mot de passe: activez d'abord le compte"
        )
    return _login(ctx, parent, password, a.new_password)


# -- attachment ----------------------------------------------------------------------------------


def _proposal(ctx: Context, parent: ParentVar, child_name: str) -> int:
    attachment = ctx.attachment(parent, child_name)
    proposals = ctx.api.ec("GET", "/me/proposals", token=ctx.session_token(parent))
    ids = [p["attachment_id"] for p in proposals]
    if attachment is None or attachment["id"] not in ids:
        names = ", ".join(f"{p['prenoms']} {p['nom']}" for p in proposals) or "aucun"
        raise StepFailed(
            f"{ctx.label(child_name)} n'est pas proposé(e) à {parent.label} à cette connexion "
            f"(proposés: {names}); les propositions ne sont présentées qu'une fois"
        )
    return int(attachment["id"])


def _decided(ctx: Context, decision: dict[str, Any]) -> Lines:
    ctx.result = {
        "decision": decision["decision"],
        "status": decision["status"],
        "message": decision["message"],
    }
    return [f"EduConnect: « {decision['message']} » (statut {decision['status']})"]


def confirm_birth_date(ctx: Context, a: m.ConfirmBirthDate) -> Lines:
    """The parent types the child's birth date."""
    parent = ctx.parent(a.parent)
    child = ctx.child(a.child)
    attachment_id = _proposal(ctx, parent, a.child)
    typed: date
    if a.birth_date == "right":
        typed = child.birth_date
    elif a.birth_date == "wrong":
        typed = child.birth_date + timedelta(days=1)
    else:
        typed = a.birth_date
    decision = ctx.api.ec(
        "POST",
        f"/me/proposals/{attachment_id}/confirm",
        token=parent.session,
        json={"birth_date": typed.isoformat()},
    )
    said = f"{parent.label} saisit le {typed.strftime('%d/%m/%Y')} pour {child.label}"
    return [said, *_decided(ctx, decision)]


def not_my_child(ctx: Context, a: m.ChildDecision) -> Lines:
    """« Je ne suis pas le représentant légal de cet élève »."""
    parent = ctx.parent(a.parent)
    attachment_id = _proposal(ctx, parent, a.child)
    decision = ctx.api.ec("POST", f"/me/proposals/{attachment_id}/refuse", token=parent.session)
    return [f"{parent.label}: « je ne suis pas le représentant légal »", *_decided(ctx, decision)]
