"""Demo officials for `make demo`: a national admin, Hà Nội police, a ward clerk, a Hà Nội hotline
agent and a Hà Nội programme officer, with their passwords in an owner-only file. Each enrols an
authenticator app at the first sign-in."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from civicstack.identity import officials
from civicstack.kit.audit import Actor
from civicstack.kit.authz import Role
from civicstack.registry import service as registry

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
