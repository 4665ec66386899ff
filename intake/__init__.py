"""Mail intake: settings, CLI, mail sources, the pipeline and its runner."""
