"""The app's services: the approval state machine, the run lifecycle, schedules, users, tokens and
login lockouts. Routers and the CLI call them; they never know about HTTP."""
