"""Analysis of tabular dataset files with Frictionless: schema, row count, validation summary and preview.

Rules:
- CSV files, JSON arrays of objects and GeoJSON feature collections (their features' properties as rows)
  are analysed; other files get no analysis. The analysis never refuses a file and never raises: a file
  it cannot read gets a report saying why.
- It is bounded, so that no upload can take a worker's memory or CPU, whatever the file's shape:
  - at most MAX_COLUMNS (1,000) columns: a wider file gets no schema;
  - Frictionless reads at most ANALYSE_CHARS (4 Mi characters) of a file, VALIDATE_ROWS rows and
    VALIDATE_CELLS cells (it takes microseconds per cell), and infers types from at most SAMPLE_CELLS;
  - CSV rows are split here with the csv module, never with Frictionless's CSV parser, whose dialect
    sniffer is quadratic in the length of its sample; the delimiter is guessed here from the first rows;
  - a CSV's encoding is detected here: UTF-8 (with or without a BOM) when its first EXACT_COUNT_BYTES
    decode as UTF-8, else Windows-1252 (what Excel writes in French and Arabic locales on Windows) when
    every byte is defined there, else Latin-1; the report's `dialect` says which, with the delimiter;
  - JSON is read as a stream, one element at a time: the first rows are kept, the others only counted,
    and an element larger than MAX_ELEMENT_CHARS stops the reading;
  - all of it within TIME_BUDGET seconds, checked between rows: when time runs out, what was found until
    then is kept and the row count becomes an estimate.
- Where a bound stops the analysis, the file is kept whole and the report carries `notices`, each a
  message id with its variables (translated where it is shown), saying what was not done and why.
- Validation errors are kept as our own message ids with their variables (row, field, position, value),
  by Frictionless error type, so that they are shown in the reader's language; a type without a message
  of ours keeps Frictionless's English text.
"""

import codecs
import csv
import io
import json
import logging
import math
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from datetime import time as day_time
from decimal import Decimal
from pathlib import Path
from typing import Any, TextIO

from app.files.types import human_size

log = logging.getLogger(__name__)

TABULAR_KINDS = ("csv", "json", "geojson")
MAX_COLUMNS = 1_000
ANALYSE_CHARS = 4 * 1024**2  # of a file's text given to Frictionless
VALIDATE_ROWS = 10_000
VALIDATE_CELLS = 250_000
SAMPLE_ROWS = 1_000
SAMPLE_CELLS = 20_000  # type inference tries several readers per cell, tens of microseconds each
PREVIEW_ROWS = 20
MAX_ELEMENT_CHARS = 16 * 1024**2  # one JSON element (a feature with its geometry) decoded at a time
READ_CHARS = 1024 * 1024
TIME_BUDGET = 15.0
COUNT_SECONDS = 5.0  # of the budget, for counting the rows that are not analysed
EXACT_COUNT_BYTES = 64 * 1024**2  # above this, a quoted CSV's rows are estimated from its line breaks
MAX_CELL_CHARS = 200
DELIMITERS = ",;\t|"
SNIFF_CHARS = 64 * 1024

TOO_MANY_COLUMNS = "The fields were not inferred: the file has %(columns)s columns, and at most %(limit)s are analysed."
ROW_TOO_LONG = "The fields were not inferred: the first row of the file is longer than %(limit)s."
ELEMENT_TOO_LARGE = "The analysis stopped at an element larger than %(limit)s; the row count is an estimate."
OUT_OF_TIME = "The analysis stopped after %(seconds)s seconds; what is shown may be incomplete."
COUNT_CUT = "The rows were counted for %(seconds)s seconds only; the row count is an estimate."


# Frictionless error types → our message ids (variables: row, field, position, value)
ERROR_MESSAGES = {
    "missing-cell": "Row %(row)s has no value for the field “%(field)s” (column %(position)s).",
    "extra-cell": "Row %(row)s has more values than the header: one is in column %(position)s.",
    "type-error": "Row %(row)s: the value “%(value)s” of the field “%(field)s” (column %(position)s) is not of the field's type.",  # noqa: E501 - one literal, for the extractor
    "constraint-error": "Row %(row)s: the value “%(value)s” of the field “%(field)s” (column %(position)s) breaks a rule of the field.",  # noqa: E501
    "unique-error": "Row %(row)s repeats a value of the field “%(field)s” (column %(position)s), which must be unique.",
    "primary-key": "Row %(row)s repeats the key of another row.",
    "blank-row": "Row %(row)s is empty.",
    "blank-label": "The header of column %(position)s is empty.",
    "duplicate-label": "The header of column %(position)s repeats the name of another column.",
    "missing-label": "Column %(position)s has no header.",
    "extra-label": "The header of column %(position)s has no column of values.",
    "incorrect-label": "The header of column %(position)s does not match the expected field.",
    "blank-header": "The header row is empty.",
}


