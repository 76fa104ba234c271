"""Login guards: the per-account limit holds under concurrent tries; every path costs the same."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

from fastapi.testclient import TestClient

from fake_educonnect.security import Passwords
from tests.educonnect.factories import responsable
from tests.educonnect.helpers import activate_by_sms, director, import_items, letter_for

LOGIN = "/api/v1/login"


class SlowPasswords(Passwords):
    """A hasher whose checks take a while, so that concurrent logins overlap."""

    def verify(self, stored: str | None, password: str) -> bool:
        time.sleep(0.4)
        return super().verify(stored, password)


class CountingPasswords(Passwords):
    """A hasher that counts its argon2 checks."""

    checks = 0

    def verify(self, stored: str | None, password: str) -> bool:
        self.checks += 1
        return super().verify(stored, password)


def test_concurrent_wrong_passwords_cannot_pass_the_account_limit(
    educonnect: TestClient, ec_service: dict[str, str]
) -> None:
    account = import_items(educonnect, ec_service, responsable())[0]
    activate_by_sms(educonnect, ec_service)
    educonnect.app.state.passwords = SlowPasswords(1, 64)  # type: ignore[attr-defined]
    limit = 5  # EDUCONNECT_LOGIN_LIMIT_PER_ACCOUNT's default

    def wrong(_: int) -> int:
        body = {"identifiant": account["identifiant"], "password": "Mauvais2026"}
        status: int = educonnect.post(LOGIN, json=body).status_code
        return status

    with ThreadPoolExecutor(max_workers=10) as pool:
        statuses = sorted(pool.map(wrong, range(10)))
    assert statuses == [401] * limit + [429] * (10 - limit)


def test_a_successful_login_does_not_use_up_the_account_limit(
    educonnect: TestClient, ec_service: dict[str, str]
) -> None:
    account = import_items(educonnect, ec_service, responsable())[0]
    activate_by_sms(educonnect, ec_service)
    right = {"identifiant": account["identifiant"], "password": "Soleil2026"}
    wrong = {**right, "password": "Mauvais2026"}
    for _ in range(4):
        assert educonnect.post(LOGIN, json=wrong).status_code == 401
    for _ in range(3):
        assert educonnect.post(LOGIN, json=right).status_code == 200
    assert educonnect.post(LOGIN, json=wrong).status_code == 401
    assert educonnect.post(LOGIN, json=wrong).status_code == 429
    assert educonnect.post(LOGIN, json=right).status_code == 429


def test_every_login_path_does_the_same_password_work(
    educonnect: TestClient, ec_service: dict[str, str]
) -> None:
    active, waiting, lettered = import_items(
        educonnect,
        ec_service,
        responsable("101"),
        responsable("102", nom="Durand", prenom="Paul", mobile="+33611111101"),
        responsable("103", nom="Petit", prenom="Inès", mobile="+33611111102"),
    )
    activate_by_sms(educonnect, ec_service)
    letter = letter_for(educonnect, ec_service, lettered["account_id"])
    counting = CountingPasswords(1, 64)
    educonnect.app.state.passwords = counting  # type: ignore[attr-defined]

    def checks(identifiant: str, password: str, expected: int) -> int:
        before = counting.checks
        response = educonnect.post(LOGIN, json={"identifiant": identifiant, "password": password})
        assert response.status_code == expected, response.text
        return counting.checks - before

    work = {
        "unknown account": checks("x.nobody99", "Mauvais2026", 401),
        "wrong password": checks(active["identifiant"], "Mauvais2026", 401),
        "no password, no letter": checks(waiting["identifiant"], "Mauvais2026", 401),
        "no password, live letter": checks(lettered["identifiant"], "Mauvais2026", 401),
        "right password": checks(active["identifiant"], "Soleil2026", 200),
        "right letter": checks(lettered["identifiant"], letter["temporary_password"], 200),
    }
    # A letter printed for a parent who has a password (confirmed by the director).
    printed = educonnect.post(
        f"/api/v1/console/accounts/{active['account_id']}/letter",
        json={"confirm": True},
        headers=director(educonnect, ec_service),
    )
    assert printed.status_code == 200, printed.text
    work["password and live letter"] = checks(active["identifiant"], "Mauvais2026", 401)
    work["password and live letter, right password"] = checks(
        active["identifiant"], "Soleil2026", 200
    )
    assert set(work.values()) == {2}, work
