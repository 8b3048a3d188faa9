"""Data quality and readiness: published records checked against the register with every
mismatch reported for clean-up; the public ranking of ministries and provinces follows from
real requests, decisions and quality reports."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from pathlib import Path

from joserfc.jwk import ECKey
from typer.testing import CliRunner

from civicstack.cli import app as cli
from civicstack.exchange import ranking
from civicstack.kit.db import transaction
from civicstack.registry import service as registry
from civicstack.registry.models import Person, Sex
from tests.support import exchange
from tests.support.api import assert_problem
from tests.support.people import CLERK, make_person
from tests.support.web import Site

SUBSCRIBERS = "subscriber_records"
PURPOSE = "locating a witness"
RECENT = date.today().isoformat()


def publish(site: Site, key: ECKey, provider: str, code: str, rows: list[str]) -> None:
    """Declare a dataset of phone subscribers and upload these CSV rows."""
    declared = exchange.call(site, key, provider, "PUT", f"datasets/{code}", json={
        "title": "Mobile subscribers", "fields": ["phone", "full_name"],
        "required": ["phone", "full_name"]})
    assert declared.status_code == 201, declared.text
    body = "\n".join(["personal_id_number,phone,full_name,updated_at", *rows])
    uploaded = exchange.call(site, key, provider, "PUT", f"datasets/{code}/records",
                             content=body.encode(), headers={"Content-Type": "text/csv"})
    assert uploaded.status_code == 200, uploaded.text


def test_the_quality_check_reports_each_mismatch_with_its_reason_for_the_provider(
        site: Site, an: Person, data_dir: Path) -> None:
    with transaction(site.services.session_factory) as session:
        late = make_person(session, "Lê Văn Cũ", date(1950, 1, 1), Sex.MALE)
        registry.record_death(session, CLERK, late.personal_id_number, date(2024, 1, 1))
    telecom = exchange.join(site, "mic-telecom")
    unregistered = "001090999999"
    publish(site, telecom, "mic-telecom", SUBSCRIBERS, [
        f"{an.personal_id_number},0912345678,Nguyễn Văn An,{RECENT}",
        f"{an.personal_id_number},0912000000,Nguyen Van Anh,{RECENT}",
        f"12345,0913000000,Phạm Thị Sai,{RECENT}",
        f"{unregistered},0914000000,Người Lạ,{RECENT}",
        f"{late.personal_id_number},0915000000,Lê Văn Cũ,{RECENT}",
        f"{an.personal_id_number},0916000000,,2020-01-01",
    ])
    checked = CliRunner().invoke(cli, ["exchange", "quality-check", "--member", "mic-telecom"])
    assert checked.exit_code == 0, checked.output
    assert "6 records, 5 complete, 3 valid ID numbers, 2 names matching, 5 fresh" in \
        checked.output
    report = exchange.call(site, telecom, "mic-telecom", "GET",
                           f"datasets/{SUBSCRIBERS}/quality.csv")
    rows = list(csv.reader(io.StringIO(report.text.removeprefix("\ufeff"))))
    assert rows[0] == ["personal_id_number", "reason", "phone", "full_name"]
    reasons = {row[2]: row[1] for row in rows[1:]}
    assert reasons == {
        "0912000000": "the name differs from the register",
        "0913000000": "the ID number is malformed",
        "0914000000": "the ID number is not in the population register",
        "0915000000": "the person is recorded as deceased",
        "0916000000": "missing full_name; the name differs from the register; "
                      f"not updated for {(date.today() - date(2020, 1, 1)).days} days",
    }
    police = exchange.join(site, "bca-police")
    not_theirs = exchange.call(site, police, "bca-police", "GET",
                               f"datasets/{SUBSCRIBERS}/quality.csv")
    assert_problem(not_theirs, 403)


def test_the_ranking_follows_from_real_requests_decisions_and_quality(
        site: Site, an: Person, data_dir: Path) -> None:
    """A ministry that publishes clean data and answers every agreed request ranks above a
    province whose records are wrong, whose reads fail and which refuses to share."""
    telecom = exchange.join(site, "mic-telecom", "ministry", "Ministry of Information")
    hanoi = exchange.join(site, "ha-noi", "province", "Hà Nội People's Committee")
    police = exchange.join(site, "bca-police", "system")
    publish(site, telecom, "mic-telecom", SUBSCRIBERS,
            [f"{an.personal_id_number},0912345678,Nguyễn Văn An,{RECENT}"])
    publish(site, hanoi, "ha-noi", "hanoi_tenants", ["12345,0913000000,Người Thuê,2019-01-01"])
    with transaction(site.services.session_factory) as session:
        exchange.agree(session, "bca-police", SUBSCRIBERS, ("phone",), PURPOSE)
        exchange.agree(session, "bca-police", "hanoi_tenants", ("phone",), PURPOSE)
    for _ in range(3):
        answered = exchange.read(site, police, "bca-police", SUBSCRIBERS,
                                 an.personal_id_number, PURPOSE)
        assert answered.status_code == 200
    for _ in range(2):
        failed = exchange.read(site, police, "bca-police", "hanoi_tenants",
                               an.personal_id_number, PURPOSE)
        assert failed.status_code == 404
    today = date.today()
    asked = exchange.call(site, police, "bca-police", "POST", "agreement-requests", json={
        "dataset": "hanoi_tenants", "fields": ["full_name"], "purpose": "a second purpose",
        "legal_basis": "Law on Residence 2020, art. 37", "valid_from": today.isoformat(),
        "valid_to": (today + timedelta(days=30)).isoformat()}).json()
    exchange.call(site, hanoi, "ha-noi", "POST", f"agreement-requests/{asked['id']}/decision",
                  json={"grant": False, "justification": "tenants' data is not shared yet"})
    assert CliRunner().invoke(cli, ["exchange", "quality-check"]).exit_code == 0

    with transaction(site.services.session_factory) as session:
        first, second = ranking.ranking(session)
    assert (first.code, first.rank, second.code, second.rank) == \
        ("mic-telecom", 1, "ha-noi", 2)
    assert (first.success_rate, first.id_validity, first.freshness) == (1.0, 1.0, 1.0)
    assert (second.success_rate, second.agreements_honoured, second.id_validity) == \
        (0.0, 0.0, 0.0)
    assert first.latency_p95 is not None
    assert second.latency_p50 is None  # nothing of it was ever answered
    # 5 of 15 for one dataset; full marks for answers, completeness, validity and freshness;
    # no request decided: nothing for agreements honoured.
    latency = ranking.WEIGHTS["latency"] * first.parts()["latency"]
    assert first.score == round(5 + 20 + latency + 10 + 20 + 10, 1)
    assert second.score == (5 + 10)  # one dataset, its record complete but stale

    page = site.client.get("/exchange/ranking?lang=en")
    assert page.status_code == 200
    assert page.text.index('data-member="mic-telecom"') < page.text.index('data-member="ha-noi"')
    assert 'data-chart="score-mic-telecom"' in page.text
    table = list(csv.reader(io.StringIO(site.client.get("/exchange/ranking.csv").text
                                        .removeprefix("\ufeff"))))
    assert [row[:2] for row in table] == [["rank", "code"], ["1", "mic-telecom"],
                                          ["2", "ha-noi"]]
    assert "bca-police" not in page.text  # systems are not ranked


def test_a_dataset_is_published_and_uploaded_from_the_command_line(
        site: Site, an: Person, data_dir: Path, tmp_path: Path) -> None:
    exchange.join(site, "mic-telecom")
    runner = CliRunner()
    published = runner.invoke(cli, ["exchange", "publish-dataset", SUBSCRIBERS, "--provider",
                                    "mic-telecom", "--title", "Mobile subscribers", "--fields",
                                    "phone,full_name", "--required", "phone"])
    assert published.exit_code == 0, published.output
    records = tmp_path / "records.json"
    records.write_text(f'{{"records": [{{"personal_id_number": "{an.personal_id_number}", '
                       f'"phone": "0912345678"}}]}}', encoding="utf-8")
    uploaded = runner.invoke(cli, ["exchange", "upload", SUBSCRIBERS, str(records),
                                   "--provider", "mic-telecom"])
    assert (uploaded.exit_code, uploaded.output.strip()) == (0, "1 records of "
                                                                 "subscriber_records uploaded")
    bad = tmp_path / "bad.csv"
    bad.write_text("phone\n0912345678\n", encoding="utf-8")
    refused = runner.invoke(cli, ["exchange", "upload", SUBSCRIBERS, str(bad), "--provider",
                                  "mic-telecom"])
    assert refused.exit_code == 1
    assert "header row with personal_id_number" in refused.output
    page = site.client.get("/exchange/ranking")  # Vietnamese by default
    assert "Mức sẵn sàng chia sẻ dữ liệu" in page.text
    assert 'data-member="mic-telecom"' in page.text
