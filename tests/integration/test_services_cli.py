"""`civicstack services ...`: the demo catalogue in every province, an administrator's catalogue
import (good, re-imported, and bad files reported entry by entry), listing, re-routing by a
mapping file and by the real pre-2025 units, the statistics, and demo dossiers."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from civicstack.cli import app
from civicstack.kit.cli_support import cli_transaction
from civicstack.services import repository, service
from civicstack.services.models import Dossier
from civicstack.services.payments import LocalTreasury
from civicstack.wallet import service as wallet
from tests.support.services import citizen, parent_with_id_card
from tests.support.wallet import wallet_site

runner = CliRunner()


def civicstack(*arguments: str) -> Result:
    return runner.invoke(app, list(arguments))


def procedure(code: str = "DVC-XX-01", **changes: Any) -> dict[str, Any]:
    return {"code": code, "name": "Cấp giấy phép kinh doanh karaoke",
            "name_en": "Karaoke business licence", "agency": "so-van-hoa",
            "legal_basis": "Nghị định 54/2019/NĐ-CP", "fee": 6_000_000, "online_fee": 3_000_000,
            "processing_days": 5, "online_level": "full", "provinces": ["01", "79"],
            "fields": [{"name": "venue", "label": "Địa điểm", "label_en": "Venue",
                        "source": "applicant", "type": "string", "required": True}],
            "documents": [{"code": "floor_plan", "label": "Sơ đồ", "label_en": "Floor plan",
                           "wallet_document_type": None, "required": True}], **changes}


AGENCY = {"code": "so-van-hoa", "name": "Sở Văn hóa, Thể thao và Du lịch",
          "name_en": "Provincial Department of Culture, Sports and Tourism",
          "level": "province", "ministry": "Bộ Văn hóa, Thể thao và Du lịch",
          "deciding_role": "agency_approver"}


def write(path: Path, content: Any) -> Path:
    path.write_text(json.dumps(content, ensure_ascii=False), encoding="utf-8")
    return path


@pytest.fixture
def seeded(data_dir: Path) -> Path:
    result = civicstack("services", "seed")
    assert result.exit_code == 0, result.output
    assert "published in 34 provinces" in result.output
    return data_dir


def test_seed_publishes_the_demo_catalogue_in_every_province_once(seeded: Path) -> None:
    again = civicstack("services", "seed")
    assert again.exit_code == 0
    assert "0 rows added" in again.output
    listed = civicstack("services", "list", "--province", "79")
    assert listed.exit_code == 0
    assert "DVC-HT-01" in listed.output
    assert "27 procedures" in listed.output
    assert "DVC-XD-01" not in civicstack("services", "list", "--province", "04").output
    unknown = civicstack("services", "list", "--province", "99")
    assert unknown.exit_code == 1
    assert "Unknown province code" in unknown.output


def test_an_imported_catalogue_is_added_then_updated_by_code(seeded: Path,
                                                            tmp_path: Path) -> None:
    catalogue = {"agencies": [AGENCY], "procedures": [procedure()]}
    first = civicstack("services", "import", str(write(tmp_path / "c.json", catalogue)))
    assert first.exit_code == 0, first.output
    assert "agencies: 1 added" in first.output
    assert "procedures: 1 added" in first.output
    assert "2 province offerings added" in first.output
    same = civicstack("services", "import", str(tmp_path / "c.json"))
    assert "procedures: 0 added, 0 updated" in same.output
    cheaper = write(tmp_path / "d.json", [procedure(online_fee=0)])  # a bare list works too
    assert "procedures: 0 added, 1 updated" in civicstack("services", "import",
                                                          str(cheaper)).output
    with cli_transaction() as session:
        offered = service.published(session, "DVC-XX-01", "79")
        assert (offered.fee, offered.online_fee) == (6_000_000, 0)
        assert offered.agency.ministry == "Bộ Văn hóa, Thể thao và Du lịch"
    assert "DVC-XX-01" in civicstack("services", "list", "--province", "01").output


def test_a_bad_catalogue_is_refused_entry_by_entry_and_nothing_is_written(
        seeded: Path, tmp_path: Path) -> None:
    justice = "so-tu-phap"  # an agency of the demo seed
    bad = {"agencies": [{**AGENCY, "level": "district"}], "procedures": [
        procedure(agency=justice),
        procedure("DVC-XX-02", fee=-5, agency="nobody", online_level="sometimes"),
        procedure("DVC-XX-01", agency=justice),
        procedure("DVC-XX-03", agency=justice, provinces=["99"],
                  fields=[{"name": "x", "label": "x", "label_en": "x", "source": "guess",
                           "type": "string"}]),
        "not an object"]}
    result = civicstack("services", "import", str(write(tmp_path / "bad.json", bad)))
    assert result.exit_code == 1
    for line in ("agencies[0].level: must be one of: ministry, province, ward",
                 "procedures[1].fee: must be a whole number, zero or more",
                 "procedures[1].agency: unknown agency",
                 "procedures[1].online_level: must be one of: full, partial",
                 "procedures[2].code: appears twice in the file",
                 "procedures[3].fields[0].source: must be register:",
                 "procedures[3].provinces: must be a list of current province codes",
                 "procedures[4]: must be a JSON object", "refused: 8 problem(s); nothing "
                 "was changed"):
        assert line in result.output
    with cli_transaction() as session:
        assert repository.procedure(session, "DVC-XX-01") is None
        assert repository.agency(session, "so-van-hoa") is None
    broken = tmp_path / "broken.json"
    broken.write_text("[{", encoding="utf-8")
    unreadable = civicstack("services", "import", str(broken))
    assert unreadable.exit_code == 1
    assert "cannot read JSON" in unreadable.output


@pytest.fixture
def submitted(seeded: Path, tmp_path: Path) -> Dossier:
    with cli_transaction() as session:
        wallet.seed_catalogue(session)
        site = wallet_site(session)
        mai = parent_with_id_card(session, site)
        draft = service.start_draft(session, citizen(mai), mai.personal_id_number,
                                    "DVC-CT-04")
        return service.submit(session, site, citizen(mai), draft,
                              LocalTreasury(tmp_path / "treasury"))


def test_reroute_moves_open_dossiers_by_a_mapping_file(submitted: Dossier,
                                                       tmp_path: Path) -> None:
    mapping = tmp_path / "merger.csv"
    mapping.write_text("old_ward_code,new_province_code,new_ward_code\n"
                       f"{submitted.ward_code},79,26506\n", encoding="utf-8")
    result = civicstack("services", "reroute", "--mapping", str(mapping), "--reason",
                        "Nghị quyết sáp nhập đơn vị hành chính")
    assert result.exit_code == 0, result.output
    assert "1 dossiers re-routed" in result.output
    with cli_transaction() as session:
        moved = repository.dossier(session, submitted.receipt_code)
        assert moved is not None
        assert (moved.province_code, moved.ward_code) == ("79", "26506")
        assert service.history(session, moved)[-1].action == "reroute"


@pytest.mark.parametrize(("content", "problem"), [
    ("old_ward_code,new_province_code,new_ward_code\n{ward},01,26506\n",
     "not a current ward of the province given"),  # 26506 (Phường Vũng Tàu) is in TP. Hồ Chí Minh
    ("old_ward_code,new_province_code,new_ward_code\n{ward},79,99999\n",
     "not a current ward of the province given"),
    ("old,new\n{ward},79\n", "the first row must be"),
    ("old_ward_code,new_province_code,new_ward_code\n{ward},79,\n", "line 2: three codes"),
])
def test_a_bad_mapping_moves_nothing(submitted: Dossier, tmp_path: Path, content: str,
                                     problem: str) -> None:
    mapping = tmp_path / "merger.csv"
    mapping.write_text(content.format(ward=submitted.ward_code), encoding="utf-8")
    result = civicstack("services", "reroute", "--mapping", str(mapping), "--reason",
                        "sáp nhập")
    assert result.exit_code == 1
    assert problem in result.output
    with cli_transaction() as session:
        same = repository.dossier(session, submitted.receipt_code)
        assert same is not None
        assert same.ward_code == submitted.ward_code


def test_reroute_legacy_uses_the_real_pre_2025_units(submitted: Dossier) -> None:
    with cli_transaction() as session:
        found = repository.dossier(session, submitted.receipt_code)
        assert found is not None
        found.province_code, found.ward_code = "02", "00692"  # Phường Ngọc Hà, TP. Hà Giang
    result = civicstack("services", "reroute-legacy", "00692", "--reason",
                        "sắp xếp đơn vị hành chính 2025")
    assert result.exit_code == 0, result.output
    assert "1 dossiers re-routed" in result.output
    refused = civicstack("services", "reroute-legacy", "00004", "--reason", "còn tồn tại")
    assert refused.exit_code == 1
    assert "00004: this ward still exists" in refused.output


def test_stats_prints_the_figures_and_refuses_a_bad_period(submitted: Dossier) -> None:
    result = civicstack("services", "stats", "--from", f"{date.today():%Y-01-01}")
    assert result.exit_code == 0, result.output
    assert "online dossier rate: 100.00 % (1 online, 0 assisted; target 80.00 %)" \
        in result.output
    assert "dossiers under a personal ID number: 100.00 %" in result.output
    assert "Thành phố Hà Nội" in result.output
    bad = civicstack("services", "stats", "--from", "2026-02-01", "--to", "2026-01-01")
    assert bad.exit_code == 1
    assert "from: The period must start on or before its end." in bad.output


def test_demo_dossiers_give_the_dashboard_figures_once(seeded: Path, tmp_path: Path) -> None:
    population = tmp_path / "people.csv"
    population.write_text("personal_id_number,permanent_ward_code\n001090000001,00004\n"
                          "079085000002,26506\n001070000003,00008\n", encoding="utf-8")
    first = civicstack("services", "demo", "--population", str(population), "--dossiers", "60")
    assert first.exit_code == 0, first.output
    assert "60 demo dossiers added" in first.output
    assert "0 demo dossiers added" in civicstack("services", "demo", "--population",
                                                 str(population), "--dossiers", "60").output
    stats = civicstack("services", "stats").output
    assert "online dossier rate:" in stats
    assert "assisted" in stats
    assert "overdue now:" in stats