def _error(row: Any, kind: str, message: str, field_name: Any, position: Any, cell: Any) -> dict[str, Any]:
    """A validation error as our message id and its variables; Frictionless's English text kept as `detail`."""
    error: dict[str, Any] = {"row": row, "type": kind, "detail": message}
    if kind in ERROR_MESSAGES:
        value = "" if cell is None else str(cell)
        error["message"] = ERROR_MESSAGES[kind]
        error["variables"] = {
            "row": row,
            "field": field_name or "",
            "position": position,
            "value": value if len(value) <= 80 else value[:79] + "…",
        }
    else:
        error["message"] = message
    return error


def _notice(kind: str, message: str, **variables: Any) -> dict[str, Any]:
    return {"type": kind, "message": message, "variables": variables}


class _Stopped(Exception):
    """A bound stopped the analysis; `notice` says which (none when it is the time budget)."""

    def __init__(self, notice: dict[str, Any] | None = None) -> None:
        super().__init__(notice["type"] if notice else "out-of-time")
        self.notice = notice


class _Budget:
    """The time the analysis may take, and the part of it that counting rows may take (from the start, so
    that Frictionless keeps the rest); `ran_out` and `count_cut` stay true once they are."""

    def __init__(self, seconds: float, count_seconds: float) -> None:
        start = time.monotonic()
        self.seconds, self.count_seconds = seconds, count_seconds
        self.deadline, self.count_deadline = start + seconds, start + count_seconds
        self.ran_out = self.count_cut = False

    def expired(self) -> bool:
        self.ran_out = self.ran_out or time.monotonic() > self.deadline
        return self.ran_out

    def check(self) -> None:
        if self.expired():
            raise _Stopped()

    def counting_expired(self) -> bool:
        self.count_cut = self.count_cut or time.monotonic() > self.count_deadline
        return self.count_cut


@dataclass
class _Table:
    """What Frictionless will read (the header and rows of a CSV, or row objects), and what was counted."""

    data: list[Any]
    columns: int
    complete: bool  # every row of the file is in `data`
    row_count: int | None
    exact: bool = True
    notices: list[dict[str, Any]] = field(default_factory=list)
    dialect: dict[str, str] | None = None  # a CSV's encoding and delimiter, as detected


def analyse(
    path: Path, kind: str, *, seconds: float = TIME_BUDGET, count_seconds: float = COUNT_SECONDS
) -> dict[str, Any]:
    """Schema, row count, validation summary and preview of a tabular file; {} for other files."""
    if kind not in TABULAR_KINDS:
        return {}
    budget = _Budget(seconds, count_seconds)
    try:
        table = _read_csv(path, budget) if kind == "csv" else _read_json(path, kind, budget)
        return _describe(table, budget) if table is not None else {}
    except Exception as exc:  # a file Frictionless cannot read is still a valid upload
        log.info("could not analyse %s: %s", path, exc)
        return {"report": {"valid": False, "error_count": 1, "errors": [{"row": None, "message": str(exc)[:300]}]}}


def _describe(table: _Table, budget: _Budget) -> dict[str, Any]:
    report: dict[str, Any] = {"row_count_exact": table.exact}
    result: dict[str, Any] = {"row_count": table.row_count, "report": report}
    if table.dialect:
        report["dialect"] = table.dialect
    if table.columns > MAX_COLUMNS:
        table.notices.append(_notice("too-many-columns", TOO_MANY_COLUMNS, columns=table.columns, limit=MAX_COLUMNS))
    elif table.data:
        try:
            _frictionless(table, budget, result, report)
        except _Stopped as stop:
            if stop.notice:
                table.notices.append(stop.notice)
    if budget.count_cut:
        table.notices.append(_notice("count-cut", COUNT_CUT, seconds=round(budget.count_seconds)))
    if budget.ran_out:
        table.notices.append(_notice("out-of-time", OUT_OF_TIME, seconds=round(budget.seconds)))
    if table.notices:
        report["notices"] = table.notices
    return result


