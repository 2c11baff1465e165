"""Tickets filed in a range of Beijing dates, as CSV (UTF-8 with BOM, for Excel) or XLSX.

Rows are read in pages of PAGE_SIZE by keyset (created_at, id) through the created_at index, each
page in a short read transaction of its own, so that neither the memory nor a database connection
is held by a slow download. CSV is streamed page by page; XLSX is written by openpyxl's write-only
workbook (rows go straight to a temporary file) and then streamed from that file.

Spreadsheet safety: callers' free text may begin with "=", "+", "-" or "@"; in CSV such a cell gets a
leading apostrophe so that Excel shows it instead of evaluating it (OWASP "CSV injection"), and in
XLSX every text is written as a string cell, never as a formula.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import tempfile
from typing import IO, Any, Dict, Iterable, Iterator, List, Mapping, Optional, Sequence, Tuple

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from sqlalchemy import and_, or_, select

from contract.vocabulary import KIND_LABELS, OPEN_STATUSES, RATING_LABELS, RESOLVED_STATUSES, STATUS_LABELS

from .clock import SHANGHAI, from_utc_naive, to_utc_naive
from .db import Database
from .models import tickets

PAGE_SIZE = 500
MAX_RANGE_DAYS = 366
CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CHANNEL_LABELS: Mapping[str, str] = {"voice": "电话", "web": "网页", "operator": "话务员", "api": "接口"}

# (header, column width in the XLSX)
COLUMNS: Sequence[Tuple[str, int]] = (
    ("工单编号", 13), ("受理时间", 20), ("诉求类型", 9), ("问题类别", 13), ("企业名称", 28), ("联系人", 10),
    ("联系电话", 15), ("问题描述", 50), ("地点", 20), ("来源渠道", 9), ("承办部门", 24), ("工单状态", 11),
    ("办理期限", 20), ("是否超期", 9), ("办结时间", 20), ("按期办结", 9), ("办理结果", 50), ("催办次数", 9),
    ("重办次数", 9), ("评价分数", 9), ("评价", 11), ("评价意见", 30), ("撤销原因", 24),
)
HEADERS = [name for name, _ in COLUMNS]
_TEXT_COLUMNS = frozenset({"企业名称", "联系人", "问题描述", "地点", "承办部门", "办理结果", "评价意见", "撤销原因"})
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

_COLUMNS = (tickets.c.id, tickets.c.created_at, tickets.c.kind, tickets.c.category, tickets.c.company,
            tickets.c.contact_name, tickets.c.phone, tickets.c.description, tickets.c.location, tickets.c.channel,
            tickets.c.department, tickets.c.status, tickets.c.deadline, tickets.c.resolved_at, tickets.c.result,
            tickets.c.urge_count, tickets.c.rework_count, tickets.c.rating_score, tickets.c.rating_comment,
            tickets.c.cancel_reason)


def filename(first: dt.date, last: dt.date, fmt: str) -> str:
    return f"tickets-{first.isoformat()}-{last.isoformat()}.{fmt}"


def _bounds(first: dt.date, last: dt.date) -> Tuple[dt.datetime, dt.datetime]:
    """[first 00:00, day after last 00:00) Beijing time, as stored naive UTC."""
    start = dt.datetime.combine(first, dt.time(0, 0), tzinfo=SHANGHAI)
    end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(0, 0), tzinfo=SHANGHAI)
    return to_utc_naive(start), to_utc_naive(end)


def pages(db: Database, first: dt.date, last: dt.date) -> Iterator[List[Mapping[str, Any]]]:
    """The range's tickets in filing order, PAGE_SIZE at a time."""
    start, end = _bounds(first, last)
    after: Optional[Tuple[dt.datetime, str]] = None
    while True:
        query = select(*_COLUMNS).where(tickets.c.created_at >= start, tickets.c.created_at < end)
        if after is not None:
            query = query.where(or_(tickets.c.created_at > after[0],
                                    and_(tickets.c.created_at == after[0], tickets.c.id > after[1])))
        query = query.order_by(tickets.c.created_at, tickets.c.id).limit(PAGE_SIZE)
        with db.read() as conn:
            rows = conn.execute(query).mappings().all()
        if rows:
            yield rows
        if len(rows) < PAGE_SIZE:
            return
        after = (rows[-1]["created_at"], rows[-1]["id"])


