"""Scheduled jobs: due times around midnight and working-day boundaries, each run logged, missed runs caught up
once, two runners at once run each job once, a failing job is logged and tried again at its next slot."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from flask_processes import start_flask

from portal import jobs
from portal.extensions import db
from portal.jobs import JobRun, JobState, Schedule

SHANGHAI = timedelta(hours=8)  # Asia/Shanghai has no daylight saving time


def local(*args) -> datetime:
    """A wall-clock time in Shanghai, as UTC."""
    return datetime(*args, tzinfo=UTC) - SHANGHAI


@pytest.fixture
def tick_job(monkeypatch):
    """A job of the test's own, every minute, counting its runs."""
    calls = []

    def fn(now):
        calls.append(now)
        return f"run {len(calls)}"

    monkeypatch.setitem(jobs.JOBS, "test.tick", jobs.Job("test.tick", Schedule.parse("every 1m"), fn))
    return calls


def _runs(name):
    db.session.expire_all()
    return list(db.session.scalars(db.select(JobRun).filter_by(name=name).order_by(JobRun.id)))


@pytest.mark.parametrize("spec, moment, expected", [
    # daily, local time: just before, at and after the slot; across local midnight (16:00 UTC)
    ("daily 09:00", local(2026, 3, 2, 8, 59, 59), local(2026, 3, 2, 9, 0)),
    ("daily 09:00", local(2026, 3, 2, 9, 0), local(2026, 3, 3, 9, 0)),
    ("daily 00:00", local(2026, 3, 2, 23, 59, 59), local(2026, 3, 3, 0, 0)),
    ("daily 00:00", local(2026, 3, 3, 0, 0), local(2026, 3, 4, 0, 0)),
    # 23:30 local is 15:30 UTC of the same day; 00:30 local is 16:30 UTC of the day before
    ("daily 00:30", datetime(2026, 3, 2, 16, 15, tzinfo=UTC), datetime(2026, 3, 2, 16, 30, tzinfo=UTC)),
    # working days: Friday evening -> Monday; the year's last day -> the first working day
    ("workdays 09:00", local(2026, 3, 6, 17, 0), local(2026, 3, 9, 9, 0)),
    ("workdays 09:00", local(2026, 3, 6, 23, 59, 59), local(2026, 3, 9, 9, 0)),
    ("workdays 09:00", local(2026, 3, 9, 0, 0), local(2026, 3, 9, 9, 0)),
    # the 2026 National Day week (1-7 October) as the portal's calendar (chinese_calendar) has it:
    # the Mid-Autumn Festival on Friday 25 September, Saturday 10 October a make-up working day
    ("workdays 09:00", local(2026, 9, 24, 9, 0), local(2026, 9, 28, 9, 0)),
    ("workdays 09:00", local(2026, 9, 30, 9, 0), local(2026, 10, 8, 9, 0)),
    ("workdays 09:00", local(2026, 10, 9, 9, 0), local(2026, 10, 10, 9, 0)),
    ("workdays 09:00", local(2026, 10, 10, 9, 0), local(2026, 10, 12, 9, 0)),
    ("every 5m", local(2026, 3, 2, 23, 58), local(2026, 3, 3, 0, 3)),
])
def test_due_times_around_midnight_and_working_day_boundaries(app, spec, moment, expected):
    assert Schedule.parse(spec).next_after(moment) == expected


def test_holidays_added_in_the_configuration_move_a_working_day_job(app):
    app.config["EXTRA_HOLIDAYS"] = ("2026-03-09",)
    assert Schedule.parse("workdays 09:00").next_after(local(2026, 3, 6, 17, 0)) == local(2026, 3, 10, 9, 0)


@pytest.mark.parametrize("spec", ["", "every", "every 0m", "daily 25:00", "weekly 09:00", "daily 9"])
def test_a_schedule_that_means_nothing_is_refused(spec):
    with pytest.raises(ValueError):
        Schedule.parse(spec)


