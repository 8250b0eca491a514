"""Customer satisfaction surveys: thin routes. The answer pages reached by a personal token are the only
pages of the portal open without sign-in (``permissions.OPEN_ENDPOINTS``)."""
from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlencode

from flask import Blueprint, current_app, flash, redirect, request, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import selectinload

from ...extensions import db
from ...permissions import load_child_or_404, load_or_404, require
from ...timeutil import local_today, utcnow
from ...web import arg_int, render, send_download, service_errors
from ..admin.services import staff_choices
from ..customers.models import Customer
from ..customers.services import customer_choices
from . import chartsets, services
from .forms import (
    CampaignForm,
    FollowUpForm,
    InviteForm,
    LinkForm,
    QuestionForm,
    QuestionnaireForm,
    ReportForm,
    SectionForm,
    answer_form_class,
    fill_answer_form,
)
from .models import (
    CATEGORIES,
    CATEGORIES_BI,
    NA_LABEL,
    QUESTION_KINDS,
    RATING_LABELS,
    Questionnaire,
    QuestionnaireVersion,
    SurveyAnswer,
    SurveyCampaign,
    SurveyInvitation,
    SurveyQuestion,
)

bp = Blueprint("surveys", __name__, url_prefix="/surveys")

CS = ("cs_manager", "csr")
PUBLIC_ENDPOINTS = ("surveys.answer",)


@bp.context_processor
def _helpers():
    return {"CATEGORIES": CATEGORIES, "CATEGORIES_BI": CATEGORIES_BI, "QUESTION_KINDS": QUESTION_KINDS,
            "RATING_LABELS": RATING_LABELS, "NA_LABEL": NA_LABEL, "campaign_status": services.campaign_status,
            "CAMPAIGN_STATUSES": services.CAMPAIGN_STATUSES, "LOOP_LABELS": services.LOOP_LABELS,
            "LOOP_TONES": services.LOOP_TONES}


# --- staff pages ----------------------------------------------------------------------------------


@bp.get("/")
def index():
    campaigns = list(reversed(services.yearly_campaigns()))
    questionnaires = list(db.session.scalars(db.select(Questionnaire).options(selectinload(Questionnaire.versions))
                                             .order_by(Questionnaire.code)))
    return render("surveys/index.html", campaigns=campaigns, questionnaires=questionnaires, now=utcnow())


@bp.route("/questionnaires/new", methods=["GET", "POST"])
@require(*CS)
def new_questionnaire():
    form = QuestionnaireForm()
    if form.validate_on_submit():
        with service_errors(form) as outcome:
            q = services.create_questionnaire(code=form.code.data, title_zh=form.title_zh.data,
                                              title_en=form.title_en.data, user=current_user)
            db.session.commit()
        if outcome.ok:
            return redirect(url_for(".version", version_id=q.versions[0].id))
    return render("surveys/questionnaire_form.html", form=form)


@bp.get("/versions/<int:version_id>")
def version(version_id: int):
    v = load_or_404(QuestionnaireVersion, version_id)
    return _version_page(v)


def _version_page(v, **forms):
    ctx = {"section_form": SectionForm(prefix="sec"), "question_form": QuestionForm(prefix="q", sections=v.sections)}
    ctx.update(forms)
    return render("surveys/version.html", version=v, **ctx)


@bp.post("/versions/<int:version_id>/sections")
@require(*CS)
def add_section(version_id: int):
    v = load_or_404(QuestionnaireVersion, version_id, action="edit")
    form = SectionForm(prefix="sec")
    if form.validate_on_submit():
        with service_errors(form) as outcome:
            services.add_section(v, title_zh=form.title_zh.data, title_en=form.title_en.data)
            db.session.commit()
        if outcome.ok:
            return redirect(url_for(".version", version_id=v.id))
    return _version_page(v, section_form=form)


@bp.post("/versions/<int:version_id>/questions")
@require(*CS)
def add_question(version_id: int):
    v = load_or_404(QuestionnaireVersion, version_id, action="edit")
    form = QuestionForm(prefix="q", sections=v.sections)
    if form.validate_on_submit():
        with service_errors(form) as outcome:
            services.add_question(v, section_id=form.section_id.data, key=form.key.data, kind=form.kind.data,
                                  text_zh=form.text_zh.data, text_en=form.text_en.data, mandatory=form.mandatory.data,
                                  allow_na=form.allow_na.data, category=form.category.data or "",
                                  options=form.options.data or "")
            db.session.commit()
        if outcome.ok:
            flash(_("Question added."), "success")
            return redirect(url_for(".version", version_id=v.id))
    return _version_page(v, question_form=form)


