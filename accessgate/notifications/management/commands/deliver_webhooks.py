import time

from django.core.management.base import BaseCommand

from accessgate.notifications.tasks import deliver_due_webhooks


class Command(BaseCommand):
    help = (
        "Try the webhook deliveries whose next attempt is due. Celery beat runs this every 30 s; "
        "without a broker (eager mode) run it from cron, or with --every."
    )

    def add_arguments(self, parser):
        parser.add_argument("--every", type=float, default=0, help="Repeat every this many seconds (0: once).")

    def handle(self, *args, every, **options):
        while True:
            tried = deliver_due_webhooks()
            self.stdout.write(f"{tried} webhook delivery(ies) tried.")
            if not every:
                return
            time.sleep(every)