def _frictionless(table: _Table, budget: _Budget, result: dict[str, Any], report: dict[str, Any]) -> None:
    """Infer, then validate and preview in one pass, into `result` and `report` (the schema is kept if time
    runs out during validation)."""
    import frictionless

    budget.check()
    sample = max(1, min(SAMPLE_ROWS, SAMPLE_CELLS // max(1, table.columns)))
    described = frictionless.Resource(data=table.data, detector=frictionless.Detector(sample_size=sample))
    described.infer()
    if table.dialect and table.dialect["delimiter"] == ";":
        _read_decimal_commas(table, described.schema, sample)
    result["schema_fields"] = [{"name": f.name, "type": f.type} for f in described.schema.fields]
    budget.check()
    preview: list[list[Any]] = []

    def on_row(row: Any) -> None:
        budget.check()
        if len(preview) < PREVIEW_ROWS:
            preview.append([_cell(v) for v in row.to_list()])

    validation = frictionless.Resource(data=table.data, schema=described.schema).validate(on_row=on_row)
    task = validation.tasks[0] if validation.tasks else None
    errors = validation.flatten(["rowNumber", "type", "message", "fieldName", "fieldNumber", "cell"])
    report.update(
        valid=validation.valid,
        error_count=len(errors),
        errors=[_error(*e) for e in errors[:5]],
        rows_checked=int((task.stats.get("rows") if task else 0) or 0),
        limited=not table.complete,
    )
    result["preview"] = preview


_DECIMAL_COMMA = re.compile(r"-?\d+(,\d+)?")


def _read_decimal_commas(table: _Table, schema: Any, sample: int) -> None:
    """In a semicolon-separated CSV (French Excel), "12,5" is a number with a decimal comma, not the
    "longitude,latitude" point or the text Frictionless infers: a column of such numbers (one of them at
    least with a comma) becomes numbers read with a comma."""
    import frictionless

    for index, spec in enumerate(schema.fields):
        if spec.type not in ("geopoint", "string"):
            continue
        values = [row[index].strip() for row in table.data[1 : sample + 1] if index < len(row) and row[index]]
        if any("," in v for v in values) and all(_DECIMAL_COMMA.fullmatch(v) for v in values):
            schema.set_field(frictionless.fields.NumberField(name=spec.name, decimal_char=","))


def _cell(value: Any) -> Any:
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, Decimal):
        value = float(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, datetime | date | day_time):
        return value.isoformat()
    if isinstance(value, dict | list):
        value = json.dumps(value, ensure_ascii=False)
    text = str(value)
    return text if len(text) <= MAX_CELL_CHARS else text[: MAX_CELL_CHARS - 1] + "…"


def _full(rows: int, cells: int, chars: int) -> bool:
    return rows >= VALIDATE_ROWS or cells >= VALIDATE_CELLS or chars >= ANALYSE_CHARS


# ---- CSV ----------------------------------------------------------------------------------------------


def guess_delimiter(sample: str) -> str:
    """The delimiter among , ; tab | that splits the sample's rows into the same number of fields, the most
    fields winning; else the one giving the most fields in the first row; "," when none splits anything."""
    cut = sample.rfind("\n")
    complete = sample[: cut + 1] if cut > 0 else sample
    best, best_score = ",", (False, 1)
    for delimiter in DELIMITERS:
        counts = [len(row) for row in csv.reader(io.StringIO(complete), delimiter=delimiter) if row][:20]
        if not counts or counts[0] < 2:
            continue
        score = (len(set(counts)) == 1, counts[0])
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _bounded_lines(handle: TextIO, limit: int, cut: list[bool]) -> Iterator[str]:
    """The file's lines while they fit in `limit` characters in all; `cut[0]` says whether it stopped early."""
    used = 0
    while line := handle.readline(limit - used + 1):
        used += len(line)
        if used > limit:
            cut[0] = True
            return
        yield line


def detect_encoding(path: Path) -> str:
    """The encoding of a text file, as a Python codec name (see the rules above)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    read = 0
    with path.open("rb") as handle:
        head = handle.read(len(codecs.BOM_UTF8))
        if head == codecs.BOM_UTF8:
            return "utf-8-sig"
        chunk = head
        try:
            while chunk and read < EXACT_COUNT_BYTES:
                decoder.decode(chunk)
                read += len(chunk)
                chunk = handle.read(READ_CHARS)
            if not chunk:
                decoder.decode(b"", final=True)
            return "utf-8"
        except UnicodeDecodeError:
            pass
        handle.seek(0)
        while chunk := handle.read(READ_CHARS):
            try:
                chunk.decode("cp1252")
            except UnicodeDecodeError:
                return "latin-1"
            if handle.tell() >= EXACT_COUNT_BYTES:
                break
    return "cp1252"


def _read_csv(path: Path, budget: _Budget) -> _Table | None:
    encoding = detect_encoding(path)
    with path.open(encoding=encoding, errors="replace", newline="") as handle:
        delimiter = guess_delimiter(handle.read(SNIFF_CHARS))
    table = _read_csv_rows(path, budget, encoding, delimiter)
    if table is not None:
        table.dialect = {"encoding": encoding, "delimiter": delimiter}
    return table


def _read_csv_rows(path: Path, budget: _Budget, encoding: str, delimiter: str) -> _Table | None:
    cut = [False]
    with path.open(encoding=encoding, errors="replace", newline="") as handle:
        reader = csv.reader(_bounded_lines(handle, ANALYSE_CHARS, cut), delimiter=delimiter)
        header = next(reader, None)
        if header is None:
            if not cut[0]:
                return None
            notice = _notice("row-too-long", ROW_TOO_LONG, limit=human_size(ANALYSE_CHARS))
            return _Table([], 0, False, None, notices=[notice])
        if len(header) > MAX_COLUMNS:
            return _Table([], len(header), False, *_count_csv_rows(path, encoding, delimiter, budget))
        rows: list[list[str]] = []
        cells = chars = 0
        for row in reader:
            if budget.expired():
                break
            rows.append(row)
            cells += len(row)
            chars += sum(len(c) for c in row)
            if _full(len(rows), cells, chars):
                break
        else:
            if cut[0]:  # the last row may have been cut short
                rows = rows[:-1]
            else:
                return _Table([header, *rows], len(header), True, sum(1 for r in rows if r))
    return _Table([header, *rows], len(header), False, *_count_csv_rows(path, encoding, delimiter, budget))


def _count_csv_rows(path: Path, encoding: str, delimiter: str, budget: _Budget) -> tuple[int, bool]:
    """Data rows of a CSV (header excluded) and whether the count is exact. Line breaks are counted fast;
    that is exact when no field is quoted (a quoted field may hold a line break), else the csv module
    counts files up to 64 MiB exactly and bigger ones keep the estimate. When time runs out, the count is
    extrapolated from the part read."""
    size = path.stat().st_size
    lines, quoted, last, read = 0, False, b"\n", 0
    with path.open("rb") as handle:
        while chunk := handle.read(4 * 1024 * 1024):
            lines += chunk.count(b"\n")
            quoted = quoted or b'"' in chunk
            last = chunk[-1:]
            read += len(chunk)
            if budget.counting_expired():
                return max(0, lines * size // read - 1), False
    lines += last != b"\n"
    if not quoted:
        return max(0, lines - 1), True
    if size <= EXACT_COUNT_BYTES:
        count = 0
        with path.open(encoding=encoding, errors="replace", newline="") as text:
            for row in csv.reader(text, delimiter=delimiter):
                count += bool(row)
                if count % 10_000 == 0 and budget.counting_expired():
                    return max(0, lines - 1), False
        return max(0, count - 1), True
    return max(0, lines - 1), False


# ---- JSON ---------------------------------------------------------------------------------------------

_BLANK = re.compile(r"[ \t\n\r]*")
_DECODER = json.JSONDecoder()


def _truncated(exc: json.JSONDecodeError, text: str) -> bool:
    """Whether a decoding error may only mean that the value goes on in the part not read yet."""
    return exc.msg.startswith("Unterminated string") or exc.pos >= len(text.rstrip()) - 8


class _JsonStream:
    """A JSON text read piece by piece, its values decoded one at a time with the C decoder."""

    def __init__(self, handle: TextIO) -> None:
        self.handle = handle
        self.text = ""
        self.pos = 0
        self.eof = False

    def _more(self) -> None:
        pending = len(self.text) - self.pos
        if pending > MAX_ELEMENT_CHARS:
            raise _Stopped(_notice("element-too-large", ELEMENT_TOO_LARGE, limit=human_size(MAX_ELEMENT_CHARS)))
        piece = self.handle.read(max(READ_CHARS, pending))
        self.text = self.text[self.pos :] + piece
        self.pos = 0
        self.eof = not piece

    def position(self) -> int:
        """About how many bytes of the file were decoded: those read, less the characters still unread."""
        return self.handle.buffer.tell() - (len(self.text) - self.pos)

    def peek(self) -> str:
        """The next character that is not blank, "" at the end."""
        while True:
            match = _BLANK.match(self.text, self.pos)
            self.pos = match.end() if match else self.pos
            if self.pos < len(self.text):
                return self.text[self.pos]
            if self.eof:
                return ""
            self._more()

    def take(self, char: str) -> bool:
        if self.peek() != char:
            return False
        self.pos += 1
        return True

    def value(self) -> tuple[Any, int]:
        """The next value and its length in characters."""
        self.peek()
        while True:
            try:
                value, end = _DECODER.raw_decode(self.text, self.pos)
            except json.JSONDecodeError as exc:
                if self.eof or not _truncated(exc, self.text):
                    raise
            else:
                if end < len(self.text) or self.eof:  # a number at the end of a piece may go on
                    size, self.pos = end - self.pos, end
                    return value, size
            self._more()

    def elements(self) -> Iterator[tuple[Any, int]]:
        """The elements of the array that starts here."""
        if not self.take("["):
            raise ValueError("not an array")
        if self.take("]"):
            return
        while True:
            yield self.value()
            if self.take("]"):
                return
            if not self.take(","):
                raise ValueError("not an array")

    def members(self) -> Iterator[str]:
        """The keys of the object that starts here; the caller reads each key's value."""
        if not self.take("{"):
            raise ValueError("not an object")
        if self.take("}"):
            return
        while True:
            key, _ = self.value()
            if not isinstance(key, str) or not self.take(":"):
                raise ValueError("not an object")
            yield key
            if self.take("}"):
                return
            if not self.take(","):
                raise ValueError("not an object")


class _Rows:
    """Row objects as they stream by: the first ones kept for Frictionless (within the bounds), all counted."""

    def __init__(self, budget: _Budget) -> None:
        self.budget = budget
        self.kept: list[dict[str, Any]] = []
        self.keys: dict[str, None] = {}
        self.count = 0
        self.cells = 0
        self.chars = 0
        self.keeping = True

    def add(self, row: Any, size: int) -> None:
        if not isinstance(row, dict):
            raise ValueError("not a table")
        self.count += 1
        if not self.keeping:
            if self.budget.counting_expired():
                raise _Stopped()
            return
        self.budget.check()
        self.keys.update(dict.fromkeys(str(k) for k in row))
        if len(self.keys) > MAX_COLUMNS:
            self.keeping = False
            self.kept.clear()
            return
        self.kept.append({str(k): _cell(v) if isinstance(v, dict | list) else v for k, v in row.items()})
        self.cells += len(row)
        self.chars += size
        self.keeping = not _full(len(self.kept), self.cells, self.chars)


def _json_document(stream: _JsonStream, kind: str, rows: _Rows) -> bool:
    """Feed the rows of a tabular JSON document to `rows`; False when the document is not a table."""
    start = stream.peek()
    if start == "[" and kind == "json":
        for element, size in stream.elements():
            rows.add(element, size)
        return stream.peek() == ""
    if start != "{":
        return False
    kind_of_document, features = None, False
    for key in stream.members():
        if key == "features" and stream.peek() == "[":
            features = True
            for feature, size in stream.elements():
                if isinstance(feature, dict):
                    rows.add(feature.get("properties") or {}, size)
        else:
            value, _ = stream.value()
            if key == "type":
                kind_of_document = value
    return kind_of_document == "FeatureCollection" and features and stream.peek() == ""


def _read_json(path: Path, kind: str, budget: _Budget) -> _Table | None:
    rows = _Rows(budget)
    notices: list[dict[str, Any]] = []
    row_count: int | None
    with path.open(encoding="utf-8-sig") as handle:
        stream = _JsonStream(handle)
        try:
            if not _json_document(stream, kind, rows) or not rows.count:
                return None
            row_count, exact = rows.count, True
        except _Stopped as stop:
            notices += [stop.notice] if stop.notice else []
            estimate = rows.count * path.stat().st_size // max(1, stream.position())
            row_count, exact = (max(rows.count, estimate) if rows.count else None), False
        except ValueError:  # not JSON, or not a table of objects
            return None
    complete = exact and len(rows.kept) == rows.count
    return _Table(rows.kept, len(rows.keys), complete, row_count, exact, notices)
