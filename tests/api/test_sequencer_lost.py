"""A registration whose sequencer died with it in flight is neither lost nor logged twice.

Under `tmec serve` the workers hand their statements to the server's sequencer process
(`ledger.shared_sequencer`); when that process dies, the statements in flight fail with
`StoreUnavailableError`, each committed or not. The worker then looks the token up in the
log and submits it again only if it is not there (`Service.log_prepared`). Both cases,
made deterministic with a stand-in sequencer that loses its first answer after
committing the statement, or before.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from concurrent.futures import Future
from typing import Any

import pytest

from ledger.errors import StoreUnavailableError
from ledger.service import Ledger
from tests.api.conftest import World
from tests.conftest import ROOT


class LosesItsFirstAnswer:
    """Appends like the real sequencer, but the first statement's answer is lost, after
    its commit (`committed`) or before it, as when the sequencer process is killed."""

    def __init__(self, ledger: Ledger, *, committed: bool) -> None:
        self.ledger = ledger
        self.committed = committed
        self.submitted = 0

    def submit(self, statement: Mapping[str, Any], *,
               blobs: Sequence[tuple[str, bytes]] = (),
               disclosures: Sequence[tuple[str, bytes]] = ()) -> Future[int]:
        self.submitted += 1
        future: Future[int] = Future()
        if self.submitted == 1 and not self.committed:
            future.set_exception(StoreUnavailableError("the sequencer stopped (lost)"))
            return future
        (index,) = self.ledger.append([statement], blobs=blobs, disclosures=disclosures)
        if self.submitted == 1:
            future.set_exception(StoreUnavailableError("the sequencer stopped (committed)"))
        else:
            future.set_result(index)
        return future

    def close(self) -> None:
        """Nothing to stop."""


@pytest.mark.parametrize("committed", [True, False], ids=["committed", "not-committed"])
def test_a_lost_answer_gives_the_token_once(sqlite_world: World, committed: bool) -> None:
    world = sqlite_world
    service = world.service
    real = service.sequencer
    stand_in = LosesItsFirstAnswer(service.ledger, committed=committed)
    service.sequencer = stand_in  # type: ignore[assignment]
    caliper = json.loads((ROOT / "examples" / "brake-caliper-mx.json").read_text("utf-8"))
    before = service.ledger.size
    try:
        issued = world.client.post("/v1/tokens", headers=world.auth("frenos-bajio.producer"),
                                   json={"shipmentId": "LOST-1", "bom": caliper})
    finally:
        service.sequencer = real
    assert issued.status_code == 201, issued.text
    body = issued.json()
    # Looked up when it was committed; sent again (once) when it was not.
    assert stand_in.submitted == (1 if committed else 2)
    assert service.ledger.size == before + 1  # logged exactly once
    assert service.ledger.token_index(body["tokenDigest"]) == body["index"]
