//! The sync API over real HTTP, each test on SQLite and on PostgreSQL.

mod common;

use std::collections::HashSet;

use ardoise_core::sync::protocol::{
    EnrolResponse, Event, MAX_BODY_BYTES, MAX_EVENT_BYTES, MAX_PUSH_EVENTS, PushRequest, Rejection,
};
use ardoise_server::{Quota, RateLimit, ServeConfig};
use common::{Backend, Env, customer, entry, event, hlc, refusal, settings};
use reqwest::StatusCode;
use serde_json::json;
use uuid::Uuid;

on_both_backends!(
    enrolment_codes,
    push_then_pull_round_trips,
    repeats_are_acknowledged_not_doubled,
    a_sequence_gap_is_refused_with_the_expected_sequence,
    refused_batches_write_nothing,
    a_body_for_another_device_is_forbidden,
    a_new_epoch_refuses_the_old_one,
    forged_cursors_are_refused_and_leave_the_epoch_alone,
    business_rejections_are_consumed_and_listed,
    shops_are_isolated_and_revoked_tokens_refused,
    concurrent_pushers_get_a_gapless_sequence,
    the_rate_limit_answers_429,
    server_events_are_appended_in_process,
    unknown_routes_and_protocol_versions_answer_error_bodies,
    own_events_can_be_left_out_of_the_pages,
    one_id_twice_in_a_push_is_stored_once,
    an_ordinary_code_cannot_take_over_a_device_of_the_shop,
    replacing_a_device_revokes_it_and_binds_the_code_to_it,
    a_device_past_its_quota_is_refused_and_writes_nothing,
    a_device_name_the_database_cannot_store_is_refused,
);

async fn enrolment_codes(b: Backend) {
    let env = Env::new(b).await;
    let shop = env.shop("Boulangerie").await;

    // A good code, typed in lower case with a dash, enrols once.
    let code = env.code(shop).await;
    assert_eq!(code.len(), 10);
    let typed = format!("{}-{}", &code[..5], &code[5..]).to_lowercase();
    let device = Uuid::new_v4();
    let r = env.post_enrol(&typed, device).await;
    assert_eq!(r.status(), StatusCode::OK);
    let e: EnrolResponse = r.json().await.unwrap();
    assert_eq!((e.shop_id, e.shop_name.as_str()), (shop, "Boulangerie"));
    assert_eq!(e.epoch, env.db.shop(shop).await.unwrap().epoch);
    assert_eq!(e.token.len(), 64);
    assert!(e.token.chars().all(|c| c.is_ascii_hexdigit()));
    let status = env.status(&e.token).await;
    assert_eq!(status.status(), StatusCode::OK);

    // Used, expired and unknown codes get the same answer.
    let used = env.post_enrol(&code, Uuid::new_v4()).await;
    let expired_code = env.db.enrol_code(shop, chrono::Duration::seconds(-1)).await.unwrap();
    let expired = env.post_enrol(&expired_code, Uuid::new_v4()).await;
    let unknown = env.post_enrol("ZZZZZZZZZZ", Uuid::new_v4()).await;
    for r in [used, expired, unknown] {
        let (status, body) = refusal(r).await;
        assert_eq!((status, body.error.as_str()), (StatusCode::UNAUTHORIZED, "bad_code"));
    }

    // The same device id in another shop is a conflict, and does not spend that shop's code.
    let other = env.shop("Fromagerie").await;
    let other_code = env.code(other).await;
    let (status, body) = refusal(env.post_enrol(&other_code, device).await).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body:?}");
    assert_eq!(env.post_enrol(&other_code, Uuid::new_v4()).await.status(), StatusCode::OK);

    // Only the hash of a token is stored, and the listing shows the enrolled device.
    let hashes: Vec<String> =
        sqlx::query_scalar("SELECT token_hash FROM devices").fetch_all(env.db.pool()).await.unwrap();
    assert!(!hashes.contains(&e.token));
    let devices = env.db.devices(shop).await.unwrap();
    assert_eq!(devices.len(), 1);
    assert_eq!((devices[0].id, devices[0].name.as_str(), devices[0].expected_seq), (device, "Till 1", 1));
    assert!(devices[0].revoked_at.is_none() && devices[0].last_seen_at.is_some());
}

