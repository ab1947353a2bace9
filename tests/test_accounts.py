"""Accounts and sessions: hashing, lockout, address throttle, server-side session ends."""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app.db import session, utcnow
from app.errors import TooManyAttempts, ValidationFailed
from app.models import AuditEvent, LoginAttempt, OrgKind, Role, User
from app.services import accounts
from tests import factories


@pytest.fixture
def police_user(app: Flask) -> User:
    return factories.make_user(factories.make_org(OrgKind.POLICE))


def attempt(client: FlaskClient, user: User, password: str, ip: str = "192.0.2.10") -> int:
    response = client.post(
        "/login",
        data={"username": user.username, "password": password},
        environ_base={"REMOTE_ADDR": ip},
    )
    return response.status_code


def test_passwords_are_stored_as_argon2id_hashes(police_user: User) -> None:
    assert police_user.password_hash.startswith("$argon2id$")
    assert factories.PASSWORD not in police_user.password_hash


def test_the_test_suite_hashes_at_the_lowest_cost_and_the_server_at_the_recommended_one(
    police_user: User,
) -> None:
    # Under DAOJIAO_MODE=testing (this suite): argon2-cffi's CHEAPEST profile.
    assert police_user.password_hash.startswith("$argon2id$v=19$m=8,t=1,p=1$")


def test_outside_the_test_suite_passwords_use_the_recommended_cost() -> None:
    # No app in testing mode (a server, the CLI): argon2-cffi's recommended RFC 9106 profile.
    assert accounts.hash_password("a-long-password-1").startswith("$argon2id$v=19$m=65536,t=3,p=4$")


def test_user_role_follows_the_organisation_kind(app: Flask) -> None:
    insurer = factories.make_org(OrgKind.INSURER)
    assert factories.make_user(insurer).role == Role.ADJUSTER
    with pytest.raises(ValidationFailed):
        accounts.create_user(
            actor=None,
            org=insurer,
            username="x_judge",
            password=factories.PASSWORD,
            role=Role.JUDGE,
        )


@pytest.mark.parametrize("password", ["short", "1234567890123", "policeuser"])
def test_weak_passwords_are_refused(app: Flask, password: str) -> None:
    org = factories.make_org(OrgKind.POLICE)
    with pytest.raises(ValidationFailed):
        accounts.create_user(actor=None, org=org, username="policeuser", password=password)


def test_login_page_is_chinese_by_default(client: FlaskClient) -> None:
    page = client.get("/login").get_data(as_text=True)
    assert '<html lang="zh-CN">' in page
    assert "登录" in page


def test_wrong_password_is_refused_with_a_clear_message(
    client: FlaskClient, police_user: User
) -> None:
    response = client.post("/login", data={"username": police_user.username, "password": "nope"})
    assert response.status_code == 401
    assert "用户名或密码错误，或账户已被暂时锁定" in response.get_data(as_text=True)


def test_five_failed_logins_lock_the_account_for_ten_minutes(
    client: FlaskClient, police_user: User
) -> None:
    for _ in range(5):
        assert attempt(client, police_user, "wrong-password!") == 401
    session.refresh(police_user)
    assert police_user.locked_until is not None
    remaining = police_user.locked_until - utcnow()
    assert timedelta(minutes=9) < remaining <= timedelta(minutes=10)
    # Even the right password is refused while locked.
    assert attempt(client, police_user, factories.PASSWORD) == 401
    # After ten minutes it works again.
    police_user.locked_until = utcnow() - timedelta(seconds=1)
    session.flush()
    assert attempt(client, police_user, factories.PASSWORD) == 302


