"""The four workflows of the T-MEC origin ledger, driven over its HTTP API.

    python examples/api/workflows.py [--url http://127.0.0.1:8000] [--keys var/demo/api-keys.json]

Against a running server (`make run` serves the demo and writes the keys file), as each
user would, one request at a time, printing what each step answers:

1. **SME** (Frenos del Bajío, Celaya): upload the brake caliper's Excel BOM and read the
   determination; issue the shipment's origin token; give it to its customs broker.
2. **Customs broker** (Laredo): pre-check the shipment before the truck leaves: go / no-go.
3. **Customs officer** (CBP, at the bridge): verify the token by its digest (what the QR
   code opens), then verify the bundle the driver carries (offline-equivalent).
4. **Compliance** (an auditor): export the SME's records and check them against the trust
   file, as `tmec audit verify` does offline.

Exits non-zero at the first step that does not answer as it should.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import httpx

from ledger.audit_export import verify_export
from ledger.verify import TrustFile

ROOT = Path(__file__).resolve().parents[2]


def step(title: str) -> None:
    print(f"\n== {title}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--keys", type=Path, default=ROOT / "var" / "demo" / "api-keys.json")
    args = parser.parse_args()
    keys = {k["account"]: k["apiKey"]
            for k in json.loads(args.keys.read_text("utf-8"))["keys"]}

    def auth(account: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {keys[account]}"}

    client = httpx.Client(base_url=args.url, timeout=60)
    sme = auth("frenos-bajio.producer")
    workbook = (ROOT / "examples" / "tables" / "brake-caliper-mx.xlsx").read_bytes()

    step("1. SME: qualify the Excel BOM")
    determination = client.post("/v1/determinations", headers=sme,
                                files={"bom": ("brake-caliper-mx.xlsx", workbook)}).json()
    for result in determination["results"]:
        print(f"   {result['method']}: RVC {result['rvc']} % against {result['threshold']} % "
              f"-> {'pass' if result['pass'] else 'fail'}, headroom {result['headroom']}")
    if not determination["originating"]:
        return fail("the caliper should qualify")

    step("1. SME: issue the shipment's origin token")
    shipment = f"FBA-WORKFLOW-{int(time.time())}"
    issued = client.post("/v1/tokens", headers=sme, files={
        "bom": ("brake-caliper-mx.xlsx", workbook),
        "issue": (None, json.dumps({"shipmentId": shipment, "invoiceNumber": "FBA-77"}))})
    if issued.status_code != 201:
        return fail(f"issuing answered {issued.status_code}: {issued.text[:300]}")
    digest = issued.json()["tokenDigest"]
    print(f"   token {digest} for shipment {shipment}")
    print(f"   QR code link: {issued.json()['links']['verify']}")
    granted = client.post(f"/v1/tokens/{digest}/grants", headers=sme,
                          json={"party": "laredo-brokers"})
    if granted.status_code != 201:
        return fail(f"giving the token to the broker answered {granted.status_code}: "
                    f"{granted.text[:300]}")
    print("   given to the broker laredo-brokers")

    step("2. Broker: pre-check before the truck leaves")
    checked = client.post("/v1/precheck", headers=auth("laredo-brokers.broker"),
                          json={"shipments": [{"token": digest}], "tolerance": "2"}).json()
    verdict = checked["shipments"][0]
    print(f"   {'GO' if verdict['go'] else 'NO-GO'} ({verdict['decision']}) "
          f"{verdict['reasons'] or ''}")
    if not verdict["go"]:
        return fail("the shipment should be go")

    step("3. Customs: verify at the bridge")
    by_digest = client.get(f"/v1/verify/{digest}").json()
    print(f"   by digest: {by_digest['decision'].upper()}; certificate of "
          f"{by_digest['certificate']['exporter']['name']}")
    bundle = client.get(f"/v1/tokens/{digest}/bundle", headers=sme).content
    by_bundle = client.post("/v1/verify", content=bundle,
                            headers={"Content-Type": "application/json"}).json()
    print(f"   the driver's bundle: {by_bundle['decision'].upper()} "
          f"({len(by_bundle['checks'])} checks)")
    if by_digest["decision"] != "clear" or by_bundle["decision"] != "clear":
        return fail("customs should clear the shipment")

    step("4. Compliance: export the SME's records and check them offline")
    export = client.get("/v1/parties/frenos-bajio/export",
                        headers=auth("norte-audit.auditor"))
    trust = TrustFile.from_json(client.get("/v1/trust").content)
    report = verify_export(export.content.splitlines(), trust)
    print(f"   {len(export.content.splitlines())} lines: "
          f"{'verified' if report.ok else 'FAILS: ' + str(report.problem)}; "
          f"{report.entries} entries, {report.tokens} tokens, {report.checkpoints} "
          "checkpoints")
    if not report.ok:
        return fail("the export should verify")
    print("\nall four workflows answered as they should")
    return 0


def fail(message: str) -> int:
    print(f"FAILED: {message}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