async fn push_then_pull_round_trips(b: Backend) {
    let env = Env::new(b).await;
    let shop = env.shop("Épicerie").await;
    let d = env.device(shop).await;
    let c = Uuid::new_v4();
    let odd = json!({
        "text": "naïve “quotes” \u{0} \\ emoji 🧀",
        "numbers": [0, -1, 1.5, 1e-7, 9007199254740993u64, -9223372036854775808i64],
        "nested": {"z": null, "a": [true, false, {}], "": ""},
    });
    let events = vec![
        customer(d.id, 1, c),
        entry(d.id, 2, c, d.id),
        event(d.id, 3, "row", json!({"table": "settings", "row": {"key": "odd", "value": odd.to_string()}})),
    ];
    let r = env.push_ok(&d, events.clone()).await;
    assert_eq!((r.acked_through, r.head, r.epoch), (3, 3, d.epoch));
    assert!(r.rejected.is_empty());

    let all = env.pull_all(&d).await;
    assert_eq!(all.iter().map(|c| c.cursor).collect::<Vec<_>>(), [1, 2, 3]);
    assert!(all.iter().all(|c| c.device_id == d.id));
    assert_eq!(all.into_iter().map(|c| c.event).collect::<Vec<_>>(), events);

    // Paging: `next` is the last cursor returned, `after` when nothing is new.
    let first = env.changes_ok(&d, 0, Some(2)).await;
    assert_eq!((first.changes.len(), first.next, first.head), (2, 2, 3));
    let second = env.changes_ok(&d, first.next, Some(2)).await;
    assert_eq!((second.changes.len(), second.next), (1, 3));
    assert_eq!(second.changes[0].event, events[2]);
    let none = env.changes_ok(&d, 3, None).await;
    assert_eq!((none.changes.len(), none.next, none.head), (0, 3, 3));

    let status = env.status_ok(&d).await;
    assert_eq!((status.shop_id, status.epoch, status.head, status.expected), (shop, d.epoch, 3, 4));
    assert!((chrono::Utc::now() - status.server_time).num_seconds().abs() < 60);
}

async fn repeats_are_acknowledged_not_doubled(b: Backend) {
    let env = Env::new(b).await;
    let shop = env.shop("S").await;
    let d = env.device(shop).await;
    let events = settings(d.id, 1, 5);
    let r = env.push_ok(&d, events[..3].to_vec()).await;
    assert_eq!((r.acked_through, r.head), (3, 3));

    // The lost answer case: the device sends 1..5 again, 1..3 being already stored.
    let r = env.push_ok(&d, events.clone()).await;
    assert_eq!((r.acked_through, r.head), (5, 5));
    let r = env.push_ok(&d, events.clone()).await;
    assert_eq!((r.acked_through, r.head), (5, 5));
    let r = env.push_ok(&d, events[1..3].to_vec()).await;
    assert_eq!((r.acked_through, r.head), (5, 5));
    assert!(r.rejected.is_empty());

    assert_eq!(env.count("events", shop).await, 5);
    let pulled: Vec<Event> = env.pull_all(&d).await.into_iter().map(|c| c.event).collect();
    assert_eq!(pulled, events);
}

async fn a_sequence_gap_is_refused_with_the_expected_sequence(b: Backend) {
    let env = Env::new(b).await;
    let shop = env.shop("S").await;
    let d = env.device(shop).await;
    env.push_ok(&d, settings(d.id, 1, 2)).await;
    let (status, body) = refusal(env.push(&d, settings(d.id, 4, 5)).await).await;
    assert_eq!((status, body.error.as_str(), body.expected), (StatusCode::CONFLICT, "sequence_gap", Some(3)));
    assert_eq!(env.count("events", shop).await, 2);

    // A new device must start at 1.
    let fresh = env.device(shop).await;
    let (status, body) = refusal(env.push(&fresh, settings(fresh.id, 2, 2)).await).await;
    assert_eq!((status, body.expected), (StatusCode::CONFLICT, Some(1)));

    // Once the gap is filled the queue moves on.
    let r = env.push_ok(&d, settings(d.id, 3, 5)).await;
    assert_eq!((r.acked_through, r.head), (5, 5));
}

