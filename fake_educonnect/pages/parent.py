"""The parent's side: profile, login, first-login password and attachment, « Mes enfants »."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session

from edusim_common.deps import DbSession, Now
from edusim_common.web.forms import FlashLevel, FormErrors, confirmed, redirect, validate
from edusim_common.web.plural import plural_fr
from edusim_common.web.words_fr import de
from fake_educonnect.deps import PasswordsDep
from fake_educonnect.models import Account, Attachment, AttachmentStatus, Child, LoginSession
from fake_educonnect.pages import flows
from fake_educonnect.pages.common import (
    SESSION_COOKIE,
    TOO_MANY_FR,
    TRANSLATIONS,
    Form,
    check_new_password,
    current_parent,
    keep,
    next_page,
    parse_birth_date,
    parse_id,
    render,
    router,
    settings_of,
    signed_in,
    to_login,
    with_bar,
)
from fake_educonnect.routes.parent import PasswordCheck, check_password_change
from fake_educonnect.schemas import LoginIn
from fake_educonnect.service import parent, schools
from fake_educonnect.service.accounts import attachments_of
from fake_educonnect.service.parent import Decision, PasswordRule, Step

BAD_DATE = "Date invalide : utilisez le format JJ/MM/AAAA."
NOT_OPEN = "Cette proposition de rattachement n'est plus ouverte."


@router.get("/", response_class=HTMLResponse, dependencies=with_bar)
def profile_choice(request: Request) -> HTMLResponse:
    """« Je suis… » : Responsable d'élève, or Élève."""
    return render(request, "profile.html")


@router.get("/eleve", response_class=HTMLResponse, dependencies=with_bar)
def pupil_profile(request: Request) -> HTMLResponse:
    """The pupil profile: primary pupils have no EduConnect account in this simulation."""
    return render(request, "eleve.html")


def _login_form(
    request: Request, values: dict[str, str], errors: FormErrors, status: int = 200
) -> HTMLResponse:
    return render(request, "login.html", {"values": values, "errors": errors}, status)


@router.get("/login", response_class=HTMLResponse, dependencies=with_bar)
def login_page(request: Request) -> HTMLResponse:
    """Responsable d'élève: « Je me connecte avec mon compte EduConnect » or FranceConnect."""
    return _login_form(request, {}, FormErrors())


@router.post("/login", response_class=HTMLResponse, dependencies=with_bar)
def login_submit(request: Request, form: Form, now: Now, passwords: PasswordsDep) -> Response:
    """Identifiant and password (or a school letter's temporary password)."""
    values = keep(form, "password")
    model, errors = validate(LoginIn, form, TRANSLATIONS)
    if model is None:
        return _login_form(request, values, errors, 422)
    settings = settings_of(request)
    try:
        opened = flows.login(request, now, settings, passwords, model)
    except flows.Refused as refused:
        errors.add("_form", refused.message)
        return _login_form(request, values, errors, refused.status)
    return signed_in(opened, settings, next_page(opened.step))


@router.post("/logout")
def logout(request: Request, session: DbSession, now: Now) -> RedirectResponse:
    """Close the session (its token stops working) and forget the cookie."""
    current = current_parent(request, session, now)
    if current is not None:
        parent.end_session(current[0], now)
    response = redirect("/", "Vous êtes déconnecté.")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/bienvenue", response_class=HTMLResponse, dependencies=with_bar)
def welcome(request: Request, session: DbSession, now: Now) -> Response:
    """After an activation: the identifiant to keep, and the next step."""
    current = current_parent(request, session, now)
    if current is None:
        return to_login()
    login_session, account = current
    return render(
        request,
        "welcome.html",
        {"account": account, "next_url": next_page(login_session.step)},
    )


def _password_form(
    request: Request,
    current: tuple[LoginSession, Account],
    values: dict[str, str],
    errors: FormErrors,
    status: int = 200,
) -> HTMLResponse:
    login_session, account = current
    rule = parent.password_rule(account, login_session)
    context = {
        "account": account,
        "forced": rule is PasswordRule.forced,
        "first": rule is PasswordRule.first,
        "values": values,
        "errors": errors,
    }
    return render(request, "password.html", context, status)


@router.get("/mot-de-passe", response_class=HTMLResponse, dependencies=with_bar)
def password_page(request: Request, session: DbSession, now: Now) -> Response:
    """Choose a new password (forced after a school letter's temporary password, or a first one
    for an account opened with FranceConnect alone)."""
    current = current_parent(request, session, now)
    if current is None:
        return to_login()
    return _password_form(request, current, {}, FormErrors())


