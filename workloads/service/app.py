"""The Python service of the service workloads (seed 001's Flask app): GET /?key=N answers {"value": N}.

Run as: python3 app.py PORT. Flask's own server, one thread: a request at a time, as the workload asks.
"""
import json
import sys

from flask import Flask, request

app = Flask(__name__)


@app.route("/")
def value():
    key = request.args.get("key", type=int)
    if key is None:
        return app.response_class('{"error": "key must be a number"}', status=400, mimetype="application/json")
    return app.response_class(json.dumps({"value": key}), mimetype="application/json")


if __name__ == "__main__":
    app.run(host="0.0.0.0", port=int(sys.argv[1]) if len(sys.argv) > 1 else 8080, threaded=False)
