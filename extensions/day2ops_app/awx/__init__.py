"""Turns the app's catalog and schedules into AWX / Ansible Automation Platform object definitions."""
