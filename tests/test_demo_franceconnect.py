"""The demo's FranceConnect test identities: made by `edusim up` (and `seed --demo`, `reset
--demo`) once, derived from the demo seed, matching demo parents after the first night."""

from __future__ import annotations

import re
import socket
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlmodel import col
from typer.testing import CliRunner

from edusim.cli import app
from edusim.demo_franceconnect import demo_identities, seed_demo_franceconnect
from edusim.snapshot import restore
from edusim.snapshot_cli import build_demo_snapshot
from edusim_common.db import make_engine, read_session
from fake_educonnect.config import EduConnectSettings
from fake_educonnect.main import METADATA
from fake_educonnect.models import Account, FranceConnectIdentity
from fake_onde.config import OndeSettings
from fake_onde.seed import seed_demo_school
from tests.pages.ec_steps import outbox_code, pages_client, text_of

runner = CliRunner()
HTML = {"accept": "text/html"}
EXPECTED = [
    "demo-fc-ines-martin",
    "demo-fc-ines-ndiaye",
    "demo-fc-andre-dacosta",
    "demo-fc-alexandrie-dalmeida",
    "demo-fc-camille-fontaine",
]
"""The identities of a first `edusim up` (docs/pages.md and the README list them)."""


def _subs(educonnect_db: Path) -> list[str]:
    engine = make_engine(f"sqlite:///{educonnect_db}")
    try:
        with read_session(engine) as session:
            return sorted(session.scalars(select(col(FranceConnectIdentity.sub))))
    finally:
        engine.dispose()


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each service's database under the test's data dir (what the CLI sets is undone after)."""
    for service in ("ONDE", "EDUCONNECT", "SYNC"):
        for key in (f"{service}_DATABASE_URL", f"EDUSIM_{service}_URL"):
            monkeypatch.setenv(key, "")
            monkeypatch.delenv(key)
    monkeypatch.setenv("EDUSIM_SNAPSHOT_DIR", "")
    monkeypatch.delenv("EDUSIM_SNAPSHOT_DIR")


@pytest.mark.usefixtures("offline")
def test_up_adds_the_demo_identities_once(tmp_path: Path) -> None:
    """`up` seeds them before starting the services (here a busy port stops it right after)."""
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = str(busy.getsockname()[1])
        first = runner.invoke(app, ["up", "--data-dir", str(tmp_path), "--onde-port", port])
        assert first.exit_code == 1
        assert "Added 5 FranceConnect test identities" in first.output
        assert _subs(tmp_path / "educonnect.db") == sorted(EXPECTED)
        second = runner.invoke(app, ["up", "--data-dir", str(tmp_path), "--onde-port", port])
    assert second.exit_code == 1
    assert "FranceConnect" not in second.output
    assert _subs(tmp_path / "educonnect.db") == sorted(EXPECTED)


@pytest.mark.usefixtures("offline")
def test_seed_and_reset_demo_bring_the_same_identities(tmp_path: Path) -> None:
    seeded = runner.invoke(app, ["seed", "--demo", "--data-dir", str(tmp_path)])
    assert seeded.exit_code == 0, seeded.output
    assert "Added 5 FranceConnect test identities" in seeded.output
    again = runner.invoke(app, ["seed", "--demo", "--data-dir", str(tmp_path)])
    assert "FranceConnect" not in again.output
    reset = runner.invoke(app, ["reset", "--yes", "--demo", "--data-dir", str(tmp_path)])
    assert reset.exit_code == 0, reset.output
    assert "Added 5 FranceConnect test identities" in reset.output
    assert _subs(tmp_path / "educonnect.db") == sorted(EXPECTED)


@pytest.mark.usefixtures("offline")
def test_onde_seeded_alone_brings_no_stray_identities(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A container that seeds only ONDE (docker compose) has no EduConnect database at hand."""
    monkeypatch.setenv("ONDE_DATABASE_URL", f"sqlite:///{tmp_path / 'onde-volume.db'}")
    seeded = runner.invoke(app, ["seed", "--demo", "--data-dir", str(tmp_path)])
    assert seeded.exit_code == 0, seeded.output
    assert "FranceConnect" not in seeded.output
    assert not (tmp_path / "educonnect.db").exists()