@bp.post("/versions/<int:version_id>/questions/<int:question_id>/remove")
@require(*CS)
def remove_question(version_id: int, question_id: int):
    v = load_or_404(QuestionnaireVersion, version_id, action="edit")
    question = load_child_or_404(SurveyQuestion, question_id, parent=v, action="edit")
    with service_errors() as outcome:
        services.remove_question(question)
        db.session.commit()
    if outcome.ok:
        flash(_("Question removed."), "success")
    return redirect(url_for(".version", version_id=v.id))


@bp.post("/questionnaires/<int:questionnaire_id>/versions")
@require(*CS)
def new_version(questionnaire_id: int):
    q = load_or_404(Questionnaire, questionnaire_id, action="edit")
    with service_errors() as outcome:
        v = services.new_version(q)
        db.session.commit()
    if outcome.ok:
        flash(_("Version %(n)s started as a copy of the previous one.", n=v.number), "success")
        return redirect(url_for(".version", version_id=v.id))
    return redirect(url_for(".version", version_id=q.versions[-1].id))


@bp.route("/campaigns/new", methods=["GET", "POST"])
@require(*CS)
def new_campaign():
    versions = [(v.id, f"{v.name} · {v.questionnaire.title_en}") for v in services.frozen_versions() if v.questions]
    form = CampaignForm(version_choices=versions)
    if request.method == "GET" and not form.year.data:
        form.year.data = local_today().year
    if form.validate_on_submit():
        v = load_or_404(QuestionnaireVersion, form.version_id.data)
        with service_errors(form) as outcome:
            campaign = services.create_campaign(
                title=form.title.data, kind=form.kind.data, year=form.year.data, version=v, opens_on=form.opens_on.data,
                closes_on=form.closes_on.data, reminder_on=form.reminder_on.data, invitation_zh=form.invitation_zh.data,
                invitation_en=form.invitation_en.data, user=current_user)
            db.session.commit()
        if outcome.ok:
            flash(_("Campaign created; invite the customers next."), "success")
            return redirect(url_for(".campaign", campaign_id=campaign.id))
    return render("surveys/campaign_form.html", form=form)


def _campaign_page(campaign, **forms):
    ctx = {"invite_form": InviteForm(prefix="inv", customer_choices=customer_choices()), "link_form": LinkForm(),
           "report_form": ReportForm(prefix="rep")}
    ctx.update(forms)
    return render("surveys/campaign.html", campaign=campaign, status=services.campaign_status(campaign),
                  reminders=services.reminders_due(campaign), res=services.results(campaign),
                  to_send=services.invitations_to_send(campaign), **ctx)


@bp.get("/campaigns/<int:campaign_id>")
def campaign(campaign_id: int):
    return _campaign_page(load_or_404(SurveyCampaign, campaign_id))


@bp.post("/campaigns/<int:campaign_id>/invite")
@require(*CS)
def invite(campaign_id: int):
    c = load_or_404(SurveyCampaign, campaign_id, action="edit")
    form = InviteForm(prefix="inv", customer_choices=customer_choices())
    if form.validate_on_submit():
        with service_errors(form) as outcome:
            added = services.invite(c, form.customer_ids.data, language=form.language.data or "")
            db.session.commit()
        if outcome.ok:
            flash(_("%(n)s contacts invited. Issue each one's personal link to copy it.", n=len(added)), "success")
            return redirect(url_for(".campaign", campaign_id=c.id))
    return _campaign_page(c, invite_form=form)


@bp.post("/campaigns/<int:campaign_id>/send")
@require(*CS)
def send_invitations(campaign_id: int):
    c = load_or_404(SurveyCampaign, campaign_id, action="edit")
    if LinkForm().validate_on_submit():
        with service_errors() as outcome:
            sent = services.send_invitations(c, user=current_user)
            db.session.commit()
        if outcome.ok:
            flash(_("%(n)s invitation e-mails queued.", n=len(sent)), "success")
    return redirect(url_for(".campaign", campaign_id=c.id))


@bp.post("/campaigns/<int:campaign_id>/invitations/<int:invitation_id>/link")
@require(*CS)
def issue_link(campaign_id: int, invitation_id: int):
    c = load_or_404(SurveyCampaign, campaign_id, action="edit")
    inv = load_child_or_404(SurveyInvitation, invitation_id, parent=c, action="edit")
    form = LinkForm()
    token = None
    if form.validate_on_submit():
        with service_errors() as outcome:
            token = services.issue_link(inv)
            db.session.commit()
        if not outcome.ok:
            token = None
    if token is None:
        return redirect(url_for(".campaign", campaign_id=c.id))
    link = url_for(".answer", campaign_id=c.id, token=token, _external=True)
    return render("surveys/link.html", campaign=c, invitation=inv, link=link,
                  text=services.invitation_text(inv, link))


