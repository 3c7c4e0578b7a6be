from django.urls import path

from .views import caseload, patients, program, signin, supervisor, today, treatment

app_name = "console"

PLANS = "patients/<str:pk>/treatment-plans/"
PLACEMENTS = "patients/<str:pk>/placements/"

urlpatterns = [
    path("", today.today, name="today"),
    path("login/", signin.signin, name="login"),
    path("login/verify/", signin.verify, name="verify"),
    path("login/enrol/", signin.enrol, name="enrol"),
    path("logout/", signin.signout, name="logout"),
    path("keepalive/", signin.keepalive, name="keepalive"),
    path("board/", today.board, name="board"),
    path("appointments/<str:pk>/<str:move>/", today.move, name="appointment-move"),
    path("caseload/", caseload.caseload, name="caseload"),
    path("patients/<str:pk>/", patients.patient_page, name="patient"),
    path(
        "patients/<str:pk>/assessments/<str:instrument>/new/",
        patients.assessment_new,
        name="assessment-new",
    ),
    path("patients/<str:pk>/notes/new/", patients.note_new, name="note-new"),
    path("patients/<str:pk>/contact/", patients.contact_edit, name="contact-edit"),
    path("patients/<str:pk>/appointments/new/", patients.appointment_new, name="appointment-new"),
    path("patients/<str:pk>/break-glass/", patients.break_glass, name="break-glass-open"),
    # Treatment plans and level-of-care placements (docs/treatment-records.md).
    path(f"{PLANS}new/", treatment.plan_new, name="plan-new"),
    path(f"{PLANS}<str:plan_pk>/", treatment.plan_edit, name="plan-edit"),
    path(f"{PLANS}<str:plan_pk>/sign/", treatment.plan_sign, name="plan-sign"),
    path(f"{PLANS}<str:plan_pk>/review/", treatment.plan_review, name="plan-review"),
    path(f"{PLACEMENTS}new/", treatment.placement_new, name="placement-new"),
    path(
        f"{PLACEMENTS}<str:placement_pk>/entered-in-error/",
        treatment.placement_error,
        name="placement-error",
    ),
    path("alerts/", supervisor.alerts, name="alerts"),
    path("alerts/<str:pk>/acknowledge/", supervisor.alert_acknowledge_view, name="alert-ack"),
    path("audit/", supervisor.audit_log, name="audit"),
    path("break-glass/", supervisor.break_glass_queue, name="break-glass"),
    path(
        "break-glass/<str:pk>/review/",
        supervisor.break_glass_review_view,
        name="break-glass-review",
    ),
    path("signin-locks/", supervisor.signin_lock_list, name="locks"),
    path("signin-locks/<str:pk>/unlock/", supervisor.signin_unlock_view, name="unlock"),
    # The program's own pages (supervisors).
    path("reports/", program.program_reports, name="reports"),
    path("staff/", program.staff_list, name="staff"),
    path("care-team/", program.care_team, name="care-team"),
    path("care-team/<str:pk>/", program.care_team_edit, name="care-team-edit"),
    path("reminder-wording/", program.reminder_wording, name="reminder-wording"),
]
