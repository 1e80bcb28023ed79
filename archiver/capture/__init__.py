"""Capture through the X API v2: the client (client.py), when to wait and retry
(ratelimit.py), one account's run (backup.py, runlog.py), what the archive already holds
(history.py), resumable checkpoints (checkpoint.py) and the completeness report
(reconcile.py). The CLI commands are in commands.py; the fields requested in fields.py."""
