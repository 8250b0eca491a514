"""Browser test: a trainee signs in, opens the training plan, reads and acknowledges a page, fails then passes
its quiz, sees progress."""
from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.e2e


def test_trainee_reads_a_page_and_passes_the_quiz(page, sign_in):
    sign_in(page, "trainee")
    # the dashboard's "To read" panel links to the training plan
    panel = page.locator("#kb-to-read")
    assert "New CSR onboarding" in panel.inner_text()
    panel.get_by_role("link", name=re.compile("New CSR onboarding")).click()
    page.wait_for_url(re.compile(r"/knowledge/training/assignments/\d+$"))
    before = page.locator("#kb-progress").inner_text()
    assert "of 5 steps done" in before
    done_before = int(before.split(" of ")[0].split()[-1])

    page.get_by_role("link", name="Verifying a customer order").click()
    page.wait_for_url(re.compile(r"/steps/\d+$"))
    assert "customs release" in page.locator("article.kb-body").inner_text()
    # the page was announced to CSRs: reading it in the plan is the trainee's acknowledgement
    assert "recorded as your acknowledgement" in page.locator(".kb-read").inner_text()
    page.get_by_role("button", name="I have read and understood").click()
    page.get_by_text("Recorded: you have read and understood").wait_for()
    page.wait_for_selector(".kb-quiz form")

    quiz = page.locator(".kb-quiz")
    # a wrong attempt: the wrong answer is marked, the right ones are not given away
    quiz.get_by_label("The customs release").check()
    quiz.get_by_label("The weather forecast").check()
    quiz.get_by_role("button", name="Submit answers").click()
    page.wait_for_selector(".kb-question.kb-wrong")
    assert "not correct" in page.locator(".kb-question.kb-wrong").inner_text()
    assert page.locator(".kb-quiz .badge", has_text="correct answer").count() == 0

    quiz = page.locator(".kb-quiz")
    quiz.get_by_label("The customs release").check()
    quiz.get_by_label("The weather forecast").uncheck()
    quiz.get_by_label("Tank and product").check()
    quiz.get_by_label("Quantity against stock or ullage").check()
    quiz.get_by_label("Customs status").check()
    quiz.get_by_role("button", name="Submit answers").click()
    page.get_by_text("Quiz passed with 100%").wait_for()
    assert "passed" in page.locator(".kb-quiz").inner_text()

    page.get_by_role("link", name=re.compile("New CSR onboarding")).first.click()
    page.wait_for_url(re.compile(r"/knowledge/training/assignments/\d+$"))
    after = page.locator("#kb-progress").inner_text()
    assert f"{done_before + 1} of 5 steps done" in after
