"""`civicstack wallet ...`: an agency's CSV push with its bad rows reported, register documents,
grants, status changes, and the offline verifier working from a trust bundle file."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from civicstack.cli import app
from civicstack.config import get_settings
from civicstack.kit.audit import Actor
from civicstack.kit.cli_support import cli_transaction, secret_store
from civicstack.registry.models import Person
from civicstack.wallet import qr, service
from civicstack.wallet.site import wallet_site
from tests.support.people import make_person
from tests.support.wallet import give_id_card, re_encoded_key_bindings

runner = CliRunner()


def civicstack(*arguments: str) -> Result:
    return runner.invoke(app, list(arguments))


@pytest.fixture
def people(data_dir: Path) -> list[Person]:
    assert civicstack("wallet", "seed").exit_code == 0
    with cli_transaction() as session:
        an = make_person(session, "Nguyễn Văn An", date(1990, 5, 17))
        binh = make_person(session, "Trần Thị Bình", date(1985, 2, 1))
        give_id_card(session, an)
        return [an, binh]


def write_licences(path: Path, people: list[Person]) -> Path:
    an, binh = people
    path.write_text(
        "subject_id,personal_id_number,full_name,date_of_birth,licence_number,classes,"
        "issued_on,valid_to\n"
        f'{an.personal_id_number},{an.personal_id_number},{an.full_name},1990-05-17,'
        '790000000001,"[""A1"",""B""]",2020-01-01,2030-01-01\n'
        f"{binh.personal_id_number},{binh.personal_id_number},{binh.full_name},1985-02-01,"
        "790000000002,B,2020-01-01,2030-01-01\n"
        f"{binh.personal_id_number},{binh.personal_id_number},Trần Thị Bính,1985-02-01,"
        '790000000003,"[""B""]",2020-01-01,01/01/2030\n', encoding="utf-8")
    return path


def test_a_csv_push_issues_the_good_rows_and_reports_each_bad_one(
        people: list[Person], tmp_path: Path) -> None:
    pushed = civicstack("wallet", "issue", "--type", "driving_licence",
                        "--csv", str(write_licences(tmp_path / "gplx.csv", people)))
    assert pushed.exit_code == 1
    assert "issued 1 of 3 driving_licence documents" in pushed.stdout
    assert "row 3" in pushed.stderr
    assert "classes: must be JSON in the CSV cell" in pushed.stderr
    assert "row 4" in pushed.stderr
    assert "valid_to: must be a date written YYYY-MM-DD" in \
        pushed.stderr
    with cli_transaction() as session:
        held = service.cards(session, wallet_site(get_settings(), secret_store()),
                             people[0].personal_id_number)
    assert [card.claims["classes"] for card in held] == [["A1", "B"]]


def test_a_missing_or_unreadable_input_is_a_clear_error(people: list[Person],
                                                        tmp_path: Path) -> None:
    no_source = civicstack("wallet", "issue", "--type", "driving_licence")
    assert no_source.exit_code == 1
    assert "give --subject" in no_source.stderr
    missing = civicstack("wallet", "issue", "--type", "driving_licence", "--csv",
                         str(tmp_path / "nope.csv"))
    assert missing.exit_code == 1
    assert "cannot read" in missing.stderr
    unknown = civicstack("wallet", "issue", "--type", "passport", "--subject", "x")
    assert unknown.exit_code == 1
    assert "no document type 'passport'" in unknown.stderr


def present_id_card(person: Person, path: Path) -> Path:
    """The presentation as raw SD-JWT text, the form a wallet app sends over the network."""
    site = wallet_site(get_settings(), secret_store())
    with cli_transaction() as session:
        card = service.cards(session, site, person.personal_id_number)[0]
        path.write_text(service.present_in_person(
            session, site, person.personal_id_number, card.credential.public_id,
            ["full_name", "date_of_birth"]), encoding="utf-8")
        return path


def qr_code_text(person: Person, path: Path) -> Path:
    """What a scanner reads from the portal's QR code: `VN1:` + Base45 of the compressed
    presentation, as the wallet page encodes it."""
    path.write_text(qr.encode(present_id_card(person, path).read_text("utf-8")) + "\n",
                    encoding="utf-8")
    return path


def test_the_offline_verifier_checks_a_qr_code_against_a_cached_bundle(
        people: list[Person], tmp_path: Path) -> None:
    an = people[0]
    issued = civicstack("wallet", "issue", "--type", "id_card", "--subject",
                        an.personal_id_number)
    assert issued.exit_code == 0, issued.output
    bundle = tmp_path / "bundle.json"
    assert civicstack("wallet", "trust-bundle", "--out", str(bundle)).exit_code == 0
    shown = present_id_card(an, tmp_path / "qr.txt")
    seen = tmp_path / "seen.json"

    verified = civicstack("wallet", "verify", str(shown), "--bundle", str(bundle),
                          "--seen", str(seen))
    assert verified.exit_code == 0, verified.output
    assert '  full_name: "Nguyễn Văn An"' in verified.stdout
    assert "(8 claims not disclosed)" in verified.stdout
    replayed = civicstack("wallet", "verify", str(shown), "--bundle", str(bundle),
                          "--seen", str(seen))
    assert replayed.exit_code == 1
    assert "replay" in replayed.stderr
    for how, re_encoded in re_encoded_key_bindings(shown.read_text("utf-8")).items():
        replayed_file = tmp_path / "replayed.txt"
        replayed_file.write_text(re_encoded, encoding="utf-8")
        refused = civicstack("wallet", "verify", str(replayed_file), "--bundle", str(bundle),
                             "--seen", str(seen))
        assert refused.exit_code == 1, how
        assert "full_name" not in refused.stdout, how
    shown_again = present_id_card(an, tmp_path / "qr-2.txt")  # the same fields, a new QR code
    assert civicstack("wallet", "verify", str(shown_again), "--bundle", str(bundle),
                      "--seen", str(seen)).exit_code == 0


def test_a_revocation_reaches_the_offline_verifier_with_the_next_bundle(
        people: list[Person], tmp_path: Path) -> None:
    an = people[0]
    civicstack("wallet", "issue", "--type", "id_card", "--subject", an.personal_id_number)
    shown = present_id_card(an, tmp_path / "qr.txt")
    with cli_transaction() as session:
        public_id = service.cards(session, wallet_site(get_settings(), secret_store()),
                                  an.personal_id_number)[0].credential.public_id
    changed = civicstack("wallet", "status", public_id, "--set", "revoked",
                         "--reason", "card reported stolen")
    assert changed.exit_code == 0
    assert "revoked" in changed.stdout
    bundle = tmp_path / "bundle.json"
    civicstack("wallet", "trust-bundle", "--out", str(bundle))
    refused = civicstack("wallet", "verify", str(shown), "--bundle", str(bundle))
    assert refused.exit_code == 1
    assert "revoked" in refused.stderr


def test_a_bundle_from_another_installation_does_not_trust_our_issuers(
        people: list[Person], tmp_path: Path) -> None:
    an = people[0]
    civicstack("wallet", "issue", "--type", "id_card", "--subject", an.personal_id_number)
    shown = present_id_card(an, tmp_path / "qr.txt")
    bundle = tmp_path / "bundle.json"
    civicstack("wallet", "trust-bundle", "--out", str(bundle))
    other = json.loads(bundle.read_text())
    for issuer, jwks in other["issuers"].items():
        other["issuers"][issuer] = {"keys": [{**jwks["keys"][0], "kid": "another-key"}]}
    bundle.write_text(json.dumps(other))
    refused = civicstack("wallet", "verify", str(shown), "--bundle", str(bundle))
    assert refused.exit_code == 1
    assert "is not trusted here" in refused.stderr
    broken = civicstack("wallet", "verify", str(shown), "--bundle", str(tmp_path / "none"))
    assert broken.exit_code == 1
    assert "cannot read the trust bundle" in broken.stderr


def test_a_grant_names_an_existing_issuer_once(people: list[Person]) -> None:
    granted = civicstack("wallet", "grant", "--issuer", "bo-cong-an", "--key", "csgt")
    assert granted.exit_code == 0
    again = civicstack("wallet", "grant", "--issuer", "bo-cong-an", "--key", "csgt")
    assert again.exit_code == 1
    assert "already" in again.stderr
    unknown = civicstack("wallet", "grant", "--issuer", "bo-khong-ton-tai", "--key", "csgt")
    assert unknown.exit_code == 1
    assert "no issuing agency" in unknown.stderr


def test_an_official_is_granted_to_act_for_an_issuer(people: list[Person]) -> None:
    granted = civicstack("wallet", "grant", "--issuer", "bo-cong-an", "--official",
                         "police.hanoi")
    assert granted.exit_code == 0
    assert "official:police.hanoi" in granted.stdout
    with cli_transaction() as session:
        issuer = service.issuer(session, "bo-cong-an").id
        assert service.acts_for(session, Actor("official", "police.hanoi"), issuer)
        assert not service.acts_for(session, Actor("apikey", "police.hanoi"), issuer)
    for named in ((), ("--key", "csgt", "--official", "police.hanoi")):
        refused = civicstack("wallet", "grant", "--issuer", "bo-cong-an", *named)
        assert refused.exit_code == 1
        assert "either --key or --official" in refused.stderr


def test_an_issuer_key_rotation_keeps_old_documents_verifiable(people: list[Person],
                                                               tmp_path: Path) -> None:
    an = people[0]
    civicstack("wallet", "issue", "--type", "id_card", "--subject", an.personal_id_number)
    rotated = civicstack("wallet", "rotate-key", "bo-cong-an")
    assert rotated.exit_code == 0
    assert "retired" in rotated.stdout
    bundle = tmp_path / "bundle.json"
    civicstack("wallet", "trust-bundle", "--out", str(bundle))
    assert len(json.loads(bundle.read_text())["issuers"][
        "http://127.0.0.1:8000/wallet/issuers/bo-cong-an"]["keys"]) == 2
    shown = present_id_card(an, tmp_path / "qr.txt")
    assert civicstack("wallet", "verify", str(shown), "--bundle", str(bundle)).exit_code == 0


def test_the_offline_verifier_reads_the_text_under_the_qr_code(
        people: list[Person], tmp_path: Path) -> None:
    an = people[0]
    civicstack("wallet", "issue", "--type", "id_card", "--subject", an.personal_id_number)
    bundle = tmp_path / "bundle.json"
    civicstack("wallet", "trust-bundle", "--out", str(bundle))
    scanned = qr_code_text(an, tmp_path / "qr.txt")
    assert scanned.read_text("utf-8").startswith("VN1:")
    seen = tmp_path / "seen.json"

    verified = civicstack("wallet", "verify", str(scanned), "--bundle", str(bundle),
                          "--seen", str(seen))
    assert verified.exit_code == 0, verified.output
    assert '  full_name: "Nguyễn Văn An"' in verified.stdout
    from_stdin = runner.invoke(app, ["wallet", "verify", "-", "--bundle", str(bundle),
                                     "--seen", str(seen)], input=scanned.read_text("utf-8"))
    assert from_stdin.exit_code == 1
    assert "replay" in from_stdin.stderr


@pytest.mark.parametrize(("scanned", "reason"), [
    ("VN1:not base45 at all!", "the QR code text is not Base45"),
    ("VN1:" + qr.base45_encode(b"no zlib stream here"), "the QR code's content is damaged"),
    ("a shopping list", "this is not an SD-JWT presentation"),
    ("", "this is not an SD-JWT presentation"),
])
def test_text_that_is_no_qr_code_is_refused_in_words(
        people: list[Person], tmp_path: Path, scanned: str, reason: str) -> None:
    bundle = tmp_path / "bundle.json"
    civicstack("wallet", "trust-bundle", "--out", str(bundle))
    text = tmp_path / "qr.txt"
    text.write_text(scanned, encoding="utf-8")
    refused = civicstack("wallet", "verify", str(text), "--bundle", str(bundle))
    assert refused.exit_code == 1
    assert f"refused: {reason}" in refused.stderr
    assert refused.exception is None or isinstance(refused.exception, SystemExit)


def test_a_missing_presentation_file_is_a_clear_error(people: list[Person],
                                                      tmp_path: Path) -> None:
    missing = civicstack("wallet", "verify", str(tmp_path / "nope.txt"), "--bundle",
                         str(tmp_path / "bundle.json"))
    assert missing.exit_code == 1
    assert "cannot read" in missing.stderr
    assert isinstance(missing.exception, SystemExit)
