"""Actions on the school's side: the director's day in ONDE, and the clock with its syncs."""

from __future__ import annotations

from typing import Any

from edusim.scenario import action_models as m
from edusim.scenario.context import Context, ParentVar, PupilVar
from edusim.scenario.render import clock_text, run_text

Lines = list[str]
LIENS = {
    "mere": "mère", "pere": "père", "tuteur": "tuteur", "ase": "ASE",
    "autre_membre_famille": "autre membre de la famille", "famille_accueil": "famille d'accueil",
    "autre": "autre",
}  # fmt: skip


def admit(ctx: Context, a: m.Admit) -> Lines:
    """Register and admit a pupil, record the responsables, link them."""
    uai = ctx.school.uai
    director = ctx.school.onde_token
    pupil = ctx.api.onde(
        "POST",
        f"/schools/{uai}/pupils",
        token=director,
        json={
            "nom": a.nom, "prenoms": a.prenoms, "sex": a.sex,
            "birth_date": a.birth_date.isoformat(), "birth_place": a.birth_place,
            "level": a.level, "state": a.state,
        },
    )  # fmt: skip
    var = PupilVar(a.as_, pupil["id"], pupil["ine"], pupil["nom"], pupil["prenoms"], a.birth_date)
    ctx.pupils[a.as_] = var
    lines = [f"ONDE: {var.label} en {a.level}, état {a.state} (élève {var.id}, INE {var.ine})"]
    for spec in a.responsables:
        if spec.ref is not None:
            parent = ctx.parent(spec.ref)
        else:
            created = ctx.api.onde(
                "POST",
                f"/schools/{uai}/responsables",
                token=director,
                json={
                    "civility": spec.civility, "nom": spec.nom, "prenom": spec.prenom,
                    "mobile": spec.mobile, "accepts_sms": spec.accepts_sms, "email": spec.email,
                },
            )  # fmt: skip
            parent = ParentVar(
                spec.as_ or f"responsable_{created['id']}",
                "onde",
                str(created["id"]),
                created["nom"],
                created["prenom"],
                spec.civility,
                created["mobile"],
                created["email"],
            )
            if spec.as_ is not None:
                ctx.parents[spec.as_] = parent
        ctx.api.onde(
            "POST",
            f"/pupils/{var.id}/responsables",
            token=director,
            json={
                "responsable_id": int(parent.source_id),
                "lien": spec.lien,
                "autorite_parentale": spec.autorite_parentale,
            },
        )
        authority = "autorité parentale" if spec.autorite_parentale else "sans autorité parentale"
        lines.append(
            f"ONDE: responsable {parent.label} ({LIENS[spec.lien]}, {authority}), "
            f"mobile {parent.mobile or 'aucun'} (responsable {parent.source_id})"
        )
    return lines


def edit_responsable(ctx: Context, a: m.EditResponsable) -> Lines:
    """Change a responsable's data in ONDE (``null`` clears)."""
    parent = ctx.parent(a.responsable)
    changes = {k: getattr(a, k) for k in a.model_fields_set if k != "responsable"}
    updated = ctx.api.onde(
        "PATCH", f"/responsables/{parent.source_id}", token=ctx.school.onde_token, json=changes
    )
    parent.mobile, parent.email = updated["mobile"], updated["email"]
    parent.nom, parent.prenom = updated["nom"], updated["prenom"]
    shown = ", ".join(f"{k} → {v if v is not None else '(effacé)'}" for k, v in changes.items())
    return [f"ONDE: {parent.label} modifié(e): {shown}"]


def _set_state(ctx: Context, pupil: PupilVar, state: str) -> None:
    ctx.api.onde(
        "POST", f"/pupils/{pupil.id}/state", token=ctx.school.onde_token, json={"state": state}
    )


def strike_off(ctx: Context, a: m.PupilRef) -> Lines:
    """The pupil is struck off (``radie``)."""
    pupil = ctx.pupils[a.pupil]
    _set_state(ctx, pupil, "radie")
    return [f"ONDE: {pupil.label} radié(e)"]


def readmit(ctx: Context, a: m.PupilRef) -> Lines:
    """A struck-off pupil comes back: ``inscrit`` then ``admis``."""
    pupil = ctx.pupils[a.pupil]
    _set_state(ctx, pupil, "inscrit")
    _set_state(ctx, pupil, "admis")
    return [f"ONDE: {pupil.label} réinscrit(e) puis admis(e)"]


# -- the clock and the sync ------------------------------------------------------------------------


def _moved(ctx: Context, body: dict[str, Any]) -> Lines:
    ctx.step_runs.extend(body["runs"])
    lines = [f"horloge: {clock_text(body['clock']['now'])}"]
    lines += [run_text(run) for run in body["runs"]] or ["aucune synchronisation dans l'intervalle"]
    return lines


def next_day(ctx: Context, a: m.NextDay) -> Lines:
    """« Jour suivant », ``days`` times."""
    lines: Lines = []
    for _ in range(a.days):
        lines += _moved(ctx, ctx.api.sync("POST", "/clock/next-day"))
    return lines


def advance(ctx: Context, a: m.Advance) -> Lines:
    """Move the clock forward."""
    seconds = a.days * 86400 + a.hours * 3600 + a.minutes * 60
    return _moved(ctx, ctx.api.sync("POST", "/clock/advance", json={"seconds": seconds}))


def run_sync(ctx: Context, a: m.RunSync) -> Lines:
    """Run the sync now."""
    run = ctx.api.sync("POST", "/runs", json={"full": a.full})
    ctx.step_runs.append(run)
    return [run_text(run)]
