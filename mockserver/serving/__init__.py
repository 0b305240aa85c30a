"""How the app meets the network: granian and its RSGI bridge, the access log, dropped connections.

Every server that runs the app puts a callable under DROP_CONNECTION in each request's WSGI
environ: calling it closes that request's connection with no byte of an answer and returns
whether it could. The drop fault uses it; without it (the Flask test client) there is no
connection to close.
"""

DROP_CONNECTION = "mockserver.drop_connection"
