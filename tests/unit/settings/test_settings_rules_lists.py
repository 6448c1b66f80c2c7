"""The dialog's rules for presets and actions, without a display: which row, which sentence."""

from __future__ import annotations

from trayai.core.settings.config import DEFAULT_ACTIONS, Action, Preset, Settings
from trayai.core.settings.rules import check, free_key, list_problem


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


def test_check_reports_presets_and_actions_by_row() -> None:
    settings = Settings()
    settings.presets.append(Preset("", "nameless"))
    problem = check(settings, [], {}, url_locked=lambda _p: False)
    assert problem is not None and (problem.where, problem.row) == ("preset", 3)
    assert problem.message == "A preset needs a name."
    settings = Settings()
    settings.actions[0].key = 4
    problem = check(settings, [], {}, url_locked=lambda _p: False)
    assert problem is not None and (problem.where, problem.row) == ("action", 3)
    assert problem.message == "Actions 'Explain' and 'Fix grammar' both use key 4."
