"""The `day2ops` command."""
