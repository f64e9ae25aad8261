"""The day2ops self-service app: a catalog of playbooks with typed forms, approvals, runs through
ansible-runner, schedules, and an audit store whose rows are hash-chained."""
