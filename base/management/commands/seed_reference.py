from django.core.management.base import BaseCommand

from base.data import sync_reference_data
from base.security import sync_roles


class Command(BaseCommand):
    help = "Create or update the Jincheng reference data and role groups (idempotent)."

    def handle(self, *args, **options):
        sync_reference_data()
        sync_roles()
        self.stdout.write(self.style.SUCCESS("Reference data and roles are up to date."))
