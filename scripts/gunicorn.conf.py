# gunicorn settings for the production shape (scripts/run-production.sh). Every value can be
# overridden on the command line or with GUNICORN_CMD_ARGS.
import multiprocessing
import os

bind = f"{os.environ.get('ACCESSGATE_BIND', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", min(2 * multiprocessing.cpu_count() + 1, 8)))
threads = int(os.environ.get("ACCESSGATE_THREADS", "4"))
worker_class = "gthread"
timeout = 60  # downloads are redirects or streamed files; nothing legitimate takes longer to start
graceful_timeout = 30
keepalive = 5
accesslog = "-"
errorlog = "-"
# The access log never shows a signed /dl/ token (it is a bearer credential until it expires).
logger_class = "accessgate.gunicorn_logger.RedactingLogger"
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms "%(a)s" rid=%({x-request-id}o)s'
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
