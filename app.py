"""healthcode: the national epidemic-prevention health code platform, one Chalice app.

Routes live in chalicelib/api/ (one blueprint per resource); event handlers in
chalicelib/events/. This file only wires them.
"""
import importlib
import os

from chalice import Chalice, CORSConfig, Rate

from chalicelib import functions
from chalicelib.api.http import error_middleware
from chalicelib.logs import request_logging

FUNCTION = os.environ.get("HEALTHCODE_FUNCTION", "")

app = Chalice(app_name="healthcode", configure_logs=False)  # chalicelib/logs.py: JSON lines, request ids
# Browsers call the API cross-origin with bearer tokens (no cookies); API Gateway's own error
# responses carry the same headers (infra/package.py). Set before the blueprints register.
app.api.cors = CORSConfig(allow_origin="*", allow_headers=["Idempotency-Key", "X-Acting-For"],
                          expose_headers=["Idempotent-Replayed", "X-Request-Id", "Retry-After"], max_age=600)
app.register_middleware(error_middleware, "http")

# Each function loads only the blueprints it serves (chalicelib/functions.py): a verify cold start does not import
# the other route modules and their models. The deployment template names the function in HEALTHCODE_FUNCTION.
for name in functions.blueprints_of(FUNCTION):
    app.register_blueprint(importlib.import_module(f"chalicelib.api.{name}").bp)
app.register_middleware(request_logging, "all")  # JSON logs, a request id on every line

# The stream ARN is wired from the events table by the deployment template (infra/); locally the
# pump (infra/local/pump.py) reads DynamoDB Local's stream and calls these same functions.
EVENTS_STREAM_ARN = os.environ.get(
    "HEALTHCODE_EVENTS_STREAM_ARN",
    "arn:aws:dynamodb:cn-north-1:000000000000:table/healthcode-prod-events/stream/wired-at-deploy")


@app.on_dynamodb_record(stream_arn=EVENTS_STREAM_ARN, batch_size=100, starting_position="TRIM_HORIZON",
                        name="events")
def on_events(event):
    """Returns the partial batch response: Lambda retries from the first record reported (batches.py)."""
    from chalicelib.events import handlers

    return handlers.on_event_records([record.to_dict() for record in event], event.context)


WORK_STREAM_ARN = os.environ.get(
    "HEALTHCODE_WORK_STREAM_ARN",
    "arn:aws:dynamodb:cn-north-1:000000000000:table/healthcode-prod-work/stream/wired-at-deploy")


# Ten units per invocation: each is bounded (events/fanout.py, about a second at most), so an invocation
# stays far inside its timeout, and a small batch lets the units of a big change and of an unrelated one
# take turns.
@app.on_dynamodb_record(stream_arn=WORK_STREAM_ARN, batch_size=10, starting_position="TRIM_HORIZON",
                        name="fanout")
def on_work(event):
    """The bounded units of fan-out work the events handler and earlier units wrote to the work table."""
    from chalicelib.events import handlers

    return handlers.on_work_records([record.to_dict() for record in event], event.context)


CATCHUP_STREAM_ARN = os.environ.get(
    "HEALTHCODE_CATCHUP_STREAM_ARN",
    "arn:aws:dynamodb:cn-north-1:000000000000:table/healthcode-prod-catchup/stream/wired-at-deploy")


@app.on_dynamodb_record(stream_arn=CATCHUP_STREAM_ARN, batch_size=10, starting_position="TRIM_HORIZON",
                        name="catchup")
def on_catchup(event):
    """Units that bring stored codes up to date after an area level changed: apart from `fanout`, so a city's
    fan-out never holds up a unit that decides someone's color."""
    from chalicelib.events import handlers

    return handlers.on_work_records([record.to_dict() for record in event], event.context, source="catchup")


PEOPLE_STREAM_ARN = os.environ.get(
    "HEALTHCODE_PEOPLE_STREAM_ARN",
    "arn:aws:dynamodb:cn-north-1:000000000000:table/healthcode-prod-people/stream/wired-at-deploy")


@app.on_dynamodb_record(stream_arn=PEOPLE_STREAM_ARN, batch_size=100, starting_position="TRIM_HORIZON",
                        name="scans")
def on_people(event):
    """Verifications note each scan on the code (one round trip); this writes the scans table's rows."""
    from chalicelib.events import handlers

    return handlers.on_people_records([record.to_dict() for record in event], event.context)


@app.schedule(Rate(10, unit=Rate.MINUTES), name="sweeper")
def sweeper(event):
    from chalicelib.events import handlers

    handlers.sweep()


@app.schedule(Rate(1, unit=Rate.MINUTES), name="webhook-retries")
def webhook_retries(event):
    from chalicelib.events import handlers

    handlers.retry_deliveries()


# Applying, verifying, trips and sync/webhooks get Lambda functions of their own (own concurrency,
# memory, error alarms, blast radius), each running this same app: the deployment template
# (infra/package.py) points those paths' API Gateway integrations at them. Locally every route
# is served by `app` itself.
@app.lambda_function(name="apply")
def apply_api(event, context):
    return app(event, context)


@app.lambda_function(name="verify")
def verify_api(event, context):
    return app(event, context)


@app.lambda_function(name="trips")
def trips_api(event, context):
    return app(event, context)


@app.lambda_function(name="sync")
def sync_api(event, context):
    return app(event, context)
