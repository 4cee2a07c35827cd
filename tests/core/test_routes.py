"""What a procedure file says beyond its ladder, as a DSL meets it. A conference-dispute route can
be opened on that route in the app (the CLI had --route; the app had no way), and everything the
procedure file says about a route or a skip rule is shown. The procedure is the fictional template."""

from __future__ import annotations

import pytest
from helpers import ROOT
from logtools import SETTINGS, open_first_challenge

from escalate import settings as settings_mod
from escalate.journal import store_at


@pytest.fixture
def routes_home(tmp_path, monkeypatch, isolated_home):
    folder = tmp_path / "my-procedures"
    folder.mkdir()
    text = (ROOT / "procedures" / "TEMPLATE.toml").read_text(encoding="utf-8")
    text = text.replace('id = "my-partnership"', 'id = "fictional-routes"', 1)
    assert "fictional-routes" in text and 'contact_directly = ["Duty social work manager"]' in text
    (folder / "fictional-routes.toml").write_text(text, encoding="utf-8")
    monkeypatch.setenv("ESCALATE_PROCEDURES", str(folder))
    settings_mod.save(SETTINGS)
    return isolated_home


def test_procedures_show_says_all_a_route_and_a_skip_rule_say(routes_home, run_cli):
    code, out, err = run_cli("procedures", "show", "fictional-routes")
    assert code == 0, err
    text = " ".join(out.split())
    assert (
        "id conference (`escalate open --route conference`) started by: Conference chair it ends in: The "
        "local authority's complaints procedure"
    ) in text
    assert "contact directly: Duty social work manager start at Stage 2" in text


def test_show_says_the_route_the_immediate_risk_answer_and_the_skip_rule_used(routes_home, run_cli):
    import json

    opening = ["--procedure", "fictional-routes", "--trigger", "disputed-referral", "--case-ref", "Child Q"]
    opening += ["--agency", "Northtown CSC", "--decision", "NFA", "--concern", "c", "--at", "2026-11-16T09:00"]
    assert run_cli("open", *opening, "--immediate-risk")[0] == 0
    assert run_cli("open", *opening, "--route", "conference")[0] == 0
    code, out, _ = run_cli("show", "1")
    text = " ".join(out.split())
    assert code == 0
    assert "Route: the main ladder" in text and "Immediate risk of harm to the child: yes" in text
    assert "Skip rule applied: immediate-risk: The child is at risk of immediate harm: Call the police" in text
    assert "Contact directly: Duty social work manager" in text and "started the challenge at Stage 2" in text
    data = json.loads(run_cli("show", "1", "--json")[1])
    assert (data["route"], data["immediate_risk"], data["skip_rule"]) == ("main", True, "immediate-risk")
    code, out, _ = run_cli("show", "2")
    text = " ".join(out.split())
    assert "Route: Child protection conference disputes (id conference)" in text
    assert "Immediate risk of harm to the child: no" in text and "Skip rule applied" not in text
    data = json.loads(run_cli("show", "2", "--json")[1])
    assert (data["route_name"], data["immediate_risk"], data["skip_rule"]) == (
        "Child protection conference disputes",
        False,
        None,
    )


async def test_the_wizard_opens_a_challenge_on_a_parallel_route(routes_home):
    from textual.widgets import Select

    from escalate.tui.app import EscalateApp

    app = EscalateApp()
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.press("n")
        await pilot.pause()
        route = app.screen.query_one("#w-route", Select)
        app.screen.query_one("#w-procedure", Select).value = "london-children"  # no routes: not asked
        await pilot.pause()
        assert not route.display and route.value == "main"
        app.screen.query_one("#w-procedure", Select).value = "fictional-routes"
        await pilot.pause()
        assert route.display and route.value == "main"
        route.value = "conference"  # (a value that is not an option is refused by the Select)
        app.screen.query_one("#w-case-ref").focus()
        await pilot.press(*"Child R (fictional)", "ctrl+n")
        await pilot.pause()
        await pilot.press(*"Northtown CSC", "tab", *"Conference decision: no plan", "ctrl+n")
        await pilot.pause()
        await pilot.press("down", "space", "ctrl+n", "ctrl+n")  # a trigger; its checks
        await pilot.pause()
        await pilot.press("down", "space")  # immediate risk: yes
        await pilot.pause()
        risk = " ".join(str(app.screen.query_one("#skip-rule").render()).split())
        assert "Contact directly: Duty social work manager" in risk
        assert "will start at" not in risk  # a skip rule's start stage is on the main ladder only
        await pilot.press("ctrl+n")
        await pilot.pause()
        await pilot.press(*"The plan leaves the child unsafe", "ctrl+n")
        await pilot.pause()
        review = " ".join(str(app.screen.query_one("#review-text").render()).split())
        assert "Route: Child protection conference disputes" in review
        assert "Started by: Conference chair It ends in: The local authority's complaints procedure" in review
        assert "You start at Stage 1: Raise with the conference chair" in review
        await pilot.press("ctrl+n")
        await pilot.pause()
        await app.workers.wait_for_complete()
    with store_at(routes_home / "escalate.sqlite3") as s:
        state = s.state("C-0001")
    assert state.route == "conference" and state.stage == 1 and state.immediate_risk is True


