"""The board as files for leaders' meetings: the ranking and the overdue list as CSV rows, and
both in one A4 PDF (fpdf2 with the DejaVu font, for Vietnamese), in Vietnamese."""

from __future__ import annotations

from fpdf import FPDF

from civicstack.kit.pdf import FONT, a4_document
from civicstack.monitoring.board import Board

RANKING_COLUMNS = ["position", "agency_code", "agency_name", "tasks_due", "on_time",
                   "on_time_rate", "overdue"]
OVERDUE_COLUMNS = ["task_code", "work", "responsible_official", "lead_agency", "deadline",
                   "working_days_overdue", "percent"]


def _rate(rate: float | None) -> str:
    return "" if rate is None else f"{100 * rate:.1f}"


def ranking_rows(found: Board) -> list[list[str]]:
    return [RANKING_COLUMNS] + [
        [str(r.position), r.agency.code, r.agency.name, str(r.due), str(r.on_time),
         _rate(r.rate), str(r.overdue)] for r in found.ranking]


def overdue_rows(found: Board) -> list[list[str]]:
    return [OVERDUE_COLUMNS] + [
        [o.task.code, o.task.work, o.task.responsible_official, o.lead.code,
         o.task.deadline.isoformat(), str(o.days_overdue), str(o.task.percent)]
        for o in found.overdue]


def _table(pdf: FPDF, widths: list[int], header: list[str], rows: list[list[str]]) -> None:
    with pdf.table(col_widths=widths, text_align="LEFT", line_height=5) as table:
        table.row(header)
        for row in rows:
            table.row(row)


def board_pdf(found: Board, scope_label: str) -> bytes:
    pdf = a4_document()
    pdf.set_margins(15, 15, 15)
    pdf.add_page()
    pdf.set_title("Báo cáo theo dõi nhiệm vụ")
    pdf.set_font(FONT, "B", 14)
    pdf.multi_cell(0, 8, "BÁO CÁO THEO DÕI NHIỆM VỤ", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, "", 10)
    pdf.multi_cell(0, 6, f"Phạm vi: {scope_label} · Ngày {found.today:%d/%m/%Y} · "
                         f"{found.tasks} nhiệm vụ, {len(found.overdue)} nhiệm vụ quá hạn",
                   align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font(FONT, "B", 11)
    pdf.cell(0, 7, "Xếp hạng cơ quan theo tỷ lệ hoàn thành đúng hạn", new_x="LMARGIN",
             new_y="NEXT")
    pdf.set_font(FONT, "", 8)
    _table(pdf, [10, 70, 20, 20, 25, 20],
           ["Hạng", "Cơ quan", "Đến hạn", "Đúng hạn", "Tỷ lệ (%)", "Quá hạn"],
           [[str(r.position), r.agency.name, str(r.due), str(r.on_time), _rate(r.rate),
             str(r.overdue)] for r in found.ranking])
    pdf.ln(4)
    pdf.set_font(FONT, "B", 11)
    pdf.cell(0, 7, "Nhiệm vụ quá hạn (ngày làm việc)", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, "", 8)
    _table(pdf, [18, 62, 30, 30, 20, 20],
           ["Mã", "Nội dung", "Người chịu trách nhiệm", "Cơ quan chủ trì", "Hạn", "Quá hạn"],
           [[o.task.code, o.task.work, o.task.responsible_official, o.lead.name,
             f"{o.task.deadline:%d/%m/%Y}", str(o.days_overdue)] for o in found.overdue])
    return bytes(pdf.output())
