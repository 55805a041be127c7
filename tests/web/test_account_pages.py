"""Passwords and the limits on guessing them, through the real app and on the store.

The limits (`SignInLimits`) are checked with a fixed clock on a real SQLite ledger
database (the rows are the state: every worker counts the same failures), then through
the sign-in form (429, ``Retry-After``, the message in the visitor's language).
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ledger.api.accounts import AccountStore, Role
from ledger.store.sql import SqlStore
from ledger.web.credentials import CredentialStore, SignInLimits
from ledger.web.i18n import LANGUAGES
from tests.web.conftest import Pages, csrf_of, words

BROKER = "laredo-brokers.broker"
REGISTRAR = "registrar.registrar"
PASSWORD = "correct horse battery staple"
T0 = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def credentials(tmp_path: Path):
    store = SqlStore.open(f"sqlite:///{tmp_path / 'ledger.db'}")
    accounts = AccountStore(store.engine)
    for party in ("laredo-brokers", "other-brokers"):
        account = accounts.create_account(Role.BROKER, party, party)
        CredentialStore(store.engine).set_password(account.account_id, PASSWORD)
    yield CredentialStore(store.engine, SignInLimits(account_failures=3, client_failures=5,
                                                     window=timedelta(minutes=15)))
    store.close()


class TestSignInLimits:
    def test_failures_past_the_limit_pause_the_account(self, credentials) -> None:
        for n in range(3):
            outcome = credentials.attempt(BROKER, "wrong", "192.0.2.1",
                                          now=T0 + timedelta(minutes=n))
            assert outcome.account is None
            assert outcome.retry_after is None
        # Even the right password is refused now, from another address too.
        refused = credentials.attempt(BROKER, PASSWORD, "198.51.100.9",
                                      now=T0 + timedelta(minutes=5))
        assert refused.account is None
        assert refused.limited_by == "account"
        assert refused.retry_after == 10 * 60  # the first failure is 15 minutes old then
        almost = credentials.attempt(BROKER, PASSWORD, "198.51.100.9",
                                     now=T0 + timedelta(minutes=14, seconds=59))
        assert almost.retry_after == 1
        later = credentials.attempt(BROKER, PASSWORD, "198.51.100.9",
                                    now=T0 + timedelta(minutes=15))
        assert later.account is not None
        assert later.account.account_id == BROKER

    def test_a_success_starts_the_accounts_count_again(self, credentials) -> None:
        for n in range(2):
            credentials.attempt(BROKER, "wrong", "192.0.2.1", now=T0 + timedelta(seconds=n))
        assert credentials.attempt(BROKER, PASSWORD, "192.0.2.1",
                                   now=T0 + timedelta(seconds=3)).account is not None
        for n in range(2):
            credentials.attempt(BROKER, "wrong", "192.0.2.1",
                                now=T0 + timedelta(seconds=10 + n))
        assert credentials.retry_after(BROKER, "192.0.2.1",
                                       now=T0 + timedelta(seconds=20)) is None

    def test_one_address_trying_many_accounts_is_paused(self, credentials) -> None:
        for n in range(5):
            credentials.attempt(f"guess-{n}.broker", "wrong", "203.0.113.5",
                                now=T0 + timedelta(seconds=n))
        refused = credentials.attempt("other-brokers.broker", PASSWORD, "203.0.113.5",
                                      now=T0 + timedelta(seconds=30))
        assert refused.limited_by == "client"
        assert refused.account is None
        elsewhere = credentials.attempt("other-brokers.broker", PASSWORD, "192.0.2.44",
                                        now=T0 + timedelta(seconds=30))
        assert elsewhere.account is not None

    def test_attempts_in_flight_already_count(self, credentials,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
        """Three guesses still being checked (in other threads, or other workers) stop a
        fourth before it is checked: each attempt is written before its password check.
        """
        release = threading.Event()
        checking = threading.Semaphore(0)
        check = credentials.check_password

        def slow_check(account_id: str, password: str):
            checking.release()
            release.wait(30)
            return check(account_id, password)

        monkeypatch.setattr(credentials, "check_password", slow_check)
        threads = [threading.Thread(target=credentials.attempt,
                                    args=(BROKER, "wrong", f"192.0.2.{n}"),
                                    kwargs={"now": T0}) for n in range(3)]
        for thread in threads:
            thread.start()
        for _ in threads:
            assert checking.acquire(timeout=30)
        fourth = credentials.attempt(BROKER, "wrong", "192.0.2.99", now=T0)
        release.set()
        for thread in threads:
            thread.join(30)
        assert fourth.limited_by == "account"

    def test_a_new_password_ends_the_other_sessions(self, credentials) -> None:
        account = credentials.attempt(BROKER, PASSWORD, "192.0.2.1").account
        assert account is not None
        kept, other = credentials.start_session(account), credentials.start_session(account)
        assert credentials.end_other_sessions(BROKER, kept.secret) == 1
        assert credentials.session(kept.secret) is not None
        assert credentials.session(other.secret) is None
        assert credentials.end_other_sessions(BROKER, None) == 1
        assert credentials.session(kept.secret) is None


def _signin(browser, account: str, password: str, lang: str = "en"):
    form = browser.get(f"/signin?lang={lang}")
    return browser.post(f"/signin?lang={lang}", data={
        "csrf": csrf_of(form.text), "account": account, "password": password, "next": ""})


@pytest.mark.parametrize("lang", LANGUAGES)
def test_repeated_failed_sign_ins_are_paused_with_retry_after(pages: Pages, lang: str
                                                              ) -> None:
    browser = pages.visitor()
    for _ in range(5):
        failed = _signin(browser, BROKER, "not the password", lang)
        assert failed.status_code == 200
        assert words(lang, "signin.failed") in failed.text
    locked = _signin(browser, BROKER, pages.passwords[BROKER], lang)
    assert locked.status_code == 429
    assert 840 <= int(locked.headers["retry-after"]) <= 900
    assert words(lang, "signin.limit.locked", minutes=15) in locked.text
    assert "tmec_session" not in locked.headers.get("set-cookie", "")
    assert 'id="account"' in locked.text  # the form is still there
    # Another account from the same address is not held up by this one's failures.
    assert _signin(pages.visitor(), "cbp.customs", pages.passwords["cbp.customs"],
                   lang).status_code == 303


@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_signed_in_person_changes_their_password(pages: Pages, lang: str) -> None:
    browser = pages.signed_in(BROKER)
    elsewhere = pages.signed_in(BROKER)  # the same account in another browser
    form = browser.get(f"/account/password?lang={lang}")
    assert form.status_code == 200
    for key in ("password.title", "password.current", "password.new", "password.repeat",
                "password.submit"):
        assert words(lang, key) in form.text, key
    token = csrf_of(form.text)
    new = "a brand new passphrase"

    def change(current: str, first: str, second: str):
        return browser.post(f"/account/password?lang={lang}", data={
            "csrf": token, "current": current, "new": first, "repeat": second})

    wrong = change("not it at all", new, new)
    assert wrong.status_code == 422
    assert words(lang, "password.error.current") in wrong.text
    differ = change(pages.passwords[BROKER], new, new + "!")
    assert differ.status_code == 422
    assert words(lang, "password.error.repeat") in differ.text
    short = change(pages.passwords[BROKER], "short", "short")
    assert short.status_code == 422
    assert words(lang, "password.error.length", minimum=12, maximum=256) in short.text
    done = change(pages.passwords[BROKER], new, new)
    assert done.status_code == 200
    assert words(lang, "password.done") in done.text
    assert browser.get("/precheck").status_code == 200  # still signed in here
    assert elsewhere.get("/precheck").status_code == 303  # signed out everywhere else
    assert _signin(pages.visitor(), BROKER, pages.passwords[BROKER]).status_code == 200
    assert _signin(pages.visitor(), BROKER, new).status_code == 303


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_registrar_sets_an_accounts_password(pages: Pages, lang: str) -> None:
    registrar = pages.signed_in(REGISTRAR)
    broker = pages.signed_in(BROKER)
    assert 'href="/accounts/password"' in registrar.get(f"/account/password?lang={lang}").text
    form = registrar.get(f"/accounts/password?lang={lang}")
    assert form.status_code == 200
    assert words(lang, "password.set_title") in form.text
    token = csrf_of(form.text)
    new = "given by the registrar"
    unknown = registrar.post(f"/accounts/password?lang={lang}", data={
        "csrf": token, "account": "nobody.broker", "new": new, "repeat": new})
    assert unknown.status_code == 404
    assert words(lang, "password.error.account", account="nobody.broker") in unknown.text
    done = registrar.post(f"/accounts/password?lang={lang}", data={
        "csrf": token, "account": BROKER, "new": new, "repeat": new})
    assert done.status_code == 200
    assert words(lang, "password.set_done", account=BROKER) in done.text
    assert broker.get("/precheck").status_code == 303  # the account's sessions ended
    assert _signin(pages.visitor(), BROKER, new).status_code == 303
    assert registrar.get("/accounts/password").status_code == 200  # the registrar's stays
    # Only the registrar sets another account's password.
    other = pages.signed_in("cbp.customs")
    refused = other.post("/accounts/password", data={
        "csrf": csrf_of(other.get("/v").text), "account": BROKER, "new": new, "repeat": new})
    assert refused.status_code == 403


def test_tmec_accounts_password_sets_one_on_the_server(pages: Pages) -> None:
    from tests.conftest import run_tmec

    home = str(pages.world.home)
    browser = pages.signed_in(BROKER)
    made = run_tmec("accounts", "password", BROKER, "--password-stdin", "--home", home,
                    stdin="set on the server itself\n")
    assert made.exit_code == 0, made.stderr
    assert "1 session(s) ended" in made.stdout
    assert browser.get("/precheck").status_code == 303
    assert _signin(pages.visitor(), BROKER, "set on the server itself").status_code == 303
    short = run_tmec("accounts", "password", BROKER, "--password-stdin", "--home", home,
                     stdin="short\n")
    assert short.exit_code == 3
    assert "12 to 256 characters" in short.stderr
    unknown = run_tmec("accounts", "password", "nobody.broker", "--password-stdin",
                       "--home", home, stdin="long enough password\n")
    assert unknown.exit_code != 0
    assert "nobody.broker" in unknown.stderr
    assert "Traceback" not in unknown.stderr