def test_what_a_stage_asks_beyond_its_deadlines_is_shown(routes_home, run_cli, tmp_path, monkeypatch):
    """What to record at a stage, the forms it uses, and the transcription's note on it (how escalate
    reads a gap in the source) were read from the file and shown nowhere."""
    from escalate import journal
    from escalate.catalogue import discover

    folder = tmp_path / "my-procedures"
    path = folder / "fictional-routes.toml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("forms = []", 'forms = ["Escalation notification form"]', 1),
        encoding="utf-8",
    )
    code, out, err = run_cli("procedures", "show", "fictional-routes")
    text = " ".join(out.split())
    assert code == 0, err
    assert "record: Date, who was spoken to, what was agreed" in text
    assert "forms: Escalation notification form (https://example.org/forms/escalation)" in text
    code, out, _ = run_cli("procedures", "show", "bcp-dorset-adults")
    assert "note: The source does not state when the clock starts; escalate counts from the disagreement" in " ".join(
        out.split()
    )
    with store_at(routes_home / "escalate.sqlite3") as s:
        journal.open_challenge(
            s,
            discover(),
            SETTINGS,
            procedure_id="fictional-routes",
            triggers=["disputed-referral"],
            case_ref="Child R (fictional)",
            agency="Northtown CSC",
            decision="No further action",
            concern="Bruising seen twice",
            at="2026-11-16T09:00",
        )
        journal.open_challenge(
            s,
            discover(),
            SETTINGS,
            procedure_id="bcp-dorset-adults",
            triggers=["non-cooperation"],
            case_ref="Adult S (fictional)",
            agency="Southby ASC",
            decision="No further action",
            concern="Unpaid carer concerns",
            at="2026-11-16T09:00",
        )
    code, out, err = run_cli("show", "1")
    text = " ".join(out.split())
    assert code == 0, err
    assert "Record: Date, who was spoken to, what was agreed" in text
    assert "Forms: Escalation notification form (https://example.org/forms/escalation)" in text
    code, out, err = run_cli("show", "2")
    assert "Note: The source does not state when the clock starts" in " ".join(out.split())


async def test_the_app_shows_what_a_stage_asks_beyond_its_deadlines(routes_home):
    from escalate import journal
    from escalate.catalogue import discover
    from escalate.tui.app import EscalateApp

    with store_at(routes_home / "escalate.sqlite3") as s:
        journal.open_challenge(
            s,
            discover(),
            SETTINGS,
            procedure_id="bcp-dorset-adults",
            triggers=["non-cooperation"],
            case_ref="Adult S (fictional)",
            agency="Southby ASC",
            decision="No further action",
            concern="Unpaid carer concerns",
            at="2026-11-16T09:00",
        )
    app = EscalateApp()
    async with app.run_test(size=(120, 40)) as pilot:
        await open_first_challenge(app, pilot)
        now_tab = " ".join(str(app.screen.query_one("#deadlines").render()).split())
    assert "Note: The source does not state when the clock starts; escalate counts from the disagreement" in now_tab


