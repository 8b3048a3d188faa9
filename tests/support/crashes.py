"""Submissions killed in their own process (crash_submit.py, crash_checkout.py): a draft with a
fee to submit, and the process that submits it and dies at the step it is told."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from civicstack.kit.db import transaction
from civicstack.services import service
from tests.support.services import citizen, parent_with_id_card, publish_everywhere
from tests.support.wallet import wallet_site

ROOT = Path(__file__).resolve().parents[2]
JUDICIAL_RECORD = "DVC-TP-01"  # a fee (100,000 VND online): the payment row is part of it
KILLED = 137


def draft_with_a_fee(factory: sessionmaker[Session], data_dir: Path) -> tuple[str, str]:
    with transaction(factory) as session:
        publish_everywhere(session)
        mai = parent_with_id_card(session, wallet_site(session))
        actor = citizen(mai)
        draft = service.start_draft(session, actor, mai.personal_id_number, JUDICIAL_RECORD)
        service.save_draft(session, actor, draft, {"purpose": "bổ sung hồ sơ xin việc"})
        return draft.receipt_code, mai.personal_id_number


def submit_in_a_process(script: str, url: str, data_dir: Path, receipt: str, pid: str,
                        die_at: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)])}
    return subprocess.run(
        [sys.executable, "-m", f"tests.support.{script}", url, str(data_dir), receipt, pid,
         die_at], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120,
        check=False)