async fn refused_batches_write_nothing(b: Backend) {
    let env = Env::new(b).await;
    let shop = env.shop("S").await;
    let d = env.device(shop).await;
    env.push_ok(&d, settings(d.id, 1, 1)).await;
    let request = |events: Vec<Event>| PushRequest { acked_through: 0, epoch: d.epoch, device_id: d.id, events };

    let mut unknown = settings(d.id, 2, 3);
    unknown[1].kind = "balance".into();
    let mut bad_hlc = settings(d.id, 2, 3);
    bad_hlc[1].hlc = "yesterday".into();
    let mut not_consecutive = settings(d.id, 2, 3);
    not_consecutive[1].seq = 4;
    let mut zero = settings(d.id, 2, 2);
    zero[0].seq = 0;
    let mut huge_event = settings(d.id, 2, 3);
    huge_event[1].payload = json!({"note": "x".repeat(MAX_EVENT_BYTES)});
    let too_many = settings(d.id, 2, 2 + MAX_PUSH_EVENTS as u64);
    let huge_body = {
        let mut events = settings(d.id, 2, 2);
        events[0].payload = json!({"note": "x".repeat(MAX_BODY_BYTES)});
        serde_json::to_vec(&request(events)).unwrap()
    };
    let wrong_types = json!({"epoch": d.epoch, "device_id": d.id, "events": [
        {"id": Uuid::new_v4(), "seq": "two", "kind": "settings", "hlc": hlc(d.id, 2), "payload": {}}
    ]});
    let missing_field = json!({"epoch": d.epoch, "events": []});

    let cases: Vec<(&str, Vec<u8>, StatusCode, &str)> = vec![
        ("unknown kind", serde_json::to_vec(&request(unknown)).unwrap(), StatusCode::BAD_REQUEST, "unknown_kind"),
        ("bad hlc", serde_json::to_vec(&request(bad_hlc)).unwrap(), StatusCode::BAD_REQUEST, "malformed"),
        (
            "not consecutive",
            serde_json::to_vec(&request(not_consecutive)).unwrap(),
            StatusCode::BAD_REQUEST,
            "malformed",
        ),
        ("sequence 0", serde_json::to_vec(&request(zero)).unwrap(), StatusCode::BAD_REQUEST, "malformed"),
        ("not JSON", b"{\"epoch\": ".to_vec(), StatusCode::BAD_REQUEST, "malformed"),
        ("wrong types", serde_json::to_vec(&wrong_types).unwrap(), StatusCode::BAD_REQUEST, "malformed"),
        ("missing field", serde_json::to_vec(&missing_field).unwrap(), StatusCode::BAD_REQUEST, "malformed"),
        (
            "huge event",
            serde_json::to_vec(&request(huge_event)).unwrap(),
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
        ),
        (
            "too many",
            serde_json::to_vec(&request(too_many)).unwrap(),
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
        ),
        ("huge body", huge_body, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"),
    ];
    for (name, body, want_status, want_code) in cases {
        let (status, error) = refusal(env.push_raw(&d.token, body).await).await;
        assert_eq!((status, error.error.as_str()), (want_status, want_code), "{name}: {}", error.message);
        assert!(!error.message.is_empty(), "{name}");
        assert_eq!(env.db.head(shop).await.unwrap(), 1, "{name}");
        assert_eq!(env.count("events", shop).await, 1, "{name}");
        assert_eq!(env.count("rejections", shop).await, 0, "{name}");
        assert_eq!(env.status_ok(&d).await.expected, 2, "{name}");
    }
    let (_, wrong) = refusal(env.push_raw(&d.token, serde_json::to_vec(&wrong_types).unwrap()).await).await;
    assert!(wrong.message.contains("invalid type"), "{}", wrong.message);

    // The same batch, corrected, goes through.
    assert_eq!(env.push_ok(&d, settings(d.id, 2, 3)).await.acked_through, 3);
}

async fn a_body_for_another_device_is_forbidden(b: Backend) {
    let env = Env::new(b).await;
    let shop = env.shop("S").await;
    let d = env.device(shop).await;
    let other = env.device(shop).await;
    let body = PushRequest { acked_through: 0, epoch: d.epoch, device_id: other.id, events: settings(other.id, 1, 2) };
    let (status, error) = refusal(env.push_body(&d.token, &body).await).await;
    assert_eq!((status, error.error.as_str()), (StatusCode::FORBIDDEN, "wrong_device"));
    assert_eq!(env.count("events", shop).await, 0);
    assert_eq!(env.status_ok(&other).await.expected, 1);
    assert_eq!(env.status_ok(&d).await.expected, 1);
}

async fn a_new_epoch_refuses_the_old_one(b: Backend) {
    let env = Env::new(b).await;
    let shop = env.shop("S").await;
    let mut d = env.device(shop).await;
    env.push_ok(&d, settings(d.id, 1, 1)).await;

    let old = d.epoch;
    d.epoch = Uuid::new_v4();
    let (status, error) = refusal(env.push(&d, settings(d.id, 2, 2)).await).await;
    assert_eq!((status, error.error.as_str(), error.epoch), (StatusCode::CONFLICT, "epoch_changed", Some(old)));

    let new = env.db.new_epoch(shop).await.unwrap();
    assert_ne!(new, old);
    d.epoch = old;
    let (status, error) = refusal(env.push(&d, settings(d.id, 2, 2)).await).await;
    assert_eq!((status, error.error.as_str(), error.epoch), (StatusCode::CONFLICT, "epoch_changed", Some(new)));
    let (status, error) = refusal(env.changes(&d, 0, None).await).await;
    assert_eq!((status, error.epoch), (StatusCode::CONFLICT, Some(new)));
    assert_eq!(env.count("events", shop).await, 1);

    d.epoch = new;
    let r = env.push_ok(&d, settings(d.id, 2, 2)).await;
    assert_eq!((r.epoch, r.acked_through, r.head), (new, 2, 2));
    assert_eq!(env.changes_ok(&d, 0, None).await.epoch, new);
    assert_eq!(env.status_ok(&d).await.epoch, new);
}

async fn forged_cursors_are_refused_and_leave_the_epoch_alone(b: Backend) {
    let env = Env::new(b).await;
    let shop = env.shop("S").await;
    let d = env.device(shop).await;
    let other = env.device(shop).await;
    let events = settings(d.id, 1, 2);
    env.push_ok(&d, events.clone()).await;
    let epoch = d.epoch;
    let get = |query: String| {
        let url = format!("{}?{query}", env.url("/v1/changes"));
        env.http.get(url).bearer_auth(&d.token).send()
    };

    // Cursors beyond the head, up to and past 2^63: 409 cursor_ahead with the same epoch.
    for after in [3, 10, 1 << 62, i64::MAX as u64, 1 << 63, u64::MAX] {
        for query in [format!("after={after}"), format!("after={after}&epoch={epoch}&at={}", Uuid::new_v4())] {
            let (status, error) = refusal(get(query.clone()).await.unwrap()).await;
            assert_eq!(
                (status, error.error.as_str(), error.epoch),
                (StatusCode::CONFLICT, "cursor_ahead", Some(epoch))
            );
            assert!(error.message.contains("beyond the head"), "{query}: {error:?}");
        }
    }
    // Past u64, negative or not a number: 400.
    for after in ["18446744073709551616", "99999999999999999999999", "-1", "1e3", "NaN"] {
        let (status, error) = refusal(get(format!("after={after}")).await.unwrap()).await;
        assert_eq!((status, error.error.as_str()), (StatusCode::BAD_REQUEST, "malformed"), "{after}");
    }
    // An `at` the log does not hold there (unknown, or another event's): 409 history_differs.
    for (after, at) in [(1, Uuid::new_v4()), (2, events[0].id), (1, events[1].id)] {
        let (status, error) = refusal(get(format!("after={after}&epoch={epoch}&at={at}")).await.unwrap()).await;
        assert_eq!((status, error.error.as_str(), error.epoch), (StatusCode::CONFLICT, "history_differs", Some(epoch)));
    }
    // A push claiming acknowledgements the server never gave, with a gap: only sequence_gap.
    let forged = PushRequest { acked_through: u64::MAX, epoch, device_id: d.id, events: settings(d.id, 9, 9) };
    let (status, error) = refusal(env.push_body(&d.token, &forged).await).await;
    assert_eq!((status, error.error.as_str(), error.expected), (StatusCode::CONFLICT, "sequence_gap", Some(3)));

    // Nothing changed: the epoch, the log, and what the other device reads.
    assert_eq!(env.db.shop(shop).await.unwrap().epoch, epoch);
    assert_eq!(env.count("events", shop).await, 2);
    let page = env.changes_ok(&other, 0, None).await;
    assert_eq!((page.changes.len(), page.next, page.head, page.epoch), (2, 2, 2, epoch));
    let at = format!("after=2&epoch={epoch}&at={}", events[1].id);
    let r = env.http.get(format!("{}?{at}", env.url("/v1/changes"))).bearer_auth(&other.token).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(env.push_ok(&other, settings(other.id, 1, 1)).await.epoch, epoch);
    assert_eq!(env.db.changes(shop, 9, 10).await.unwrap_err().code(), Some("cursor_ahead"));
    assert_eq!(env.db.shop(shop).await.unwrap().epoch, epoch);
}

async fn business_rejections_are_consumed_and_listed(b: Backend) {
    let env = Env::new(b).await;
    let shop = env.shop("S").await;
    let d = env.device(shop).await;
    let (stranger, known) = (Uuid::new_v4(), Uuid::new_v4());
    let events = vec![
        entry(d.id, 1, stranger, d.id),
        customer(d.id, 2, known),
        entry(d.id, 3, known, d.id),
        entry(d.id, 4, known, Uuid::new_v4()),
        entry(d.id, 5, known, d.id),
    ];
    let r = env.push_ok(&d, events.clone()).await;
    // An entry for a customer the log does not hold yet is kept (after a restore its customer
    // may come later, from another till); one claiming another device as author is refused.
    assert_eq!((r.acked_through, r.head), (5, 4));
    let reason = "invalid entry: its id or device is not the event's".into();
    assert_eq!(r.rejected, [Rejection { seq: 4, id: events[3].id, reason }]);
    let pulled: Vec<u64> = env.pull_all(&d).await.iter().map(|c| c.event.seq).collect();
    assert_eq!(pulled, [1, 2, 3, 5]);
    assert_eq!(env.count("rejections", shop).await, 1);

    // Repeating the batch changes nothing; the queue moves on after it.
    let again = env.push_ok(&d, events).await;
    assert_eq!((again.acked_through, again.head), (5, 4));
    assert_eq!(env.push_ok(&d, vec![entry(d.id, 6, known, d.id)]).await.head, 5);

    // Another shop's log is its own: the same entry pushed there lands in that log only.
    let other = env.shop("T").await;
    let elsewhere = env.device(other).await;
    let r = env.push_ok(&elsewhere, vec![entry(elsewhere.id, 1, known, elsewhere.id)]).await;
    assert!(r.rejected.is_empty());
    assert_eq!(r.head, 1);
    assert_eq!(env.count("rejections", other).await, 0);
    assert_eq!(env.pull_all(&d).await.len(), 5, "nothing of shop T reaches shop S");
}

async fn shops_are_isolated_and_revoked_tokens_refused(b: Backend) {
    let env = Env::new(b).await;
    let (shop_a, shop_b) = (env.shop("A").await, env.shop("B").await);
    let a = env.device(shop_a).await;
    let bee = env.device(shop_b).await;
    let b_events = vec![customer(bee.id, 1, Uuid::new_v4()), settings(bee.id, 2, 2).remove(0)];
    env.push_ok(&bee, b_events.clone()).await;

    // A sees none of B's events, from any cursor.
    let page = env.changes_ok(&a, 0, None).await;
    assert_eq!((page.changes.len(), page.head), (0, 0));
    assert_eq!(env.status_ok(&a).await.shop_id, shop_a);

    // B's device id or epoch in A's request reach nothing of B.
    let as_b = PushRequest { acked_through: 0, epoch: bee.epoch, device_id: bee.id, events: settings(bee.id, 3, 3) };
    assert_eq!(refusal(env.push_body(&a.token, &as_b).await).await.0, StatusCode::FORBIDDEN);
    let b_epoch = PushRequest { acked_through: 0, epoch: bee.epoch, device_id: a.id, events: settings(a.id, 1, 1) };
    let (status, error) = refusal(env.push_body(&a.token, &b_epoch).await).await;
    assert_eq!((status, error.epoch), (StatusCode::CONFLICT, Some(a.epoch)));

    // Reusing B's event ids in A stores A's own events, and B's log is untouched.
    let mut copies = b_events.clone();
    for (e, seq) in copies.iter_mut().zip(1..) {
        e.seq = seq;
        e.hlc = hlc(a.id, seq);
    }
    copies[0].payload = customer(a.id, 1, Uuid::new_v4()).payload;
    assert_eq!(env.push_ok(&a, copies).await.head, 2);
    let b_log: Vec<Event> = env.pull_all(&bee).await.into_iter().map(|c| c.event).collect();
    assert_eq!(b_log, b_events);
    assert!(env.pull_all(&a).await.iter().all(|c| c.device_id == a.id));
    assert_eq!((env.count("events", shop_a).await, env.count("events", shop_b).await), (2, 2));

    // A revoked token, an unknown one and none at all get the same answer everywhere.
    env.db.revoke(a.id).await.unwrap();
    let unknown = "0".repeat(64);
    let mut bodies = HashSet::new();
    for token in [a.token.as_str(), unknown.as_str()] {
        for r in [
            env.status(token).await,
            env.push_body(
                token,
                &PushRequest { acked_through: 0, epoch: a.epoch, device_id: a.id, events: settings(a.id, 3, 3) },
            )
            .await,
            env.http.get(env.url("/v1/changes?after=0")).bearer_auth(token).send().await.unwrap(),
        ] {
            let (status, error) = refusal(r).await;
            assert_eq!((status, error.error.as_str()), (StatusCode::UNAUTHORIZED, "unauthorized"));
            bodies.insert(error.message);
        }
    }
    let (status, _) = refusal(env.http.get(env.url("/v1/status")).send().await.unwrap()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(bodies.len(), 1);
    assert_eq!(env.count("events", shop_a).await, 2);
    assert!(env.db.devices(shop_a).await.unwrap()[0].revoked_at.is_some());
    assert_eq!(env.status(&bee.token).await.status(), StatusCode::OK);
}

async fn concurrent_pushers_get_a_gapless_sequence(b: Backend) {
    const DEVICES: usize = 50;
    const BATCHES: u64 = 3;
    const PER_BATCH: u64 = 2;
    let env = std::sync::Arc::new(Env::new(b).await);
    let shop = env.shop("Busy").await;
    let mut devices = Vec::new();
    for _ in 0..DEVICES {
        devices.push(env.device(shop).await);
    }
    let tasks: Vec<_> = devices
        .iter()
        .cloned()
        .map(|d| {
            let env = env.clone();
            tokio::spawn(async move {
                for batch in 0..BATCHES {
                    let from = batch * PER_BATCH + 1;
                    let customers = (from..from + PER_BATCH).map(|seq| customer(d.id, seq, Uuid::new_v4())).collect();
                    let r = env.push_ok(&d, customers).await;
                    assert_eq!(r.acked_through, from + PER_BATCH - 1);
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    let total = DEVICES as u64 * BATCHES * PER_BATCH;
    assert_eq!(env.db.head(shop).await.unwrap(), total);
    assert_eq!(env.shop_seqs(shop).await, (1..=total as i64).collect::<Vec<_>>());
    let all = env.pull_all(&devices[0]).await;
    assert_eq!(all.iter().map(|c| c.cursor).collect::<Vec<_>>(), (1..=total).collect::<Vec<_>>());
    for d in &devices {
        let seqs: Vec<u64> = all.iter().filter(|c| c.device_id == d.id).map(|c| c.event.seq).collect();
        assert_eq!(seqs, (1..=BATCHES * PER_BATCH).collect::<Vec<_>>());
    }
}

async fn the_rate_limit_answers_429(b: Backend) {
    let env = Env::with_rate(b, RateLimit { per_second: 1, burst: 5 }).await;
    let shop = env.shop("S").await;
    let d = env.device(shop).await;
    let other = env.device(shop).await;
    let mut statuses = Vec::new();
    for _ in 0..12 {
        statuses.push(env.status(&d.token).await);
    }
    let mut limited = 0;
    for (i, r) in statuses.into_iter().enumerate() {
        if i < 5 {
            assert_eq!(r.status(), StatusCode::OK, "request {i} is within the burst");
        } else if r.status() == StatusCode::TOO_MANY_REQUESTS {
            assert!(r.headers().contains_key("retry-after"));
            let (_, error) = refusal(r).await;
            assert_eq!(error.error, "rate_limited");
            limited += 1;
        }
    }
    assert!(limited >= 5, "only {limited} of 7 requests past the burst were limited");
    assert_eq!(env.status(&other.token).await.status(), StatusCode::OK);
    // Browsers are kept apart by their session cookie, as tills by their token: owners behind
    // one address (all of these come from 127.0.0.1) each have their own budget.
    let page = |session: &'static str| {
        let req = env.http.get(format!("{}/login", env.base)).header("cookie", format!("ardoise_session={session}"));
        async move { req.send().await.unwrap().status() }
    };
    let mut limited = 0;
    for _ in 0..12 {
        if page("first-owner").await == StatusCode::TOO_MANY_REQUESTS {
            limited += 1;
        }
    }
    assert!(limited >= 5, "only {limited} of one browser's 12 requests were limited");
    assert_eq!(page("second-owner").await, StatusCode::OK);
}

async fn server_events_are_appended_in_process(b: Backend) {
    let env = Env::new(b).await;
    let shop = env.shop("S").await;
    let d = env.device(shop).await;
    env.push_ok(&d, settings(d.id, 1, 1)).await;
    let server = Uuid::new_v4();
    assert!(env.db.expected_seq(shop, server).await.is_err());
    let reminders: Vec<Event> = settings(server, 1, 2);
    let r = env.db.append_server_events(shop, server, &reminders).await.unwrap();
    assert_eq!((r.acked_through, r.head), (2, 3));
    // A dispatcher retrying after a crash does not send twice.
    let r = env.db.append_server_events(shop, server, &reminders).await.unwrap();
    assert_eq!((r.acked_through, r.head), (2, 3));
    assert_eq!(env.db.expected_seq(shop, server).await.unwrap(), 3);
    let refused = env.db.append_server_events(shop, server, &settings(server, 5, 5)).await.unwrap_err();
    assert_eq!(refused.code(), Some("sequence_gap"));

    let page = env.db.changes(shop, 1, 10).await.unwrap();
    assert_eq!(page.changes.iter().map(|c| (c.cursor, c.device_id)).collect::<Vec<_>>(), [(2, server), (3, server)]);
    assert_eq!(page.changes.into_iter().map(|c| c.event).collect::<Vec<_>>(), reminders);
    let pulled = env.pull_all(&d).await;
    assert_eq!(pulled.len(), 3);
    assert_eq!(env.db.changes(shop, 9, 10).await.unwrap_err().code(), Some("cursor_ahead"));
}

async fn unknown_routes_and_protocol_versions_answer_error_bodies(b: Backend) {
    let env = Env::new(b).await;
    let shop = env.shop("S").await;
    let d = env.device(shop).await;
    let (status, error) = refusal(env.http.get(env.url("/v1/nothing")).send().await.unwrap()).await;
    assert_eq!((status, error.error.as_str()), (StatusCode::NOT_FOUND, "not_found"));
    let (status, _) = refusal(env.http.get(env.url("/v1/push")).bearer_auth(&d.token).send().await.unwrap()).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    let (status, error) = refusal(
        env.http
            .get(env.url("/v1/status"))
            .bearer_auth(&d.token)
            .header("ardoise-protocol", "99")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((status, error.error.as_str()), (StatusCode::BAD_REQUEST, "malformed"));
    let ok =
        env.http.get(env.url("/v1/status")).bearer_auth(&d.token).header("ardoise-protocol", "1").send().await.unwrap();
    assert_eq!(ok.status(), StatusCode::OK);
    assert_eq!(ok.headers()["ardoise-protocol"], "1");
    let (status, error) =
        refusal(env.http.get(env.url("/v1/changes?after=minus")).bearer_auth(&d.token).send().await.unwrap()).await;
    assert_eq!((status, error.error.as_str()), (StatusCode::BAD_REQUEST, "malformed"));
}

async fn own_events_can_be_left_out_of_the_pages(b: Backend) {
    let env = Env::new(b).await;
    let shop = env.shop("Boulangerie").await;
    let a = env.device(shop).await;
    let other = env.device(shop).await;
    // The shop's log: 1-3 from a, 4-5 from the other till, 6-8 from a.
    env.push_ok(&a, settings(a.id, 1, 3)).await;
    env.push_ok(&other, settings(other.id, 1, 2)).await;
    env.push_ok(&a, settings(a.id, 4, 6)).await;
    let all = env.pull_all(&a).await;
    assert_eq!(all.len(), 8);
    let pull = |after: u64, limit: u32, at: Option<Uuid>| {
        let mut url =
            format!("{}?after={after}&limit={limit}&epoch={}&exclude_own=true", env.url("/v1/changes"), a.epoch);
        if let Some(at) = at {
            url.push_str(&format!("&at={at}"));
        }
        let req = env.http.get(url).bearer_auth(&a.token);
        async move {
            let r = req.send().await.unwrap();
            assert_eq!(r.status(), StatusCode::OK);
            r.json::<ardoise_core::sync::protocol::ChangesResponse>().await.unwrap()
        }
    };

    // Only the other till's events; the cursor still reaches the head, and the page names the
    // event there, a's own, for the next request's continuity check.
    let page = pull(0, 1000, None).await;
    let cursors: Vec<u64> = page.changes.iter().map(|c| c.cursor).collect();
    assert_eq!(cursors, [4, 5]);
    assert!(page.changes.iter().all(|c| c.device_id == other.id));
    assert_eq!((page.next, page.head, page.next_event), (8, 8, Some(all[7].event.id)));

    // A full page of the others' events stops at its last one, which it carries.
    let page = pull(0, 1, None).await;
    assert_eq!((page.changes.len(), page.next, page.next_event), (1, 4, None));
    let page = pull(4, 1, Some(all[3].event.id)).await;
    assert_eq!((page.changes.len(), page.next, page.next_event), (1, 5, None));
    // Then only a's own events remain: an empty page that still moves the cursor.
    let page = pull(5, 1, Some(all[4].event.id)).await;
    assert_eq!((page.changes.len(), page.next, page.next_event), (0, 8, Some(all[7].event.id)));

    // At the head with the event the server named: nothing new, and no new epoch.
    let page = pull(8, 1000, page.next_event).await;
    assert_eq!((page.changes.len(), page.next, page.next_event, page.epoch), (0, 8, None, a.epoch));
    assert_eq!(env.db.shop(shop).await.unwrap().epoch, a.epoch);

    // The other till's view is unchanged by a's option, and without the option a gets all.
    let theirs: Vec<u64> = env.pull_all(&other).await.iter().map(|c| c.cursor).collect();
    assert_eq!(theirs, (1..=8).collect::<Vec<_>>());

    // A device holding another event at its cursor is still caught (restored server), and
    // only it is told to resync: the shop's epoch stays.
    let r = env
        .http
        .get(format!("{}?after=8&epoch={}&exclude_own=true&at={}", env.url("/v1/changes"), a.epoch, Uuid::new_v4()))
        .bearer_auth(&a.token)
        .send()
        .await
        .unwrap();
    let (status, error) = refusal(r).await;
    assert_eq!((status, error.error.as_str(), error.epoch), (StatusCode::CONFLICT, "history_differs", Some(a.epoch)));
    assert_eq!(env.db.shop(shop).await.unwrap().epoch, a.epoch);
}

async fn one_id_twice_in_a_push_is_stored_once(b: Backend) {
    let env = Env::new(b).await;
    let shop = env.shop("Boulangerie").await;
    let d = env.device(shop).await;
    let mut events = settings(d.id, 1, 4);
    events[2].id = events[1].id;
    let r = env.push_ok(&d, events.clone()).await;
    assert_eq!((r.acked_through, r.head), (4, 3));
    assert_eq!(r.rejected, vec![Rejection { seq: 3, id: events[1].id, reason: "event id already used".into() }]);
    // And against the log, in a later push.
    let mut again = settings(d.id, 5, 6);
    again[1].id = events[0].id;
    let r = env.push_ok(&d, again).await;
    assert_eq!((r.acked_through, r.head, r.rejected.len()), (6, 4, 1));
    assert_eq!(env.count("events", shop).await, 4);
    assert_eq!(env.count("rejections", shop).await, 2);
    assert_eq!(env.shop_seqs(shop).await, [1, 2, 3, 4]);
}

async fn an_ordinary_code_cannot_take_over_a_device_of_the_shop(b: Backend) {
    let env = Env::new(b).await;
    let shop = env.shop("S").await;
    let live = env.device(shop).await;
    let revoked = env.device(shop).await;
    env.push_ok(&live, settings(live.id, 1, 2)).await;
    env.db.revoke(revoked.id).await.unwrap();
    let before = env.db.devices(shop).await.unwrap();

    // Every device sees the others' ids in the log: a fresh code naming one is refused.
    let code = env.code(shop).await;
    for target in [live.id, revoked.id] {
        let (status, body) = refusal(env.post_enrol(&code, target).await).await;
        assert_eq!((status, body.error.as_str()), (StatusCode::CONFLICT, "device_exists"), "{body:?}");
        assert!(body.message.contains("replace-device"), "{body:?}");
    }
    // Nothing changed: the live till's token works, the revoked one stays revoked, and the
    // code was not spent.
    assert_eq!(env.db.devices(shop).await.unwrap(), before);
    assert_eq!(env.status_ok(&live).await.expected, 3);
    assert_eq!(refusal(env.status(&revoked.token).await).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(env.post_enrol(&code, Uuid::new_v4()).await.status(), StatusCode::OK);

    // Two codes racing to enrol one new id: one wins, the other is told why.
    for _ in 0..5 {
        let (one, two, id) = (env.code(shop).await, env.code(shop).await, Uuid::new_v4());
        let (r1, r2) = tokio::join!(env.post_enrol(&one, id), env.post_enrol(&two, id));
        let mut answers = [r1.status(), r2.status()];
        answers.sort();
        assert_eq!(answers, [StatusCode::OK, StatusCode::CONFLICT]);
        let loser = if r1.status() == StatusCode::CONFLICT { r1 } else { r2 };
        assert_eq!(refusal(loser).await.1.error, "device_exists");
    }
}

async fn replacing_a_device_revokes_it_and_binds_the_code_to_it(b: Backend) {
    let env = Env::new(b).await;
    let shop = env.shop("S").await;
    let lost = env.device(shop).await;
    env.push_ok(&lost, settings(lost.id, 1, 3)).await;
    let ttl = chrono::Duration::hours(1);

    let code = env.db.replace_device(shop, lost.id, ttl).await.unwrap();
    // The old token stops working at once.
    assert_eq!(refusal(env.status(&lost.token).await).await.0, StatusCode::UNAUTHORIZED);
    // The code enrols that device id only, and is not spent by another one.
    let (status, body) = refusal(env.post_enrol(&code, Uuid::new_v4()).await).await;
    assert_eq!((status, body.error.as_str()), (StatusCode::CONFLICT, "code_for_another_device"));
    let r = env.post_enrol(&code, lost.id).await;
    assert_eq!(r.status(), StatusCode::OK);
    let e: EnrolResponse = r.json().await.unwrap();
    let back = common::Device { id: lost.id, token: e.token, shop, epoch: e.epoch };
    // The reinstalled till carries on with its sequence; the old token stays refused.
    assert_eq!(env.status_ok(&back).await.expected, 4);
    assert_eq!(env.push_ok(&back, settings(back.id, 4, 4)).await.acked_through, 4);
    assert_eq!(refusal(env.status(&lost.token).await).await.0, StatusCode::UNAUTHORIZED);
    let listed = env.db.devices(shop).await.unwrap();
    assert!(listed.iter().all(|d| d.revoked_at.is_none()), "{listed:?}");
    // Spent once.
    assert_eq!(refusal(env.post_enrol(&code, lost.id).await).await.1.error, "bad_code");

    // Unknown devices, and devices of another shop, cannot be replaced; nothing is issued.
    let other = env.shop("T").await;
    let elsewhere = env.device(other).await;
    for (s, d) in [(shop, Uuid::new_v4()), (shop, elsewhere.id), (Uuid::new_v4(), lost.id)] {
        let e = env.db.replace_device(s, d, ttl).await.unwrap_err();
        assert!(matches!(e, ardoise_server::Error::NotFound { .. }), "{e}");
    }
    assert_eq!(env.status(&elsewhere.token).await.status(), StatusCode::OK);
    assert_eq!(env.status_ok(&back).await.expected, 5);
    let codes: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM enrol_codes WHERE device_id IS NOT NULL")
        .fetch_one(env.db.pool())
        .await
        .unwrap();
    assert_eq!(codes, 1);
}

async fn a_device_past_its_quota_is_refused_and_writes_nothing(b: Backend) {
    let rate = RateLimit { per_second: 0, burst: 0 };
    let config = ServeConfig { rate, quota: Quota { events_per_day: 5, bytes_stored: 0 }, ..Default::default() };
    let env = Env::with_config(b, config).await;
    let shop = env.shop("S").await;
    let (d, other) = (env.device(shop).await, env.device(shop).await);
    assert_eq!(env.push_ok(&d, settings(d.id, 1, 4)).await.acked_through, 4);
    // Two more would make 6 today: the whole push is refused until midnight UTC.
    let r = env.push(&d, settings(d.id, 5, 6)).await;
    let wait: u64 = r.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=86_400).contains(&wait), "{wait}");
    let (status, body) = refusal(r).await;
    assert_eq!((status, body.error.as_str()), (StatusCode::TOO_MANY_REQUESTS, "quota_exceeded"));
    assert_eq!((env.count("events", shop).await, env.status_ok(&d).await.expected), (4, 5));
    // One more fits; the other device has its own quota.
    assert_eq!(env.push_ok(&d, settings(d.id, 5, 5)).await.acked_through, 5);
    assert_eq!(env.push_ok(&other, settings(other.id, 1, 5)).await.acked_through, 5);

    // Bytes stored: a device whose events would occupy more than its quota gets 413.
    let config = ServeConfig { rate, quota: Quota { events_per_day: 0, bytes_stored: 400 }, ..Default::default() };
    let env = Env::with_config(b, config).await;
    let shop = env.shop("S").await;
    let d = env.device(shop).await;
    let big = |seq| {
        event(
            d.id,
            seq,
            "row",
            json!({"table": "settings", "row": {"key": format!("k{seq}"), "value": "x".repeat(150)}}),
        )
    };
    env.push_ok(&d, vec![big(1), big(2)]).await;
    let (status, body) = refusal(env.push(&d, vec![big(3)]).await).await;
    assert_eq!((status, body.error.as_str()), (StatusCode::PAYLOAD_TOO_LARGE, "storage_quota"));
    assert_eq!(env.count("events", shop).await, 2);
}

/// Found by schemathesis (server/tests/schemathesis.sh): a NUL in the name was a 500 on
/// PostgreSQL, whose text cannot hold it. A name with a control character is now 400
/// `malformed`, and the code stays unspent.
async fn a_device_name_the_database_cannot_store_is_refused(b: Backend) {
    let env = Env::new(b).await;
    let shop = env.shop("Boulangerie").await;
    let code = env.code(shop).await;
    for name in ["a\u{0}b", "Caisse\t1", "\u{7f}"] {
        let body = json!({"code": code, "device_id": Uuid::new_v4(), "device_name": name});
        let (status, error) = refusal(env.http.post(env.url("/v1/enrol")).json(&body).send().await.unwrap()).await;
        assert_eq!((status, error.error.as_str()), (StatusCode::BAD_REQUEST, "malformed"), "{name:?}");
    }
    assert_eq!(env.post_enrol(&code, Uuid::new_v4()).await.status(), StatusCode::OK);
}