def test_one_address_cannot_keep_another_users_account_locked(
    client: FlaskClient, police_user: User
) -> None:
    attacker = "203.0.113.66"
    statuses = [attempt(client, police_user, "guess-guess-guess", ip=attacker) for _ in range(12)]
    # The address is throttled after ten failures: its attempts stop counting for anyone.
    assert statuses[:10] == [401] * 10
    assert statuses[10:] == [429, 429]
    assert (
        session.scalar(select(LoginAttempt.id).where(LoginAttempt.ip == attacker).limit(1))
        is not None
    )
    # Ten failures lock the account at most twice from one address; once the lock runs out
    # the real user, from their own address, logs in although the attacker keeps trying.
    police_user.locked_until = utcnow() - timedelta(seconds=1)
    session.flush()
    assert attempt(client, police_user, "guess-again-again", ip=attacker) == 429
    assert attempt(client, police_user, factories.PASSWORD, ip="198.51.100.7") == 302


def test_successful_login_resets_the_failure_count(client: FlaskClient, police_user: User) -> None:
    for _ in range(4):
        attempt(client, police_user, "wrong-password!")
    assert attempt(client, police_user, factories.PASSWORD) == 302
    session.refresh(police_user)
    assert police_user.failed_logins == 0


def test_no_remember_me_cookie_is_ever_set(client: FlaskClient, police_user: User) -> None:
    client.post(
        "/login",
        data={"username": police_user.username, "password": factories.PASSWORD, "remember": "y"},
    )
    assert client.get_cookie("remember_token") is None
    cookie = client.get_cookie("daojiao_session")
    assert cookie is not None
    assert cookie.http_only
    assert cookie.same_site == "Lax"


def test_logout_ends_the_session_server_side(client: FlaskClient, police_user: User) -> None:
    factories.login(client, police_user)
    stolen = client.get_cookie("daojiao_session").value
    assert client.get("/cases/").status_code == 200
    client.post("/logout")
    # Replaying the cookie captured before logout does not get back in.
    client.set_cookie("daojiao_session", stolen)
    response = client.get("/cases/")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_password_change_ends_every_other_session(app: Flask, police_user: User) -> None:
    mine, other = app.test_client(), app.test_client()
    factories.login(mine, police_user)
    factories.login(other, police_user)
    response = mine.post(
        "/account/password",
        data={
            "current": factories.PASSWORD,
            "new": "a-new-long-password",
            "repeat": "a-new-long-password",
        },
    )
    assert response.status_code == 302
    assert mine.get("/cases/").status_code == 200  # the changer stays logged in
    assert other.get("/cases/").status_code == 302  # everyone else is out
    session.expire_all()
    assert (
        accounts.authenticate(
            username=police_user.username, password="a-new-long-password", ip="192.0.2.1"
        )
        == police_user
    )


def test_password_change_with_wrong_current_password_is_refused(
    client: FlaskClient, police_user: User
) -> None:
    factories.login(client, police_user)
    response = client.post(
        "/account/password",
        data={
            "current": "not-my-password",
            "new": "a-new-long-password",
            "repeat": "a-new-long-password",
        },
    )
    assert response.status_code == 422
    assert "当前密码不正确" in response.get_data(as_text=True)


def test_changed_client_fingerprint_drops_the_session(
    client: FlaskClient, police_user: User
) -> None:
    factories.login(client, police_user)
    response = client.get("/cases/", headers={"User-Agent": "something-else/1.0"})
    assert response.status_code == 302  # strong session protection


def test_disabled_user_is_logged_out_and_cannot_log_in(
    client: FlaskClient, police_user: User
) -> None:
    factories.login(client, police_user)
    police_user.active = False
    session.flush()
    assert client.get("/cases/").status_code == 302
    assert attempt(client, police_user, factories.PASSWORD) == 401


def test_idle_session_expires(app: Flask, client: FlaskClient, police_user: User) -> None:
    from app.models import LoginSession

    factories.login(client, police_user)
    for row in session.scalars(select(LoginSession).where(LoginSession.user_id == police_user.id)):
        row.last_seen_at = utcnow() - timedelta(minutes=app.config["SESSION_IDLE_MINUTES"] + 1)
    session.flush()
    assert client.get("/cases/").status_code == 302


def test_login_redirects_back_to_the_page_asked_for(client: FlaskClient, police_user: User) -> None:
    client.get("/cases/?status=reported")
    response = client.post(
        "/login", data={"username": police_user.username, "password": factories.PASSWORD}
    )
    assert response.headers["Location"].endswith("/cases/?status=reported")


