"""Turn emails and attached forms into records; imports no other room of the project."""