@router.post("/mot-de-passe", response_class=HTMLResponse, dependencies=with_bar)
def password_submit(
    request: Request, form: Form, session: DbSession, now: Now, passwords: PasswordsDep
) -> Response:
    """The current password is asked, except after a school letter (forced change) and for an
    account that has none yet (FranceConnect only): the parent's own session proves her then.

    Tries are counted as on the API (``POST /api/v1/me/password``): per client, and a wrong
    current password as a failed login of the account.
    """
    current = current_parent(request, session, now)
    if current is None:
        return to_login()
    login_session, account = current
    errors = FormErrors()
    check_new_password(form, errors)
    if errors:
        return _password_form(request, current, {}, errors, 422)
    rule = parent.password_rule(account, login_session)
    checked = check_password_change(
        request,
        session,
        now,
        settings_of(request),
        passwords,
        (login_session, account),
        form.get("current_password", ""),
    )
    if checked is PasswordCheck.too_many:
        errors.add("_form", TOO_MANY_FR)
        return _password_form(request, current, {}, errors, 429)
    if checked is PasswordCheck.wrong_current:
        errors.add("current_password", "Mot de passe actuel incorrect.")
        return _password_form(request, current, {}, errors, 422)
    was_inactive = account.activated_at is None
    parent.set_password(session, passwords, now, account, login_session, form["password"])
    flash = "Votre mot de passe a été changé."
    if was_inactive:
        flash = f"Votre compte est activé. Votre identifiant : {account.identifiant}."
    elif rule is PasswordRule.first:
        flash = (
            "Votre mot de passe est enregistré : vous pouvez désormais vous connecter avec votre "
            f"identifiant {account.identifiant} et ce mot de passe, ou toujours avec FranceConnect."
        )
    forced = rule is PasswordRule.forced
    return redirect(next_page(login_session.step) if forced else "/me", flash)


def _attachment_page(
    request: Request,
    session: Session,
    proposals: list[tuple[Attachment, Child]],
    values: dict[str, str],
    errors: FormErrors,
    status: int = 200,
) -> HTMLResponse:
    context = {
        "proposals": proposals,
        "values": values,
        "errors": errors,
        "directory": schools.directory(session, (child.school_uai for _, child in proposals)),
    }
    return render(request, "attachment.html", context, status)


@router.get("/rattachement", response_class=HTMLResponse, dependencies=with_bar)
def attachment_page(request: Request, session: DbSession, now: Now) -> Response:
    """The children proposed at this login: birth date, or « ce n'est pas mon enfant »."""
    current = current_parent(request, session, now)
    if current is None:
        return to_login()
    login_session, _ = current
    if login_session.step == Step.change_password.value:
        return redirect("/mot-de-passe")
    proposals = parent.presented_proposals(session, login_session)
    if not proposals:
        return redirect("/me")
    return _attachment_page(request, session, proposals, {}, FormErrors())


def _first_name(child: Child) -> str:
    return child.prenoms.split()[0] if child.prenoms.split() else child.prenoms


def decision_message(decision: Decision, child: Child, tries_left: int) -> str:
    """What the parent reads after answering for one child."""
    name = _first_name(child)
    if decision is Decision.attached:
        # The child's sex is not in EduConnect's record: both agreements are written.
        return f"{name} est rattaché(e) à votre compte."
    if decision is Decision.blocked:
        return (
            f"Le rattachement {de(name)} est bloqué : la date de naissance saisie ne correspond "
            "pas. Pour le débloquer, contactez l'école."
        )
    if decision is Decision.wrong_date:
        return (
            f"La date de naissance {de(name)} ne correspond pas. Attention : il vous reste "
            f"{plural_fr(tries_left, 'essai', 'essais')} avant que le rattachement soit bloqué."
        )
    return (
        f"C'est noté : vous n'êtes pas le représentant légal {de(name)}. L'école en est informée."
    )


DECISION_LEVEL = {
    Decision.attached: FlashLevel.success,
    Decision.refused: FlashLevel.success,
    Decision.wrong_date: FlashLevel.warning,
    Decision.blocked: FlashLevel.error,
}
"""How each answer reads: a blocked attachment is an error, a wrong date with tries left a
warning; an attached or refused child is done."""


def _after_decision(
    session: Session, login_session: LoginSession, decision: Decision, message: str
) -> RedirectResponse:
    left = parent.presented_proposals(session, login_session)
    return redirect("/rattachement" if left else "/me", message, DECISION_LEVEL[decision])


