"""Demo officials for `make demo`: a national admin, Hà Nội police, a ward clerk, a Hà Nội hotline
agent and a Hà Nội programme officer, with their passwords in an owner-only file. Each enrols an
authenticator app at the first sign-in. And demo citizens with eID accounts (level 1, and level 2
with their authenticator's secret), in another owner-only file, so one can sign in at once."""

from __future__ import annotations

import io
import random
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cache
from pathlib import Path

import pyotp
from PIL import Image
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from civicstack.identity import officials, photos, service, totp
from civicstack.identity.accounts import existing_account
from civicstack.identity.face_holds import FaceHolds
from civicstack.kit.audit import Actor
from civicstack.kit.authz import Role, Scope
from civicstack.kit.db import transaction
from civicstack.kit.outbox import OutboxMessage
from civicstack.registry import service as registry
from civicstack.registry.units import current_wards

DEMO_OFFICIALS_FILE = "demo-officials.txt"
HANOI, BA_DINH = "01", "00004"  # Thành phố Hà Nội; Phường Ba Đình in it
# username, full name, role, and the scope: a province code, a ward code, or neither (national)
DEMO_OFFICIALS: tuple[tuple[str, str, Role, str | None, str | None], ...] = (
    ("admin", "Trần Quốc Minh", Role.ADMIN, None, None),
    ("police.hanoi", "Lê Văn Hùng", Role.POLICE, HANOI, None),
    ("clerk.badinh", "Phạm Thị Lan", Role.SERVICE_CLERK, None, BA_DINH),
    ("hotline.hanoi", "Đỗ Thu Hà", Role.SUPPORT_AGENT, HANOI, None),
    ("programme.hanoi", "Nguyễn Đức Thành", Role.PROGRAMME_OFFICER, HANOI, None),
)


def ensure_demo_officials(session: Session, actor: Actor, data_dir: Path) -> Path:
    """Create the demo officials once; the file is kept across re-seeds, owner-only."""
    path = data_dir / DEMO_OFFICIALS_FILE
    if path.exists():
        return path
    lines = ["# Demo officials for the console at /console/login (make demo: localhost:8000)",
             "# username\tpassword\trole\tscope"]
    for username, full_name, role, province_code, ward_code in DEMO_OFFICIALS:
        scope = registry.scope_for(session, province_code=province_code, ward_code=ward_code)
        password = officials.initial_password()
        officials.create(session, actor, officials.NewOfficial(
            username, full_name, role, scope, password))
        lines.append(f"{username}\t{password}\t{role.value}\t{scope}")
    path.touch(mode=0o600)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# --- demo citizens: accounts one can sign in with at once ------------------------------------

DEMO_CITIZENS_FILE = "demo-citizens.txt"
DEMO_WARDS = tuple(ward for *_, ward in DEMO_OFFICIALS if ward)  # wards with a demo clerk
DEMO_POLICE = Actor("official", "police.hanoi", Scope.province(HANOI), Role.POLICE)
PUPIL_AGES = range(14, 18)
AT_LEVEL_ONE = "-"  # the file's TOTP column of a level-1 citizen


@dataclass(frozen=True)
class DemoCitizen:
    """A demo citizen's sign-in, as written to the file; no TOTP secret at level 1."""

    personal_id_number: str
    full_name: str
    password: str
    level: int
    totp_secret: str
    part: str  # what the demo has them do


@cache
def _hanoi_wards() -> frozenset[str]:
    return frozenset(w["code"] for w in current_wards() if w["province_code"] == HANOI)


@dataclass(frozen=True)
class _Wanted:
    part: str
    level: int
    fits: Callable[[dict[str, str], int], bool]  # (population row, age today) -> chosen?


def _in_demo_ward(row: dict[str, str], age: int) -> bool:
    return row["permanent_ward_code"] in DEMO_WARDS and 25 <= age <= 45


# Each part is played by the first person of the population who fits it and has a
# phone (an eID account needs one); a person plays one part.
REPRESENTATIVE = "legal representative of a demo organisation"
EMPLOYEE = "employee authorised by a demo organisation"
WANTED = (
    _Wanted("parent in the demo clerk's ward: a birth registration, the wallet", 2,
            _in_demo_ward),
    _Wanted("resident of the demo clerk's ward: services, who used my data", 1, _in_demo_ward),
    _Wanted(REPRESENTATIVE, 2, _in_demo_ward),
    _Wanted(REPRESENTATIVE, 2, _in_demo_ward),
    _Wanted(EMPLOYEE, 1, _in_demo_ward),
    _Wanted("pupil aged 14-17 in Hà Nội: Digital Education for All", 1,
            lambda row, age: age in PUPIL_AGES and row["permanent_ward_code"] in _hanoi_wards()),
)




