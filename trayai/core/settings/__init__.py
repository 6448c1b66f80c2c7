"""Settings: schema, store, edits, merge, rules, profiles resolved, keys."""
