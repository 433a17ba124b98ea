"""Health and Prometheus metrics on an opt-in port: the metric definitions (``metrics.py``),
the timed API client (``api_timing.py``), the Discord 429 counter (``discord_trace.py``) and the
HTTP endpoint (``server.py``)."""
