"""A small Flask app served end to end by the prefork workers in the tests."""

from __future__ import annotations

from flask import Flask, Response, jsonify, request, stream_with_context

app = Flask(__name__)


@app.get("/")
def index() -> str:
    return "flask says hi"


@app.post("/echo")
def echo() -> Response:
    return jsonify(
        form=request.form.to_dict(),
        files={name: f.read().decode() for name, f in request.files.items()},
        args=request.args.to_dict(),
        length=request.content_length,
    )


@app.post("/json")
def json_echo() -> Response:
    return jsonify(received=request.get_json(), method=request.method)


@app.get("/stream")
def stream() -> Response:
    def parts():
        for i in range(5):
            yield f"part {i}\n"

    return Response(stream_with_context(parts()), mimetype="text/plain")


@app.get("/environ")
def environ() -> Response:
    env = request.environ
    keys = ("SCRIPT_NAME", "PATH_INFO", "SERVER_PROTOCOL", "wsgi.url_scheme", "REMOTE_ADDR")
    return jsonify({k: env[k] for k in keys})
