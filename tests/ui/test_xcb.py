"""The XCB connection of the X11 hotkey: a missing X server is a clear error, never a crash."""

from __future__ import annotations

import pytest

from trayai.ui.hotkeys.xcb import XcbConnection, XcbError


@pytest.mark.parametrize("display", [":4093", "nosuchhost.invalid:0", "not a display"])
def test_no_x_server_there_is_an_xcb_error(display: str) -> None:
    with pytest.raises(XcbError, match="cannot open the X display"):
        XcbConnection(display)
