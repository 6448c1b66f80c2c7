"""Who decides whether a tool runs: its policy (ask by default, allow, never), the person's answer to
the question (Allow once / Always for this tool / Deny), "Always" remembered in ``mcp.json``, and what
the model is told when a call is not run. Nothing is allowed unless the person said so."""

from __future__ import annotations

from trayai.core.strenum import StrEnum
from trayai.core.tools.config import ToolPolicy, ToolsConfig, ToolsStore


class Decision(StrEnum):
    """What happens to one call now."""

    RUN = "run"
    ASK = "ask"
    REFUSE = "refuse"


class Approval(StrEnum):
    """The person's answer on the card (or ``y``/``a``/``n`` in the terminal)."""

    ONCE = "once"
    ALWAYS = "always"
    DENY = "deny"


def decide(config: ToolsConfig, server: str, tool: str) -> Decision:
    """The decision the configuration makes for ``server``'s ``tool`` before anyone is asked."""
    held = config.servers.get(server)
    if held is None or not held.enabled:
        return Decision.REFUSE
    return {ToolPolicy.ALLOW: Decision.RUN, ToolPolicy.NEVER: Decision.REFUSE}.get(
        held.policy(tool), Decision.ASK
    )


def answer(approval: Approval) -> Decision:
    """The decision the person's answer makes (Always is also :func:`remember`-ed by the caller)."""
    return Decision.REFUSE if approval is Approval.DENY else Decision.RUN


def remember(store: ToolsStore, server: str, tool: str, policy: ToolPolicy = ToolPolicy.ALLOW) -> ToolsConfig:
    """Save ``policy`` for the tool in ``mcp.json`` (as it is now) and return the new configuration,
    for the hub to follow (a policy change keeps the connection)."""

    def change(config: ToolsConfig) -> ToolsConfig:
        held = config.server(server)
        if policy is ToolPolicy.ASK:
            held.policies.pop(tool, None)  # ask is the default: the file stays short
        else:
            held.policies[tool] = policy
        return config

    return store.update(change)


def refusal_content(tool: str, *, by_person: bool) -> str:
    """What the model is told when the call was not run, so it does not simply try again."""
    who = "The user denied" if by_person else "The user's settings do not allow"
    return f"{who} this call to {tool}; it was not run. Do not call it again for this request."
