"""healthcode: the national epidemic-prevention health code platform, one Chalice app.

Routes live in chalicelib/api/ (one blueprint per resource); event handlers in
chalicelib/events/. This file only wires them.
"""
import os

from chalice import Chalice, Rate

from chalicelib.api import (areas, codes, corrections, exposures, keys, people, provinces, sessions, sync, trips,
                            verifications, webhooks)
from chalicelib.api.http import error_middleware

app = Chalice(app_name="healthcode")
app.register_middleware(error_middleware, "http")

for blueprint in (sessions.bp, codes.bp, verifications.bp, keys.bp, trips.bp, areas.bp, exposures.bp, people.bp,
                  sync.bp, provinces.bp, webhooks.bp, corrections.bp):
    app.register_blueprint(blueprint)

# The stream ARN is wired from the events table by the deployment template (infra/); locally the
# pump (infra/local/pump.py) reads DynamoDB Local's stream and calls these same functions.
EVENTS_STREAM_ARN = os.environ.get(
    "HEALTHCODE_EVENTS_STREAM_ARN",
    "arn:aws:dynamodb:cn-north-1:000000000000:table/healthcode-prod-events/stream/wired-at-deploy")


@app.on_dynamodb_record(stream_arn=EVENTS_STREAM_ARN, batch_size=100, starting_position="TRIM_HORIZON",
                        name="events")
def on_events(event):
    from chalicelib.events import handlers

    handlers.on_event_records(record.to_dict() for record in event)


@app.schedule(Rate(10, unit=Rate.MINUTES), name="sweeper")
def sweeper(event):
    from chalicelib.events import handlers

    handlers.sweep()


@app.schedule(Rate(1, unit=Rate.MINUTES), name="webhook-retries")
def webhook_retries(event):
    from chalicelib.events import handlers

    handlers.retry_deliveries()
