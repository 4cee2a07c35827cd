"""Arguments of the commands over the challenge log."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from escalate.cli.handler import lazy
from escalate.entry import FREE_TEXT, OUTCOMES, RECORDABLE
from escalate.formats import EXPORT_FORMATS, NAMES, PACK_NAMES
from escalate.settings import KEYS

M = "escalate.cli.log_cmd"
T = "escalate.cli.team_cmd"
F = "escalate.cli.follow_cmd"
#: warnings `verify` prints before summing up the rest (a big store can have thousands)
WARNINGS_SHOWN = 10


def add_log_commands(command: Callable[..., argparse.ArgumentParser]) -> None:

    p = command("open", "open a challenge; prints its id", M, "cmd_open")
    p.set_defaults(signs=True)  # a signing key, where set up, signs the head after it
    p.add_argument(
        "--procedure",
        metavar="ID",
        help="procedure id (`escalate procedures list`); default: the first of your partnerships setting",
    )
    p.add_argument(
        "--trigger",
        action="append",
        default=[],
        metavar="ID",
        help="unrecognised-harm, disputed-referral, threshold-misapplied, no-information-sharing, "
        "non-cooperation, or one of the procedure's own disagreements (repeatable; required unless --referral)",
    )
    p.add_argument("--case-ref", required=True, metavar="REF", help="case reference (a pseudonymous one is preferred)")
    p.add_argument(
        "--subject-name",
        default="",
        metavar="NAME",
        help="the child's (or adult's) name, optional: kept as a personal field, withheld by --redact",
    )
    p.add_argument("--agency", required=True, metavar="TEXT", help="agency and team challenged")
    p.add_argument(
        "--decision", default="", metavar="TEXT", help="the decision being challenged (required unless --referral)"
    )
    p.add_argument(
        "--referral",
        action="store_true",
        help="follow up a referral before any decision, from the procedure's step for it; record the decision "
        "later with `record ID decision-received`",
    )
    p.add_argument("--decision-at", metavar="WHEN", help="when that decision was received")
    p.add_argument("--decision-by", metavar='"Name, Role, Agency"', help="who made the decision")
    p.add_argument("--decision-ref", default="", metavar="TEXT", help="the other agency's reference for it")
    p.add_argument("--concern", required=True, metavar="TEXT", help="the concern, with evidence-based reasons")
    p.add_argument("--evidence", action="append", metavar="TEXT", help="one piece of evidence (repeatable)")
    p.add_argument("--outcome-sought", default="", metavar="TEXT")
    p.add_argument("--immediate-risk", action="store_true", help="the child is at risk of immediate harm")
    p.add_argument("--route", default="main", help="a parallel route of the procedure (default main)")
    p.add_argument(
        "--start-stage",
        type=int,
        metavar="NUMBER",
        help="start at this stage, where a skip rule of the procedure offers it (`procedures show` lists them)",
    )
    p.add_argument("--protective-by", metavar="WHEN", help="case-specific protective timescale")
    p.add_argument("--at", metavar="WHEN", help="when the disagreement arose (default now)")

    p = command("record", "record an entry on a challenge", M, "cmd_record")
    p.set_defaults(signs=True)  # a signing key, where set up, signs the head after it
    p.add_argument("challenge", help="challenge id, e.g. C-0001 (or 1)")
    p.add_argument(
        "kind", choices=RECORDABLE + ("reopened",), metavar="KIND", help=", ".join(RECORDABLE) + ", reopened"
    )
    p.add_argument("--at", metavar="WHEN", help="when it happened (default now)")
    p.add_argument("--with", dest="with_", metavar='"Name, Role, Agency"', help="the other person")
    p.add_argument("--summary", metavar="TEXT", help="what was said or done")
    p.add_argument(
        "--direction", choices=("made", "received"), default="made", help="contact: made (default) or received"
    )
    p.add_argument(
        "--medium", default=None, help="contact or notification: phone, email, meeting, letter, form, verbal"
    )
    p.add_argument("--decision", metavar="TEXT", help="response or decision-received: their decision")
    p.add_argument("--decision-by", metavar='"Name, Role, Agency"', help="decision-received: who made it")
    p.add_argument("--decision-ref", metavar="TEXT", help="decision-received: their reference for it")
    p.add_argument(
        "--trigger",
        action="append",
        metavar="ID",
        help="decision-received: what you disagree with, if you do (repeatable)",
    )
    p.add_argument("--rationale", metavar="TEXT", help="response: their reasons")
    p.add_argument("--action", metavar="TEXT", help="action-agreed: the action")
    p.add_argument("--owner", metavar="TEXT", help="action-agreed: who does it")
    p.add_argument(
        "--action-seq",
        metavar="N",
        help="action-done: the entry number of the action agreed (`show` lists it)",
    )
    p.add_argument("--due", metavar="WHEN", help="action-agreed / timescale-agreed: due date")
    p.add_argument("--deadline", metavar="ID", help="deadline id of the current stage")
    p.add_argument("--new-due", metavar="WHEN", help="deadline-extended: the new due time")
    p.add_argument("--reason", metavar="TEXT", help="reason (extensions, pauses, decisions, reopening)")
    p.add_argument("--agreed-by", metavar='"Name, Role, Agency"')
    p.add_argument("--to", metavar="TEXT", help="notification-sent: who was notified")
    p.add_argument("--form", metavar="TEXT", help="notification-sent: form sent")
    p.add_argument(
        "--history",
        metavar="REASON",
        help="for something that happened before the challenge was opened (a contact, response, action, "
        "notification, advice or note): why it is recorded as earlier history",
    )

    p = command("step-up", "step up to the next stage of the procedure", M, "cmd_step_up")
    p.set_defaults(signs=True)  # a signing key, where set up, signs the head after it
    p.add_argument("challenge")
    p.add_argument("--reason", required=True, metavar="TEXT")
    p.add_argument("--at", metavar="WHEN")

    p = command("resolve", "record the outcome of a challenge", M, "cmd_resolve")
    p.set_defaults(signs=True)  # a signing key, where set up, signs the head after it
    p.add_argument("challenge")
    p.add_argument("--outcome", required=True, choices=OUTCOMES)
    p.add_argument("--rationale", required=True, metavar="TEXT")
    p.add_argument("--impact", metavar="TEXT", help="impact on the child")
    p.add_argument("--lessons", metavar="TEXT")
    p.add_argument("--at", metavar="WHEN")

    p = command("amend", "correct a field of an earlier entry (the original is kept)", M, "cmd_amend")
    p.set_defaults(signs=True)  # a signing key, where set up, signs the head after it
    p.add_argument("challenge")
    p.add_argument("seq", help="the entry's number within the challenge (as `escalate show` prints it)")
    p.add_argument("--field", required=True, help="the field to correct, e.g. summary or with.name")
    p.add_argument("--value", required=True, metavar="TEXT", help="the corrected value")
    p.add_argument("--reason", required=True, metavar="TEXT")

    p = command(
        "agenda",
        "what is due: overdue, today, within a week, actions agreed, follow-ups, clocks not started",
        F,
        "cmd_agenda",
    )
    p.add_argument("--json", action="store_true", help="print JSON")

    p = command(
        "calendar",
        "write every open deadline to a calendar file (.ics) with a reminder; import it again to update",
        F,
        "cmd_calendar",
    )
    p.add_argument("-o", "--output", required=True, metavar="FILE", help="the .ics file to write")
    p.add_argument("--challenge", metavar="ID", help="one challenge's deadlines only")
    p.add_argument(
        "--case-ref", action="store_true", help="put the case reference in each event (left out unless asked)"
    )
    p.add_argument("--redact", action="store_true", help="leave out the agency and agreed actions' words too")
    p.add_argument("--force", action="store_true", help="replace the file if it exists")

    p = command(
        "backup", "copy the store to a file, safely while escalate is in use; the copy is verified", F, "cmd_backup"
    )
    p.add_argument("file", metavar="FILE", help="the backup file to write, e.g. escalate-2026-12-03.sqlite3")
    p.add_argument("--force", action="store_true", help="replace the file if it exists")

    p = command(
        "restore",
        "put a backup back as the store (--data-dir chooses which); refuses one that does not verify",
        F,
        "cmd_restore",
    )
    p.add_argument("file", metavar="FILE", help="the backup file")
    p.add_argument(
        "--replace",
        action="store_true",
        help="replace a store that holds entries (it is kept beside the restored one, renamed)",
    )

    p = command(
        "search", "find challenges by the child's name, a case reference or any words recorded", F, "cmd_search"
    )
    p.add_argument("text", nargs="+", metavar="WORDS", help="each word must begin a word of the same entry")
    p.add_argument("--limit", type=int, default=100, metavar="N", help="at most N challenges (default 100)")
    p.add_argument("--json", action="store_true", help="print JSON")

    p = command(
        "letter",
        "draft the letter to the other agency for a stage, or fill the procedure's form; recorded in the log",
        F,
        "cmd_letter",
    )
    p.set_defaults(signs=True, signs_before=True)  # the file carries a signed head of all before it
    p.add_argument("challenge", help="challenge id, e.g. C-0001 (or 1)")
    p.add_argument("-o", "--output", required=True, metavar="FILE", help="the file to write (.txt, .md or .docx)")
    p.add_argument("--format", choices=("txt", "md", "docx"), help="default: the file name's extension")
    p.add_argument("--stage", metavar="LABEL", help="the stage's number or label (default: the current stage)")
    p.add_argument("--form", metavar="NAME", help="fill this form of the procedure (`procedures show` lists them)")
    p.add_argument("--redact", action="store_true", help="the case reference and others' names as stand-ins")
    p.add_argument("--force", action="store_true", help="replace the file if it exists")

    group = command(
        "keys", "your signing key (Ed25519, OpenSSH files), for signatures ssh-keygen checks", F, "cmd_keys"
    )
    ksub = group.add_subparsers(title="actions", metavar="ACTION")
    p = ksub.add_parser("new", help="make a key pair in the config folder and sign with it")
    p.add_argument("--passphrase", action="store_true", help="protect it with a passphrase (asked for)")
    p.add_argument("--replace", action="store_true", help="make a new one; the old pair is kept, renamed")
    p.set_defaults(handler=lazy(F, "cmd_keys_new"))
    p = ksub.add_parser("use", help="sign with an existing OpenSSH Ed25519 key, e.g. ~/.ssh/id_ed25519")
    p.add_argument("path", metavar="PATH", help="the private key file")
    p.set_defaults(handler=lazy(F, "cmd_keys_use"))
    p = ksub.add_parser("show", help="the key in use: file, public key, fingerprint")
    p.set_defaults(handler=lazy(F, "cmd_keys_show"))
    p = ksub.add_parser("allowed-signers", help="your line for an auditor's allowed_signers file (ssh-keygen)")
    p.set_defaults(handler=lazy(F, "cmd_keys_allowed_signers"))

    p = command("list", "list challenges with their next deadline", M, "cmd_list")
    p.add_argument("--open", action="store_true", help="open challenges only")
    p.add_argument("--overdue", action="store_true", help="challenges with something overdue")
    p.add_argument("--json", action="store_true")

    p = command("show", "show a challenge: state, deadlines and chronology", M, "cmd_show")
    p.add_argument("challenge")
    p.add_argument("--json", action="store_true")

    p = command("verify", "check the log's hashes and links (the store, or an exported file)", M, "cmd_verify")
    p.add_argument("file", nargs="?", help="an exported .jsonl file (default: the store)")
    p.add_argument(
        "--signers",
        metavar="FILE",
        help="an allowed_signers file (ssh-keygen's format): check every signed checkpoint against it",
    )
    p.add_argument(
        "--all-warnings",
        action="store_true",
        help=f"print every warning (otherwise the first {WARNINGS_SHOWN} and a count)",
    )
    p.add_argument(
        "--expect",
        metavar="FINGERPRINT",
        help="the head fingerprint you hold, e.g. 12:ab12-...: catches entries removed from the end and a "
        "rewritten log",
    )
    p.add_argument(
        "--chain-only",
        action="store_true",
        help="the store's entries, links and disclosures only, not the caches lists and screens read "
        "(which verify otherwise checks against the entries)",
    )

    p = command("export", "export challenges for an auditor or a meeting (jsonl, csv, md, html, pdf)", M, "cmd_export")
    p.set_defaults(signs=True, signs_before=True)  # the file carries a signed head of all before it
    p.add_argument("challenges", nargs="*", metavar="CHALLENGE")
    p.add_argument("--all", action="store_true", help="every challenge in the store")
    p.add_argument("--open", action="store_true", help="with --all: open challenges only")
    p.add_argument("--resolved", action="store_true", help="with --all: resolved or withdrawn only")
    p.add_argument(
        "--since",
        metavar="DATE",
        help="with --all: only challenges with something recorded as happening on or after DATE (each exported whole)",
    )
    p.add_argument(
        "--format",
        default="jsonl",
        choices=NAMES,
        help="; ".join(f"{f.name}: {f.description}" for f in EXPORT_FORMATS.values()),
    )
    p.add_argument("--redact", action="store_true", help="withhold personal fields (the file still verifies)")
    p.add_argument(
        "--withhold",
        action="append",
        metavar="FIELD",
        default=[],
        help="also show this free-text field as '(withheld)' (csv, md, html, pdf; repeatable): " + ", ".join(FREE_TEXT),
    )
    p.add_argument("-o", "--output", metavar="PATH", help="the file to write (required)")
    p.add_argument("--force", action="store_true", help="replace an existing file")
    p.add_argument(
        "--schema", action="store_true", help="print the JSON Schema of a jsonl export's lines, and do nothing else"
    )

    p = command("pack", "the dispute pack of one challenge, for a professional dispute meeting", M, "cmd_pack")
    p.set_defaults(signs=True, signs_before=True)  # the file carries a signed head of all before it
    p.add_argument("challenge")
    p.add_argument("--format", default="html", choices=PACK_NAMES)
    p.add_argument("-o", "--output", metavar="PATH", help="default: pack-<challenge>.<format> in this folder")
    p.add_argument("--force", action="store_true", help="replace an existing file")

    p = command("audit", "verify exported files (or the store) and summarise them for an auditor", M, "cmd_audit")
    p.add_argument("files", nargs="*", metavar="FILE", help="exported .jsonl files")
    p.add_argument("--json", action="store_true")
    p.add_argument("--html", metavar="OUT", help="also write a report with charts (SVG, no network) to OUT")
    p.add_argument("--force", action="store_true", help="with --html: replace an existing file")
    p.add_argument(
        "--tui", action="store_true", help="browse the files' challenges and chronologies in a read-only terminal view"
    )
    p.add_argument(
        "--since",
        metavar="DATE",
        help="count only challenges open at some time on or after DATE (inputs still verified whole)",
    )
    p.add_argument("--until", metavar="DATE", help="count only challenges opened on or before DATE")
    p.add_argument(
        "--setting",
        action="append",
        default=[],
        metavar="NAME",
        help="count only challenges opened at this setting (as its DSLs' settings name it; repeatable)",
    )

    team = command("team", "a team store on PostgreSQL, shared by a safeguarding team", T, "cmd_team")
    tsub = team.add_subparsers(title="actions", metavar="ACTION")
    p = tsub.add_parser("init", help="make a team store's tables in an empty PostgreSQL database")
    p.add_argument("url", metavar="URL", help="postgresql://HOST/DATABASE, connecting as a role that may create tables")
    p.set_defaults(handler=lazy(T, "cmd_team_init"))
    p = tsub.add_parser("upgrade", help="add what this escalate needs to a team store an older one made (search)")
    p.add_argument("url", metavar="URL", help="postgresql://HOST/DATABASE, as its administrator")
    p.set_defaults(handler=lazy(T, "cmd_team_upgrade"))
    p = tsub.add_parser("add-person", help="give a person a login to the team store (run by its administrator)")
    p.add_argument("--login", required=True, help="their database login (made if new)")
    p.add_argument("--name", required=True, help="their name, as every entry they make will state it")
    p.add_argument("--role", required=True, help='their role, e.g. "Deputy DSL"')
    p.add_argument("--setting", required=True, help="their school or nursery (a lead's: where they record)")
    p.add_argument("--group", required=True, choices=("dsl", "lead", "auditor"), help="what they may see and do")
    p.add_argument("--sees", action="append", default=[], metavar="SETTING", help="an auditor's settings (default all)")
    p.add_argument("--key", metavar="PUBFILE", help="their signing key's public file (.pub, Ed25519)")
    p.set_defaults(handler=lazy(T, "cmd_team_add"))
    p = tsub.add_parser("set-password", help="set a person's password (typed twice, or from a file)")
    p.add_argument("--login", required=True)
    p.add_argument("--password-file", metavar="FILE", help="read it from the first line of FILE (for a script)")
    p.set_defaults(handler=lazy(T, "cmd_team_password"))
    p = tsub.add_parser("rotate-key", help="give a person a new signing key; their old ones still check")
    p.add_argument("--login", required=True)
    p.add_argument("--key", required=True, metavar="PUBFILE", help="their public key file (.pub), Ed25519")
    p.set_defaults(handler=lazy(T, "cmd_team_rotate_key"))
    p = tsub.add_parser("list", help="everyone with a login to the team store")
    p.set_defaults(handler=lazy(T, "cmd_team_list"))
    p = tsub.add_parser("remove-person", help="take a person's login away; their entries stay theirs")
    p.add_argument("--login", required=True)
    p.set_defaults(handler=lazy(T, "cmd_team_remove"))

    st = command("store", "the store itself: copy it into a team store", T, "cmd_store")
    ssub = st.add_subparsers(title="actions", metavar="ACTION")
    p = ssub.add_parser("copy", help="copy this store's whole log into an empty team store, every hash kept")
    p.add_argument("--to", required=True, metavar="URL", help="the team store (made by `escalate team init`)")
    p.set_defaults(handler=lazy(T, "cmd_store_copy"))

    cfg = command("config", "show or change your settings", M, "cmd_config_show")
    csub = cfg.add_subparsers(title="actions", metavar="ACTION")
    p = csub.add_parser("show", help="print the settings")
    p.set_defaults(handler=cfg.get_default("handler"))
    p = csub.add_parser("set", help="set one of: " + ", ".join(KEYS))
    p.add_argument("key", choices=KEYS, metavar="KEY", help=", ".join(KEYS))
    p.add_argument("value")

    p.set_defaults(handler=lazy(M, "cmd_config_set"))
