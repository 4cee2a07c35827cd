"""escalate: professional challenge and escalation for safeguarding leads.

The package root stays empty on purpose: importing ``escalate`` must not pull in
Textual, Rich or pydantic, so that every command pays only for what it uses.
"""

__version__ = "0.1.0"
