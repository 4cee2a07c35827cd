"""A fictional procedure in which every text field holds Rich and Textual markup, and the challenge
text to go with it: the CLI and the app must print each of them literally."""

from __future__ import annotations

import json


def marked(name: str) -> str:
    """A field's text: its name, then markup that would vanish or restyle if it were read as markup."""
    return f"{name} [bold]b[/] [link=x]l"


def q(name: str) -> str:
    return json.dumps(marked(name))


def procedure_toml() -> str:
    """Every text field of a procedure file, each holding markup (fields named after themselves)."""
    return f"""
format = 2
id = "marked-up"
name = {q("name")}
area = {q("area")}
partnership = {q("partnership")}
applies_to = "children"
version = {q("version")}
region = "england-and-wales"
stage_label = {q("stage_label")}
check_note = {q("check_note")}
outcomes = [{q("outcome")}]
complaints_route = {q("complaints_route")}
notes = [{q("note")}]

[source]
title = {q("source.title")}
url = {q("source.url")}
other_urls = [{q("source.other_url")}]
retrieved = {q("source.retrieved")}
coverage = {q("source.coverage")}

[[stages]]
number = 1
label = {q("stage.label")}
title = {q("stage.title")}
group = {q("stage.group")}
raised_by = [{q("stage.raised_by")}]
received_by = [{q("stage.received_by")}]
medium = ["email"]
actions = [{q("stage.action")}]
record = [{q("stage.record")}]
forms = [{q("form.name")}]
note = {q("stage.note")}

  [[stages.notify]]
  to = {q("notify.to")}
  how = {q("notify.how")}
  form = {q("form.name")}
  required = false

  [[stages.deadlines]]
  id = "raise"
  what = {q("deadline.what")}
  owner = "us"
  starts = "contact-by-phone"
  starts_wording = {q("deadline.starts_wording")}
  timescale = {{ kind = "working-days", amount = 2, wording = {q("timescale.wording")} }}

[[stages]]
number = 2
title = {q("stage2.title")}

[[limits]]
id = "whole"
what = {q("limit.what")}
from_stage = 1
to_stage = 2
timescale = {{ kind = "working-days", amount = 10 }}

[[skip_rules]]
id = "immediate-risk"
when = {q("skip.when")}
instruction = {q("skip.instruction")}
contact_directly = [{q("skip.contact")}]

[[routes]]
id = "conference"
name = {q("route.name")}
when = {q("route.when")}
started_by = {q("route.started_by")}
exit = {q("route.exit")}

  [[routes.stages]]
  number = 1
  title = {q("route.stage.title")}

[[exclusions]]
matter = {q("exclusion.matter")}
go_to = {q("exclusion.go_to")}

[[disagreements]]
id = "local-one"
title = {q("disagreement.title")}
triggers = ["disputed-referral"]
wording = [{q("disagreement.wording")}]
examples = [{q("disagreement.example")}]
checks = [{q("disagreement.check")}]

[triggers.disputed-referral]
wording = [{q("trigger.wording")}]
examples = [{q("trigger.example")}]
checks = [{q("trigger.check")}]

[[forms]]
name = {q("form.name")}
url = {q("form.url")}
when = {q("form.when")}
fields = [{q("form.field")}]

[[contacts]]
name = {q("contact.name")}
role = {q("contact.role")}
phone = {q("contact.phone")}
email = {q("contact.email")}
"""


def _fields() -> list[str]:
    text = procedure_toml()
    found = []
    for value in text.splitlines():
        if "[bold]b[/]" in value:
            for part in value.split('"')[1::2]:
                if part.endswith(" [bold]b[/] [link=x]l"):
                    found.append(part.removesuffix(" [bold]b[/] [link=x]l"))
    return sorted(set(found))


#: every marked field of the procedure above, read from its text (a field added there is never left out)
PROCEDURE_FIELDS = _fields()

#: the challenge's own text, as a DSL would type it
CHALLENGE_FIELDS = ["case_ref", "agency", "decision", "concern", "contact.summary", "with.name", "note.summary"]
