"""Instruments: built-ins, the file format and its validation messages, the registry, answers."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
import tomli_w
from hypothesis import given
from hypothesis import strategies as st

from ratetool.errors import AnswerError, InstrumentError
from ratetool.instruments import (
    FORMAT_VERSION,
    Instrument,
    Listing,
    Norms,
    Registry,
    builtin_ids,
    check_answer,
    load_builtin,
    load_instrument_file,
    parse_instrument,
)

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "instruments" / "brief-alliance.toml"

# A small valid definition; the bad-definition cases below each change one part of it.
BASE = """\
id = "mini"
version = 1
title = "Mini check"
intro = "Two quick questions."

[scale]
min = 0
max = 10
min_label = "not at all"
max_label = "completely"

[dimensions]
empathy = "Felt understood"
warmth = "Felt cared about"

[[items]]
id = "empathy"
dimension = "empathy"
text = "Today I felt heard."

[[items]]
id = "warmth"
dimension = "warmth"
text = "Today I felt welcome."
reverse = false
"""


def write(folder: Path, text: str, name: str = "mini.toml") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def changed(old: str, new: str) -> str:
    assert BASE.count(old) == 1, f"{old!r} must occur exactly once in BASE"
    return BASE.replace(old, new)


def error_of(path: Path) -> str:
    with pytest.raises(InstrumentError) as caught:
        load_instrument_file(path)
    return str(caught.value)


# --------------------------------------------------------------------------------------------------
# Built-ins and the example


def test_builtin_ids() -> None:
    assert builtin_ids() == ("checkin", "core")


def test_checkin_builtin() -> None:
    checkin = load_builtin("checkin")
    assert checkin.id == "checkin" and checkin.version == 1
    assert checkin.item_ids == ("empathy", "warmth", "genuineness", "trust")
    assert checkin.dimension_ids == ("empathy", "warmth", "genuineness", "trust")
    assert all(item.dimension == item.id for item in checkin.items)
    assert (checkin.scale.min, checkin.scale.max) == (0, 10)
    assert checkin.scale.min_label.strip() and checkin.scale.max_label.strip()
    assert checkin.allow_skip is False
    assert checkin.norms is None
    assert not any(item.reverse for item in checkin.items)
    assert checkin.source == "built-in"


def test_core_builtin() -> None:
    core = load_builtin("core")
    assert core.id == "core" and core.version == 1
    assert len(core.items) == 12
    assert core.dimension_ids == ("empathy", "warmth", "genuineness", "trust")
    assert all(len(core.items_of(dim)) == 3 for dim in core.dimension_ids)
    assert sum(item.reverse for item in core.items) >= 2
    assert (core.scale.min, core.scale.max) == (1, 5)
    assert (core.scale.min_label, core.scale.mid_label, core.scale.max_label) == (
        "never",
        "sometimes",
        "always",
    )
    assert core.allow_skip is True
    assert core.norms is None
    assert all(item.id == item.id.lower() for item in core.items)


def test_load_builtin_is_cached_and_refuses_unknown_ids() -> None:
    assert load_builtin("checkin") is load_builtin("checkin")
    with pytest.raises(InstrumentError, match="checkin, core"):
        load_builtin("nope")


@pytest.mark.parametrize("name", ["checkin.toml", "core.toml"])
def test_builtin_text_falls_back_to_importlib_resources(
    monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    """Read directly when the package is plain files; through importlib.resources when not
    (e.g. a zip import, where ``__file__`` is no real folder): the same text either way."""
    from importlib.resources import files

    from ratetool.instruments import registry

    expected = files("ratetool.instruments").joinpath(name).read_text(encoding="utf-8")
    assert registry._builtin_text(name) == expected
    monkeypatch.setattr(registry, "__file__", "/nonexistent.zip/ratetool/instruments/x.py")
    assert registry._builtin_text(name) == expected


def test_example_file_validates() -> None:
    example = load_instrument_file(EXAMPLE)
    assert example.id == "brief-alliance"
    assert example.id not in builtin_ids()
    assert example.allow_skip is True
    assert example.scale.mid_label
    assert sum(item.reverse for item in example.items) == 1
    # no active norms: made-up norms gave made-up reliable change; the comment says what is needed
    assert example.norms is None
    text = EXAMPLE.read_text(encoding="utf-8")
    assert "norms" not in tomllib.loads(text)
    assert "# [norms]" in text and 'source = "..."' in text and "own data, n = " in text


def test_base_definition_is_valid(tmp_path: Path) -> None:
    mini = load_instrument_file(write(tmp_path, BASE))
    assert mini.item_ids == ("empathy", "warmth")
    assert mini.allow_skip is False and mini.norms is None
    assert mini.source == str(tmp_path / "mini.toml")


def test_format_is_optional_and_1_is_accepted(tmp_path: Path) -> None:
    assert FORMAT_VERSION == 1
    assert load_instrument_file(write(tmp_path, "format = 1\n" + BASE)).id == "mini"


def test_byte_order_mark_and_windows_line_endings_are_forgiven(tmp_path: Path) -> None:
    path = tmp_path / "bom.toml"
    path.write_bytes(b"\xef\xbb\xbf" + BASE.replace("\n", "\r\n").encode("utf-8"))
    assert load_instrument_file(path).id == "mini"


def test_texts_are_stripped(tmp_path: Path) -> None:
    mini = load_instrument_file(
        write(tmp_path, changed('title = "Mini check"', 'title = "  Mini check "'))
    )
    assert mini.title == "Mini check"


# --------------------------------------------------------------------------------------------------
# Bad definitions: each names the file, the key or item, and the problem

SOURCE = 'source = "own data, n = 120"\n'
NORMS = "\n[norms]\nsd = 5\nreliability = 0.8\n" + SOURCE

BAD = {
    "duplicate item id": (
        changed('id = "warmth"', 'id = "empathy"'),
        ["duplicate item id 'empathy': items[1] and items[2] both use it"],
    ),
    "duplicate item id differing in case": (
        changed('id = "warmth"', 'id = "Empathy"'),
        ["duplicate item id 'Empathy' in items[2]: items[1] uses 'empathy'", "upper/lower case"],
    ),
    "undeclared dimension": (
        changed('dimension = "warmth"', 'dimension = "warmht"'),
        [
            "dimension 'warmht' in items[2] (id 'warmth') is not declared in [dimensions]",
            "did you mean 'warmth'",
        ],
    ),
    "dimension without items": (
        changed('warmth = "Felt cared about"', 'warmth = "Felt cared about"\ntrust = "Felt safe"'),
        ["dimension 'trust' in [dimensions] has no items"],
    ),
    "max equal to min": (
        changed("max = 10", "max = 0"),
        ["max in [scale] (0) must be greater than min (0)"],
    ),
    "max below min": (
        changed("max = 10", "max = -3"),
        ["max in [scale] (-3) must be greater than min (0)"],
    ),
    "blank title": (changed('title = "Mini check"', 'title = "   "'), ["title is empty"]),
    "blank intro": (changed('intro = "Two quick questions."', 'intro = ""'), ["intro is empty"]),
    "blank item text": (
        changed('text = "Today I felt welcome."', 'text = " "'),
        ["text in items[2] (id 'warmth') is empty"],
    ),
    "blank min label": (
        changed('min_label = "not at all"', 'min_label = ""'),
        ["min_label in [scale] is empty"],
    ),
    "blank max label": (
        changed('max_label = "completely"', 'max_label = " "'),
        ["max_label in [scale] is empty"],
    ),
    "blank mid label": (
        changed('max_label = "completely"', 'max_label = "completely"\nmid_label = ""'),
        ["mid_label in [scale] is empty"],
    ),
    "blank dimension label": (
        changed('warmth = "Felt cared about"', 'warmth = ""'),
        ["the label of 'warmth' in [dimensions] is empty"],
    ),
    "item text on two lines": (
        changed('text = "Today I felt welcome."', 'text = """Today I felt\nwelcome."""'),
        ["text in items[2] (id 'warmth') must be on one line"],
    ),
    "unknown top-level key": (
        changed("version = 1", 'version = 1\ntittle = "x"'),
        [
            "unknown key 'tittle' at the top of the file; known keys: format, id, version",
            "did you mean 'title'",
        ],
    ),
    "unknown item key": (
        changed("reverse = false", "revers = false"),
        [
            "unknown key 'revers' in items[2] (id 'warmth'); "
            "known keys: id, dimension, text, reverse"
        ],
    ),
    "unknown scale key": (
        changed("max = 10", "max = 10\nstep = 1"),
        ["unknown key 'step' in [scale]; known keys: min, max, min_label, max_label, mid_label"],
    ),
    "top-level key written inside a section": (
        BASE + "allow_skip = true\n",
        ["unknown key 'allow_skip' in items[2] (id 'warmth')", "belongs at the top of the file"],
    ),
    "unknown norms key": (
        BASE + NORMS + "alpha = 0.9\n",
        ["unknown key 'alpha' in [norms]; known keys: sd, reliability, source"],
    ),
    "dimension label not text": (
        changed('warmth = "Felt cared about"', "warmth = 3"),
        ["the label of 'warmth' in [dimensions] must be text in double quotes, not 3"],
    ),
    "dimension written as a section": (
        changed('warmth = "Felt cared about"', 'warmth = { label = "x" }'),
        ["'warmth' in [dimensions] must be a short label in double quotes"],
    ),
    "version as text": (
        changed("version = 1", 'version = "1"'),
        ['version must be a whole number such as 1, not text "1" (remove the quotes)'],
    ),
    "version as a bool": (
        changed("version = 1", "version = true"),
        ["version must be a whole number", "not true"],
    ),
    "version as a decimal": (
        changed("version = 1", "version = 1.0"),
        ["version must be a whole number", "not 1.0"],
    ),
    "reverse as text": (
        changed("reverse = false", 'reverse = "yes"'),
        ["reverse in items[2] (id 'warmth') must be true or false", 'not text "yes"'],
    ),
    "reverse as a number": (
        changed("reverse = false", "reverse = 1"),
        ["reverse in items[2] (id 'warmth') must be true or false", "not 1"],
    ),
    "min as a decimal": (
        changed("min = 0", "min = 1.5"),
        ["min in [scale] must be a whole number", "not 1.5"],
    ),
    "max as a bool": (
        changed("max = 10", "max = true"),
        ["max in [scale] must be a whole number", "not true"],
    ),
    "allow_skip as text": (
        changed("version = 1", 'version = 1\nallow_skip = "yes"'),
        ["allow_skip must be true or false", 'not text "yes"'],
    ),
    "title as a number": (
        changed('title = "Mini check"', "title = 5"),
        ["title must be text in double quotes, not 5"],
    ),
    "missing title": (changed('title = "Mini check"\n', ""), ["missing required key 'title'"]),
    "missing id": (changed('id = "mini"\n', ""), ["missing required key 'id'"]),
    "missing version": (changed("version = 1\n", ""), ["missing required key 'version'"]),
    "missing item text": (
        changed('text = "Today I felt welcome."\n', ""),
        ["items[2] (id 'warmth') is missing required key 'text'"],
    ),
    "missing item id": (
        changed('id = "warmth"\n', ""),
        ["items[2] is missing required key 'id'"],
    ),
    "missing scale label": (
        changed('min_label = "not at all"\n', ""),
        ["[scale] is missing required key 'min_label'"],
    ),
    "missing scale section": (
        changed(
            '[scale]\nmin = 0\nmax = 10\nmin_label = "not at all"\nmax_label = "completely"\n', ""
        ),
        ["missing [scale] section"],
    ),
    "missing dimensions section": (
        changed('[dimensions]\nempathy = "Felt understood"\nwarmth = "Felt cared about"\n', ""),
        ["missing [dimensions] section"],
    ),
    "missing norms key": (
        BASE + "\n[norms]\n" + SOURCE + "sd = 5\n",
        ["[norms] is missing required key 'reliability'"],
    ),
    "bad instrument id": (
        changed('id = "mini"', 'id = "mini check"'),
        ['id "mini check" contains a space; only letters, digits'],
    ),
    "instrument id too long": (
        changed('id = "mini"', f'id = "{"m" * 65}"'),
        ["is 65 characters long; at most 64"],
    ),
    "empty instrument id": (changed('id = "mini"', 'id = ""'), ['id "" is empty']),
    "bad item id": (
        changed('id = "warmth"', 'id = "warm/th"'),
        ["id of items[2] \"warm/th\" contains '/'"],
    ),
    "bad dimension id": (
        changed('warmth = "Felt cared about"', '"felt warm" = "Felt cared about"'),
        ['dimension id "felt warm" in [dimensions] contains a space'],
    ),
    "dimension ids differing only in case": (
        changed('warmth = "Felt cared about"', 'warmth = "Felt cared about"\nWarmth = "Warm"'),
        ["dimension 'Warmth' in [dimensions] is the same as 'warmth' apart from upper/lower case"],
    ),
    "version zero": (changed("version = 1", "version = 0"), ["version must be 1 or more, not 0"]),
    "negative version": (
        changed("version = 1", "version = -2"),
        ["version must be 1 or more, not -2"],
    ),
    "format zero": ("format = 0\n" + BASE, ["format must be 1, not 0"]),
    "format as text": (
        'format = "1"\n' + BASE,
        ["format must be a whole number", "remove the quotes"],
    ),
    "sd zero": (
        BASE + "\n[norms]\n" + SOURCE + "sd = 0\nreliability = 0.8\n",
        ["sd in [norms] must be greater than 0, not 0"],
    ),
    "sd negative": (
        BASE + "\n[norms]\n" + SOURCE + "sd = -1.5\nreliability = 0.8\n",
        ["sd in [norms] must be greater than 0"],
    ),
    "sd not a number": (
        BASE + "\n[norms]\n" + SOURCE + 'sd = "5"\nreliability = 0.8\n',
        ["sd in [norms] must be a number"],
    ),
    "sd nan": (
        BASE + "\n[norms]\n" + SOURCE + "sd = nan\nreliability = 0.8\n",
        ["sd in [norms] must be an ordinary number"],
    ),
    "sd impossible for the total range": (
        BASE + "\n[norms]\n" + SOURCE + "sd = 11\nreliability = 0.8\n",
        ["sd in [norms] (11) is impossible for a total score from 0 to 20", "at most 10"],
    ),
    "reliability one": (
        BASE + "\n[norms]\n" + SOURCE + "sd = 5\nreliability = 1\n",
        ["reliability in [norms] must be between 0 and 1", "not 1"],
    ),
    "reliability zero": (
        BASE + "\n[norms]\n" + SOURCE + "sd = 5\nreliability = 0.0\n",
        ["reliability in [norms] must be between 0 and 1", "not 0.0"],
    ),
    "reliability above one": (
        BASE + "\n[norms]\n" + SOURCE + "sd = 5\nreliability = 1.2\n",
        ["reliability in [norms] must be between 0 and 1", "not 1.2"],
    ),
    "norms without a source": (
        BASE + "\n[norms]\nsd = 5\nreliability = 0.8\n",
        ["[norms] has no 'source'", "own data, n = 120", "Norms without a source are refused"],
    ),
    "norms with an empty source": (
        BASE + NORMS.replace("own data, n = 120", "  "),
        ["[norms] has no 'source' (or an empty one)"],
    ),
    "norms source not text": (
        BASE + "\n[norms]\nsd = 5\nreliability = 0.8\nsource = 120\n",
        ["source in [norms] must be text in double quotes, not 120"],
    ),
    "norms not a section": (
        changed("version = 1", "version = 1\nnorms = 3"),
        ["norms must be a [norms] section"],
    ),
    "no items at all": (BASE.split("[[items]]")[0], ["no items: add at least one [[items]] block"]),
    "empty items list": (
        BASE.split("[[items]]")[0].replace("[scale]", "items = []\n\n[scale]"),
        ["no items"],
    ),
    "items not blocks": (
        BASE.split("[[items]]")[0].replace("[scale]", 'items = "x"\n\n[scale]'),
        ["items must be written as [[items]] blocks"],
    ),
}


@pytest.mark.parametrize("text, expected", list(BAD.values()), ids=list(BAD))
def test_bad_definition_names_file_place_and_problem(
    tmp_path: Path, text: str, expected: list[str]
) -> None:
    path = write(tmp_path, text)
    message = error_of(path)
    for fragment in expected:
        assert fragment in message, f"{fragment!r} not in:\n{message}"
    # Every line names the file, and there is no traceback-like noise.
    for line in message.splitlines():
        assert line.startswith(f"{path}: "), line
    assert "Traceback" not in message and "Error(" not in message


def test_all_problems_are_reported_at_once(tmp_path: Path) -> None:
    text = (
        changed("version = 1", 'version = "1"')
        .replace("max = 10", "max = 0")
        .replace("reverse = false", 'reverse = "yes"')
        .replace('title = "Mini check"', 'title = ""')
    )
    message = error_of(write(tmp_path, text))
    lines = message.splitlines()
    assert len(lines) == 4, message
    assert [line.split(": ", 1)[1].split(" ")[0] for line in lines] == [
        "version",
        "title",
        "max",
        "reverse",
    ]


def test_newer_format_is_refused_naming_both_versions(tmp_path: Path) -> None:
    path = write(tmp_path, "format = 2\n" + BASE + "\nsome_new_key = 1\n")
    assert error_of(path) == (
        f"{path}: written for instrument format 2; this ratetool reads format 1 — update ratetool"
    )


def test_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, changed('title = "Mini check"', "title = Mini check"))
    message = error_of(path)
    assert message.startswith(f"{path}, line 3: TOML syntax error: ")
    assert "Hint:" in message and "double quotes" in message


def test_syntax_error_for_a_key_given_twice(tmp_path: Path) -> None:
    path = write(tmp_path, changed("version = 1", "version = 1\nversion = 2"))
    message = error_of(path)
    assert message.startswith(f"{path}, line 3: TOML syntax error: ")
    assert "written twice" in message


def test_syntax_error_for_a_section_given_twice(tmp_path: Path) -> None:
    path = write(tmp_path, BASE + "\n[scale]\n")
    assert "Cannot declare [scale] twice" in error_of(path)


def test_syntax_error_from_curly_quotes(tmp_path: Path) -> None:
    path = write(tmp_path, changed('title = "Mini check"', "title = \u201cMini check\u201d"))
    message = error_of(path)
    assert message.startswith(f"{path}, line 3: TOML syntax error: ")
    assert "curly quotes" in message


def test_syntax_error_at_end_of_file(tmp_path: Path) -> None:
    path = write(tmp_path, BASE + "[[items")
    message = error_of(path)
    assert message.startswith(f"{path}: TOML syntax error: ")
    assert "(at the end of the file)" in message and "never closed" in message


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nothere.toml"
    message = error_of(path)
    assert str(path) in message and "no such instrument file" in message


def test_folder_instead_of_file(tmp_path: Path) -> None:
    folder = tmp_path / "folder.toml"
    folder.mkdir()
    assert "is a folder" in error_of(folder)


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin1.toml"
    path.write_bytes(
        BASE.replace("Today I felt welcome.", "Heute fühlte ich mich willkommen.").encode("latin-1")
    )
    message = error_of(path)
    assert message.startswith(f"{path}, line 24: ")
    assert "not UTF-8" in message


def test_huge_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "huge.toml"
    path.write_bytes(b"#" * 1_000_001)
    assert "larger than 1 MB" in error_of(path)


def test_parse_instrument_refuses_a_non_table() -> None:
    with pytest.raises(InstrumentError, match=r"^src: does not hold an instrument definition"):
        parse_instrument([1, 2], "src")  # type: ignore[arg-type]


TOML_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats()
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=8,
)


@given(
    path=st.sampled_from(
        [
            (),
            ("id",),
            ("version",),
            ("format",),
            ("title",),
            ("scale",),
            ("scale", "min"),
            ("scale", "max"),
            ("scale", "mid_label"),
            ("dimensions",),
            ("dimensions", "warmth"),
            ("dimensions", "new dim"),
            ("items",),
            ("items", 0),
            ("items", 1, "reverse"),
            ("items", 1, "dimension"),
            ("items", 0, "id"),
            ("norms",),
            ("norms", "sd"),
            ("norms", "source"),
            ("new",),
        ]
    ),
    value=TOML_VALUES,
)
def test_any_mangled_definition_gives_instrument_or_instrument_error(
    path: tuple[str | int, ...], value: Any
) -> None:
    """Whatever one key holds (None: the key is removed), the answer is a clean message."""
    import tomllib

    data: Any = tomllib.loads(BASE + NORMS)
    target: Any = data
    for key in path[:-1]:
        target = target[key]
    if not path:
        data = value
    elif value is None:
        if isinstance(target, dict):
            target.pop(path[-1], None)
        else:
            del target[path[-1]]
    else:
        target[path[-1]] = value
    try:
        result = parse_instrument(data, "fuzz.toml")
    except InstrumentError as exc:
        assert str(exc).startswith("fuzz.toml: ")
    else:
        assert isinstance(result, Instrument)


def test_round_trip_through_tomli_w(tmp_path: Path) -> None:
    import tomllib

    data = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
    path = tmp_path / "copy.toml"
    path.write_text(tomli_w.dumps(data), encoding="utf-8")
    assert load_instrument_file(path) == load_instrument_file(EXAMPLE)


# --------------------------------------------------------------------------------------------------
# Registry


def custom(config_dir: Path, text: str, name: str) -> Path:
    return write(config_dir / "instruments", text, name)


def test_registry_without_custom_folder(config_dir: Path) -> None:
    registry = Registry(config_dir)  # the folder does not even exist
    assert registry.get("checkin") is load_builtin("checkin")
    assert registry.get("core").id == "core"
    assert [row.instrument.id for row in registry.list() if row.instrument] == ["checkin", "core"]
    assert Registry(None).get("checkin").id == "checkin"
    assert Registry(None).custom_dir is None


def test_constructor_does_no_io(tmp_path: Path) -> None:
    blocker = tmp_path / "file-not-folder"
    blocker.write_text("x", encoding="utf-8")
    Registry(blocker / "deeper")  # nothing is read, so nothing fails


def test_custom_file_found_by_id(config_dir: Path) -> None:
    path = custom(config_dir, EXAMPLE.read_text(encoding="utf-8"), "anything.toml")
    found = Registry(config_dir).get("brief-alliance")
    assert found.id == "brief-alliance"
    assert found.source == str(path)


def test_instrument_given_as_path(
    config_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path / "elsewhere", BASE)
    registry = Registry(config_dir)
    assert registry.get(str(path)).id == "mini"
    monkeypatch.chdir(tmp_path)
    assert registry.get("elsewhere/mini.toml").id == "mini"
    monkeypatch.chdir(tmp_path / "elsewhere")
    assert registry.get("mini.toml").id == "mini"


def test_bare_word_naming_an_existing_file(
    config_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path, BASE, name="mini-def")
    monkeypatch.chdir(tmp_path)
    assert Registry(config_dir).get("mini-def").id == "mini"


def test_path_errors_name_the_path(config_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(InstrumentError, match="no such instrument file"):
        Registry(config_dir).get(str(tmp_path / "missing.toml"))


def test_unknown_id_lists_known_ids_and_folder(config_dir: Path) -> None:
    custom(config_dir, EXAMPLE.read_text(encoding="utf-8"), "brief.toml")
    with pytest.raises(InstrumentError) as caught:
        Registry(config_dir).get("chekin")
    message = str(caught.value)
    assert "There is no instrument called 'chekin'" in message
    assert "did you mean 'checkin'" in message
    assert "Known instruments: checkin, core, brief-alliance." in message
    assert str(config_dir / "instruments") in message


def test_unknown_id_without_config_dir() -> None:
    with pytest.raises(
        InstrumentError, match=r"Known instruments: checkin, core.*instruments' folder"
    ):
        Registry(None).get("mystery")


def test_custom_file_may_not_reuse_a_builtin_id(config_dir: Path) -> None:
    path = custom(config_dir, changed('id = "mini"', 'id = "checkin"'), "my-checkin.toml")
    registry = Registry(config_dir)
    with pytest.raises(InstrumentError) as caught:
        registry.get("checkin")
    assert str(path) in str(caught.value)
    assert "belongs to ratetool's built-in instrument 'checkin'" in str(caught.value)
    assert registry.get("core").id == "core"  # other instruments still work
    assert registry.get_version("checkin", 1) is load_builtin("checkin")  # old ratings still score
    row = next(row for row in registry.list() if row.source == str(path))
    assert row.instrument is None and row.error and "built-in" in row.error


def test_builtin_id_reuse_differing_in_case_is_refused(config_dir: Path) -> None:
    custom(config_dir, changed('id = "mini"', 'id = "Core"'), "x.toml")
    with pytest.raises(InstrumentError, match="built-in instrument 'core'"):
        Registry(config_dir).get("core")


def test_path_with_a_builtin_id_is_refused(config_dir: Path, tmp_path: Path) -> None:
    path = write(tmp_path, changed('id = "mini"', 'id = "checkin"'))
    with pytest.raises(InstrumentError, match="belongs to ratetool's built-in instrument"):
        Registry(config_dir).get(str(path))


def test_list_includes_broken_custom_files(config_dir: Path) -> None:
    good = custom(config_dir, EXAMPLE.read_text(encoding="utf-8"), "b-good.toml")
    syntax = custom(config_dir, "id = \n", "a-syntax.toml")
    invalid = custom(config_dir, changed("max = 10", "max = 0"), "c-invalid.toml")
    custom(config_dir, "garbage \x00", "._b-good.toml")  # macOS metadata file: ignored
    (config_dir / "instruments" / "notes.txt").write_text("ignored", encoding="utf-8")
    rows = Registry(config_dir).list()
    assert all(isinstance(row, Listing) for row in rows)
    assert [row.source for row in rows] == [
        "built-in",
        "built-in",
        str(syntax),
        str(good),
        str(invalid),
    ]
    by_source = {row.source: row for row in rows[2:]}
    assert by_source[str(good)].error is None and by_source[str(good)].instrument is not None
    assert by_source[str(syntax)].instrument is None
    assert "line 1: TOML syntax error" in (by_source[str(syntax)].error or "")
    assert "must be greater than min" in (by_source[str(invalid)].error or "")
    instrument, source, error = rows[0]  # rows unpack like tuples too
    assert instrument is not None and source == "built-in" and error is None


def test_broken_custom_file_is_reported_when_asked_for(config_dir: Path) -> None:
    custom(config_dir, changed("max = 10", "max = 0"), "whatever.toml")
    custom(config_dir, "id = \n", "unreadable.toml")
    registry = Registry(config_dir)
    with pytest.raises(InstrumentError, match="must be greater than min"):
        registry.get("mini")  # found by the id inside the file
    with pytest.raises(InstrumentError, match="TOML syntax error"):
        registry.get("unreadable")  # id unknown: found by the file name
    with pytest.raises(InstrumentError, match="2 custom files there could not be used"):
        registry.get("other")
    assert registry.get("checkin").id == "checkin"  # unrelated broken files do not matter


def test_versions_of_a_custom_instrument(config_dir: Path) -> None:
    custom(config_dir, BASE, "mini-v1.toml")
    custom(
        config_dir,
        changed("version = 1", "version = 2").replace("Today I felt heard.", "I felt heard."),
        "mini-v2.toml",
    )
    registry = Registry(config_dir)
    assert registry.get("mini").version == 2
    old = registry.get_version("mini", 1)
    assert old is not None and old.items[0].text == "Today I felt heard."
    assert registry.get_version("mini", 3) is None
    assert registry.get_version("nothing", 1) is None
    assert registry.get_version("checkin", 1) is load_builtin("checkin")
    assert registry.get_version("checkin", 2) is None


def test_same_id_and_version_in_two_files_is_refused(config_dir: Path) -> None:
    first = custom(config_dir, BASE, "one.toml")
    second = custom(config_dir, BASE.replace("Mini check", "Other"), "two.toml")
    registry = Registry(config_dir)
    with pytest.raises(InstrumentError) as caught:
        registry.get("mini")
    assert str(first) in str(caught.value) and str(second) in str(caught.value)
    with pytest.raises(InstrumentError, match="also defined in"):
        registry.get_version("mini", 1)
    assert all(row.error for row in registry.list()[2:])


def test_path_conflicting_with_a_custom_file_of_the_same_version(
    config_dir: Path, tmp_path: Path
) -> None:
    custom(config_dir, BASE, "mini.toml")
    same = write(tmp_path / "a", BASE)
    different = write(tmp_path / "b", BASE.replace("Today I felt heard.", "Changed."))
    registry = Registry(config_dir)
    assert registry.get(str(same)).id == "mini"
    with pytest.raises(InstrumentError, match="higher version number"):
        registry.get(str(different))


def test_empty_reference(config_dir: Path) -> None:
    with pytest.raises(InstrumentError, match="No instrument given"):
        Registry(config_dir).get("  ")


# --------------------------------------------------------------------------------------------------
# Answers


@pytest.mark.parametrize(
    "raw, expected", [("0", 0), ("10", 10), (" 7 ", 7), ("07", 7), ("+3", 3), (5, 5)]
)
def test_answers_accepted(raw: str | int, expected: int) -> None:
    assert check_answer(load_builtin("checkin"), "empathy", raw) == expected


@pytest.mark.parametrize(
    "raw, fragment",
    [
        ("11", "empathy: 11 is outside 0–10; give a whole number from 0 to 10."),
        ("-1", "empathy: -1 is outside 0–10; give a whole number from 0 to 10."),
        ("7.5", "empathy: 7.5 is not a whole number; give a whole number from 0 to 10."),
        ("7,0", "empathy: 7,0 is not a whole number"),
        ("x", "empathy: 'x' is not a number; give a whole number from 0 to 10."),
        ("", "empathy: no answer given; give a whole number from 0 to 10."),
        ("   ", "empathy: no answer given"),
        ("\u0661", "is not a number"),  # non-ASCII digits
        ("1_0", "is not a number"),
        (True, "is not a whole number"),
        (11, "empathy: 11 is outside 0–10"),
    ],
)
def test_answers_refused(raw: str | int, fragment: str) -> None:
    with pytest.raises(AnswerError) as caught:
        check_answer(load_builtin("checkin"), "empathy", raw)
    assert fragment in str(caught.value)
    assert "\n" not in str(caught.value)


def test_answer_range_follows_the_scale() -> None:
    core = load_builtin("core")
    assert check_answer(core, "trust_3", "1") == 1
    with pytest.raises(AnswerError, match="trust_3: 0 is outside 1–5"):
        check_answer(core, "trust_3", "0")


def test_answer_for_unknown_item() -> None:
    with pytest.raises(AnswerError, match="'nope' is not an item of checkin"):
        check_answer(load_builtin("checkin"), "nope", "5")


def test_answer_problem() -> None:
    checkin = load_builtin("checkin")
    assert checkin.answer_problem("trust", 10) is None
    assert (
        checkin.answer_problem("trust", 11)
        == "trust: 11 is outside 0–10; give a whole number from 0 to 10."
    )
    assert checkin.answer_problem("trust", False) is not None
    assert checkin.answer_problem("nope", 1) is not None


# --------------------------------------------------------------------------------------------------
# Import cost


def test_import_does_not_load_tomllib_typer_or_rich() -> None:
    code = (
        "import ratetool.instruments, sys; "
        "print(sorted(m for m in ('tomllib', 'typer', 'rich') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


# --------------------------------------------------------------------------------------------------
# Norms need a source


def test_norms_without_source_are_refused_by_validate_and_by_loading(config_dir: Path) -> None:
    """Made-up norms gave made-up reliable change: `instruments validate` and every use of the
    instrument (here `rate`, which loads it from the instruments folder) refuse norms without a
    source, naming the file and the key, and nothing is saved."""
    from typer.testing import CliRunner

    from ratetool.cli import app

    path = custom(config_dir, BASE + "\n[norms]\nsd = 5\nreliability = 0.8\n", "mini.toml")
    runner = CliRunner()
    checked = runner.invoke(app, ["instruments", "validate", str(path)])
    assert checked.exit_code == 1
    assert f"{path}: [norms] has no 'source'" in " ".join(checked.stderr.split())
    assert "Traceback" not in checked.stderr
    rated = runner.invoke(
        app, ["rate", "C-001", "--instrument", "mini", "--answers", "9,9", "--yes"]
    )
    assert rated.exit_code == 1 and f"{path}: [norms] has no 'source'" in rated.stderr
    assert "saved" not in rated.stdout.lower()
    with pytest.raises(InstrumentError, match="has no 'source'"):
        Registry(config_dir).get("mini")
    # with a source, the same file is fine, and `instruments show` names the source
    path.write_text(BASE + NORMS, encoding="utf-8")
    assert runner.invoke(app, ["instruments", "validate", str(path)]).exit_code == 0
    shown = runner.invoke(app, ["instruments", "show", "mini"])
    assert "Norms (total score): sd 5.0, reliability 0.8; own data, n = 120" in shown.stdout
    assert Registry(config_dir).get("mini").norms == Norms(5.0, 0.8, "own data, n = 120")
