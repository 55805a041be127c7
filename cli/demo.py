"""`tmec demo --out DIR`: a complete ledger built from the example BOMs.

What it sets up, in ``DIR/ledger`` (a normal workspace, usable with ``--home``):

* the log key and three witnesses, one per customs authority (CBP, CBSA, ANAM), with a
  trust file requiring 2 of 3 cosignatures no older than 24 hours;
* four parties with registered keys: the Mexican brake-caliper SME, the Canadian wheel
  maker, the US cylinder-head maker and its US lash-adjuster supplier;
* one origin token per example BOM: the supplier's token first, then the cylinder head's,
  whose BOM cites the supplier token as evidence (reused, not re-proven); the wheel token is
  a 12-month blanket certification;
* bundles in ``DIR/bundles/*.json`` (supplier bundles nested), plus a customs bundle that
  discloses every BOM line of the brake caliper so the RVC can be recomputed offline;
* ``DIR/trust.json``, so that ``tmec verify DIR/bundles/X.json --trust DIR/trust.json`` is
  ``clear``;
* one API account per role, with its key and a web sign-in password, in
  ``DIR/api-keys.json`` (mode 0600): each SME
  as producer, a customs broker given every demo token, the three customs authorities, an
  auditor and the registrar, so that every role of the HTTP API can be tried at once;
* ``DIR/vc-api.json``: the DID the service issues VC-API credentials as (derived from the
  demo's key-encryption key, `ledger.api.vc_issuer`) and the URLs of
  ``/credentials/issue`` and ``/credentials/verify`` at the demo's address (``url``).
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from cli.files import read_bom
from ledger.config import DEFAULT_ORIGIN, Settings
from ledger.errors import InputError
from ledger.installation import PartyKey, Workspace
from ledger.service import Ledger, utc_now
from ledger.store.sql import SqlStore
from ledger.token import BlanketPeriod, Certification, Certifier, CertifierRole, Party
from ledger.verify import Decision, verify
from origin_rules import bom_from_dict
from origin_rules.bom import BillOfMaterials

__all__ = ["DemoToken", "run_demo"]

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"

PARTIES: dict[str, dict[str, str]] = {
    "frenos-bajio": {"id": "frenos-bajio", "name": "Frenos del Bajío S.A. de C.V.",
                     "country": "MX", "address": "Av. Industrial 410, Celaya, Gto., MX",
                     "email": "cumplimiento@frenosbajio.example", "phone": "+52 461 555 0142",
                     "contact": "Ana Lucía Ortega", "title": "Gerente de Comercio Exterior"},
    "great-lakes-wheel": {"id": "great-lakes-wheel", "name": "Great Lakes Wheel Works Inc.",
                          "country": "CA", "address": "85 Kenora Ave, Hamilton, ON, CA",
                          "email": "trade@glww.example", "phone": "+1 905 555 0199",
                          "contact": "Marc Tremblay", "title": "Customs Compliance Lead"},
    "huron-powertrain": {"id": "huron-powertrain", "name": "Huron Powertrain Components LLC",
                         "country": "US", "address": "2200 Industrial Pkwy, Flint, MI, US",
                         "email": "origin@huronpt.example", "phone": "+1 810 555 0117",
                         "contact": "Dana Whitfield", "title": "Trade Compliance Manager"},
    "lakeshore-valvetrain": {"id": "lakeshore-valvetrain",
                             "name": "Lakeshore Valvetrain Inc.", "country": "US",
                             "address": "17 Harbor St, Muskegon, MI, US",
                             "email": "quality@lakeshore.example",
                             "phone": "+1 231 555 0108", "contact": "Priya Raman",
                             "title": "Quality and Compliance Director"},
}


@dataclass(frozen=True)
class DemoToken:
    """One token the demo issued and where its bundle went."""

    example: str
    digest: str
    index: int
    bundle: Path
    size: int
    decision: Decision


def _certification(party: dict[str, str], bom: BillOfMaterials,
                   blanket: BlanketPeriod | None) -> Certification:
    del bom
    me = Party(party["name"], party["address"], party["country"], party["email"],
               party["phone"])
    return Certification(
        role=CertifierRole.PRODUCER,
        certifier=Certifier(party["contact"], party["title"], party["address"],
                            party["country"], party["phone"], party["email"]),
        producer=None, exporter=me, signature_date=utc_now().date(),
        blanket_period=blanket)


def _issue(ledger: Ledger, workspace: Workspace, key: PartyKey, bom: BillOfMaterials,
           shipment: str, blanket: BlanketPeriod | None = None) -> tuple[str, int]:
    result = ledger.issue_token(bom, _certification(key.party, bom, blanket),
                                shipment_id=shipment, key=key.key)
    workspace.save_token(result.digest, result.token)
    return result.digest, result.index


#: Where `make run` serves the demo.
DEMO_URL = "http://127.0.0.1:8000"


def run_demo(out: Path, examples: Path = EXAMPLES, *,
             database_url: str | None = None, url: str = DEMO_URL) -> list[DemoToken]:
    """Build the demo ledger in `out` (which must not already hold one).

    The ledger is the embedded SQLite database ``out/ledger/ledger.db`` unless
    `database_url` names another (an empty PostgreSQL database, in the tests). `url` is
    where it will be served (the endpoints ``vc-api.json`` names).
    """
    home = out / "ledger"
    if home.exists():
        raise InputError(f"{home} already exists: give --out an empty or new directory")
    for name in ("brake-caliper-mx", "steel-wheel-ca", "cylinder-head-us", "lash-adjusters-us"):
        if not (examples / f"{name}.json").is_file():
            raise InputError(f"the demo needs {examples / name}.json (run it from a checkout "
                             "of the repository, or pass --examples)")
    workspace = Workspace(Settings(
        home, database_url or f"sqlite:///{(home / 'ledger.db').as_posix()}", DEFAULT_ORIGIN))
    workspace.init()
    ledger = workspace.open_ledger()
    try:
        results = _populate(out, examples, workspace, ledger)
    finally:
        store = ledger.store
        if isinstance(store, SqlStore):
            store.close()
    write_vc_api(out, url)
    return results


def write_vc_api(out: Path, url: str) -> Path:
    """``out/vc-api.json``: the VC-API issuer's DID and the two endpoints at `url`.

    The DID is the one `tmec serve` derives from ``out/key-encryption.key`` (which `make
    run` gives it as ``TMEC_KEY_ENCRYPTION_KEY_FILE``), so the file and the service agree.
    """
    from ledger.api.vc_issuer import ServiceIssuer

    kek = bytes.fromhex((out / "key-encryption.key").read_text("ascii").strip())
    issuer = ServiceIssuer.from_secret(kek)
    base = url.rstrip("/")
    path = out / "vc-api.json"
    path.write_text(json.dumps({
        "issuer": issuer.did, "verificationMethod": issuer.verification_method,
        "issue": f"{base}/credentials/issue", "verify": f"{base}/credentials/verify",
        "cryptosuite": "eddsa-jcs-2022",
        "note": "POST /credentials/issue needs the registrar's API key (api-keys.json); "
                "/credentials/verify is public"}, indent=1) + "\n", encoding="utf-8")
    return path


def _populate(out: Path, examples: Path, workspace: Workspace, ledger: Ledger
              ) -> list[DemoToken]:
    keys: dict[str, PartyKey] = {}
    for party_id, party in PARTIES.items():
        keys[party_id] = workspace.new_party_key(dict(party))
        ledger.register_key(keys[party_id].key, {k: party[k] for k in ("id", "name",
                                                                         "country")})

    issued: dict[str, tuple[str, int]] = {}
    lash = read_bom(str(examples / "lash-adjusters-us.json"))
    issued["lash-adjusters-us"] = _issue(ledger, workspace, keys["lakeshore-valvetrain"], lash,
                                         "LSV-ASN-2026-08-0311")
    caliper = read_bom(str(examples / "brake-caliper-mx.json"))
    issued["brake-caliper-mx"] = _issue(ledger, workspace, keys["frenos-bajio"], caliper,
                                        "FBA-PED-26-3807-6001842")
    wheel = read_bom(str(examples / "steel-wheel-ca.json"))
    start = wheel.as_of.replace(day=1)  # twelve months from the first of the month
    blanket = BlanketPeriod(start, start.replace(year=start.year + 1) - timedelta(days=1))
    issued["steel-wheel-ca"] = _issue(ledger, workspace, keys["great-lakes-wheel"], wheel,
                                      "GLWW-BLANKET-2026-LT17", blanket)
    # The cylinder head's BOM cites the supplier's token as evidence for the lash adjusters.
    head_document = json.loads((examples / "cylinder-head-us.json").read_text("utf-8"))
    for item in head_document["items"]:
        if item["id"] == "hydraulic-lash":
            item["evidence"] = {"token": issued["lash-adjusters-us"][0]}
    head = bom_from_dict(head_document)
    issued["cylinder-head-us"] = _issue(ledger, workspace, keys["huron-powertrain"], head,
                                        "HPC-BOL-2026-09-1145")
    ledger.publish_checkpoint()

    bundles = out / "bundles"
    bundles.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(workspace.trust_path, out / "trust.json")
    trust = workspace.trust()
    results = []

    def write(name: str, bundle: dict[str, Any], digest: str, index: int) -> None:
        path = bundles / f"{name}.json"
        text = json.dumps(bundle, indent=1, ensure_ascii=False) + "\n"
        path.write_text(text, encoding="utf-8")
        decision = verify(text, trust, now=int(utc_now().timestamp())).decision
        results.append(DemoToken(name, digest, index, path, len(text.encode()), decision))

    lash_bundle = ledger.fresh_bundle(issued["lash-adjusters-us"][0])
    for name, (digest, index) in issued.items():
        suppliers = ({issued["lash-adjusters-us"][0]: lash_bundle}
                     if name == "cylinder-head-us" else None)
        write(name, ledger.fresh_bundle(digest, suppliers=suppliers), digest, index)
    digest, index = issued["brake-caliper-mx"]
    lines = range(ledger.commitment(digest).count)
    write("brake-caliper-mx.customs", ledger.fresh_bundle(digest, disclose_lines=lines),
          digest, index)
    demo_accounts(out, ledger, [d for d, _ in issued.values()], keys)
    return results


#: The demo's API accounts besides the SMEs': (role, party id, name).
SERVICE_ACCOUNTS = (
    ("registrar", "registrar", "T-MEC ledger registrar"),
    ("broker", "laredo-brokers", "Agencia Aduanal Laredo Norte"),
    ("customs", "cbp", "U.S. Customs and Border Protection"),
    ("customs", "cbsa", "Canada Border Services Agency"),
    ("customs", "anam", "Agencia Nacional de Aduanas de México"),
    ("auditor", "norte-audit", "Norte Trade Compliance Auditors"),
)


def demo_accounts(out: Path, ledger: Ledger, tokens: list[str],
                  party_keys: dict[str, PartyKey]) -> Path:
    """One API account per role with its key and password, in ``out/api-keys.json`` (0600).

    The SMEs' signing keys are also handed to the service (sealed under a new
    key-encryption key in ``out/key-encryption.key``, 0600), so the demo can issue over
    HTTP; `make run` points ``TMEC_KEY_ENCRYPTION_KEY_FILE`` at it.
    """
    import secrets

    from ledger.api.accounts import AccountStore, Role
    from ledger.api.signing_keys import KeyVault
    from ledger.web.credentials import CredentialStore

    assert isinstance(ledger.store, SqlStore)
    store = AccountStore(ledger.store.engine)
    credentials = CredentialStore(ledger.store.engine)
    keys: list[dict[str, str]] = []
    wanted = [("producer", party_id, party["name"]) for party_id, party in PARTIES.items()]
    for role, party_id, name in [*wanted, *SERVICE_ACCOUNTS]:
        account = store.create_account(Role(role), party_id, name)
        issued = store.issue_key(account.account_id, "demo")
        password = secrets.token_urlsafe(12)  # 16 characters, for the web pages' sign-in
        credentials.set_password(account.account_id, password)
        keys.append({"account": account.account_id, "role": role, "party": party_id,
                     "name": name, "apiKey": issued.key, "password": password})
    for digest in tokens:
        store.grant(digest, "laredo-brokers", "registrar.registrar")
    kek = secrets.token_bytes(32)
    kek_path = out / "key-encryption.key"
    kek_path.touch(mode=0o600)
    kek_path.write_text(kek.hex() + "\n", encoding="ascii")
    vault = KeyVault(ledger.store.engine, kek)
    for party_key in party_keys.values():
        vault.hold(party_key.key, party_key.party)
    path = out / "api-keys.json"
    path.touch(mode=0o600)
    path.write_text(json.dumps({"note": "demo API keys: send as 'Authorization: Bearer "
                                "KEY'; sign in to the web pages with the account and its "
                                "password; never use these outside the demo",
                                "keys": keys}, indent=1, ensure_ascii=False) + "\n",
                    encoding="utf-8")
    return path
