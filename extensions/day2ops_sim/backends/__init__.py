"""Per-namespace state and verbs, apart from HTTP: routes parse, call a backend verb, and wrap."""
