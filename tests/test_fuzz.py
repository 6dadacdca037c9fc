"""Arbitrary text at every way in never ends in an internal error (issue 10).

Hypothesis throws text at ``rate --answers``, ``--date``, ``--comment``, ``--practitioner``, client
codes, ``config.toml`` values, instrument files and import cells (CSV and JSON Lines). Whatever
it finds, ratetool answers through its exit point: exit 0, 1 or 2, never 70 (a bug), no
traceback, no exception escaping; and when it refuses, the data folder is byte-for-byte as it
was. Bounded (a few dozen examples per way in, no deadline) so it runs in the default test run;
commands run in process through Typer's ``CliRunner``.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from pathlib import Path

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from ratetool.cli import app
from ratetool.instruments import load_builtin

EXAMPLES = settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

#: Characters worth trying on top of any Unicode text: control characters, what a byte that is not
#: UTF-8 becomes on the command line (a lone surrogate), line breaks and separators.
NASTY = st.sampled_from(
    [
        "\x00",
        "\x07",
        "\x1b",
        "\x1b[31m",
        "\x7f",
        "\x85",
        "\x9b",
        "\r",
        "\n",
        "\t",
        "\udcff",
        "\u2028",
        "\ufeff",
        '"',
        "'",
        ",",
        ";",
        "=",
        "-",
        "+",
        "[",
        "{",
        "\\",
    ]
)
TEXT = st.lists(st.one_of(st.characters(), NASTY), max_size=40).map("".join)
DIGITY = st.one_of(
    st.text(st.sampled_from("0123456789,=+-. s"), max_size=30),
    st.sampled_from([1, 6, 7, 19, 4300, 4301, 5000]).map(lambda n: "9" * n),
    st.from_regex(
        r"(0[0-9]{3}|1[89][0-9]{2}|20[0-9]{2}|9999)-[0-9]{2}-[0-9]{2}"
        r"([T ][0-9]{2}:[0-9]{2}(Z|[+-][0-9]{2}:[0-9]{2})?)?",
        fullmatch=True,
    ),
)
ANY = st.one_of(TEXT, DIGITY)
#: A TOML value as written in a file: text, numbers at the edges, inf and nan, nesting.
TOML_VALUE = st.one_of(
    TEXT.map(json.dumps),
    st.sampled_from(
        [
            "inf",
            "-inf",
            "nan",
            "+nan",
            "1e400",
            "-0.0",
            "0",
            "100",
            "101",
            "true",
            "1979-05-27",
            "[]",
            "{}",
            "[1, [2]]",
        ]
    ),
    st.integers().map(str),
    st.integers(min_value=1, max_value=3000).map(lambda n: "[" * n + "]" * n),
    TEXT,  # not TOML at all
)
CHECKIN_TEXT = (
    Path(__file__).resolve().parent.parent / "src" / "ratetool" / "instruments" / "checkin.toml"
).read_text(encoding="utf-8")
VERSION_LINE = CHECKIN_TEXT.split("\n").index("version = 1")
ITEMS = load_builtin("checkin").item_ids


def snapshot(folder: Path) -> dict[str, bytes | None]:
    """Every file and folder under ``folder`` with its bytes (the derived cache aside)."""
    if not folder.exists():
        return {}
    return {
        str(p.relative_to(folder)): (p.read_bytes() if p.is_file() else None)
        for p in sorted(folder.rglob("*"))
        if ".ratetool-cache" not in p.relative_to(folder).parts
    }


def calm(data_dir: Path, *args: str) -> int:
    """Run ``ratetool args`` and hold it to the rules; returns the exit status."""
    before = snapshot(data_dir)
    result = CliRunner().invoke(app, list(args))
    shown = (args, result.output[-2000:])
    assert result.exit_code in (0, 1, 2), shown
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        args,
        repr(result.exception),
    )
    assert "Traceback" not in result.output and "internal error" not in result.output, shown
    if result.exit_code != 0:
        assert snapshot(data_dir) == before, shown
    return result.exit_code


def rate(data_dir: Path, *extra: str) -> int:
    return calm(data_dir, "rate", "--yes", *extra)


@EXAMPLES
@given(text=ANY)
@example(text="9" * 5000 + ",1,1,1")
def test_answers(data_dir: Path, text: str) -> None:
    rate(data_dir, f"--answers={text}", "C-1")


@EXAMPLES
@given(text=ANY)
@example(text="0001-01-01")
def test_dates(data_dir: Path, text: str) -> None:
    rate(data_dir, "--answers=7,8,8,6", f"--date={text}", "C-1")


@EXAMPLES
@given(text=TEXT)
@example(text="ab\udcffc")
def test_comments_and_practitioners(data_dir: Path, text: str) -> None:
    rate(data_dir, "--answers=7,8,8,6", f"--comment={text}", "C-1")
    rate(data_dir, "--answers=7,8,8,6", f"--practitioner={text}", "C-1")


@EXAMPLES
@given(text=ANY)
def test_client_codes(data_dir: Path, text: str) -> None:
    rate(data_dir, "--answers=7,8,8,6", "--", text)
    calm(data_dir, "summary", "--", text)
    calm(data_dir, "chart", "--", text)


@EXAMPLES
@given(
    key=st.sampled_from(
        [
            "practitioner",
            "instrument",
            "store",
            "format",
            "alerts",
            "[alerts] low",
            "[alerts] drop",
            "[alerts] item",
            "[alerts] other",
            "other",
        ]
    ),
    value=TOML_VALUE,
)
@example(key="[alerts] drop", value="inf")
@example(key="other", value="[" * 3000 + "]" * 3000)
def test_config_values(data_dir: Path, config_dir: Path, key: str, value: str) -> None:
    config_dir.mkdir(exist_ok=True)
    table, _, name = key.rpartition(" ")
    (config_dir / "config.toml").write_text(
        f"{table}\n{name} = {value}\n", encoding="utf-8", errors="surrogatepass"
    )
    rate(data_dir, "--answers=7,8,8,6", "C-1")
    calm(data_dir, "summary")


@EXAMPLES
@given(
    line=st.integers(min_value=0, max_value=CHECKIN_TEXT.count("\n")),
    value=TOML_VALUE,
    whole=st.booleans(),
)
@example(line=VERSION_LINE, value="[" * 3000 + "]" * 3000, whole=False)
def test_instrument_files(
    data_dir: Path, tmp_path: Path, line: int, value: str, whole: bool
) -> None:
    lines = CHECKIN_TEXT.split("\n")
    key, sep, _ = lines[line].partition(" = ")
    lines[line] = f"{key} = {value}" if sep and not whole else value
    path = tmp_path / "fuzzed.toml"
    path.write_bytes("\n".join(lines).encode("utf-8", "surrogatepass"))
    rate(data_dir, f"--instrument={path}", "--answers=7,8,8,6", "C-1")
    calm(data_dir, "instruments", "show", str(path))


def _csv(header: Sequence[str], row: Sequence[str]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerow(row)
    return out.getvalue()


@EXAMPLES
@given(column=st.integers(min_value=0, max_value=7), value=ANY, quoted=st.booleans())
@example(column=2, value="9" * 5000, quoted=True)
@example(column=7, value="9" * 4301, quoted=False)
@example(column=1, value="0001-01-01T00:00+05:00", quoted=True)
def test_import_cells(
    data_dir: Path, tmp_path: Path, column: int, value: str, quoted: bool
) -> None:
    header = ["client", "date", *ITEMS, "comment", "session"]
    row = ["C-1", "2026-11-01", "7", "8", "8", "6", "fine", "1"]
    row[column] = value
    text = _csv(header, row) if quoted else ",".join(header) + "\n" + ",".join(row) + "\n"
    path = tmp_path / "fuzzed.csv"
    path.write_bytes(text.encode("utf-8", "surrogatepass"))
    calm(data_dir, "import", "--dry-run", str(path))
    calm(data_dir, "import", str(path))


JSON_VALUE = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), ANY),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(ANY, inner, max_size=3)),
    max_leaves=8,
)


@EXAMPLES
@given(
    key=st.sampled_from(
        [
            "client",
            "date",
            "session",
            "comment",
            "practitioner",
            "id",
            "instrument",
            "instrument_version",
            "answers",
            "skipped",
            "empathy",
        ]
    ),
    value=JSON_VALUE,
)
def test_import_json_values(data_dir: Path, tmp_path: Path, key: str, value: object) -> None:
    record: dict[str, object] = {
        "client": "C-1",
        "date": "2026-11-01",
        "answers": dict(zip(ITEMS, (7, 8, 8, 6))),
    }
    if key == "empathy":
        record["answers"] = {**record["answers"], key: value}  # type: ignore[dict-item]
    else:
        record[key] = value
    path = tmp_path / "fuzzed.jsonl"
    path.write_bytes(json.dumps(record).encode("utf-8") + b"\n")
    calm(data_dir, "import", str(path))