@bp.post("/campaigns/<int:campaign_id>/invitations/<int:invitation_id>/remind")
@require(*CS)
def remind(campaign_id: int, invitation_id: int):
    c = load_or_404(SurveyCampaign, campaign_id, action="edit")
    inv = load_child_or_404(SurveyInvitation, invitation_id, parent=c, action="edit")
    if LinkForm().validate_on_submit():
        services.remind(inv)
        db.session.commit()
        flash(_("Reminder recorded for %(name)s.", name=inv.contact_name), "success")
    return redirect(url_for(".campaign", campaign_id=c.id))


@bp.route("/campaigns/<int:campaign_id>/invitations/<int:invitation_id>/enter", methods=["GET", "POST"])
@require(*CS)
def enter(campaign_id: int, invitation_id: int):
    """Staff enter a paper or interview answer for a contact (marked as such)."""
    c = load_or_404(SurveyCampaign, campaign_id, action="edit")
    inv = load_child_or_404(SurveyInvitation, invitation_id, parent=c, action="edit")
    lang = "zh" if chartsets.page_lang() == "zh" else "en"
    questions = list(c.version.questions)
    form = answer_form_class(questions, lang, staff=True)()
    if inv.submitted:
        return render("surveys/answers_view.html", campaign=c, invitation=inv, lang=lang)
    if request.method == "GET":
        fill_answer_form(form, questions, services.current_values(inv.response))
    if form.validate_on_submit():
        with service_errors(form) as outcome:
            services.save_answers(inv, form.values(), submit=bool(form.submit.data), mode=form.mode.data,
                                  user=current_user, language=lang)
            db.session.commit()
        if outcome.ok:
            flash(_("Answers submitted.") if form.submit.data else _("Draft saved."), "success")
            return redirect(url_for(".campaign", campaign_id=c.id) if form.submit.data else request.path)
    return render("surveys/enter.html", campaign=c, invitation=inv, form=form, lang=lang)


@bp.get("/campaigns/<int:campaign_id>/results")
def results(campaign_id: int):
    c = load_or_404(SurveyCampaign, campaign_id)
    res = services.results(c, current_user)
    lang = chartsets.page_lang()
    customer = None
    cust = None
    customer_id = arg_int("customer")
    if customer_id:
        customer = db.session.scalar(db.select(Customer).filter_by(id=customer_id))
        if customer is not None:
            cust = services.customer_results(c, customer.id)
            cust["chart"] = chartsets.customer_chart(cust, lang=lang)
    return render("surveys/results.html", campaign=c, res=res, charts=chartsets.campaign_charts(res, lang=lang),
                  lang=lang, customer=customer, cust=cust, report_form=ReportForm(prefix="rep"))


@bp.get("/campaigns/<int:campaign_id>/results.pdf")
def results_pdf(campaign_id: int):
    c = load_or_404(SurveyCampaign, campaign_id)
    return send_download(services.render_report(c), f"{c.ref}-results.pdf", "application/pdf", inline=True)


@bp.get("/campaigns/<int:campaign_id>/answers.xlsx")
def answers_xlsx(campaign_id: int):
    c = load_or_404(SurveyCampaign, campaign_id)
    from ...xlsx import XLSX_MIMETYPE

    return send_download(services.raw_workbook(c), f"{c.ref}-answers.xlsx", XLSX_MIMETYPE)


@bp.post("/campaigns/<int:campaign_id>/file")
@require(*CS)
def file_report(campaign_id: int):
    c = load_or_404(SurveyCampaign, campaign_id, action="edit")
    if ReportForm(prefix="rep").validate_on_submit():
        with service_errors() as outcome:
            services.file_report(c, current_user)
            db.session.commit()
        if outcome.ok:
            flash(_("The results report and the raw answers are filed in the archive."), "success")
    return redirect(url_for(".results", campaign_id=c.id))


@bp.get("/trend")
def trend():
    tr = services.trend(services.yearly_campaigns(questions=True))
    lang = chartsets.page_lang()
    return render("surveys/trend.html", tr=tr, charts=chartsets.trend_charts(tr, lang=lang), lang=lang)


def _answer_page(answer, **forms):
    ctx = {"follow_up_form": FollowUpForm(prefix="fu", staff_choices=staff_choices(cs_only=False))}
    ctx.update(forms)
    complaints = services.complaints_from([answer.id]).get(answer.id, [])
    prefill = services.complaint_prefill(answer)
    return render("surveys/answer_detail.html", answer=answer, complaints=complaints,
                  loop=services.loop_status(answer, complaints), today=local_today(),
                  complaint_url=url_for("complaints.create") + "?" + urlencode(prefill), **ctx)