def _local(value: Optional[dt.datetime]) -> Optional[dt.datetime]:
    """Stored naive UTC -> naive Beijing time (what a spreadsheet shows)."""
    return None if value is None else from_utc_naive(value).astimezone(SHANGHAI).replace(tzinfo=None)


def _values(row: Mapping[str, Any], stamp: dt.datetime) -> List[Any]:
    status = row["status"]
    score = row["rating_score"]
    resolved = status in RESOLVED_STATUSES
    return [
        row["id"], _local(row["created_at"]), KIND_LABELS.get(row["kind"], row["kind"]), row["category"],
        row["company"], row["contact_name"], row["phone"], row["description"], row["location"],
        CHANNEL_LABELS.get(row["channel"], row["channel"]), row["department"], STATUS_LABELS.get(status, status),
        _local(row["deadline"]), "是" if status in OPEN_STATUSES and stamp > row["deadline"] else "否",
        _local(row["resolved_at"]),
        ("是" if row["resolved_at"] is not None and row["resolved_at"] <= row["deadline"] else "否") if resolved else None,
        row["result"], row["urge_count"], row["rework_count"], score,
        RATING_LABELS.get(score) if score is not None else None, row["rating_comment"], row["cancel_reason"],
    ]


# ---- CSV --------------------------------------------------------------------------------------

def _csv_cell(header: str, value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    text = str(value)
    if header in _TEXT_COLUMNS and text.startswith(_FORMULA_START):
        return "'" + text
    return text


def csv_chunks(row_pages: Iterable[List[Mapping[str, Any]]], now: dt.datetime) -> Iterator[bytes]:
    """The CSV as byte chunks: BOM and header, then one chunk per page."""
    stamp = to_utc_naive(now)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")
    writer.writerow(HEADERS)

    def flush() -> bytes:
        data = buffer.getvalue().encode("utf-8")
        buffer.seek(0)
        buffer.truncate()
        return data

    yield flush()
    for rows in row_pages:
        for row in rows:
            writer.writerow([_csv_cell(h, v) for h, v in zip(HEADERS, _values(row, stamp))])
        yield flush()


# ---- XLSX -------------------------------------------------------------------------------------

def build_xlsx(db: Database, first: dt.date, last: dt.date, now: dt.datetime) -> IO[bytes]:
    """The workbook in a temporary file (in memory up to 8 MB), positioned at its start."""
    stamp = to_utc_naive(now)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(f"{first.isoformat()}至{last.isoformat()}"[:31])
    for index, (_, width) in enumerate(COLUMNS):
        sheet.column_dimensions[get_column_letter(index + 1)].width = width
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    header = []
    for name in HEADERS:
        cell = WriteOnlyCell(sheet, value=name)
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    for rows in pages(db, first, last):
        for row in rows:
            sheet.append([_xlsx_cell(sheet, header, value) for header, value in zip(HEADERS, _values(row, stamp))])
    output: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)
    workbook.save(output)
    output.seek(0)
    return output


_DATE_FORMAT = "yyyy-mm-dd hh:mm:ss"


def _xlsx_cell(sheet: Any, header: str, value: Any) -> Any:
    if isinstance(value, dt.datetime):
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = _DATE_FORMAT
        return cell
    if isinstance(value, str):
        value = ILLEGAL_CHARACTERS_RE.sub("", value)
        if value.startswith("="):  # openpyxl would store it as a formula
            cell = WriteOnlyCell(sheet, value=value)
            cell.data_type = "s"
            return cell
    return value


def file_chunks(handle: IO[bytes], size: int = 64 * 1024) -> Iterator[bytes]:
    try:
        while True:
            chunk = handle.read(size)
            if not chunk:
                return
            yield chunk
    finally:
        handle.close()


def export_headers(first: dt.date, last: dt.date, fmt: str) -> Dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{filename(first, last, fmt)}"',
            "Cache-Control": "no-store"}