def test_a_stages_notifications_say_sent_required_or_optional_with_their_form(routes_home, run_cli, tmp_path):
    """The app and show listed required notifications only (show not even those), without the form
    to send; an optional one was shown nowhere."""
    import json

    from escalate import journal
    from escalate.catalogue import discover

    path = tmp_path / "my-procedures" / "fictional-routes.toml"
    path.write_text(
        path.read_text(encoding="utf-8").replace(
            '  form = "Escalation notification form"\n',
            '  form = "Escalation notification form"\n\n  [[stages.notify]]\n  to = "Designated safeguarding nurse"\n'
            "  required = false\n",
            1,
        ),
        encoding="utf-8",
    )
    with store_at(routes_home / "escalate.sqlite3") as s:
        journal.open_challenge(
            s,
            discover(),
            SETTINGS,
            procedure_id="fictional-routes",
            triggers=["disputed-referral"],
            case_ref="Child R (fictional)",
            agency="Northtown CSC",
            decision="No further action",
            concern="Bruising seen twice",
            at="2026-11-16T09:00",
        )
        journal.step_up(s, SETTINGS, "C-0001", "no agreement", "2026-11-17T09:00")
    code, out, err = run_cli("show", "1")
    text = " ".join(out.split())
    assert code == 0, err
    assert (
        "[REQUIRED] notify Partnership business manager (Email marked 'Formal escalation') · form: Escalation "
        "notification form"
    ) in text
    assert "[OPTIONAL] notify Designated safeguarding nurse" in text
    assert (
        run_cli("record", "1", "notification-sent", "--to", "Partnership business manager", "--summary", "Form sent")[0]
        == 0
    )
    data = json.loads(run_cli("show", "1", "--json")[1])
    assert [(n["to"], n["required"], n["sent"], n["form"]) for n in data["notifications"]] == [
        ("Partnership business manager", True, True, "Escalation notification form"),
        ("Designated safeguarding nurse", False, False, None),
    ]
    assert "[SENT] notify Partnership business manager" in " ".join(run_cli("show", "1")[1].split())


def test_a_limit_over_the_main_ladder_does_not_count_a_routes_stages(routes_home):
    """The template's limit covers stages 1 and 2 of the main ladder; a challenge on the conference
    route has its own stage 1, which the limit does not cover."""
    from escalate import clock, journal
    from escalate.catalogue import discover

    catalogue = discover()
    with store_at(routes_home / "escalate.sqlite3") as s:
        for route in ("main", "conference"):
            journal.open_challenge(
                s,
                catalogue,
                SETTINGS,
                procedure_id="fictional-routes",
                route=route,
                triggers=["disputed-referral"],
                case_ref="Child R (fictional)",
                agency="Northtown CSC",
                decision="No further action",
                concern="Bruising",
                at="2026-11-16T09:00",
            )
        main = journal.view(s, catalogue, "C-0001", now=clock.parse_time("2026-11-17T09:00"))
        conference = journal.view(s, catalogue, "C-0002", now=clock.parse_time("2026-11-17T09:00"))
    assert "limit:whole-ladder" in [r.id for r in main.deadlines]
    assert [r.id for r in conference.deadlines] == ["raise"]


def test_the_pack_drafts_a_form_once_and_words_a_notification_for_any_purpose(routes_home, run_cli, tmp_path):
    folder = tmp_path / "my-procedures"
    path = folder / "fictional-routes.toml"
    text = path.read_text(encoding="utf-8")
    text = text.replace('medium = ["email"]\n', 'medium = ["email"]\nforms = ["Escalation notification form"]\n', 1)
    assert 'forms = ["Escalation notification form"]' in text
    path.write_text(text, encoding="utf-8")
    opening = ["--procedure", "fictional-routes", "--trigger", "disputed-referral", "--case-ref", "Child Q"]
    opening += ["--agency", "Northtown CSC", "--decision", "NFA", "--concern", "c", "--at", "2026-11-16T09:00"]
    assert run_cli("open", *opening)[0] == 0
    assert run_cli("step-up", "1", "--reason", "Not resolved", "--at", "2026-11-17T09:00")[0] == 0
    out = tmp_path / "pack.md"
    assert run_cli("pack", "1", "--format", "md", "-o", out)[0] == 0
    pack = out.read_text(encoding="utf-8")
    assert pack.count("Draft form: Escalation notification form") == 1
    assert "We are escalating" not in pack
    assert "We are notifying you, as Resolving professional differences asks at Stage 2 (First-line managers)" in pack


async def test_the_wizard_offers_the_start_stages_a_skip_rule_allows(isolated_home):
    from textual.widgets import Select

    from escalate.tui.app import EscalateApp

    settings_mod.save(SETTINGS)
    app = EscalateApp()
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.press("n")
        await pilot.pause()
        app.screen.query_one("#w-procedure", Select).value = "rotherham-children"
        await pilot.pause()
        app.screen.query_one("#w-route", Select).value = "conference"
        app.screen.query_one("#w-case-ref").focus()
        await pilot.press(*"Child R (fictional)", "ctrl+n")
        await pilot.pause()
        await pilot.press(*"Fictional CSC", "tab", *"No plan", "ctrl+n")
        await pilot.pause()
        await pilot.press("down", "space", "ctrl+n", "ctrl+n")
        await pilot.pause()
        await pilot.press("space", "ctrl+n")  # immediate risk: no
        await pilot.pause()
        await pilot.press(*"The chair's concern", "ctrl+n")
        await pilot.pause()
        start = app.screen.query_one("#w-start", Select)
        assert start.display and start.value == "1"
        start.value = "3"
        await pilot.pause()
        review = " ".join(str(app.screen.query_one("#review-text").render()).split())
        assert "You start at Stage 3: Stage 3 (content not captured)" in review
        await pilot.press("ctrl+n")
        await pilot.pause()
        await app.workers.wait_for_complete()
    with store_at(isolated_home / "escalate.sqlite3") as s:
        state = s.state("C-0001")
    assert (state.route, state.stage, state.skip_rule) == ("conference", 3, "chair-goes-higher")