def test_cli_creates_a_user_and_its_organisation(app: Flask) -> None:
    from app.cli import users_create

    result = app.test_cli_runner().invoke(
        users_create,
        [
            "--username",
            "judge7",
            "--org",
            "某某法庭",
            "--org-kind",
            "tribunal",
            "--password",
            "judge-seven-password",
        ],
    )
    assert result.exit_code == 0, result.output
    user = accounts.find_user("judge7")
    assert user is not None
    assert user.role == Role.JUDGE
    assert user.organization.name == "某某法庭"


def test_cli_refuses_a_role_that_does_not_fit_the_organisation(app: Flask) -> None:
    from app.cli import users_create

    result = app.test_cli_runner().invoke(
        users_create,
        [
            "--username",
            "odd",
            "--org",
            "某交警大队",
            "--org-kind",
            "police",
            "--role",
            "judge",
            "--password",
            "odd-user-password",
        ],
    )
    assert result.exit_code != 0
    assert accounts.find_user("odd") is None


# -- one answer for unknown, wrong and locked; locks that run out; admins unlock ----------------


def lock(user: User) -> None:
    user.failed_logins, user.locked_until = 0, utcnow() + timedelta(minutes=accounts.LOCK_MINUTES)
    session.flush()


def refusal(client: FlaskClient, username: str, password: str, ip: str) -> tuple[int, list[str]]:
    """The login form's status and the alerts it shows."""
    response = client.post(
        "/login",
        data={"username": username, "password": password},
        environ_base={"REMOTE_ADDR": ip},
    )
    alerts = re.findall(r'role="alert">([^<]*)<', response.get_data(as_text=True))
    return response.status_code, alerts


def test_unknown_wrong_and_locked_accounts_get_one_and_the_same_answer(
    client: FlaskClient, police_user: User
) -> None:
    unknown = refusal(client, "nobody-of-that-name", "whatever-password", "192.0.2.21")
    wrong = refusal(client, police_user.username, "wrong-password!", "192.0.2.22")
    lock(police_user)
    locked_right = refusal(client, police_user.username, factories.PASSWORD, "192.0.2.23")
    locked_wrong = refusal(client, police_user.username, "wrong-password!", "192.0.2.24")
    assert unknown[0] == 401
    assert len(unknown[1]) == 1
    assert unknown == wrong == locked_right == locked_wrong


def test_the_api_answers_unknown_and_locked_accounts_alike(
    client: FlaskClient, police_user: User
) -> None:
    def token(username: str, password: str, ip: str) -> tuple[int, object]:
        response = client.post(
            "/api/v1/tokens",
            json={"username": username, "password": password},
            environ_base={"REMOTE_ADDR": ip},
        )
        return response.status_code, response.get_json()

    unknown = token("nobody-of-that-name", "whatever-password", "192.0.2.31")
    lock(police_user)
    assert token(police_user.username, factories.PASSWORD, "192.0.2.32") == unknown
    assert unknown[0] == 401


