"""Actions of the school director in EduConnect's console, and EduConnect's explanation."""

from __future__ import annotations

from edusim.scenario import action_models as m
from edusim.scenario.context import Context, ParentVar, StepFailed
from edusim.scenario.render import day_text

Lines = list[str]


def print_letter(ctx: Context, parent: ParentVar, reset: bool, confirm: bool) -> Lines:
    account = ctx.require_account(parent)
    if reset:
        letter = ctx.api.ec(
            "POST",
            f"/console/accounts/{account['id']}/reset-password",
            token=ctx.school.console_token,
            json={"confirm": confirm},
        )
    else:
        letter = ctx.api.ec(
            "POST", f"/console/accounts/{account['id']}/letter", token=ctx.school.console_token
        )
    parent.temporary_password = letter["temporary_password"]
    what = "mot de passe réinitialisé" if reset else "courrier imprimé"
    ctx.result = {"identifiant": letter["identifiant"], "text": letter["text"]}
    return [
        f"console de la direction: {what} pour {letter['identifiant']}, mot de passe provisoire "
        f"valable jusqu'au {day_text(letter['expires_at'])}"
    ]


def _by_director(ctx: Context, a: m.ChildDecision, what: str, label: str) -> Lines:
    parent = ctx.parent(a.parent)
    attachment = ctx.attachment(parent, a.child)
    if attachment is None:
        raise StepFailed(f"{ctx.label(a.child)} n'est lié(e) à aucun compte de {parent.label}")
    done = ctx.api.ec(
        "POST", f"/console/attachments/{attachment['id']}/{what}", token=ctx.school.console_token
    )
    ctx.result = {"status": done["status"]}
    return [f"console de la direction: {label} {ctx.label(a.child)} → {done['status']}"]


def unblock(ctx: Context, a: m.ChildDecision) -> Lines:
    """The director unblocks: the child is proposed again at the next login."""
    return _by_director(ctx, a, "unblock", "déblocage du rattachement de")


def attach_by_hand(ctx: Context, a: m.ChildDecision) -> Lines:
    """The director attaches the child without the birth-date check."""
    return _by_director(ctx, a, "attach", "rattachement manuel de")


def reset_password(ctx: Context, a: m.ResetPassword) -> Lines:
    """The director resets the password: a new letter."""
    return print_letter(ctx, ctx.parent(a.parent), reset=True, confirm=a.confirm)


def console(ctx: Context, a: m.ParentRef) -> Lines:
    """What the director sees of this parent."""
    parent = ctx.parent(a.parent)
    account = ctx.require_account(parent)
    seen = ctx.api.ec("GET", f"/console/accounts/{account['id']}", token=ctx.school.console_token)
    ctx.result = dict(seen)
    children = ", ".join(
        f"{x['child']['prenoms']} {x['child']['nom']}: {x['status']}" for x in seen["attachments"]
    )
    return [
        f"console: {seen['identifiant']} — état {seen['state']}, origine {seen['origin'] or '—'}, "
        f"activé le {day_text(seen['activated_at'])}, dernière connexion "
        f"{day_text(seen['last_login_at'])}",
        f"console: enfants de l'école: {children or 'aucun'}",
    ]


def explain(ctx: Context, a: m.ParentRef) -> Lines:
    """EduConnect's explanation of where this parent stands."""
    parent = ctx.parent(a.parent)
    said = ctx.api.ec(
        "GET", "/explain", params={"source": parent.source, "source_id": parent.source_id}
    )
    ctx.result = {"text": " ".join(s["text"] for s in said["statements"])}
    return [f"explication: {s['text']} [{s['code']}]" for s in said["statements"]]
