"""Quick prompt actions, Qt-free: templates checked and filled, what is missing said, commands parsed."""

from __future__ import annotations

import pytest

from trayai.core.actions import (
    ACTION_COMMAND,
    ActionTextMissing,
    TemplateError,
    action_command,
    action_from_command,
    action_on_key,
    fill,
    find_action,
    placeholders,
    render_action,
    template_problem,
    unknown_action,
)
from trayai.core.errors import AppError, ConfigError
from trayai.core.settings.config import DEFAULT_ACTIONS, Action

EXPLAIN = DEFAULT_ACTIONS[0]


def test_placeholders_in_order_once_each() -> None:
    assert placeholders("{input} about {selection}, {input} again, {clipboard}") == [
        "input",
        "selection",
        "clipboard",
    ]
    assert placeholders("no placeholder at all") == []


@pytest.mark.parametrize("template", ["{selectoin}", "{Selection}", "Hi {name}!", "{text}{input}"])
def test_an_unknown_placeholder_is_refused_at_validation(template: str) -> None:
    with pytest.raises(TemplateError) as caught:
        placeholders(template)
    assert "unknown placeholder" in str(caught.value)
    assert "{selection}, {clipboard}, {input}" in str(caught.value)
    assert isinstance(caught.value, ConfigError) and isinstance(caught.value, AppError)
    problem = template_problem(template)
    assert problem is not None and "unknown placeholder" in problem


def test_other_braces_are_text_and_doubled_ones_are_literal() -> None:
    template = 'Answer as JSON like {"ok": true} or { }. Keep {{selection}} as is: {selection}'
    assert template_problem(template) is None
    assert (
        fill(template, {"selection": "S"})
        == 'Answer as JSON like {"ok": true} or { }. Keep {selection} as is: S'
    )


def test_filled_text_is_never_read_again() -> None:
    """A selection that holds a placeholder (or braces) goes in as it is: one pass, no re-expansion."""
    text = fill("{selection} | {clipboard}", {"selection": "{clipboard} {{x}}", "clipboard": "C"})
    assert text == "{clipboard} {{x}} | C"


@pytest.mark.parametrize("template", ["", "   \n"])
def test_an_empty_template_is_refused(template: str) -> None:
    assert template_problem(template) == "the template is empty"
    with pytest.raises(TemplateError):
        render_action(Action("Empty", template, 5), selection="text")


def test_the_selection_is_substituted() -> None:
    rendered = render_action(EXPLAIN, selection="def f(): pass", clipboard="ignored")
    assert rendered.text == "Explain this clearly and briefly:\n\ndef f(): pass"
    assert rendered.selection_from == "selection"


def test_without_a_selection_the_clipboard_stands_in() -> None:
    rendered = render_action(EXPLAIN, selection="   ", clipboard="copied text")
    assert rendered.text.endswith("\n\ncopied text")
    assert rendered.selection_from == "clipboard"


def test_nothing_selected_or_copied_is_said_clearly() -> None:
    with pytest.raises(ActionTextMissing) as caught:
        render_action(EXPLAIN, selection="", clipboard="")
    error = caught.value
    assert error.needs == "selection"
    assert error.message == "“Explain” needs text: nothing is selected or copied."
    assert (
        error.hint
        == "Select the text (or copy it to the clipboard), then press 1 in the empty box, or Alt+1."
    )
    assert isinstance(error, AppError)


def test_a_template_with_both_does_not_use_the_clipboard_for_the_selection() -> None:
    both = Action("Compare", "Compare {selection} with {clipboard}", 5)
    with pytest.raises(ActionTextMissing) as caught:
        render_action(both, selection="", clipboard="copied")
    assert caught.value.needs == "selection"
    assert "needs selected text" in caught.value.message
    assert render_action(both, selection="A", clipboard="B").text == "Compare A with B"


def test_an_empty_clipboard_is_said_clearly() -> None:
    reply = Action("Reply", "Reply to: {clipboard}", 6)
    with pytest.raises(ActionTextMissing) as caught:
        render_action(reply, selection="selected", clipboard=" ")
    assert caught.value.needs == "clipboard"
    assert caught.value.message == "“Reply” needs text on the clipboard, and the clipboard is empty."
    assert "Copy the text" in caught.value.hint


def test_input_is_what_was_typed() -> None:
    ask = Action("Ask about it", "{input}\n\nAbout this:\n{selection}", 7)
    rendered = render_action(ask, selection="the text", typed="Is this right?")
    assert rendered.text == "Is this right?\n\nAbout this:\nthe text"
    with pytest.raises(ActionTextMissing) as caught:
        render_action(ask, selection="the text", typed="")
    assert caught.value.needs == "input"
    assert "Alt+7" in caught.value.hint


def test_a_template_without_placeholders_is_sent_as_it_is() -> None:
    joke = Action("Joke", "Tell me a joke.", 8)
    rendered = render_action(joke)
    assert (rendered.text, rendered.selection_from) == ("Tell me a joke.", None)


def test_finding_actions_by_name_and_key() -> None:
    actions = list(DEFAULT_ACTIONS)
    assert find_action(actions, "Summarise") is actions[1]
    assert find_action(actions, "summarise") is None  # names are exact: they come from menus and scripts
    assert action_on_key(actions, 4) is actions[3]
    assert action_on_key(actions, 9) is None


def test_unknown_action_lists_the_names() -> None:
    text = unknown_action("Nope", list(DEFAULT_ACTIONS))
    assert (
        text
        == "No action named 'Nope' — actions: 'Explain', 'Summarise', 'Translate to English', 'Fix grammar'"
    )
    assert "there are no actions" in unknown_action("Nope", [])
    assert "\x1b" not in unknown_action("\x1b[31mred", [])


def test_instance_commands_round_trip() -> None:
    assert action_command("Fix grammar") == "prompt:action:Fix grammar" == ACTION_COMMAND + "Fix grammar"
    assert action_from_command(action_command("Fix grammar")) == "Fix grammar"
    assert action_from_command(action_command("Ünïcode ✓")) == "Ünïcode ✓"


@pytest.mark.parametrize(
    "command",
    [
        "prompt",
        "prompt:action:",
        "prompt:action: padded",
        "prompt:action:two\nlines",
        "prompt:action:esc\x1b[2J",
        "prompt:action:" + "x" * 65,
        "chat:action:Explain",
        "PROMPT:ACTION:Explain",
    ],
)
def test_instance_commands_are_refused_unless_well_formed(command: str) -> None:
    """The command comes from another process: only a bounded one-line name gets through."""
    assert action_from_command(command) is None
