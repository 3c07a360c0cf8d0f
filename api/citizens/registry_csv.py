"""Registry CSV files read strictly: UTF-8 (a BOM tolerated), no NUL, every quote closed, a header with the
dataset's columns and no repeated or unnamed one. A fault of the file itself is `MalformedCsv` with the file line
where the broken record starts; a record whose field count is not the header's is a row to reject, unless it runs
over several lines (then it is a quote left open that a later one happened to close: the file's fault)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import BinaryIO

from api.citizens.errors import MalformedCsv

MAX_COLUMNS = 100
MAX_COLUMN_NAME = 64
# Past this a field is no row's (a quote left open, a binary file): the file is refused. Below it an over-long
# field is a rejected row (datasets.MAX_CHARS). csv's own default (128 KiB) would end the import mid-file.
MAX_FIELD = 1024 * 1024

# A row to import: the file line it starts on and the one it ends on, its fields by column, and a problem found
# while reading it (a field count that is not the header's). A plain tuple: one is made per row.
Record = tuple[int, int, dict, str | None]


class CsvFile:
    """A registry CSV file read strictly (UTF-8, a BOM tolerated): its header, checked against the dataset's
    columns, then its records by the file line each starts on. `source` is the file's bytes or a binary file open
    at its start; a fault of the file itself is `MalformedCsv` with its line."""

    def __init__(self, source: bytes | BinaryIO, *, columns: tuple[str, ...]):
        self._source = source
        csv.field_size_limit(MAX_FIELD)  # process-wide; raised from csv's default (see MAX_FIELD)
        if isinstance(source, bytes):
            text = io.StringIO(_decode(source), newline="")
        else:
            text = io.TextIOWrapper(source, encoding="utf-8-sig", newline="")
        self._reader = csv.reader(text, strict=True)
        self.header = self._read_header(columns)

    def _next(self, line: int) -> list[str]:
        try:
            return next(self._reader)
        except csv.Error as exc:
            raise MalformedCsv(line, _csv_reason(exc)) from None
        except UnicodeDecodeError:
            raise MalformedCsv(_undecodable_line(self._source), _NOT_UTF8) from None

    def _read_header(self, columns: tuple[str, ...]) -> list[str]:
        try:
            names = self._next(1)
        except StopIteration:
            raise MalformedCsv(1, "文件为空，缺少表头") from None
        names = [n.strip() for n in names]
        if len(names) > MAX_COLUMNS:
            raise MalformedCsv(1, f"表头超过 {MAX_COLUMNS} 列")
        for i, name in enumerate(names, start=1):
            if not name:
                raise MalformedCsv(1, f"表头第 {i} 列没有列名")
            if len(name) > MAX_COLUMN_NAME:
                raise MalformedCsv(1, f"表头第 {i} 列的列名超过 {MAX_COLUMN_NAME} 个字符")
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise MalformedCsv(1, f"表头中的列名重复: {', '.join(repeated)}")
        missing = [c for c in columns if c not in names]
        if missing:
            raise MalformedCsv(1, f"CSV 缺少列: {', '.join(missing)}")
        return names

    def records(self) -> Iterator[Record]:
        """The file's records to import (blank lines are none); one whose field count is not the header's carries
        that problem."""
        header, width, reader = self.header, len(self.header), self._reader
        end = reader.line_num
        while True:
            start = end + 1
            try:
                fields = self._next(start)
            except StopIteration:
                return
            end = reader.line_num
            if len(fields) == width:
                yield start, end, dict(zip(header, fields, strict=False)), None
            elif fields:
                self._shape(start, end, len(fields))
                yield start, end, dict(zip(header, fields, strict=False)), f"有 {len(fields)} 个字段，表头有 {width} 列"

    def count(self) -> int:
        """Read the rest of the file for its structure alone; its number of records."""
        width, reader, count = len(self.header), self._reader, 0
        end = reader.line_num
        try:
            for fields in reader:  # the same checks as `records`, in a loop as tight as it gets
                if len(fields) != width and fields:
                    self._shape(end + 1, reader.line_num, len(fields))
                count += bool(fields)
                end = reader.line_num
        except csv.Error as exc:
            raise MalformedCsv(end + 1, _csv_reason(exc)) from None
        except UnicodeDecodeError:
            raise MalformedCsv(_undecodable_line(self._source), _NOT_UTF8) from None
        return count

    def _shape(self, start: int, end: int, fields: int) -> None:
        if end != start:
            # A quoted field ran over line ends and the record came out the wrong shape: a quote left open that a
            # later quote happened to close, swallowing the lines between.
            raise MalformedCsv(start, f"引号未闭合：从此行开始的记录跨到第 {end} 行，字段数 {fields} 与表头的 "
                                      f"{len(self.header)} 列不符")


def count_records(source: bytes | BinaryIO, *, columns: tuple[str, ...]) -> int:
    """Read a whole file for its structure (the pass before anything is written); its number of records.
    `MalformedCsv` names the line of the first fault."""
    _refuse_nul(source)
    return CsvFile(source, columns=columns).count()


_NOT_UTF8 = "不是 UTF-8 编码（请以 UTF-8 另存，而不是 GBK 或 UTF-16）"
_NUL = "含 NUL 字符：不是文本 CSV（UTF-16 或二进制文件？）"
_CHUNK = 1 << 20


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise MalformedCsv(_decode_line(io.BytesIO(data)), _NOT_UTF8) from None


def _refuse_nul(source: bytes | BinaryIO) -> None:
    """MalformedCsv at the first NUL byte (csv reads it as a character, and no database text column holds one)."""
    if isinstance(source, bytes):
        at = source.find(b"\0")
        if at >= 0:
            raise MalformedCsv(source.count(b"\n", 0, at) + 1, _NUL)
        return
    lines = 0
    while chunk := source.read(_CHUNK):
        at = chunk.find(b"\0")
        if at >= 0:
            raise MalformedCsv(lines + chunk.count(b"\n", 0, at) + 1, _NUL)
        lines += chunk.count(b"\n")
    source.seek(0)


def _undecodable_line(source: bytes | BinaryIO) -> int:
    """The line of the first bytes that are not UTF-8 (the text layer decodes a chunk at a time and cannot say)."""
    if isinstance(source, bytes):
        return _decode_line(io.BytesIO(source))
    source.seek(0)
    return _decode_line(source)


def _decode_line(handle: BinaryIO) -> int:
    for number, raw in enumerate(handle, start=1):
        try:
            raw.decode("utf-8-sig" if number == 1 else "utf-8")
        except UnicodeDecodeError:
            return number
    return 1  # a sequence cut at the very end


def _csv_reason(exc: csv.Error) -> str:
    text = str(exc)
    if "unexpected end of data" in text:
        return "引号未闭合：从此行开始的记录直到文件末尾都没有结束"
    if "expected after" in text:
        return "引号未闭合或未转义：引号之后应为逗号或换行（字段内的引号须写成两个引号）"
    if "field larger than field limit" in text:
        return f"字段超过 {MAX_FIELD // 1024 // 1024} MiB：文件可能已损坏（引号未闭合？）"
    if "new-line character" in text:
        return "换行符不是 LF 或 CRLF"
    return "不是有效的 CSV"
