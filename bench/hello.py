"""A hello-world Flask app: the baseline `bench.load` serves with the real app's gunicorn
command line, to compare the real pages' throughput with what the server stack itself costs."""

from __future__ import annotations

from flask import Flask


def create_app() -> Flask:
    """One route, a short HTML page, nothing else."""
    hello = Flask(__name__)

    @hello.get("/")
    def index() -> str:
        return "<!doctype html><title>hello</title><p>Hello, world.</p>"

    return hello


app = create_app()
