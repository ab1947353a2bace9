"""Accounts and sessions: hashing, lockout, address throttle, server-side session ends."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app.db import session, utcnow
from app.errors import ValidationFailed
from app.models import LoginAttempt, OrgKind, Role, User
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
    assert "用户名或密码错误" in response.get_data(as_text=True)


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
