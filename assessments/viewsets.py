"""The assessments module's entries in the officials' UI (viewflow Site)."""

from django.urls import path
from django.utils.translation import gettext_lazy as _
from viewflow.urls import Application, AppMenuMixin, Viewset

from . import views


class PeriodViewset(AppMenuMixin, Viewset):
    title = _("Assessments and ranking")
    icon = "leaderboard"
    index_path = path("", views.PeriodListView.as_view(), name="index")
    detail_path = path("<int:pk>/", views.PeriodDetailView.as_view(), name="detail")

    def has_view_permission(self, user, obj=None):
        return user.is_authenticated and user.has_perm("assessments.view_assessment")


class AssessmentViewset(Viewset):
    title = _("Assessments")
    index_path = path("", views.PeriodListView.as_view(), name="index")
    detail_path = path("<int:pk>/", views.AssessmentDetailView.as_view(), name="detail")
    evidence_path = path(
        "<int:pk>/evidence/<str:key>/", views.EvidenceView.as_view(), name="evidence"
    )
    submit_path = path("<int:pk>/submit/", views.SubmitView.as_view(), name="submit")
    review_path = path("<int:pk>/review/", views.ReviewView.as_view(), name="review")
    answer_path = path("<int:pk>/answer/", views.AnswerView.as_view(), name="answer")
    finalize_path = path("<int:pk>/finalize/", views.FinalizeView.as_view(), name="finalize")
    objection_file_path = path(
        "objections/<int:pk>/file/", views.objection_file_view, name="objection_file"
    )


class PatrolViewset(AppMenuMixin, Viewset):
    title = _("River patrols")
    icon = "directions_walk"
    index_path = path("", views.PatrolListView.as_view(), name="index")
    add_path = path("add/", views.PatrolAddView.as_view(), name="add")
    detail_path = path("<int:pk>/", views.PatrolDetailView.as_view(), name="detail")
    finding_add_path = path(
        "<int:pk>/findings/add/", views.FindingAddView.as_view(), name="finding_add"
    )
    photo_add_path = path(
        "findings/<int:pk>/photos/add/", views.PhotoAddView.as_view(), name="photo_add"
    )
    photo_file_path = path("photos/<int:pk>/file/", views.photo_file_view, name="photo_file")

    def has_view_permission(self, user, obj=None):
        return user.is_authenticated and user.has_perm("assessments.view_patrol")


class AssessmentsApplication(Application):
    title = _("River chiefs")
    icon = "flag"
    app_name = "assessments"
    base_template_name = "layout.html"
    permission = "assessments.view_assessment"
    viewsets = [
        PeriodViewset(app_name="periods"),
        AssessmentViewset(app_name="assessments"),
        PatrolViewset(app_name="patrols"),
    ]
