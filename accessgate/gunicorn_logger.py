"""gunicorn's access log without signed download tokens (`/dl/<token>/…` → `/dl/[redacted]/…`).

Used by scripts/gunicorn.conf.py (`logger_class`)."""

from gunicorn.glogging import Logger

from accessgate.logs import redact


class RedactingLogger(Logger):
    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        for key in ("r", "U", "q", "f"):  # request line, path, query, referer
            if isinstance(atoms.get(key), str):
                atoms[key] = redact(atoms[key])
        return atoms