def test_each_run_is_logged_and_missed_runs_catch_up_once(app, runner, tick_job, time_machine):
    start = local(2026, 3, 2, 8, 0)
    time_machine.move_to(start, tick=False)
    result = runner.invoke(args=["jobs", "run", "--only", "test.tick"])
    assert result.exit_code == 0, result.output
    assert len(tick_job) == 1
    (run,) = _runs("test.tick")
    assert (run.outcome, run.detail, run.started_at, run.finished_at) == ("ok", "run 1", start, start)

    # Again within the minute: not due.
    runner.invoke(args=["jobs", "run", "--only", "test.tick"])
    assert len(tick_job) == 1

    # The machine was off for three hours: one run, not 180; then due a minute later.
    time_machine.move_to(start + timedelta(hours=3), tick=False)
    runner.invoke(args=["jobs", "run", "--only", "test.tick"])
    assert len(tick_job) == 2
    state = db.session.get(JobState, "test.tick")
    assert state.next_due_at == start + timedelta(hours=3, minutes=1)
    assert (state.runs, state.failures, state.last_outcome) == (2, 0, "ok")


def test_a_failing_job_is_logged_and_tried_again_at_its_next_slot(app, runner, monkeypatch, time_machine):
    def broken(now):
        raise RuntimeError("the customs system did not answer")

    monkeypatch.setitem(jobs.JOBS, "test.broken", jobs.Job("test.broken", Schedule.parse("daily 07:00"), broken))
    time_machine.move_to(local(2026, 3, 2, 6, 0), tick=False)
    runner.invoke(args=["jobs", "run", "--only", "test.broken"])  # creates its state: first due 07:00
    assert _runs("test.broken") == []
    time_machine.move_to(local(2026, 3, 2, 7, 0, 30), tick=False)
    result = runner.invoke(args=["jobs", "run", "--only", "test.broken"])
    assert result.exit_code == 1
    (run,) = _runs("test.broken")
    assert run.outcome == "failed" and "the customs system did not answer" in run.detail
    state = db.session.get(JobState, "test.broken")
    assert state.next_due_at == local(2026, 3, 3, 7, 0)
    assert (state.failures, state.running_since) == (1, None)


def test_a_run_whose_runner_died_is_taken_over_once_stale(app, tick_job, time_machine):
    start = local(2026, 3, 2, 8, 0)
    time_machine.move_to(start, tick=False)
    jobs.ensure_states(start)
    key, token = jobs.claim_next(start, ["test.tick"])  # claimed, and the runner "dies"
    assert jobs.claim_next(start, ["test.tick"]) is None
    time_machine.move_to(start + timedelta(seconds=jobs.DEFAULT_STALE_SECONDS + 1), tick=False)
    runs = jobs.run_due(only=["test.tick"])
    assert [r.outcome for r in runs] == ["ok"]
    assert [r.outcome for r in _runs("test.tick")] == ["abandoned", "ok"]


def test_two_runners_at_once_run_each_job_once(app, smtp_server):
    from portal import outbox

    for i in range(20):
        outbox.queue_message(f"buyer{i}@customer.example", "disposal_due",
                             {"count": 3, "as_of": datetime(2026, 3, 2).date(), "path": "/archive/schedule"},
                             kind="disposal")
    db.session.commit()
    procs = [start_flask(app, "jobs", "run", "--only", "outbox.deliver", "--only", "search.sync") for _ in range(2)]
    outputs = [p.communicate(timeout=240)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    db.session.expire_all()
    runs = list(db.session.scalars(db.select(JobRun)))
    by_job = sorted(r.name.split("@")[0] for r in runs)
    assert by_job == ["outbox.deliver", "search.sync"]
    assert {r.outcome for r in runs} == {"ok"}
    assert len(smtp_server.messages) == 20 and len(set(smtp_server.ids())) == 20


def test_the_jobs_page_shows_last_runs_failures_and_what_is_due(app, client, login, tick_job, monkeypatch):
    def broken(now):
        raise RuntimeError("no answer from the mail server")

    monkeypatch.setitem(jobs.JOBS, "test.broken", jobs.Job("test.broken", Schedule.parse("every 1h"), broken))
    jobs.run_due(only=["test.tick", "test.broken"])
    login("cs_manager")
    page = client.get("/notifications/jobs").get_data(as_text=True)
    assert "test.tick" in page and "run 1" in page
    assert "no answer from the mail server" in page
    failed = client.get("/notifications/jobs?failed=1").get_data(as_text=True)
    assert failed.count('class="run-row"') == 1


def test_only_managers_and_admins_open_the_jobs_and_outbox_pages(app, client, login):
    login("csr")
    assert client.get("/notifications/jobs").status_code == 403
    assert client.get("/notifications/outbox").status_code == 403
    assert client.get("/notifications/settings").status_code == 200
