//! A worker's `config_overrides` (their TaskRouter attributes), merged over
//! the Flex configuration by the core's `settings::resolve_policy`, as in
//! their browser. A worker may be able to edit their own attributes, so an
//! override can narrow the policy (record less) and never widen it: the
//! account-wide configuration's refusal stands whatever the override says.

mod common;

use axum::http::StatusCode;
use common::*;
use serde_json::{json, Value};

const SALES: &str = "WQ00000000000000000000000000005a1e";

/// The scene with `custom_data` as the Flex configuration, the task in queue
/// Sales with `vip: true`, and worker WK's attributes (`None`: TaskRouter
/// has no such worker).
async fn scene(custom_data: Value, worker: Option<Value>) -> Sim {
    let sim = Sim::start().await;
    sim.scene().await;
    sim.put(
        "/configuration",
        json!({"uiAttributes": {"custom_data": custom_data}, "callRecordingEnabled": false}),
    )
    .await;
    sim.put(
        &format!("/tasks/{WT}"),
        json!({"attributes": {"call_sid": CA_CUSTOMER, "direction": "inbound",
            "conference": {"sid": CF}, "vip": true},
            "queueName": "Sales", "queueSid": SALES}),
    )
    .await;
    if let Some(attributes) = worker {
        sim.put(&format!("/workers/{WK}"), json!({"attributes": attributes}))
            .await;
    }
    sim
}

fn own(block: Value) -> Value {
    json!({"plugin_dual_channel_recording": block})
}

fn overrides(o: Value) -> Option<Value> {
    Some(json!({"skills": ["sales"], "config_overrides": o}))
}

/// (what, custom_data, worker attributes, expected: Ok or the refusal code and rule)
type Case = (
    &'static str,
    Value,
    Option<Value>,
    Result<(), (&'static str, &'static str)>,
);

fn cases() -> Vec<Case> {
    let sales_excluded =
        json!({"enabled": true, "channel": "customer", "exclude_queues": ["Sales"]});
    let vip_excluded = json!({"enabled": true, "channel": "customer",
        "exclude_attributes": [{"key": "vip", "value": true}]});
    vec![
        // Attempts to widen: the account-wide refusal stands.
        (
            "an override replacing the excluded queue (arrays merge index by index)",
            own(sales_excluded.clone()),
            overrides(json!({"plugin_dual_channel_recording": {"exclude_queues": ["Billing"]}})),
            Err(("excluded", "exclude_queues: Sales")),
        ),
        (
            "an override emptying the exclusions with null",
            own(sales_excluded.clone()),
            overrides(json!({"plugin_dual_channel_recording": {"exclude_queues": null}})),
            Err(("excluded", "exclude_queues: Sales")),
        ),
        (
            "an override replacing the attribute rule",
            own(vip_excluded.clone()),
            overrides(
                json!({"plugin_dual_channel_recording": {"exclude_attributes": [{"key": "vip", "value": false}]}}),
            ),
            Err(("excluded", "exclude_attributes: vip = true")),
        ),
        (
            "an override switching recording on where it is off",
            own(json!({"enabled": false})),
            overrides(
                json!({"plugin_dual_channel_recording": {"enabled": true, "channel": "customer"}}),
            ),
            Err(("disabled", "enabled")),
        ),
        (
            "an override bringing the own block where the template's feature is off",
            json!({"features": {"dual_channel_recording": {"enabled": false}}}),
            overrides(
                json!({"plugin_dual_channel_recording": {"enabled": true, "channel": "customer"}}),
            ),
            Err(("disabled", "enabled")),
        ),
        (
            "an override of the template's keys replacing the excluded queue",
            json!({"features": {"dual_channel_recording": sales_excluded.clone()}}),
            overrides(
                json!({"features": {"dual_channel_recording": {"exclude_queues": ["Billing"]}}}),
            ),
            Err(("excluded", "exclude_queues: Sales")),
        ),
        (
            "an override switching the conference method to call legs",
            own(json!({"enabled": true, "method": "conference"})),
            overrides(
                json!({"plugin_dual_channel_recording": {"method": "call-leg", "channel": "customer"}}),
            ),
            Err(("conference-method", "method")),
        ),
        // Narrowing: the worker's own rules apply too.
        (
            "an override switching recording off for this worker",
            own(json!({"enabled": true, "channel": "customer"})),
            overrides(json!({"plugin_dual_channel_recording": {"enabled": false}})),
            Err(("disabled", "enabled")),
        ),
        (
            "an override adding an excluded queue for this worker",
            own(json!({"enabled": true, "channel": "customer", "exclude_queues": ["Billing"]})),
            overrides(
                json!({"plugin_dual_channel_recording": {"exclude_queues": ["Billing", "Sales"]}}),
            ),
            Err(("excluded", "exclude_queues: Sales")),
        ),
        (
            "an override of the template's keys excluding an attribute for this worker",
            json!({"features": {"dual_channel_recording": {"enabled": true, "channel": "customer"}}}),
            overrides(
                json!({"features": {"dual_channel_recording": {"exclude_attributes": [{"key": "vip", "value": true}]}}}),
            ),
            Err(("excluded", "exclude_attributes: vip = true")),
        ),
        // Overrides that leave the rules alone, or none.
        (
            "an override of the channel only",
            own(json!({"enabled": true, "channel": "customer"})),
            overrides(json!({"plugin_dual_channel_recording": {"channel": "worker"}})),
            Ok(()),
        ),
        (
            "config_overrides that is not an object",
            own(json!({"enabled": true, "channel": "customer"})),
            overrides(json!("enabled=false")),
            Ok(()),
        ),
        (
            "no such worker at TaskRouter: the account-wide rules",
            own(json!({"enabled": true, "channel": "customer"})),
            None,
            Ok(()),
        ),
    ]
}

