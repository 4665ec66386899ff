"""Running the review app under uvicorn (`intake serve`)."""

from __future__ import annotations

import uvicorn

from intake.logsetup import configure
from intake.settings import Settings
from review.app import create_app


def serve(settings: Settings, host: str, port: int) -> None:
    """Serve the review queue until stopped.

    uvicorn's own access log is off: it prints query strings, and a search for a child's
    name must not end up in a log file. `review.access` logs paths and statuses instead.
    """
    configure(settings.log_level, settings.log_format)  # the worker's rules: no personal data
    app = create_app(settings)
    uvicorn.run(
        app,
        host=host,
        port=port,
        access_log=False,
        proxy_headers=True,  # behind a TLS proxy: trust its X-Forwarded-Proto (local only)
        server_header=False,
        log_config=None,
    )
