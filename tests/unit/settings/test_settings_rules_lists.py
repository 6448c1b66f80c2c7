"""The dialog's rules for presets and actions, without a display: which row, which sentence."""

from __future__ import annotations

from trayai.core.settings.config import DEFAULT_ACTIONS, Action, Preset
from trayai.core.settings.rules import free_key, list_problem


def test_list_problem_names_the_row_and_ends_the_sentence() -> None:
    assert list_problem(list(DEFAULT_ACTIONS)) is None
    assert list_problem([]) is None
    actions = [*DEFAULT_ACTIONS, Action("Mine", "{nope}", 6)]
    row, problem = list_problem(actions) or (None, "")
    assert (
        row == 4 and problem.startswith("Action 'Mine': unknown placeholder {nope}") and problem.endswith(".")
    )
    presets = [Preset("A", "x"), Preset("B", "y"), Preset("A", "z")]
    assert list_problem(presets) == (2, "Two presets are named 'A'.")


def test_free_key_is_the_lowest_unused() -> None:
    assert free_key([]) == 1
    assert free_key(list(DEFAULT_ACTIONS)) == 5
    assert free_key([Action(str(k), "{input}", k) for k in range(1, 10)]) is None
    assert free_key([Action("x", "{input}", 1), Action("y", "{input}", 3)]) == 2
