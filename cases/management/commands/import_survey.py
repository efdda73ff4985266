"""`manage.py import_survey FILE [--user USERNAME] [--report PATH]`: the upload page's service."""

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from cases.importing import SurveyImportError, survey_error_report, survey_import


class Command(BaseCommand):
    help = (
        "Import a survey sheet (.xlsx): every row valid, or nothing imported. Without --user "
        "the import runs as the system, for any jurisdiction."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="the filled-in survey template (.xlsx)")
        parser.add_argument(
            "--user", help="import as this user (their permission and jurisdiction apply)"
        )
        parser.add_argument("--report", help="on errors, write the error report to this .xlsx")

    def handle(self, *args, **options):
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(_("No such file: %(path)s") % {"path": path})
        actor = None
        if options["user"]:
            try:
                actor = get_user_model().objects.get(username=options["user"])
            except get_user_model().DoesNotExist as exc:
                raise CommandError(_("No such user: %(user)s") % {"user": options["user"]}) from exc
        try:
            result = survey_import(actor=actor, file=str(path), filename=path.name)
        except PermissionDenied as exc:
            raise CommandError(str(exc)) from exc
        except SurveyImportError as error:
            for issue in error.issues:
                self.stderr.write(str(issue))
            if options["report"] and error.sheet is not None:
                Path(options["report"]).write_bytes(survey_error_report(error))
                self.stderr.write(
                    _("Error report written to %(path)s") % {"path": options["report"]}
                )
            raise CommandError(
                _("Nothing was imported: %(count)s errors.") % {"count": len(error.issues)}
            ) from None
        self.stdout.write(
            self.style.SUCCESS(
                _("Imported %(count)s outfalls (%(duplicates)s possible duplicates).")
                % {"count": result.created, "duplicates": result.possible_duplicates}
            )
        )
