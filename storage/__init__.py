"""Tables, sessions, migrations and the outbox queue."""