@bp.get("/answers/<int:answer_id>")
def answer_detail(answer_id: int):
    return _answer_page(load_or_404(SurveyAnswer, answer_id))


@bp.post("/answers/<int:answer_id>/follow-up")
@require(*CS)
def add_follow_up(answer_id: int):
    """Raise a corrective action (a CAPA action with the answer as its source) from the answer."""
    answer = load_or_404(SurveyAnswer, answer_id, action="edit")
    form = FollowUpForm(prefix="fu", staff_choices=staff_choices(cs_only=False))
    if form.validate_on_submit():
        with service_errors(form) as outcome:
            services.raise_action(answer, description=form.description.data, owner_id=form.owner_id.data,
                                  due_date=form.due_date.data, user=current_user, kind=form.kind.data)
            db.session.commit()
        if outcome.ok:
            flash(_("Corrective action raised."), "success")
            return redirect(url_for(".answer_detail", answer_id=answer.id) + "#actions")
    return _answer_page(answer, follow_up_form=form)


# --- the open answer page -------------------------------------------------------------------------


def _limits():
    cfg = current_app.config
    window = timedelta(minutes=int(cfg.get("SURVEY_RATE_WINDOW_MINUTES", 10)))
    return window, int(cfg.get("SURVEY_RATE_LIMIT", 120)), int(cfg.get("SURVEY_BAD_TOKEN_LIMIT", 10))


def _client_address() -> str:
    """The visitor's address: the socket peer, or, when the peer is the local proxy (nginx sets
    X-Forwarded-For to the client's address), the last address the proxy forwarded."""
    peer = request.remote_addr or "?"
    trusted = {a.strip() for a in str(current_app.config.get("SURVEY_TRUSTED_PROXIES", "127.0.0.1,::1")).split(",")}
    forwarded = request.headers.get("X-Forwarded-For", "")
    if peer in trusted and forwarded:
        return forwarded.split(",")[-1].strip()[:45] or peer
    return peer


def _public(template, status=200, *, lang="zh", **ctx):
    with force_locale("en" if lang == "en" else "zh_Hans"):
        body = render(template, lang=lang, terminal=current_app.config.get("TERMINAL_NAME") or "", **ctx)
    response = current_app.make_response((body, status))
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex"
    return response


@bp.route("/answer/<int:campaign_id>/<token>", methods=["GET", "POST"])
def answer(campaign_id: int, token: str):
    """The contact's answer page: open without sign-in, reachable only with the personal token."""
    window, limit, bad_limit = _limits()
    ip = _client_address()
    lang = request.args.get("lang") if request.args.get("lang") in ("zh", "en") else None
    if services.over_limit(f"bad:{ip}", limit=bad_limit, window=window) or \
            not services.hit(f"ip:{ip}", limit=limit, window=window):
        db.session.commit()
        return _public("surveys/public_message.html", 429, lang=lang or "zh", state="limited")
    inv = services.find_invitation(campaign_id, token)
    state = services.link_state(inv)
    if inv is None:
        services.hit(f"bad:{ip}", limit=bad_limit, window=window)
        db.session.commit()
        return _public("surveys/public_message.html", 404, lang=lang or "zh", state="unknown")
    db.session.commit()
    lang = lang or (inv.response.language if inv.response else inv.language)
    here = url_for(".answer", campaign_id=campaign_id, token=token)
    if state == "expired":
        return _public("surveys/public_message.html", 410, lang=lang, state=state, invitation=inv, here=here)
    if state == "planned":
        return _public("surveys/public_message.html", 200, lang=lang, state=state, invitation=inv, here=here)
    if state == "submitted":
        return _public("surveys/public_answers.html", lang=lang, invitation=inv, here=here)
    questions = list(inv.campaign.version.questions)
    with force_locale("en" if lang == "en" else "zh_Hans"):
        form = answer_form_class(questions, lang)()
        if request.method == "GET":
            fill_answer_form(form, questions, services.current_values(inv.response))
        if form.validate_on_submit():
            with service_errors(form) as outcome:
                services.save_answers(inv, form.values(), submit=bool(form.submit.data), language=lang)
                db.session.commit()
            if outcome.ok:
                if form.submit.data:
                    return redirect(here + f"?lang={lang}")
                saved = True
            else:
                saved = False
        else:
            saved = False
    return _public("surveys/public_answer.html", lang=lang, invitation=inv, form=form, here=here, saved=saved,
                   closes=inv.campaign.closes_on)
