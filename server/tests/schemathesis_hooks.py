# Schemathesis hooks for server/tests/schemathesis.sh: steer generated requests past the first
# checks of the server, so that the run reaches the paths that store and answer (random ids
# would all stop at 403 wrong_device, 409 epoch_changed or 401 bad_code, random cursors at 409
# cursor_ahead), and give a push what a valid push needs beyond its schema: consecutive
# sequences, and clocks of the pushing device at the present time.
#   ARDOISE_ST_DEVICE, ARDOISE_ST_EPOCH  the enrolled device's id and its shop's epoch
#   ARDOISE_ST_CODES                     unused enrolment codes, comma-separated
#   ARDOISE_ST_HEAD                      a cursor the shop's log holds (its head before the run)
#   ARDOISE_ST_SHOP                      a shop with Stripe and Mollie accounts, for the webhooks
#   ARDOISE_ST_WHSEC                     that shop's Stripe webhook secret
# Only a value that is already valid for its field is replaced, by another valid one, so a
# request generated to break the schema still breaks it. A generated id starting with "f", and
# an odd cursor, are kept, so that the refusals for another device, epoch or history are still
# exercised. `map_case` hooks, because they apply in every phase (`map_body` only in fuzzing).
import hashlib
import hmac
import json
import os
import re
import threading
import time

import schemathesis

DEVICE = os.environ["ARDOISE_ST_DEVICE"]
EPOCH = os.environ["ARDOISE_ST_EPOCH"]
HEAD = int(os.environ.get("ARDOISE_ST_HEAD", "0"))
SHOP = os.environ.get("ARDOISE_ST_SHOP", "")
WHSEC = os.environ.get("ARDOISE_ST_WHSEC", "")
CODES = [c for c in os.environ.get("ARDOISE_ST_CODES", "").split(",") if c]
_lock = threading.Lock()
_next_code = 0

UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
HLC = re.compile(r"[0-9]{15}\.([0-9]{6})\.[0-9a-f]{32}")
MAX_SEQ = 2**63 - 1


def _is_uuid(value):
    return isinstance(value, str) and UUID.fullmatch(value) is not None


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _steer(container, field, value):
    if isinstance(container, dict) and _is_uuid(container.get(field)):
        if not container[field].lower().startswith("f"):
            container[field] = value


def _push(body):
    _steer(body, "device_id", DEVICE)
    _steer(body, "epoch", EPOCH)
    events = body.get("events") if isinstance(body, dict) else None
    if not isinstance(events, list) or not all(isinstance(e, dict) for e in events):
        return
    # The generator may put one dict at several places of the list: each event its own copy.
    events[:] = [dict(e) for e in events]
    now = int(time.time() * 1000)
    device = DEVICE.replace("-", "")
    for event in events:
        clock = event.get("hlc")
        if isinstance(clock, str) and HLC.fullmatch(clock):
            event["hlc"] = f"{now:015d}.{HLC.fullmatch(clock).group(1)}.{device}"
    seqs = [e.get("seq") for e in events]
    if events and all(_is_int(s) and 1 <= s <= MAX_SEQ for s in seqs):
        first = min(seqs[0], MAX_SEQ - len(seqs) + 1)
        for i, event in enumerate(events):
            event["seq"] = first + i


def _enrol(body):
    # In turn: a code stays valid until an enrolment succeeds with it, then answers 401.
    global _next_code
    if CODES and isinstance(body, dict) and isinstance(body.get("code"), str):
        with _lock:
            body["code"] = CODES[_next_code % len(CODES)]
            _next_code += 1


def _changes(query):
    if not isinstance(query, dict):
        return
    _steer(query, "epoch", EPOCH)
    after = query.get("after")
    if isinstance(after, str) and after.isascii() and after.isdigit():
        after = int(after)
    if _is_int(after) and after >= 0 and after % 2 == 0:
        query["after"] = after % (HEAD + 1)


@schemathesis.hook
def map_case(ctx, case):
    operation = (case.method.upper(), case.path)
    if operation == ("POST", "/v1/push"):
        _push(case.body)
    elif operation == ("POST", "/v1/enrol"):
        _enrol(case.body)
    elif operation == ("GET", "/v1/changes"):
        _changes(case.query)
    elif case.path.startswith("/v1/pay/") and SHOP:
        # A shop with an account, so that the webhooks get past 404: Mollie's hints reach
        # Mollie's API (the server itself here: it knows no payment, so a hint is answered 200
        # and ignored), and Stripe's events their signature check.
        _steer(case.path_parameters, "shop", SHOP)
        if operation == ("POST", "/v1/pay/stripe/{shop}"):
            _sign(case)
    return case


def _sign(case):
    # A signature generated as a string is replaced by Stripe's signature of the body as it
    # will be sent (JSON as Python's json.dumps writes it, which is what goes on the wire), so
    # that a valid event is read and answered 200; a missing header, or a body that is not an
    # object, is left to be refused.
    headers = case.headers
    if not WHSEC or headers is None or not isinstance(headers.get("Stripe-Signature"), str):
        return
    if not isinstance(case.body, dict):
        return
    t = str(int(time.time()))
    payload = f"{t}.{json.dumps(case.body)}".encode()
    mac = hmac.new(WHSEC.encode(), payload, hashlib.sha256).hexdigest()
    headers["Stripe-Signature"] = f"t={t},v1={mac}"
