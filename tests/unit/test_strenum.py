"""States shown to people and stored as text format as their value, on every Python trayai supports."""

from __future__ import annotations

import json

import pytest

from trayai.core.embedded import RunState
from trayai.core.error_catalog import ErrorCode
from trayai.core.status import ServerState
from trayai.core.strenum import StrEnum


@pytest.mark.parametrize("member", [RunState.STOPPED, ServerState.READY, ErrorCode.CONNECTION_REFUSED])
def test_a_state_formats_stores_and_compares_as_its_value(member: StrEnum) -> None:
    # Python 3.11 formats a (str, Enum) member as "RunState.STOPPED": the tray's Built-in server
    # menu once read "smollm2 — RunState.STOPPED".
    assert isinstance(member, StrEnum)
    assert f"{member}" == str(member) == member.value
    assert f"{member:>3}".strip() == member.value
    assert json.dumps({"s": member}) == json.dumps({"s": member.value})
    assert member == member.value
