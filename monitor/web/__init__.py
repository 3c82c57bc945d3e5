"""The read-only web view: pages, Atom and JSON feeds of events, Prometheus metrics and a
health check (`monitor serve`, or inside `monitor run` when the config has `[web]`).

Importing this package loads no web library; `monitor.web.app` and `monitor.web.server`
do, when a server starts.
"""
