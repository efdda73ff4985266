import importlib

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
        # each module may ship demo data in <module>/demo.py as `load_demo_<module>()`;
        # looked up by name so base does not import the modules above it
        for app_path in settings.PROJECT_APPS[1:]:
            try:
                module = importlib.import_module(f"{app_path}.demo")
            except ModuleNotFoundError as exc:
                if exc.name != f"{app_path}.demo":
                    raise
                continue
            for name in dir(module):
                if name.startswith("load_demo_"):
                    created = getattr(module, name)()
                    self.stdout.write(
                        f"{app_path}: {created} demo {name.removeprefix('load_demo_')}"
                    )
        self.stdout.write(self.style.SUCCESS(f"Demo users (password: {DEMO_PASSWORD}):"))
        for username, role in users:
            self.stdout.write(f"  {username:<16} {role}")