async def test_the_wizard_offers_the_procedures_own_disagreements_and_adults_wording(isolated_home):
    from textual.widgets import Select, SelectionList

    from escalate.tui.app import EscalateApp

    settings_mod.save(SETTINGS)
    app = EscalateApp()
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.press("n")
        await pilot.pause()
        app.screen.query_one("#w-procedure", Select).value = "west-yorkshire-children"
        await pilot.pause()
        choices = app.screen.query_one("#w-triggers", SelectionList)
        titles = [str(choices.get_option_at_index(i).prompt) for i in range(choices.option_count)]
        assert titles[:2] == ["Criteria for referrals", "Outcomes of assessments"] and len(titles) == 5
        app.screen.query_one("#w-procedure", Select).value = "sunderland-adults"
        await pilot.pause()
        assert "Is the adult at risk of immediate harm?" in str(app.screen.query_one("#risk-label").render())
        assert "Adult's name (optional)" in str(app.screen.query_one("#subject-label").render())
        assert "reference for the adult" in app.screen.query_one("#w-case-ref").placeholder
        app.screen.query_one("#w-procedure", Select).value = "bcp-dorset-adults"  # the five, worded for adults
        await pilot.pause()
        prompts = " ".join(str(choices.get_option_at_index(i).prompt) for i in range(choices.option_count))
        assert "child" not in prompts.lower() and "adult" in prompts


async def test_the_app_follows_a_referral_up_and_records_its_decision(isolated_home):
    from textual.widgets import Checkbox, Select

    from escalate.tui.app import EscalateApp
    from escalate.tui.screens.challenge import ChallengeScreen

    settings_mod.save(SETTINGS)
    app = EscalateApp()
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.press("n")
        await pilot.pause()
        referral = app.screen.query_one("#w-referral", Checkbox)
        app.screen.query_one("#w-procedure", Select).value = "london-children"
        await pilot.pause()
        assert not referral.display  # London has no step for following up a referral
        app.screen.query_one("#w-procedure", Select).value = "wales-children"
        await pilot.pause()
        assert referral.display
        referral.value = True
        app.screen.query_one("#w-case-ref").focus()
        await pilot.press(*"Child W (fictional)", "ctrl+n")
        await pilot.pause()
        await pilot.press(*"Social services", "ctrl+n")  # no decision yet
        await pilot.pause()
        assert step_is(app, "triggers")
        await pilot.press("ctrl+n", "ctrl+n")  # no trigger needed; no checks
        await pilot.pause()
        await pilot.press("space", "ctrl+n")  # immediate risk: no
        await pilot.pause()
        await pilot.press(*"Bruising reported by phone", "ctrl+n")
        await pilot.pause()
        review = " ".join(str(app.screen.query_one("#review-text").render()).split())
        assert "You start at Step 0: Follow-up of the report (before any disagreement)" in review
        await pilot.press("ctrl+n")
        await pilot.pause()
        await app.workers.wait_for_complete()
        for _ in range(50):
            if isinstance(app.screen, ChallengeScreen) and app.screen.view is not None:
                break
            await pilot.pause()
        else:
            app.screen.query_one("DataTable").focus()
            await pilot.press("enter")
            await pilot.pause()
            await app.workers.wait_for_complete()
        await pilot.press("r")
        await pilot.pause()
        assert "Record the decision on the referral" in " ".join(str(w.render()) for w in app.screen.query("Label"))
        app.screen.query_one("#f-decision").value = "Strategy discussion held"
        await pilot.press("ctrl+s")
        await pilot.pause()
        await app.workers.wait_for_complete()
    with store_at(isolated_home / "escalate.sqlite3") as s:
        state = s.state("C-0001")
        kinds = [e.kind for e in s.entries("C-0001")]
    assert state.referral and state.decision == "Strategy discussion held" and state.stage == 0
    assert kinds == ["opened", "decision-received"]


def step_is(app, name):
    from escalate.tui.screens.wizard import STEPS

    return STEPS[app.screen.step] == name
