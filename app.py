"""healthcode: the national epidemic-prevention health code platform, one Chalice app.

Routes live in chalicelib/api/ (one blueprint per resource); this file only wires them.
"""
from chalice import Chalice

from chalicelib.api import codes, keys, sessions, verifications
from chalicelib.api.http import error_middleware

app = Chalice(app_name="healthcode")
app.register_middleware(error_middleware, "http")

for blueprint in (sessions.bp, codes.bp, verifications.bp, keys.bp):
    app.register_blueprint(blueprint)