def choose_demo_citizens(rows: Iterable[dict[str, str]]) -> list[tuple[_Wanted, dict[str, str]]]:
    """Who plays each part, from the population file's rows (the demo's deaths are its
    oldest people, whom no part's ages reach)."""
    today = date.today()
    chosen: list[tuple[_Wanted, dict[str, str]]] = []
    taken: set[str] = set()
    candidates = [row for row in rows if row["phone"]]
    for wanted in WANTED:
        for row in candidates:
            age = registry.age_on(date.fromisoformat(row["date_of_birth"]), today)
            pid = row["personal_id_number"]
            if pid not in taken and wanted.fits(row, age):
                chosen.append((wanted, row))
                taken.add(pid)
                break
    return chosen


def ensure_demo_citizens(factory: sessionmaker[Session], pepper: str, vault: photos.PhotoVault,
                         totp_key: str, holds: FaceHolds, data_dir: Path,
                         rows: Iterable[dict[str, str]]) -> list[DemoCitizen]:
    """eID accounts for the demo's parts, through the real registration (the phone's code read
    from the outbox, as the demo's SMS gateway would deliver it) and a police official's
    approval; level 2 with an authenticator for some. Written once, owner-only; a re-run
    reads the file back."""
    path = data_dir / DEMO_CITIZENS_FILE
    if path.exists():
        return read_demo_citizens(path)
    made = [_make_citizen(factory, pepper, vault, totp_key, holds, wanted, row)
            for wanted, row in choose_demo_citizens(rows)]
    lines = ["# Demo citizens for the portal's sign-in at /account/login (make demo: port 8000)",
             "# A level-2 citizen's second factor: add the TOTP secret to an authenticator app",
             "# personal_id_number\tpassword\tlevel\ttotp_secret\tfull_name\tpart"]
    lines += ["\t".join((c.personal_id_number, c.password, str(c.level),
                         c.totp_secret or AT_LEVEL_ONE, c.full_name, c.part)) for c in made]
    path.touch(mode=0o600)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return made


def read_demo_citizens(path: Path) -> list[DemoCitizen]:
    found = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            pid, password, level, written, name, part = line.split("\t")
            found.append(DemoCitizen(pid, name, password, int(level),
                                     written.replace(AT_LEVEL_ONE, ""), part))
    return found


def _make_citizen(factory: sessionmaker[Session], pepper: str, vault: photos.PhotoVault,
                  totp_key: str, holds: FaceHolds, wanted: _Wanted,
                  row: dict[str, str]) -> DemoCitizen:
    pid, password = row["personal_id_number"], officials.initial_password()
    with transaction(factory) as session:
        service.register(session, pepper, vault, service.Registration(
            pid, row["full_name"], date.fromisoformat(row["date_of_birth"]), row["phone"],
            password, _portrait(pid)))
    with transaction(factory) as session:
        service.verify_phone(session, pepper, pid, _sent_code(session, row["phone"]))
        service.approve(session, DEMO_POLICE, holds, pid,
                        "demo: identity checked against the register")
    secret = ""
    if wanted.level == 2:
        with transaction(factory) as session:
            service.authorise_level_two(session, DEMO_POLICE, pid,
                                        "demo: citizen present with chip-based ID card")
            account = existing_account(session, pid)
            secret = service.totp_enrolment(session, totp_key, account).secret
            service.enrol_totp(session, totp_key, account, code_at(secret, 0))
    return DemoCitizen(pid, row["full_name"], password, wanted.level, secret, wanted.part)


def code_at(secret: str, steps_ahead: int) -> str:
    """What an authenticator app shows now, or so many periods from now."""
    step = totp.step_of(datetime.now(UTC)) + steps_ahead
    return pyotp.TOTP(secret, digits=totp.DIGITS, interval=totp.STEP_SECONDS).at(
        step * totp.STEP_SECONDS)


def _sent_code(session: Session, phone: str) -> str:
    body = session.scalars(select(OutboxMessage.body).where(
        OutboxMessage.channel == "sms", OutboxMessage.recipient == phone)
        .order_by(OutboxMessage.id.desc()).limit(1)).one()
    found = re.search(r"\b(\d{6})\b", body)
    assert found, "the registration sends a six-digit code"
    return found.group(1)


def _portrait(personal_id_number: str) -> bytes:
    """A portrait-sized stand-in picture of grain, the person's own (the demo has no faces to
    give its accounts; a plain one would fall under the photo's size floor)."""
    grain = random.Random(personal_id_number)  # noqa: S311 (a picture, not a secret)
    out = io.BytesIO()
    Image.frombytes("L", (320, 400), grain.randbytes(320 * 400)).save(out, "PNG")
    return out.getvalue()