@router.post(
    "/rattachement/{attachment_id}/confirmer",
    response_class=HTMLResponse,
    dependencies=with_bar,
)
def confirm_child(
    attachment_id: str, request: Request, form: Form, session: DbSession, now: Now
) -> Response:
    """Right birth date → attached; wrong → blocked once the tries are spent (default 1)."""
    current = current_parent(request, session, now)
    if current is None:
        return to_login()
    login_session, account = current
    if login_session.step == Step.change_password.value:
        return redirect("/mot-de-passe")
    wanted = parse_id(attachment_id)
    found = flows.open_proposal(session, login_session, wanted) if wanted else None
    if found is None:
        return redirect("/me", NOT_OPEN, FlashLevel.warning)
    attachment, child = found
    field = f"birth_date_{attachment.id}"
    typed = form.get(field, "")
    birth_date = parse_birth_date(typed)
    if birth_date is None:
        errors = FormErrors()
        errors.add(field, BAD_DATE if typed else "Ce champ est obligatoire.")
        proposals = parent.presented_proposals(session, login_session)
        values = {field: typed[:40]}
        return _attachment_page(request, session, proposals, values, errors, 422)
    try:
        decision = flows.confirm_child(
            request,
            session,
            now,
            settings_of(request),
            login_session,
            account,
            attachment,
            child,
            birth_date,
        )
    except flows.Refused:
        errors = FormErrors()
        errors.add(field, TOO_MANY_FR)
        proposals = parent.presented_proposals(session, login_session)
        return _attachment_page(request, session, proposals, {}, errors, 429)
    return _after_decision(
        session, login_session, decision, decision_message(decision, child, attachment.tries_left)
    )


@router.post(
    "/rattachement/{attachment_id}/refuser",
    response_class=HTMLResponse,
    dependencies=with_bar,
)
def refuse_child(
    attachment_id: str, request: Request, form: Form, session: DbSession, now: Now
) -> Response:
    """« Ce n'est pas mon enfant » : the link is refused and the school is told — once the
    parent confirms it on the page this button leads to (nothing is written before)."""
    current = current_parent(request, session, now)
    if current is None:
        return to_login()
    login_session, account = current
    wanted = parse_id(attachment_id)
    found = flows.open_proposal(session, login_session, wanted) if wanted else None
    if found is None:
        return redirect("/me", NOT_OPEN, FlashLevel.warning)
    attachment, child = found
    if not confirmed(form):
        context = {
            "attachment": attachment,
            "child": child,
            "first_name": _first_name(child),
            "directory": schools.directory(session, [child.school_uai]),
        }
        return render(request, "attachment_refuse.html", context)
    decision = parent.refuse_child(session, now, login_session, attachment, child, account)
    return _after_decision(
        session, login_session, decision, decision_message(decision, child, attachment.tries_left)
    )


def child_note(attachment: Attachment, child: Child, login_session: LoginSession) -> str:
    """Where one child stands, in the parent's words."""
    status = attachment.status
    name = _first_name(child)
    if status == AttachmentStatus.attached.value:
        return "Rattaché à votre compte."
    if status == AttachmentStatus.blocked.value:
        return (
            f"Le rattachement {de(name)} est bloqué (date de naissance erronée) : "
            "contactez l'école pour le débloquer."
        )
    if status == AttachmentStatus.refused.value:
        return "Vous avez indiqué ne pas être son représentant légal ; l'école en a été informée."
    if status == AttachmentStatus.removed.value:
        return "Lien retiré : l'élève n'est plus inscrit, ou le lien a été supprimé dans ONDE."
    if attachment.presented_session_id == login_session.id:
        return "À confirmer maintenant avec sa date de naissance."
    if attachment.presented_at is None:
        return "Sera proposé au rattachement à votre prochaine connexion."
    return (
        "Non confirmé lors de la connexion où il vous a été proposé : contactez l'école "
        "(procédure manuelle)."
    )


@dataclass(frozen=True)
class ChildRow:
    """One line of « Mes enfants »."""

    attachment: Attachment
    child: Child
    note: str
    to_confirm: bool


@router.get("/me", response_class=HTMLResponse, dependencies=with_bar)
def my_children(request: Request, session: DbSession, now: Now) -> Response:
    """« Mes enfants » : attached children, blocked ones, pending ones."""
    current = current_parent(request, session, now)
    if current is None:
        return to_login()
    login_session, account = current
    if login_session.step == Step.change_password.value:
        return redirect("/mot-de-passe")
    rows = [
        ChildRow(
            attachment=attachment,
            child=child,
            note=child_note(attachment, child, login_session),
            to_confirm=attachment.status == AttachmentStatus.proposed.value
            and attachment.presented_session_id == login_session.id,
        )
        for attachment, child in attachments_of(session, account.id or 0)
    ]
    attached = [r for r in rows if r.attachment.status == AttachmentStatus.attached.value]
    others = [r for r in rows if r.attachment.status != AttachmentStatus.attached.value]
    context = {
        "account": account,
        "has_password": account.password_hash is not None,
        "step": login_session.step,
        "attached": attached,
        "others": others,
        "directory": schools.directory(session, (row.child.school_uai for row in rows)),
    }
    return render(request, "me.html", context)