def test_after_the_first_night_a_demo_identity_activates_its_parent(
    onde_settings: OndeSettings,
    educonnect_settings: EduConnectSettings,
    sync: TestClient,
    educonnect: TestClient,
) -> None:
    onde_engine = make_engine(onde_settings.database_url)
    now = sync.app.state.sync.clock.now()  # type: ignore[attr-defined]
    ec_engine = educonnect.app.state.engine  # type: ignore[attr-defined]
    try:
        seed_demo_school(onde_engine, now)
        identities = {i.sub: i for i in demo_identities(onde_engine)}
        assert list(identities) == EXPECTED
        assert seed_demo_franceconnect(onde_engine, ec_engine, now) == 5
        assert seed_demo_franceconnect(onde_engine, ec_engine, now) == 0
    finally:
        onde_engine.dispose()
    ec = pages_client(educonnect)
    picker = ec.get("/franceconnect")
    for sub in EXPECTED:
        assert f'id="fc-pick-{sub}"' in picker.text
    before = ec.post("/franceconnect", data={"sub": "demo-fc-ines-martin"})
    assert "Contactez l'école" in text_of(before.text)  # no account before the night's sync

    night = sync.post("/sim/next-day", data={"next": "/runs"}, headers=HTML)
    assert night.status_code == 200, night.text
    for sub in EXPECTED[:4]:
        claims = identities[sub]
        matched = ec.post("/franceconnect", data={"sub": sub})
        assert matched.status_code == 200, sub
        assert 'id="fc-code-form"' in matched.text, (sub, text_of(matched.text))
        national = "0" + (claims.phone_number or "")[3:]
        assert f"au {national[:2]} •• •• •• {national[-2:]}" in text_of(matched.text)
    # Inès Martin confirms with the code sent to her ONDE mobile: her account is active.
    phone = identities["demo-fc-ines-martin"].phone_number or ""
    national = " ".join(("0" + phone[3:])[i : i + 2] for i in range(0, 10, 2))
    code_page = ec.post("/franceconnect", data={"sub": "demo-fc-ines-martin"})
    request_id = re.search(r'name="request_id" value="([^"]+)"', code_page.text)
    assert request_id
    done = ec.post(
        "/franceconnect/code",
        data={"request_id": request_id.group(1), "code": outbox_code(ec, national)},
    )
    assert done.url.path == "/bienvenue", text_of(done.text)
    with read_session(ec.app.state.engine) as session:  # type: ignore[attr-defined]
        account = session.scalars(
            select(Account).where(col(Account.franceconnect_sub) == "demo-fc-ines-martin")
        ).one()
    assert (account.state, account.origin) == ("active", "FranceConnect")
    nobody = ec.post("/franceconnect", data={"sub": "demo-fc-camille-fontaine"})
    assert "Contactez l'école" in text_of(nobody.text)


@pytest.mark.usefixtures("offline")
def test_the_demo_snapshot_of_a_running_reset_holds_the_identities(tmp_path: Path) -> None:
    """`reset --demo` on a running simulator restores this snapshot: same demo as `seed --demo`."""
    built = build_demo_snapshot(tmp_path / "demo.snapshot.jsonl.gz")
    assert built.databases["educonnect"]["tables"]["franceconnect_identity"] == len(EXPECTED)
    engine = make_engine(f"sqlite:///{tmp_path / 'educonnect.db'}")
    try:
        with (tmp_path / "demo.snapshot.jsonl.gz").open("rb") as source:
            restore({"educonnect": engine}, source, {"educonnect": METADATA})
    finally:
        engine.dispose()
    assert _subs(tmp_path / "educonnect.db") == sorted(EXPECTED)
    seeded = runner.invoke(app, ["seed", "--demo", "--data-dir", str(tmp_path / "seeded")])
    assert seeded.exit_code == 0, seeded.output
    assert _subs(tmp_path / "seeded" / "educonnect.db") == sorted(EXPECTED)
