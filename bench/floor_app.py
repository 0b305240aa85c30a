"""The floor of the design: bare Flask, one endpoint, served by granian's WSGI interface.

`make bench` starts it beside mockserver (`granian --interface wsgi --workers 1
--blocking-threads 1 floor_app:app`) and gives every figure as a share of it, measured in the
same run: what granian and Flask cost with none of the mock's work, bridge or hooks.
"""

from flask import Flask, jsonify

app = Flask(__name__)


@app.get("/__mock/health")
def health():
    return jsonify(status="ok")
