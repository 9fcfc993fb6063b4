"""`SettingsPatchKwargs` (issue 19): the keywords of `SettingsPatch(...)` as a `TypedDict` in the
stub, so a dict of settings unpacked with `**` type-checks name by name and value by value."""

from __future__ import annotations

import importlib.util
import pathlib
import subprocess
import sys
from typing import TYPE_CHECKING

import pytest

import greenapi_settings as gs

if TYPE_CHECKING:
    from greenapi_settings import SettingsPatchKwargs


def test_a_typed_dict_of_keywords_unpacks_into_the_constructor_and_replace() -> None:
    d: SettingsPatchKwargs = {"incoming_webhook": True, "delay_send_messages_milliseconds": 5000}
    patch = gs.SettingsPatch(**d)
    assert patch == gs.SettingsPatch(incoming_webhook=True, delay_send_messages_milliseconds=5000)
    assert gs.SettingsPatch().replace(**d) == patch


GOOD = """
from greenapi_settings import SettingsPatch, SettingsPatchKwargs
d: SettingsPatchKwargs = {"incoming_webhook": True, "webhook_url": None}
SettingsPatch(**d)
"""
BAD = """
from greenapi_settings import SettingsPatchKwargs
d: SettingsPatchKwargs = {"incoming_webhok": True, "delay_send_messages_milliseconds": "5s"}
"""


@pytest.mark.skipif(importlib.util.find_spec("mypy") is None, reason="mypy is not installed")
def test_mypy_strict_accepts_the_typed_dict_and_names_a_wrong_key_and_a_wrong_value(tmp_path: pathlib.Path) -> None:
    (tmp_path / "good.py").write_text(GOOD)
    (tmp_path / "bad.py").write_text(BAD)

    def mypy(name: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "mypy", "--strict", "--no-incremental", name],
            cwd=tmp_path, capture_output=True, text=True, timeout=300, check=False,
        )

    good = mypy("good.py")
    assert good.returncode == 0, good.stdout + good.stderr
    bad = mypy("bad.py")
    assert bad.returncode == 1
    assert '"incoming_webhok"' in bad.stdout and "delay_send_messages_milliseconds" in bad.stdout