#[tokio::test]
async fn overrides_narrow_the_policy_and_never_widen_it() {
    for (what, custom_data, worker, want) in cases() {
        let sim = scene(custom_data, worker).await;
        let app = backend_for(&sim);
        let a = create(&app, &customer_request()).await;
        match want {
            Ok(()) => {
                assert_eq!(a.status, StatusCode::OK, "{what}: {}", a.json);
                assert_eq!(sim.recordings().await.len(), 1, "{what}");
            }
            Err((code, rule)) => {
                assert_eq!(a.status, StatusCode::FORBIDDEN, "{what}: {}", a.json);
                assert_eq!(
                    (a.json["code"].as_str(), a.json["rule"].as_str()),
                    (Some(code), Some(rule)),
                    "{what}: {}",
                    a.json
                );
                assert!(sim.recordings().await.is_empty(), "{what}");
            }
        }
        // The worker was read from TaskRouter, as the contract has it.
        let log = sim.log().await;
        assert_eq!(
            count(&log, "GET", &format!("/Workers/{WK}")),
            1,
            "{what}: {log:#?}"
        );
    }
}

#[tokio::test]
async fn the_worker_is_read_once_while_the_configuration_is_fresh() {
    let sim = scene(
        own(json!({"enabled": true, "channel": "customer"})),
        overrides(json!({"plugin_dual_channel_recording": {"channel": "worker"}})),
    )
    .await;
    let app = backend_for(&sim);
    for _ in 0..3 {
        let a = create(&app, &customer_request()).await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.json);
    }
    let log = sim.log().await;
    assert_eq!(count(&log, "GET", &format!("/Workers/{WK}")), 1, "{log:#?}");
    assert_eq!(count(&log, "GET", "/v1/Configuration"), 1, "{log:#?}");
}

#[tokio::test]
async fn a_worker_read_that_fails_leaves_the_account_wide_policy() {
    let sim = scene(
        own(json!({"enabled": true, "channel": "customer", "exclude_queues": ["Billing"]})),
        overrides(
            json!({"plugin_dual_channel_recording": {"exclude_queues": ["Billing", "Sales"]}}),
        ),
    )
    .await;
    // TaskRouter fails every read of the worker (retries included).
    sim.post(
        "/faults",
        json!({"failNext": {"status": 500, "code": 20500, "count": 50, "path": format!("/Workers/{WK}")}}),
    )
    .await;
    let app = backend_for(&sim);
    let a = create(&app, &customer_request()).await;
    // The override (which would exclude Sales for this worker) is unknown:
    // the account-wide rules apply, as they would to a worker without one.
    assert_eq!(a.status, StatusCode::OK, "{}", a.json);
    assert_eq!(sim.recordings().await.len(), 1);
}
