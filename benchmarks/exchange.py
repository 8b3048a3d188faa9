"""Benchmark: data-exchange requests per second per core, against the same register lookup
made directly through the register's service, in the same run on the same database.

1. Whole stack: `POST /api/v1/exchange/verify_person` through the app (in-process test
   client): the member's RFC 7523 assertion verified (ES256) and its jti spent, the agreement
   found, the audited read of the person, the answer signed (ES256 compact JWS), the message
   chained in the log, one commit.
2. The exchange's service alone (`exchange.service.authenticate` + `answer` in a transaction
   per request): the same work without HTTP, JSON and the framework.
3. The direct lookup: `registry.service.get_person` (the audited read, nothing else) in a
   transaction per request, which is what a ministry's system would cost us if it were
   trusted with the register itself.

Assertions are signed before timing (that is the member's work, not ours). Everything runs in
one thread on an SQLite file in WAL mode, so requests per second of wall time are per core;
requests per CPU-second of the process are printed too. The machine may be shared: each
figure is the median of three rounds.

    .venv/bin/python benchmarks/exchange.py --requests 300
"""

from __future__ import annotations

import argparse
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

from joserfc import jwt
from joserfc.jwk import ECKey

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # tests.support builds people through the register's service

from fastapi.testclient import TestClient  # noqa: E402
from tests.support.people import make_person  # noqa: E402

from civicstack.app import create_app  # noqa: E402
from civicstack.config import Settings  # noqa: E402
from civicstack.exchange import service  # noqa: E402
from civicstack.exchange.site import EXCHANGE_KEYS  # noqa: E402
from civicstack.kit.appservices import services_of  # noqa: E402
from civicstack.kit.audit import Actor  # noqa: E402
from civicstack.kit.cli_support import CLI_ACTOR  # noqa: E402
from civicstack.kit.db import transaction  # noqa: E402
from civicstack.kit.migrate import upgrade  # noqa: E402
from civicstack.registry import service as registry  # noqa: E402
from civicstack.registry.units import sync_reference_units  # noqa: E402

ROUNDS = 3
MEMBER = "mof-tax"
PURPOSE = "tax registration check"
ENDPOINT = "http://testserver/api/v1/exchange/verify_person"


def rates(work: Callable[[int], None], count: int) -> tuple[float, float]:
    """(per wall second, per CPU second): medians of ROUNDS rounds of `count` operations."""
    wall, cpu = [], []
    for round_number in range(ROUNDS):
        started, started_cpu = time.perf_counter(), time.process_time()
        for index in range(count):
            work(round_number * count + index)
        wall.append(count / (time.perf_counter() - started))
        cpu.append(count / max(time.process_time() - started_cpu, 1e-9))
    return statistics.median(wall), statistics.median(cpu)


def assertions(key: ECKey, count: int) -> list[str]:
    now = int(time.time())
    return [jwt.encode({"alg": "ES256", "kid": key.kid},
                       {"iss": MEMBER, "sub": MEMBER, "aud": ENDPOINT, "iat": now,
                        "exp": now + 290, "jti": secrets.token_hex(12)}, key)
            for _ in range(count)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=300, help="per round")
    parser.add_argument("--people", type=int, default=200)
    options = parser.parse_args()
    count, people_count = options.requests, options.people
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/bench.db"
        upgrade(url)
        app = create_app(Settings(database_url=url, data_dir=Path(folder) / "data",
                                  log_json=False, log_level="WARNING"))
        factory = services_of(app).session_factory
        key = ECKey.generate_key("P-256", parameters={"kid": "bench-1"})
        with transaction(factory) as session:
            sync_reference_units(session)
            numbers = [make_person(session, f"Nguyễn Văn {i}", date(1980, 1, 1 + i % 28))
                       .personal_id_number for i in range(people_count)]
            service.register_member(session, CLI_ACTOR, MEMBER, "Taxation", "ministry",
                                    {"keys": [key.as_dict(private=False)]})
            service.add_agreement(session, CLI_ACTOR, service.NewAgreement(
                MEMBER, "verify_person", ("full_name", "date_of_birth"), PURPOSE,
                "Law on Tax Administration 2019, art. 26", date.today() - timedelta(days=1),
                date.today() + timedelta(days=365)))
        client = TestClient(app)
        signer = services_of(app)[EXCHANGE_KEYS].signing_key("ES256")
        tokens = assertions(key, 2 * ROUNDS * count)

        def over_http(index: int) -> None:
            response = client.post("/api/v1/exchange/verify_person", json={
                "personal_id_number": numbers[index % len(numbers)], "purpose": PURPOSE},
                headers={"Authorization": f"Bearer {tokens[index]}"})
            assert response.status_code == 200, response.text

        def service_only(index: int) -> None:
            with transaction(factory) as session:
                member = service.authenticate(session, tokens[ROUNDS * count + index], ENDPOINT)
                found = service.answer(session, signer, member, "verify_person",
                                       numbers[index % len(numbers)], PURPOSE)
                assert found.token is not None

        reader = Actor("exchange", MEMBER)

        def direct(index: int) -> None:
            with transaction(factory) as session:
                registry.get_person(session, reader, numbers[index % len(numbers)], PURPOSE)

        client.get("/exchange/jwks.json")  # loads the exchange's signing key, untimed
        for warm_up in range(10):
            direct(warm_up)
        exchange_rate, exchange_cpu = rates(over_http, count)
        service_rate, service_cpu = rates(service_only, count)
        direct_rate, direct_cpu = rates(direct, count)
    print(f"exchange request, whole stack (HTTP)  {exchange_rate:8,.0f}/s  "
          f"{exchange_cpu:8,.0f}/CPU-s   ratio to direct {exchange_rate / direct_rate:.2f}")
    print(f"exchange service, no HTTP             {service_rate:8,.0f}/s  "
          f"{service_cpu:8,.0f}/CPU-s   ratio to direct {service_rate / direct_rate:.2f}")
    print(f"register lookup, direct (audited)     {direct_rate:8,.0f}/s  "
          f"{direct_cpu:8,.0f}/CPU-s")


if __name__ == "__main__":
    main()