def test_a_locked_account_pays_the_password_check_like_an_unknown_one(
    app: Flask, police_user: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    # At the server's cost (the suite otherwise hashes at the lowest): a check takes tens of
    # milliseconds, an answer without one a few. Best of three, each from its own address.
    monkeypatch.setitem(app.config, "TESTING", False)
    police_user.password_hash = accounts.hash_password(factories.PASSWORD)
    lock(police_user)
    addresses = iter(f"192.0.2.{n}" for n in range(40, 60))

    def fastest(username: str) -> float:
        times = []
        for _ in range(3):
            start = time.perf_counter()
            with pytest.raises(accounts.LoginFailed):
                accounts.authenticate(
                    username=username, password="wrong-password!", ip=next(addresses)
                )
            times.append(time.perf_counter() - start)
        return min(times)

    fastest("nobody-of-that-name")  # the dummy hash is made on first use
    unknown, locked = fastest("nobody-of-that-name"), fastest(police_user.username)
    assert locked > unknown / 2, f"locked {locked * 1000:.1f} ms, unknown {unknown * 1000:.1f} ms"


def test_failures_during_a_lock_neither_extend_it_nor_count_towards_the_next(
    client: FlaskClient, police_user: User
) -> None:
    for _ in range(accounts.MAX_FAILED_LOGINS):
        attempt(client, police_user, "wrong-password!", ip="192.0.2.61")
    session.refresh(police_user)
    until = police_user.locked_until
    assert until is not None
    # A second address keeps failing while the lock runs: still refused, lock unchanged.
    for _ in range(8):
        assert attempt(client, police_user, "wrong-password!", ip="192.0.2.62") == 401
    session.refresh(police_user)
    assert police_user.locked_until == until
    assert police_user.failed_logins == 0
    # Once it has run out, one more failure does not lock again: the count starts afresh.
    police_user.locked_until = utcnow() - timedelta(seconds=1)
    session.flush()
    assert attempt(client, police_user, "wrong-password!", ip="192.0.2.63") == 401
    session.refresh(police_user)
    assert police_user.failed_logins == 1
    assert not accounts.is_locked(police_user)
    assert attempt(client, police_user, factories.PASSWORD, ip="192.0.2.63") == 302


def test_the_address_throttle_still_answers_429(app: Flask, police_user: User) -> None:
    for _ in range(accounts.ADDRESS_FAILURES):
        with pytest.raises(accounts.LoginFailed):
            accounts.authenticate(username="nobody", password="x-x-x-x-x-x", ip="192.0.2.70")
    with pytest.raises(TooManyAttempts):
        accounts.authenticate(
            username=police_user.username, password=factories.PASSWORD, ip="192.0.2.70"
        )


@pytest.fixture
def admin(app: Flask) -> User:
    return factories.make_user(factories.make_org(OrgKind.PLATFORM))


@pytest.fixture
def admin_client(app: Flask, admin: User) -> FlaskClient:
    client = app.test_client()
    factories.login(client, admin)
    return client


def test_admin_sees_who_is_locked_until_when_and_unlocks(
    admin: User, admin_client: FlaskClient, police_user: User
) -> None:
    lock(police_user)
    page = admin_client.get("/admin/users").get_data(as_text=True)
    assert 'data-testid="locked-until"' in page
    assert f"/admin/users/{police_user.id}/unlock" in page
    response = admin_client.post(f"/admin/users/{police_user.id}/unlock")
    assert response.status_code == 302
    session.refresh(police_user)
    assert police_user.locked_until is None
    assert police_user.failed_logins == 0
    event = session.scalar(
        select(AuditEvent).where(
            AuditEvent.action == "account.unlocked",
            AuditEvent.subject == f"user:{police_user.id}",
        )
    )
    assert event is not None
    assert event.actor_id == admin.id
    assert event.details["locked_until"] is not None
    # Unlocked, the owner logs in at once.
    assert attempt(admin_client.application.test_client(), police_user, factories.PASSWORD) == 302
    assert 'data-testid="locked-until"' not in admin_client.get("/admin/users").get_data(
        as_text=True
    )


def test_unlocking_through_the_user_form_is_audited_too(
    admin_client: FlaskClient, police_user: User
) -> None:
    lock(police_user)
    response = admin_client.post(
        f"/admin/users/{police_user.id}",
        data={"display_name": police_user.display_name, "active": "y", "unlock": "y"},
    )
    assert response.status_code == 302
    session.refresh(police_user)
    assert police_user.locked_until is None
    assert session.scalar(
        select(AuditEvent.id).where(
            AuditEvent.action == "account.unlocked",
            AuditEvent.subject == f"user:{police_user.id}",
        )
    )


def test_only_platform_admins_unlock(client: FlaskClient, police_user: User) -> None:
    lock(police_user)
    factories.login(client, factories.make_user(factories.make_org(OrgKind.MEDIATION)))
    assert client.post(f"/admin/users/{police_user.id}/unlock").status_code == 403
    session.refresh(police_user)
    assert accounts.is_locked(police_user)
