"""config.toml: a byte-order mark is forgiven, and text that is not UTF-8 is named by its byte,
exactly as the utf-8-sig codec would (ratetool strips the mark itself, to skip that import)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ratetool.config import load_config
from ratetool.errors import ConfigError


def test_a_byte_order_mark_is_forgiven(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_bytes(b'\xef\xbb\xbfpractitioner = "AB"\nstore = "csv"\n')
    config = load_config(tmp_path)
    assert (config.practitioner, config.store, config.exists) == ("AB", "csv", True)


@pytest.mark.parametrize("bom", [b"", b"\xef\xbb\xbf"])
def test_text_that_is_not_utf8_is_named_by_its_byte(tmp_path: Path, bom: bytes) -> None:
    raw = bom + b'practitioner = "A\xffB"\n'
    (tmp_path / "config.toml").write_bytes(raw)
    with pytest.raises(UnicodeDecodeError) as codec:
        raw.decode("utf-8-sig")
    with pytest.raises(ConfigError, match=rf"not UTF-8 text \(byte {codec.value.start}\)"):
        load_config(tmp_path)
