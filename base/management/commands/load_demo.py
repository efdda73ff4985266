from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import translation

from base.demo import DEMO_PASSWORD, demo_logins, load_demo_users


class Command(BaseCommand):
    help = "Load demo users (one per role) and demo cases. Refused with production settings."

    def add_arguments(self, parser):
        parser.add_argument(
            "--list", action="store_true", help="Only print the demo logins; change nothing."
        )

    def handle(self, *args, **options):
        translation.activate("zh-hans")
        if options["list"]:
            self.stdout.write(f"  Demo logins (password: {DEMO_PASSWORD}):")
            for username, name, role, where in demo_logins():
                self.stdout.write(f"    {username:<16} {name}  {role} · {where}")
            return
        if not getattr(settings, "DEMO_DATA_ALLOWED", False):
            raise CommandError("Demo data is refused with production settings.")
        users = load_demo_users()
        self.stdout.write(self.style.SUCCESS(f"Demo users (password: {DEMO_PASSWORD}):"))
        for username, role in users:
            self.stdout.write(f"  {username:<16} {role}")
