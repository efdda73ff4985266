import json

from django.core.management.base import BaseCommand

from workflows.escalation import BATCH_SIZE, sweep


class Command(BaseCommand):
    help = "Escalate every due deadline now (what the beat task does every 15 minutes)."

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=BATCH_SIZE)
        parser.add_argument("--max-batches", type=int, default=None)

    def handle(self, *args, **options):
        result = sweep(batch_size=options["batch_size"], max_batches=options["max_batches"])
        self.stdout.write(json.dumps(result.as_dict(), ensure_ascii=False))
